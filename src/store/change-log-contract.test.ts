/**
 * The change-log conformance suite (ChangeLogStore in src/store/types.ts is the contract): which writes append a
 * record and with which items, what the in-process listeners are told and when, the reads a poll, a resume and the
 * bounds make, pruning, and the run read with its sequence — the same cases against every backend, each on a fresh
 * database per test.
 */
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { serverHasChangeStreams } from "../../test/harness/mongo.js";
import { STORE_BACKENDS } from "../../test/harness/store-backends.js";
import type { Metric } from "../domain/entities.js";
import type { ChangeItem, RunChange } from "../domain/run-change.js";
import { type Store, canStreamChanges } from "./types.js";

const backends = STORE_BACKENDS;
const NOW = 1_700_000_000_000;
const newRunId = () => randomBytes(16).toString("hex");
const point = (key: string, step: number, value = step): Metric => ({ key, value, timestamp: NOW + step, step });

/** The items of records without their run info (it carries times the store sets): kind and key, value. */
function brief(item: ChangeItem): string {
  switch (item.kind) {
    case "metric":
      return `metric ${item.metric.key}@${item.metric.step}=${item.metric.value}`;
    case "param":
      return `param ${item.param.key}=${item.param.value}`;
    case "tag":
      return item.value === undefined ? `tag ${item.key} deleted` : `tag ${item.key}=${item.value}`;
    case "info":
      return `info ${item.info.status} ${item.info.lifecycleStage}${item.lifecycle ? " lifecycle" : ""}`;
    case "experiment":
      return `experiment ${item.lifecycleStage}`;
  }
}

