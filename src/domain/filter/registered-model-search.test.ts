/**
 * The registered-model filter and order: MLflow's grammar and messages. What they match and how they sort is the
 * stores' (entity-search-cases.ts in the conformance suite).
 */
import { describe, expect, it } from "vitest";
import { parseRegisteredModelFilter, parseRegisteredModelOrderBy } from "./registered-model-search.js";
import { parseError } from "../../../test/harness/parse-error.js";

describe("registered-model filter", () => {
  it.each([
    ["", []],
    ["name = 'a'", [{ type: "attribute", key: "name", comparator: "=", value: "a" }]],
    ['attribute.name != "a b"', [{ type: "attribute", key: "name", comparator: "!=", value: "a b" }]],
    ["name like 'RM%'", [{ type: "attribute", key: "name", comparator: "LIKE", value: "RM%" }]],
    ["name ILIKE '%rm4a%'", [{ type: "attribute", key: "name", comparator: "ILIKE", value: "%rm4a%" }]],
    ["tags.t1 = 'abc' and tag.`my key` LIKE 'x%'", [
      { type: "tag", key: "t1", comparator: "=", value: "abc" },
      { type: "tag", key: "my key", comparator: "LIKE", value: "x%" },
    ]],
    ["tags.a.b = 'c'", [{ type: "tag", key: "a.b", comparator: "=", value: "c" }]],
  ])("%s", (filter, clauses) => {
    expect(parseRegisteredModelFilter(filter).clauses).toEqual(clauses);
  });

  it.each([
    ["name!=something", "Parameter value is either not quoted or unidentified quote types used for string value something. Use either single or double quotes."],
    ["run_id='somerunID'", "Invalid attribute key 'run_id' specified. Valid keys are '{'name'}'"],
    ["source_path = 'A/D'", "Invalid attribute key 'source_path' specified. Valid keys are '{'name'}'"],
    ["evilhax = true", "Invalid clause(s) in filter string: true"],
    ["name = 'a' OR name = 'b'", "Invalid clause(s) in filter string: OR"],
    ["(name = 'a')", "Invalid clause(s) in filter string: ("],
    ["name LIKE", "Invalid clause(s) in filter string: name LIKE"],
    ["tags.x IS NULL", "Invalid clause(s) in filter string: IS"],
    ["params.x = 'a'", "Invalid entity type 'params'. Valid entity types are ('attribute', 'tag', 'tags')"],
    ["name IN ('a')", "Only the 'run_id' attribute supports comparison with a list of quoted string values."],
    ["name = 5", "Expected a quoted string value or a list of quoted string values for attributes. Got value 5"],
    ["name > 'a'", "Invalid comparator for attribute: >"],
    ["tags.t = 5", "Expected a quoted string value for tag (e.g. 'my-value'). Got value 5"],
    ["tags.t >= 'a'", "Invalid comparator for tag: >="],
    ["name = 'unterminated", "Invalid clause(s) in filter string: 'unterminated"],
  ])("%s → %s", (filter, message) => {
    expect(parseError(() => parseRegisteredModelFilter(filter))).toBe(message);
  });

  it("keeps quotes and SQL in values literal", () => {
    expect(parseRegisteredModelFilter("name = 'x'' OR ''1''=''1'").clauses).toEqual([{ type: "attribute", key: "name", comparator: "=", value: "x' OR '1'='1" }]);
  });

  it("searches prompts only when the filter asks for them, without the prompt clause", () => {
    const prompt = { type: "tag", key: "mlflow.prompt.is_prompt", comparator: "=", value: "true" };
    expect(parseRegisteredModelFilter("")).toEqual({ clauses: [], prompts: false });
    expect(parseRegisteredModelFilter("tags.`mlflow.prompt.is_prompt` = 'false' and name = 'a'")).toEqual({
      clauses: [{ type: "attribute", key: "name", comparator: "=", value: "a" }],
      prompts: false,
    });
    expect(parseRegisteredModelFilter("tags.`mlflow.prompt.is_prompt` = 'true'")).toEqual({ clauses: [prompt], prompts: true });
    expect(parseRegisteredModelFilter("tags.`mlflow.prompt.is_prompt` != 'false'").prompts).toBe(true);
  });
});

describe("registered-model order_by", () => {
  it("defaults to name ASC and always breaks ties by name", () => {
    expect(parseRegisteredModelOrderBy([])).toEqual([{ key: "name", ascending: true }]);
    expect(parseRegisteredModelOrderBy(["last_updated_timestamp DESC"])).toEqual([
      { key: "last_updated_timestamp", ascending: false },
      { key: "name", ascending: true },
    ]);
    expect(parseRegisteredModelOrderBy(["timestamp", "name desc"])).toEqual([
      { key: "last_updated_timestamp", ascending: true },
      { key: "name", ascending: false },
    ]);
    expect(parseRegisteredModelOrderBy(["attribute.last_updated_timestamp asc"])).toEqual([
      { key: "last_updated_timestamp", ascending: true },
      { key: "name", ascending: true },
    ]);
  });

  it.each([
    [["name ASC", "description DESC"], "Invalid order by key 'description' specified.Valid keys are '{'name', 'timestamp'}'"],
    [["creation_timestamp ASC"], "Invalid order by key 'creation_timestamp' specified.Valid keys are '{'name', 'timestamp'}'"],
    [["name ASC", "last_updated_timestamp DESC blah"], "Invalid order_by clause 'last_updated_timestamp DESC blah'. Could not be parsed."],
    [["name UP"], "Invalid ordering key in order_by clause 'name UP'."],
    [["tags.x"], "Invalid order_by entity: tag"],
    [["metrics.x"], "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')"],
    [["name", "name DESC"], "`order_by` contains duplicate fields: ['name', 'name DESC']"],
    [["timestamp", "last_updated_timestamp"], "`order_by` contains duplicate fields: ['timestamp', 'last_updated_timestamp']"],
    [["name; DROP TABLE x"], "Invalid order_by clause 'name; DROP TABLE x'. Could not be parsed."],
  ])("%j → %s", (orderBy, message) => {
    expect(parseError(() => parseRegisteredModelOrderBy(orderBy))).toBe(message);
  });
});
