/** The logged-model filter, datasets, structured order_by and page tokens: MLflow's grammar and messages, matching, sorting. */
import { describe, expect, it } from "vitest";
import { AppError, ErrorCode } from "../errors.js";
import type { LoggedModel } from "../logged-model.js";
import {
  type LoggedModelOrderByInput,
  compareLoggedModels,
  decodeLoggedModelPageToken,
  encodeLoggedModelPageToken,
  matchesLoggedModel,
  parseLoggedModelDatasets,
  parseLoggedModelFilter,
  parseLoggedModelOrderBy,
} from "./logged-model-search.js";

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

type Point = { key: string; value: number; timestamp?: number; step?: number; datasetName?: string; datasetDigest?: string };

function model(id: string, fields: Partial<LoggedModel> & { points?: Point[] } = {}): LoggedModel {
  const { points = [], ...rest } = fields;
  return {
    modelId: id,
    experimentId: "1",
    name: `name-${id}`,
    creationTimestampMs: 0,
    lastUpdatedTimestampMs: 0,
    artifactUri: "",
    status: "PENDING",
    tags: [],
    params: [],
    metrics: points.map((p) => ({ timestamp: 0, step: 0, runId: "r", ...p })),
    registrations: [],
    ...rest,
  };
}

describe("logged-model filter", () => {
  it.each([
    ["", []],
    ["name = 'a'", [{ type: "attribute", key: "name", comparator: "=", value: "a" }]],
    ["model_id != \"m-1\"", [{ type: "attribute", key: "model_id", comparator: "!=", value: "m-1" }]],
    ["status IN ('READY', 'PENDING')", [{ type: "attribute", key: "status", comparator: "IN", values: ["READY", "PENDING"] }]],
    ["source_run_id NOT IN ('r')", [{ type: "attribute", key: "source_run_id", comparator: "NOT IN", values: ["r"] }]],
    ["creation_time >= 5", [{ type: "attribute", key: "creation_timestamp", comparator: ">=", value: 5 }]],
    ["attributes.last_updated_time < 5", [{ type: "attribute", key: "last_updated_timestamp", comparator: "<", value: 5 }]],
    ["metrics.loss > 0.1 AND params.lr = '0.01'", [
      { type: "metric", key: "loss", comparator: ">", value: 0.1 },
      { type: "param", key: "lr", comparator: "=", value: "0.01" },
    ]],
    ["tags.`a.b` ILIKE 'x%'", [{ type: "tag", key: "a.b", comparator: "ILIKE", value: "x%" }]],
    ["metric.acc = 1", [{ type: "metric", key: "acc", comparator: "=", value: 1 }]],
  ])("%s", (filter, clauses) => {
    expect(parseLoggedModelFilter(filter)).toEqual(clauses);
  });

  it.each([
    ["artifact_location='abc'", "Invalid attribute key 'artifact_location' specified. Valid keys are '{'name', 'model_id', 'model_type', 'status', 'source_run_id', 'creation_timestamp', 'creation_time', 'last_updated_timestamp', 'last_updated_time'}'"],
    ["foo.x = 'a'", "Invalid entity type: 'foo'. Expected one of ['attributes', 'metrics', 'params', 'tags']."],
    ["datasets.name = 'a'", "Invalid entity type: 'datasets'. Expected one of ['attributes', 'metrics', 'params', 'tags']."],
    ["metrics.loss LIKE '1'", "Invalid comparison operator for metrics.loss: 'LIKE'. Expected one of ('<', '<=', '>', '>=', '=', '!=')."],
    ["name > 'a'", "Invalid comparison operator for attributes.name: '>'. Expected one of ('=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN')."],
    ["metrics.loss > 'a'", "Expected numeric value type for metric. Found 'a'"],
    ["creation_timestamp > 'a'", "Expected numeric value type for numeric attribute: creation_timestamp. Found 'a'"],
    ["name = abc", "Parameter value is either not quoted or unidentified quote types used for string value abc. Use either single or double quotes."],
    ["params.lr = 5", "Expected a quoted string value for params.lr (e.g. 'my-value'). Got value 5"],
    ["name IN ('a', 1)", "While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: ('a',1)"],
    ["name = 'a' OR name = 'b'", "Invalid filter string: 'name = 'a' OR name = 'b''. Expected a list of comparisons separated by 'AND' (e.g. 'metrics.loss > 0.1 AND params.lr = 0.01')."],
    ["tags.a IS NULL", "Invalid filter string: 'tags.a IS NULL'. Expected a list of comparisons separated by 'AND' (e.g. 'metrics.loss > 0.1 AND params.lr = 0.01')."],
  ])("%s → %s", (filter, message) => {
    expect(parseError(() => parseLoggedModelFilter(filter))).toBe(message);
  });

  it("requires a name on each dataset", () => {
    expect(parseLoggedModelDatasets([{ datasetName: "d", datasetDigest: "x" }, { datasetName: "e" }])).toEqual([{ name: "d", digest: "x" }, { name: "e" }]);
    expect(parseError(() => parseLoggedModelDatasets([{ datasetName: "" }]))).toBe("`dataset_name` in the `datasets` clause must be specified.");
  });

  const models = [
    model("m-1", { name: "alpha", modelType: "sklearn", status: "READY", sourceRunId: "run1", creationTimestampMs: 10, tags: [{ key: "a", value: "b" }],
      params: [{ key: "lr", value: "0.01" }], points: [{ key: "acc", value: 0.9, datasetName: "train" }, { key: "acc", value: 0.5, datasetName: "test", datasetDigest: "d1" }] }),
    model("m-2", { name: "beta", creationTimestampMs: 20, points: [{ key: "acc", value: Number.NaN }] }),
    model("m-3", { name: "gamma", modelType: "torch", creationTimestampMs: 30, params: [{ key: "lr", value: "0.1" }] }),
  ];
  const ids = (filter: string, datasets: { datasetName: string; datasetDigest?: string }[] = []) =>
    models.filter((m) => matchesLoggedModel(m, parseLoggedModelFilter(filter), parseLoggedModelDatasets(datasets))).map((m) => m.modelId);

  it("matches attributes, params, tags and metrics", () => {
    expect(ids("name = 'beta'")).toEqual(["m-2"]);
    expect(ids("name ILIKE 'A%'")).toEqual(["m-1"]);
    expect(ids("model_type != 'sklearn'")).toEqual(["m-3"]); // an absent model_type matches no comparison
    expect(ids("model_type NOT IN ('torch')")).toEqual(["m-1"]);
    expect(ids("status = 'READY'")).toEqual(["m-1"]);
    expect(ids("status ILIKE 'pending'")).toEqual(["m-2", "m-3"]);
    expect(ids("creation_timestamp > 10 and creation_time <= 30")).toEqual(["m-2", "m-3"]);
    expect(ids("params.lr = '0.1'")).toEqual(["m-3"]);
    expect(ids("tags.a = 'b'")).toEqual(["m-1"]);
    expect(ids("metrics.acc > 0.8")).toEqual(["m-1"]);
    expect(ids("metrics.acc < 0.8")).toEqual(["m-1"]); // some point holds
    expect(ids("metrics.acc != 0.9")).toEqual(["m-1", "m-2"]); // NaN passes != only
  });

  it("applies datasets to metric clauses, or asks for a metric on one of them", () => {
    expect(ids("metrics.acc > 0.8", [{ datasetName: "test" }])).toEqual([]);
    expect(ids("metrics.acc < 0.8", [{ datasetName: "test", datasetDigest: "d1" }])).toEqual(["m-1"]);
    expect(ids("metrics.acc < 0.8", [{ datasetName: "test", datasetDigest: "other" }])).toEqual([]);
    expect(ids("", [{ datasetName: "train" }])).toEqual(["m-1"]);
    expect(ids("name != 'x'", [{ datasetName: "nope" }])).toEqual([]);
  });

  it("keeps injection attempts literal", () => {
    const evil = model("m-9", { name: "x' OR 1=1 --" });
    expect(matchesLoggedModel(evil, parseLoggedModelFilter("name = 'x'' OR 1=1 --'"), [])).toBe(true);
    expect(matchesLoggedModel(model("m-8", { name: "x" }), parseLoggedModelFilter("name = 'x'' OR 1=1 --'"), [])).toBe(false);
    expect(() => parseLoggedModelFilter("name = 'x'; DROP TABLE logged_models")).toThrow(AppError);
  });
});

