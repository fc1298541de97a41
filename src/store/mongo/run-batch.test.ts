/** What a LogBatch writes to a run document, computed without a server (run-batch.ts). */
import { describe, expect, it } from "vitest";
import type { Metric } from "../../domain/entities.js";
import { AppError, ErrorCode } from "../../domain/errors.js";
import { paramChangedMessage } from "../../domain/validation.js";
import { batchProjection, batchUpdate } from "./run-batch.js";
import { latestEntryOf, newRunDoc } from "./run-document.js";
import { metricOrderKey } from "./value-encoding.js";

const point = (key: string, value: number, timestamp: number, step: number): Metric => ({ key, value, timestamp, step });
const run = () => ({
  ...newRunDoc({ runId: "r1", experimentId: "3", userId: "u", runName: "n", startTime: 100, tags: [{ key: "mlflow.runName", value: "n" }] }, "mlflow-artifacts:/3"),
});

function thrown(work: () => unknown): AppError {
  try {
    work();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error("expected an error");
}

describe("LogBatch on a run document", () => {
  it("reads only the entries of the batch's keys", () => {
    expect(batchProjection({ metrics: [point("a.b", 1, 1, 0)], params: [{ key: "p", value: "1" }], tags: [{ key: "$t", value: "1" }] })).toEqual({
      start_time: 1,
      seq: 1,
      "params.p": 1,
      "tags.%24t": 1,
      "metrics.a%2Eb": 1,
    });
  });

  it("adds new keys in first-logged order after what the run has, the most recent point of each metric", () => {
    const set = batchUpdate("r1", run(), {
      metrics: [point("loss", 3, 5, 1), point("loss", 2, 1, 2), point("acc", Number.NaN, 1, 0)],
      params: [{ key: "lr", value: "0.1" }, { key: "lr", value: "0.1" }],
      tags: [{ key: "t", value: "a" }, { key: "t", value: "b" }, { key: "mlflow.runName", value: "n" }],
    });
    expect(set).toEqual({
      "params.lr": { v: "0.1", o: 1 },
      "tags.t": { v: "b", o: 2 },
      "metrics.loss": latestEntryOf(point("loss", 2, 1, 2), 3),
      "metric_asc.loss": metricOrderKey(true, 2, 100, "r1"),
      "metric_desc.loss": metricOrderKey(false, 2, 100, "r1"),
      "metrics.acc": latestEntryOf(point("acc", Number.NaN, 1, 0), 4),
      "metric_asc.acc": metricOrderKey(true, Number.NaN, 100, "r1"),
      "metric_desc.acc": metricOrderKey(false, Number.NaN, 100, "r1"),
      seq: 5,
    });
  });

  it("keeps a stored latest point that is as recent or more, and an entry's place when it changes", () => {
    const doc = { ...run(), seq: 9, metrics: { m: latestEntryOf(point("m", 1, 10, 5), 4) }, tags: { t: { v: "a", o: 7 } } };
    expect(batchUpdate("r1", doc, { metrics: [point("m", 1, 10, 5), point("m", 9, 99, 4)], params: [], tags: [{ key: "t", value: "a" }] })).toBeNull();
    const set = batchUpdate("r1", doc, { metrics: [point("m", 0, 10, 6)], params: [], tags: [{ key: "t", value: "b" }] });
    expect(set).toMatchObject({ "metrics.m": { o: 4, step: 6 }, "tags.t": { v: "b", o: 7 } });
    expect(set).not.toHaveProperty("seq");
  });

  it("refuses a param logged before, or earlier in the batch, with another value", () => {
    const doc = { ...run(), params: { lr: { v: "0.1", o: 1 } } };
    const stored = thrown(() => batchUpdate("r1", doc, { metrics: [], params: [{ key: "lr", value: "0.2" }], tags: [] }));
    expect({ code: stored.code, message: stored.message }).toEqual({ code: ErrorCode.INVALID_PARAMETER_VALUE, message: paramChangedMessage("r1", "lr", "0.1", "0.2") });
    const inBatch = thrown(() => batchUpdate("r1", run(), { metrics: [], params: [{ key: "x", value: "1" }, { key: "x", value: "2" }], tags: [] }));
    expect(inBatch.message).toBe(paramChangedMessage("r1", "x", "1", "2"));
  });
});
