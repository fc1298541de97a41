import { describe, expect, it } from "vitest";
import { type ChangeItem, ITEMS_PER_CHANGE, decodeChangeItems, encodeChangeItems, itemSequence, positionOf, recordSequence } from "./run-change.js";

describe("change records", () => {
  it("item sequences name one item of one record, and a record sequence its last", () => {
    expect(positionOf(itemSequence(7, 0))).toEqual({ seq: 7, index: 0 });
    expect(positionOf(itemSequence(7, 1199))).toEqual({ seq: 7, index: 1199 });
    expect(positionOf(recordSequence(7))).toEqual({ seq: 7, index: ITEMS_PER_CHANGE - 1 });
    expect(itemSequence(8, 0)).toBeGreaterThan(recordSequence(7));
    expect(Number.isSafeInteger(recordSequence(2 ** 41 - 1))).toBe(true);
  });

  it("items survive their JSON encoding: NaN, ±Infinity, -0, optional metric fields, deleted tags, lifecycle info", () => {
    const info = { runId: "r", runName: "n", experimentId: "1", userId: "", status: "RUNNING" as const, startTime: 1, artifactUri: "a", lifecycleStage: "active" as const };
    const items: ChangeItem[] = [
      { kind: "metric", metric: { key: "a.b", value: Number.NaN, timestamp: 1, step: 0 } },
      { kind: "metric", metric: { key: "x", value: Infinity, timestamp: 2, step: -3 } },
      { kind: "metric", metric: { key: "x", value: -Infinity, timestamp: 2, step: 4 } },
      { kind: "metric", metric: { key: "z", value: -0, timestamp: 2, step: 4, modelId: "m-1", datasetName: "d", datasetDigest: "g" } },
      { kind: "metric", metric: { key: "y", value: 0.1, timestamp: 2, step: 4, datasetName: "d" } },
      { kind: "param", param: { key: "p", value: "" } },
      { kind: "tag", key: "t", value: "v" },
      { kind: "tag", key: "t" },
      { kind: "info", info: { ...info, endTime: 5 } },
      { kind: "info", info, lifecycle: true },
      { kind: "experiment", lifecycleStage: "deleted" },
    ];
    const back = decodeChangeItems(encodeChangeItems(items));
    expect(back).toEqual(items);
    expect(Object.is((back[3] as { metric: { value: number } }).metric.value, -0)).toBe(true);
  });
});
