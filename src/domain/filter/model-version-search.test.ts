/** The model-version filter and order: MLflow's grammar and messages, matching, sorting, the store narrowing. */
import { describe, expect, it } from "vitest";
import { AppError, ErrorCode } from "../errors.js";
import type { ModelVersion } from "../model-registry.js";
import {
  compareModelVersions,
  matchesModelVersion,
  narrowingOf,
  parseModelVersionFilter,
  parseModelVersionOrderBy,
} from "./model-version-search.js";

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

const version = (name: string, v: number, runId: string, source: string, tags: Record<string, string> = {}, updated = v): ModelVersion => ({
  name,
  version: v,
  creationTimestamp: v,
  lastUpdatedTimestamp: updated,
  userId: "",
  currentStage: "None",
  description: "",
  source,
  runId,
  runLink: "",
  status: "READY",
  tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
  aliases: [],
});

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

  const mvs = [
    version("MV", 1, "run1", "A/B", { t1: "abc", t2: "xyz" }),
    version("MV", 2, "run2", "A/C", { t1: "abc", t2: "x123" }),
    version("MV", 3, "run2", "A/D"),
    version("MV", 4, "", "A/D"),
  ];
  const versions = (filter: string) => mvs.filter((v) => matchesModelVersion(v, parseModelVersionFilter(filter))).map((v) => v.version);

  it("matches as MLflow's store tests do", () => {
    expect(versions("name='MV'")).toEqual([1, 2, 3, 4]);
    expect(versions("version_number=2")).toEqual([2]);
    expect(versions("version_number<=3")).toEqual([1, 2, 3]);
    expect(versions("run_id='run2'")).toEqual([2, 3]);
    expect(versions("run_id IN ('run1','run2')")).toEqual([1, 2, 3]);
    expect(versions("run_id IN ('RUN1','run2')")).toEqual([2, 3]);
    expect(versions("run_id NOT IN ('run1')")).toEqual([2, 3]);
    expect(versions("name IN ('MV', 'other')")).toEqual([1, 2, 3, 4]);
    expect(versions("name NOT IN ('MV')")).toEqual([]);
    expect(versions("run_id ILIKE 'RUN%'")).toEqual([1, 2, 3]);
    expect(versions("run_id != 'run1'")).toEqual([2, 3]);
    expect(versions("source_path = 'A/D'")).toEqual([3, 4]);
    expect(versions("source_path = 'A'")).toEqual([]);
    expect(versions("tag.t2 LIKE 'xY%'")).toEqual([]);
    expect(versions("tag.t2 ILIKE 'xY%'")).toEqual([1]);
    expect(versions("tag.t2 like 'x%' and tag.t2 != 'xyz'")).toEqual([2]);
  });

  it("narrows the store read by name = and run_id = / IN only", () => {
    expect(narrowingOf(parseModelVersionFilter("name = 'a' and run_id IN ('r1', 'r2') and tags.x = 'y'"))).toEqual({ names: ["a"], runIds: ["r1", "r2"] });
    expect(narrowingOf(parseModelVersionFilter("run_id IN ('r1', 'r2') and run_id = 'r2'"))).toEqual({ runIds: ["r2"] });
    expect(narrowingOf(parseModelVersionFilter("name IN ('a', 'b') and name NOT IN ('a') and run_id NOT IN ('r1')"))).toEqual({ names: ["a", "b"] });
    expect(narrowingOf(parseModelVersionFilter("name = 'a' and name = 'b'"))).toEqual({ names: [] });
    expect(narrowingOf(parseModelVersionFilter("name LIKE 'a%' and run_id != 'x'"))).toEqual({});
  });

  it("orders by last_updated_timestamp DESC by default, then name ASC, version DESC", () => {
    expect(parseModelVersionOrderBy([])).toEqual([
      { key: "last_updated_timestamp", ascending: false },
      { key: "name", ascending: true },
      { key: "version_number", ascending: false },
    ]);
    const all = [version("RM1", 1, "", "A", {}, 5), version("RM2", 1, "", "A", {}, 5), version("RM1", 2, "", "B", {}, 6)];
    const sorted = (o: string[]) => [...all].sort((a, b) => compareModelVersions(a, b, parseModelVersionOrderBy(o))).map((v) => `${v.name}/${v.version}`);
    expect(sorted([])).toEqual(["RM1/2", "RM1/1", "RM2/1"]);
    expect(sorted(["name DESC"])).toEqual(["RM2/1", "RM1/2", "RM1/1"]);
    expect(sorted(["version_number ASC"])).toEqual(["RM1/1", "RM2/1", "RM1/2"]);
  });

  it.each([
    [["source_path"], "Invalid attribute key 'source_path' specified. Valid keys are '{'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}'"],
    [["tags.x DESC"], "Invalid order by key 'x' specified. Valid keys are {'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}"],
    [["name", "name"], "`order_by` contains duplicate fields: ['name', 'name']"],
  ])("%j → %s", (orderBy, message) => {
    expect(parseError(() => parseModelVersionOrderBy(orderBy))).toBe(message);
  });
});