describe.each(backends)("Change log contract: $name", (backend) => {
  const opened: Store[] = [];
  let store: Store;
  let told: RunChange[];

  beforeEach(async () => {
    store = await backend.open();
    opened.push(store);
    await store.init();
    told = [];
    store.onChange((change) => told.push(change));
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  const createRun = async (experimentId = "0") => {
    const run = await store.createRun({ runId: newRunId(), experimentId, userId: "ada", runName: "run", startTime: NOW, tags: [] });
    return run.info.runId;
  };
  const after = async (seq: number) => store.readChanges(seq, 1000);

  it("appends one record per recorded write, in commit order, and tells the listeners the same records", async () => {
    const { head: start } = await store.changeLogBounds();
    const runId = await createRun();
    await store.logBatch(runId, { params: [{ key: "lr", value: "0.1" }], tags: [{ key: "stage", value: "a" }], metrics: [point("loss", 1), point("loss", 2)] });
    await store.deleteRunTag(runId, "stage");
    await store.updateRun(runId, { status: "FINISHED", endTime: NOW + 5 });
    await store.setRunLifecycle(runId, "deleted", NOW + 6);

    const records = await after(start);
    expect(records.map((r) => r.items.map(brief))).toEqual([
      ["info RUNNING active"],
      ["param lr=0.1", "tag stage=a", "metric loss@1=1", "metric loss@2=2"],
      ["tag stage deleted"],
      ["info FINISHED active"],
      ["info FINISHED deleted lifecycle"],
    ]);
    expect(records.every((r) => r.runId === runId && r.experimentId === "0")).toBe(true);
    const seqs = records.map((r) => r.seq);
    expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)).toBe(true);
    expect(seqs[0]!).toBeGreaterThan(start);
    // What this store committed reaches its listeners as stored, in the same order.
    expect(told.map((r) => [r.seq, r.runId, r.items.map(brief)])).toEqual(records.map((r) => [r.seq, r.runId, r.items.map(brief)]));
    expect((await store.changeLogBounds()).head).toBe(seqs.at(-1));
  });

  it("records a repeated param or point as no change, and a failed write not at all", async () => {
    const runId = await createRun();
    await store.logBatch(runId, { params: [{ key: "lr", value: "0.1" }], tags: [], metrics: [point("m", 1)] });
    const { head } = await store.changeLogBounds();
    const toldBefore = told.length;
    // The same param and the same point again: nothing new is stored, nothing is recorded.
    await store.logBatch(runId, { params: [{ key: "lr", value: "0.1" }], tags: [], metrics: [point("m", 1)] });
    // A changed param fails the whole batch: no record, nothing told.
    await expect(store.logBatch(runId, { params: [{ key: "lr", value: "0.2" }], tags: [], metrics: [point("m", 2)] })).rejects.toMatchObject({
      code: "INVALID_PARAMETER_VALUE",
    });
    await expect(store.deleteRunTag(runId, "absent")).rejects.toMatchObject({ code: "RESOURCE_DOES_NOT_EXIST" });
    // A new point next to a repeated one: only the new one.
    await store.logBatch(runId, { params: [{ key: "lr", value: "0.1" }], tags: [], metrics: [point("m", 1), point("m", 3)] });
    const records = await after(head);
    expect(records.map((r) => r.items.map(brief))).toEqual([["metric m@3=3"]]);
    expect(told.slice(toldBefore).map((r) => r.seq)).toEqual(records.map((r) => r.seq));
  });

  it("records concurrent writes of one run in the order they changed it (the last tag record is the stored tag)", async () => {
    const runId = await createRun();
    const { head } = await store.changeLogBounds();
    // The earlier writes store more points (a longer history insert after their update) than the later ones.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.logBatch(runId, { params: [], tags: [{ key: "t", value: `v${i}` }], metrics: Array.from({ length: (20 - i) * 50 }, (_, s) => point(`m${i}`, s)) }),
      ),
    );
    const records = await after(head);
    expect(records).toHaveLength(20);
    const lastTag = records.at(-1)!.items.find((item) => item.kind === "tag");
    const { run } = await store.getRunWithSequence(runId);
    expect(lastTag).toEqual({ kind: "tag", key: "t", value: run.data.tags.find((t) => t.key === "t")!.value });
  });

  it("records an experiment deleted or restored once for all its runs, without a run id", async () => {
    const experimentId = await store.createExperiment({ name: `e-${newRunId()}`, tags: [], now: NOW });
    await createRun(experimentId);
    const { head } = await store.changeLogBounds();
    await store.setExperimentLifecycle(experimentId, "deleted", NOW + 1);
    await store.setExperimentLifecycle(experimentId, "active", NOW + 2);
    const records = await after(head);
    expect(records.map((r) => [r.runId, r.experimentId, r.items.map(brief)])).toEqual([
      [undefined, experimentId, ["experiment deleted"]],
      [undefined, experimentId, ["experiment active"]],
    ]);
  });

  it("reads after a sequence with a limit (a poll), one run's records with the experiments' ones (a resume)", async () => {
    const { head: start } = await store.changeLogBounds();
    const a = await createRun();
    const b = await createRun();
    for (let i = 1; i <= 3; i++) {
      await store.logBatch(a, { params: [], tags: [], metrics: [point("x", i)] });
      await store.logBatch(b, { params: [], tags: [], metrics: [point("y", i)] });
    }
    await store.setExperimentLifecycle("0", "active", NOW);
    const all = await after(start);
    expect(all).toHaveLength(9);
    const page = await store.readChanges(start, 4);
    expect(page.map((r) => r.seq)).toEqual(all.slice(0, 4).map((r) => r.seq));
    expect((await store.readChanges(page[3]!.seq, 1000)).map((r) => r.seq)).toEqual(all.slice(4).map((r) => r.seq));

    const ofA = await store.readRunChanges(a, start, 1000);
    expect(ofA.map((r) => r.seq)).toEqual(all.filter((r) => r.runId === a || r.runId === undefined).map((r) => r.seq));
    const fromSecond = await store.readRunChanges(a, ofA[1]!.seq, 2);
    expect(fromSecond.map((r) => r.seq)).toEqual(ofA.slice(2, 4).map((r) => r.seq));
    expect(await store.readRunChanges(newRunId(), all.at(-2)!.seq, 10)).toEqual([all.at(-1)]);
  });

  it("prunes the records committed before a time, always keeping the newest, and never reuses a sequence", async () => {
    const runId = await createRun();
    await store.logBatch(runId, { params: [], tags: [], metrics: [point("x", 1)] });
    const { head } = await store.changeLogBounds();
    expect(await store.pruneChanges(Date.now() + 60_000)).toBeGreaterThan(0);
    expect(await store.changeLogBounds()).toEqual({ oldest: head, head });
    expect(await store.pruneChanges(Date.now() + 60_000)).toBe(0);
    // Records kept by time stay.
    await store.logBatch(runId, { params: [], tags: [], metrics: [point("x", 2)] });
    expect(await store.pruneChanges(NOW)).toBe(0);
    const bounds = await store.changeLogBounds();
    expect(bounds).toEqual({ oldest: head, head: head + 1 });
    expect((await after(head - 1)).map((r) => r.seq)).toEqual([head, head + 1]);
  });

  it("shares one sequence between stores on one database: each tells only its own records, reads show all", async () => {
    const other = await backend.openSameDatabase(store);
    opened.push(other);
    await other.init();
    const toldOther: RunChange[] = [];
    other.onChange((change) => toldOther.push(change));
    const { head } = await store.changeLogBounds();
    const runId = await createRun();
    for (let i = 1; i <= 4; i++) await (i % 2 ? other : store).logBatch(runId, { params: [], tags: [], metrics: [point("x", i)] });
    const all = await other.readChanges(head, 1000);
    expect(all.map((r) => r.items.map(brief))).toEqual([["info RUNNING active"], ["metric x@1=1"], ["metric x@2=2"], ["metric x@3=3"], ["metric x@4=4"]]);
    expect(all.every((r, i) => i === 0 || r.seq > all[i - 1]!.seq)).toBe(true);
    expect(await store.readChanges(head, 1000)).toEqual(all);
    const seqs = (changes: RunChange[]) => changes.filter((r) => r.seq > head).map((r) => r.seq);
    expect(seqs(told)).toEqual([all[0]!.seq, all[2]!.seq, all[4]!.seq]);
    expect(seqs(toldOther)).toEqual([all[1]!.seq, all[3]!.seq]);
  });

  it("pushes other stores' records through a change stream exactly where the server has them (else they are polled)", async () => {
    const stream = canStreamChanges(store) ? store.changeStream() : undefined;
    const expected = backend.name === "mongodb" && (await serverHasChangeStreams());
    expect(stream !== undefined).toBe(expected);
    if (stream === undefined) return;
    // A MongoDB replica set (MONGODB_URI): a record written through another store arrives pushed.
    const other = await backend.openSameDatabase(store);
    opened.push(other);
    await other.init();
    const pushed: RunChange[] = [];
    await new Promise<void>((resolve, reject) => stream.start({ deliver: (c) => pushed.push(c), ready: resolve, broken: reject }));
    try {
      const runId = await other.createRun({ runId: newRunId(), experimentId: "0", userId: "ada", runName: "pushed", startTime: NOW, tags: [] }).then((r) => r.info.runId);
      for (let i = 0; i < 600 && !pushed.some((c) => c.runId === runId); i++) await new Promise((r) => setTimeout(r, 50));
      expect(pushed.find((c) => c.runId === runId)?.items.map(brief)).toEqual(["info RUNNING active"]);
    } finally {
      await stream.stop();
    }
  });

  it("reads a run with the sequence its state reflects", async () => {
    const runId = await createRun();
    await store.logBatch(runId, { params: [{ key: "p", value: "1" }], tags: [], metrics: [point("x", 1)] });
    const { run, seq } = await store.getRunWithSequence(runId);
    expect(seq).toBe((await store.changeLogBounds()).head);
    expect(run.data.params).toEqual([{ key: "p", value: "1" }]);
    expect(run.data.metrics.map((m) => m.key)).toEqual(["x"]);
    await expect(store.getRunWithSequence(newRunId())).rejects.toMatchObject({ code: "RESOURCE_DOES_NOT_EXIST" });
  });
});