describe("logged-model order_by", () => {
  const order = (...entries: LoggedModelOrderByInput[]) => parseLoggedModelOrderBy(entries);

  it("adds creation_timestamp DESC unless given, then model_id", () => {
    expect(order()).toEqual([
      { type: "attribute", key: "creation_timestamp", ascending: false },
      { type: "attribute", key: "model_id", ascending: true },
    ]);
    expect(order({ fieldName: "creation_time", ascending: true })).toEqual([
      { type: "attribute", key: "creation_timestamp", ascending: true },
      { type: "attribute", key: "model_id", ascending: true },
    ]);
    expect(order({ fieldName: "metrics.acc", ascending: false, datasetName: "d" })[0]).toEqual({ type: "metric", key: "acc", ascending: false, datasetName: "d" });
  });

  it.each([
    [{ fieldName: "" }, "`field_name` in the `order_by` clause must be specified."],
    [{ fieldName: "artifact_location" }, "Invalid order by field name: artifact_location."],
    [{ fieldName: "params.lr" }, "Invalid order by field name: params.lr. Only metrics are supported."],
    [{ fieldName: "metrics.acc", datasetDigest: "d" }, "`dataset_digest` can only be specified if `dataset_name` is also specified."],
  ])("%j → %s", (entry, message) => {
    expect(parseError(() => parseLoggedModelOrderBy([entry]))).toBe(message);
  });

  const ms = [
    model("m-a", { name: "b", status: "READY", creationTimestampMs: 1, points: [{ key: "acc", value: 0.5, timestamp: 1 }, { key: "acc", value: 0.1, timestamp: 2 }] }),
    model("m-b", { name: "a", modelType: "t", creationTimestampMs: 2, points: [{ key: "acc", value: 0.3, datasetName: "d" }] }),
    model("m-c", { name: "a", creationTimestampMs: 3 }),
    model("m-d", { name: "c", creationTimestampMs: 3, points: [{ key: "acc", value: Number.NaN }] }),
  ];
  const sorted = (...entries: LoggedModelOrderByInput[]) => [...ms].sort((a, b) => compareLoggedModels(a, b, order(...entries))).map((m) => m.modelId);

  it("sorts with missing values last in both directions", () => {
    expect(sorted()).toEqual(["m-c", "m-d", "m-b", "m-a"]);
    expect(sorted({ fieldName: "name" })).toEqual(["m-c", "m-b", "m-a", "m-d"]);
    expect(sorted({ fieldName: "metrics.acc" })).toEqual(["m-a", "m-b", "m-c", "m-d"]); // latest of m-a is 0.1; NaN is missing
    expect(sorted({ fieldName: "metrics.acc", ascending: false })).toEqual(["m-b", "m-a", "m-c", "m-d"]);
    expect(sorted({ fieldName: "metrics.acc", datasetName: "d" })).toEqual(["m-b", "m-c", "m-d", "m-a"]);
    expect(sorted({ fieldName: "model_type", ascending: false })).toEqual(["m-b", "m-c", "m-d", "m-a"]);
    expect(sorted({ fieldName: "status", ascending: false })).toEqual(["m-a", "m-c", "m-d", "m-b"]);
  });

  it("takes the latest point by timestamp, then step, then the first run id", () => {
    const tied = model("m-t", { points: [{ key: "acc", value: 0.2, timestamp: 5, step: 1 }, { key: "acc", value: 0.9, timestamp: 5, step: 1 }] });
    tied.metrics[0]!.runId = "run-b";
    tied.metrics[1]!.runId = "run-a";
    const other = model("m-o", { points: [{ key: "acc", value: 0.5, timestamp: 1, step: 9 }] });
    const byAcc = order({ fieldName: "metrics.acc" });
    expect([tied, other].sort((a, b) => compareLoggedModels(a, b, byAcc)).map((m) => m.modelId)).toEqual(["m-o", "m-t"]); // 0.9 (run-a) > 0.5
    tied.metrics[1]!.runId = "run-c";
    expect([tied, other].sort((a, b) => compareLoggedModels(a, b, byAcc)).map((m) => m.modelId)).toEqual(["m-t", "m-o"]); // now 0.2 (run-b)
  });
});

