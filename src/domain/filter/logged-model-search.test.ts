/**
 * The logged-model filter, datasets, structured order_by and page tokens: MLflow's grammar and messages. What they
 * match and how they sort is the stores' (entity-search-cases.ts in the conformance suite).
 */
import { describe, expect, it } from "vitest";
import { AppError } from "../errors.js";
import {
  type LoggedModelOrderByInput,
  decodeLoggedModelPageToken,
  encodeLoggedModelPageToken,
  loggedModelKeysetTerms,
  parseLoggedModelDatasets,
  parseLoggedModelFilter,
  parseLoggedModelOrderBy,
} from "./logged-model-search.js";
import { parseError } from "../../../test/harness/parse-error.js";

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

  it("keeps injection attempts literal", () => {
    expect(parseLoggedModelFilter("name = 'x'' OR 1=1 --'")).toEqual([{ type: "attribute", key: "name", comparator: "=", value: "x' OR 1=1 --" }]);
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
});

describe("logged-model page tokens", () => {
  const key = { experimentIds: ["1"], filter: "name = 'a'", orderBy: [{ fieldName: "name" }] };
  const terms = loggedModelKeysetTerms(parseLoggedModelOrderBy(key.orderBy));
  const after = ["b", 5, "m-1"];

  it("continue only the search they came from, with its sort key", () => {
    const token = encodeLoggedModelPageToken(key, after);
    expect(decodeLoggedModelPageToken(token, key, terms)).toEqual(after);
    expect(decodeLoggedModelPageToken(token, { ...key, orderBy: [{ fieldName: "name", ascending: true }] }, terms)).toEqual(after);
    expect(parseError(() => decodeLoggedModelPageToken(token, { ...key, experimentIds: ["2"] }, terms))).toBe(
      'Experiment IDs in the page token do not match the requested experiment IDs. Expected: ["2"]. Found: ["1"]',
    );
    expect(parseError(() => decodeLoggedModelPageToken(token, { ...key, filter: "" }, terms))).toBe(
      "Filter string in the page token does not match the requested filter string. Expected: . Found: name = 'a'",
    );
    expect(parseError(() => decodeLoggedModelPageToken(token, { ...key, orderBy: [] }, terms))).toMatch(/^Order by in the page token does not match/);
  });

  it("carry a missing metric as null, and ±Infinity", () => {
    const byMetric = { ...key, orderBy: [{ fieldName: "metrics.acc" }] };
    const metricTerms = loggedModelKeysetTerms(parseLoggedModelOrderBy(byMetric.orderBy));
    for (const values of [[null, 5, "m-1"], [Number.NEGATIVE_INFINITY, 5, "m-1"]]) {
      expect(decodeLoggedModelPageToken(encodeLoggedModelPageToken(byMetric, values), byMetric, metricTerms)).toEqual(values);
    }
    expect(parseError(() => decodeLoggedModelPageToken(encodeLoggedModelPageToken(key, [null, 5, "m-1"]), key, terms))).toBe("Invalid page token");
  });

  it.each(["evilhax", "not base64!", Buffer.from('{"offset":-1}').toString("base64url"), encodeLoggedModelPageToken(key, ["b", "5", "m-1"])])(
    "rejects %s",
    (token) => {
      expect(parseError(() => decodeLoggedModelPageToken(token, key, terms))).toBe("Invalid page token");
    },
  );
});
