/** The registered-model filter and order: MLflow's grammar and messages, matching, sorting, offset page tokens. */
import { describe, expect, it } from "vitest";
import { AppError, ErrorCode } from "../errors.js";
import type { RegisteredModel } from "../model-registry.js";
import { decodeOffsetPageToken, encodeOffsetPageToken, pageOf } from "./offset-page-token.js";
import {
  compareRegisteredModels,
  matchesRegisteredModel,
  parseRegisteredModelFilter,
  parseRegisteredModelOrderBy,
} from "./registered-model-search.js";

function parseError(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe(ErrorCode.INVALID_PARAMETER_VALUE);
    return (err as AppError).message;
  }
  throw new Error("expected a parse error");
}

const model = (name: string, tags: Record<string, string> = {}, created = 0, updated = created): RegisteredModel => ({
  name,
  creationTimestamp: created,
  lastUpdatedTimestamp: updated,
  userId: "",
  description: "",
  latestVersions: [],
  tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
  aliases: [],
});

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

  it("treats quotes, wildcards and SQL in values as literals", () => {
    const evil = model("x' OR '1'='1");
    const f = parseRegisteredModelFilter("name = 'x'' OR ''1''=''1'");
    expect(f.clauses).toEqual([{ type: "attribute", key: "name", comparator: "=", value: "x' OR '1'='1" }]);
    expect(matchesRegisteredModel(evil, f)).toBe(true);
    expect(matchesRegisteredModel(model("x"), f)).toBe(false);
    expect(matchesRegisteredModel(model("a.b"), parseRegisteredModelFilter("name LIKE 'a_b'"))).toBe(true);
    expect(matchesRegisteredModel(model("a.b"), parseRegisteredModelFilter("name = 'a_b'"))).toBe(false);
    expect(matchesRegisteredModel(model("a+b(c)"), parseRegisteredModelFilter("name LIKE 'a+b(c)'"))).toBe(true);
  });

  it("matches names and tags as MLflow's store tests do", () => {
    const m1 = model("RM_by_tag1", { t1: "abc", t2: "xyz" });
    const m2 = model("RM_by_tag2", { t1: "abcd", t2: "xyz123", t3: "XYZ" });
    const names = (filter: string) => [m1, m2].filter((m) => matchesRegisteredModel(m, parseRegisteredModelFilter(filter))).map((m) => m.name);
    expect(names("tag.t3 = 'XYZ'")).toEqual(["RM_by_tag2"]);
    expect(names("tag.t3 = 'XYz'")).toEqual([]);
    expect(names("tag.T3 = 'XYZ'")).toEqual([]);
    expect(names("tag.t1 LIKE 'ab%'")).toEqual(["RM_by_tag1", "RM_by_tag2"]);
    expect(names("tag.t1 ILIKE 'aB%'")).toEqual(["RM_by_tag1", "RM_by_tag2"]);
    expect(names("tag.t1 != 'abc'")).toEqual(["RM_by_tag2"]);
    expect(names("tag.t1 != 'abcd' and tag.t1 LIKE 'ab%'")).toEqual(["RM_by_tag1"]);
    expect(names("name lIkE 'rm%'")).toEqual([]);
    expect(names("name iLike 'rm%'")).toEqual(["RM_by_tag1", "RM_by_tag2"]);
    expect(names("tags.missing != 'x'")).toEqual([]);
  });

  it("leaves prompts out unless the filter asks for them", () => {
    const prompt = model("p", { "mlflow.prompt.is_prompt": "true" });
    const plain = model("m");
    const names = (filter: string) => [prompt, plain].filter((m) => matchesRegisteredModel(m, parseRegisteredModelFilter(filter))).map((m) => m.name);
    expect(names("")).toEqual(["m"]);
    expect(names("tags.`mlflow.prompt.is_prompt` = 'false'")).toEqual(["m"]);
    expect(names("tags.`mlflow.prompt.is_prompt` = 'true'")).toEqual(["p"]);
    expect(names("tags.`mlflow.prompt.is_prompt` != 'false'")).toEqual(["p"]);
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

  it("sorts with the tie-break (MLflow's multi-clause case)", () => {
    const ms = [model("MR1", {}, 1, 1), model("MR2", {}, 1, 1), model("MR3", {}, 2, 2), model("MR4", {}, 2, 2)];
    const sorted = (o: string[]) => [...ms].sort((a, b) => compareRegisteredModels(a, b, parseRegisteredModelOrderBy(o))).map((m) => m.name);
    expect(sorted(["last_updated_timestamp ASC", "name DESC"])).toEqual(["MR2", "MR1", "MR4", "MR3"]);
    expect(sorted([])).toEqual(["MR1", "MR2", "MR3", "MR4"]);
    expect(sorted(["last_updated_timestamp DESC"])).toEqual(["MR3", "MR4", "MR1", "MR2"]);
  });
});

describe("offset page tokens", () => {
  it("pages and round-trips", () => {
    const xs = [1, 2, 3, 4, 5];
    const first = pageOf(xs, 0, 2);
    expect(first.items).toEqual([1, 2]);
    const second = pageOf(xs, decodeOffsetPageToken(first.nextPageToken), 2);
    expect(second.items).toEqual([3, 4]);
    const last = pageOf(xs, decodeOffsetPageToken(second.nextPageToken), 2);
    expect(last).toEqual({ items: [5], nextPageToken: "" });
  });

  it.each(["evilhax", encodeOffsetPageToken(-1), Buffer.from('{"offset":"3"}').toString("base64url"), "eyJvZmZzZXQiOjJ9=="])("rejects %s", (token) => {
    expect(parseError(() => decodeOffsetPageToken(token))).toBe("Invalid page token");
  });
});