describe("logged-model page tokens", () => {
  const key = { experimentIds: ["1"], filter: "name = 'a'", orderBy: [{ fieldName: "name" }] };

  it("continue only the search they came from", () => {
    const token = encodeLoggedModelPageToken(key, 50);
    expect(decodeLoggedModelPageToken(token, key)).toBe(50);
    expect(decodeLoggedModelPageToken(token, { ...key, orderBy: [{ fieldName: "name", ascending: true }] })).toBe(50);
    expect(parseError(() => decodeLoggedModelPageToken(token, { ...key, experimentIds: ["2"] }))).toBe(
      'Experiment IDs in the page token do not match the requested experiment IDs. Expected: ["2"]. Found: ["1"]',
    );
    expect(parseError(() => decodeLoggedModelPageToken(token, { ...key, filter: "" }))).toBe(
      "Filter string in the page token does not match the requested filter string. Expected: . Found: name = 'a'",
    );
    expect(parseError(() => decodeLoggedModelPageToken(token, { ...key, orderBy: [] }))).toMatch(/^Order by in the page token does not match/);
  });

  it.each(["evilhax", "not base64!", Buffer.from('{"offset":-1}').toString("base64url")])("rejects %s", (token) => {
    expect(parseError(() => decodeLoggedModelPageToken(token, key))).toBe("Invalid page token");
  });
});
