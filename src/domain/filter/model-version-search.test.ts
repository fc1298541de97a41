/**
 * The model-version filter and order: MLflow's grammar and messages. What they match and how they sort is the stores'
 * (entity-search-cases.ts in the conformance suite).
 */
import { describe, expect, it } from "vitest";
import { parseModelVersionFilter, parseModelVersionOrderBy } from "./model-version-search.js";
import { parseError } from "../../../test/harness/parse-error.js";

describe("model-version filter", () => {
  it.each([
    ["name = 'm' and run_id = 'r1'", [
      { type: "attribute", key: "name", comparator: "=", value: "m" },
      { type: "attribute", key: "run_id", comparator: "=", value: "r1" },
    ]],
    ["run_id IN ('a', 'b')", [{ type: "attribute", key: "run_id", comparator: "IN", values: ["a", "b"] }]],
    ["run_id in ('a')", [{ type: "attribute", key: "run_id", comparator: "IN", values: ["a"] }]],
    ["name IN ('a', 'b')", [{ type: "attribute", key: "name", comparator: "IN", values: ["a", "b"] }]],
    ["name NOT IN ('a')", [{ type: "attribute", key: "name", comparator: "NOT IN", values: ["a"] }]],
    ["run_id NOT IN ('a')", [{ type: "attribute", key: "run_id", comparator: "NOT IN", values: ["a"] }]],
    ["version_number<=3", [{ type: "attribute", key: "version_number", comparator: "<=", value: 3 }]],
    ["version_number = '2'", [{ type: "attribute", key: "version_number", comparator: "=", value: 2 }]],
    ["source_path = 'A/D'", [{ type: "attribute", key: "source_path", comparator: "=", value: "A/D" }]],
    ["tags.t2 like 'x%' and tag.t2 != 'xyz'", [
      { type: "tag", key: "t2", comparator: "LIKE", value: "x%" },
      { type: "tag", key: "t2", comparator: "!=", value: "xyz" },
    ]],
  ])("%s", (filter, clauses) => {
    expect(parseModelVersionFilter(filter).clauses).toEqual(clauses);
  });

  it.each([
    ["run_id IN (1,2,3)", "While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: (1,2,3)"],
    ["run_id IN ()", "While parsing a list in the query, expected a non-empty list of string values, but got empty list"],
    ["run_id IN (,)", "While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list."],
    ["run_id IN ('runid1',,'runid2')", "While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list."],
    ["run_id IN ('a',)", "While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list."],
    ["run_id IN (", "Invalid clause(s) in filter string: run_id IN ("],
    ["run_id IN", "Invalid clause(s) in filter string: run_id IN"],
    ["name LIKE", "Invalid clause(s) in filter string: name LIKE"],
    ["source_path IN ('a')", "Only the 'name' and 'run_id' attributes support comparison with a list of quoted string values."],
    ["source_path NOT IN ('a')", "Only the 'name' and 'run_id' attributes support comparison with a list of quoted string values."],
    ["name = 5", "Only the '{'version_number', 'creation_timestamp', 'last_updated_timestamp'}' attributes support comparison with numeric values."],
    ["version_number LIKE '1'", "Invalid comparator for attribute version_number: LIKE"],
    ["version_number = 'x'", "Expected numeric value type for numeric attribute: version_number. Found 'x'"],
    ["description = 'x'", "Invalid attribute key 'description' specified. Valid keys are '{'name', 'version_number', 'run_id', 'source_path'}'"],
    ["metrics.x > 1", "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')"],
  ])("%s → %s", (filter, message) => {
    expect(parseError(() => parseModelVersionFilter(filter))).toBe(message);
  });

  it("orders by last_updated_timestamp DESC by default, then name ASC, version DESC", () => {
    expect(parseModelVersionOrderBy([])).toEqual([
      { key: "last_updated_timestamp", ascending: false },
      { key: "name", ascending: true },
      { key: "version_number", ascending: false },
    ]);
    expect(parseModelVersionOrderBy(["name DESC"])).toEqual([
      { key: "name", ascending: false },
      { key: "version_number", ascending: false },
    ]);
    expect(parseModelVersionOrderBy(["version_number ASC"])).toEqual([
      { key: "version_number", ascending: true },
      { key: "name", ascending: true },
    ]);
  });

  it.each([
    [["source_path"], "Invalid attribute key 'source_path' specified. Valid keys are '{'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}'"],
    [["tags.x DESC"], "Invalid order by key 'x' specified. Valid keys are {'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}"],
    [["name", "name"], "`order_by` contains duplicate fields: ['name', 'name']"],
  ])("%j → %s", (orderBy, message) => {
    expect(parseError(() => parseModelVersionOrderBy(orderBy))).toBe(message);
  });
});
