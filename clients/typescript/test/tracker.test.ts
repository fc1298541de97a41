/** The Tracker against a live in-process Logbook (SQLite): batching, order, flush triggers, reported errors. */
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLogbook, tempDir, type TestLogbook } from "../../../test/harness/logbook.js";
import { SpoolLockedError, Tracker, type LogbookError, type Op, type TrackerOptions } from "../src/index.js";
import { callCounter, metricHistory, sleep, stepsExactlyOnce } from "./helpers.js";

let lb: TestLogbook;
let dir: { path: string; remove(): void };
let n = 0;

beforeAll(async () => {
  lb = await startTestLogbook("sqlite");
  dir = tempDir("logbook-sdk-");
});
afterAll(async () => {
  await lb.close();
  dir.remove();
});

function tracker(options: TrackerOptions = {}): Tracker {
  return new Tracker({ address: lb.address, spoolPath: `${dir.path}/spool-${++n}.jsonl`, handleProcessExit: false, onWarning: () => {}, ...options });
}

describe("Tracker batching", () => {
  it("sends 2,500 metric points as 3 LogBatch calls (1000, 1000, 500), keeping the order within a key", async () => {
    const counter = callCounter();
    const t = tracker({ channelOptions: { interceptors: [counter.interceptor] }, flushIntervalMs: 60_000 });
    const run = t.startRun({ experimentName: "sdk-batching", runName: "b" });
    for (let i = 0; i < 2500; i++) run.logMetric("loss", 1 / (i + 1), { step: i });
    await t.flush();
    expect(counter.count("LogBatch")).toBe(3);
    expect(counter.batches.map((b) => b.metrics.length)).toEqual([1000, 1000, 500]);
    const sentSteps = counter.batches.flatMap((b) => b.metrics.map((m) => Number(m.step)));
    expect(sentSteps).toEqual([...Array(2500).keys()]);
    expect(stepsExactlyOnce(await metricHistory(lb.address, run.runId, "loss"), 2500)).toBe(true);
    expect(t.stats()).toMatchObject({ queuedCalls: 0, queuedPoints: 0, inFlight: 0, maxInFlight: 1, errors: 0, droppedPoints: 0 });
    await t.close();
  });

  it("respects the params (100), tags (100) and entities (1000) limits per call", async () => {
    const counter = callCounter();
    const t = tracker({ channelOptions: { interceptors: [counter.interceptor] }, flushIntervalMs: 60_000 });
    const run = t.startRun({ experimentName: "sdk-batching", runName: "limits" });
    for (let i = 0; i < 250; i++) run.logParam(`p${i}`, i);
    for (let i = 0; i < 150; i++) run.setTag(`t${i}`, `v${i}`);
    for (let i = 0; i < 1200; i++) run.logMetric("m", i, { step: i });
    await t.close();
    for (const b of counter.batches) {
      expect(b.params.length).toBeLessThanOrEqual(100);
      expect(b.tags.length).toBeLessThanOrEqual(100);
      expect(b.metrics.length).toBeLessThanOrEqual(1000);
      expect(b.metrics.length + b.params.length + b.tags.length).toBeLessThanOrEqual(1000);
    }
    expect(counter.batches.reduce((s, b) => s + b.params.length, 0)).toBe(250);
    expect(counter.batches.reduce((s, b) => s + b.tags.length, 0)).toBe(150);
    const got = await lb.tracking.getRun({ runId: run.runId, runUuid: "" });
    expect(got.run!.data!.params).toHaveLength(250);
    expect(got.run!.data!.tags.filter((tag) => /^t\d+$/.test(tag.key))).toHaveLength(150);
    expect(stepsExactlyOnce(await metricHistory(lb.address, run.runId, "m"), 1200)).toBe(true);
  });

  it("flushes on the interval without flush() being called", async () => {
    const counter = callCounter();
    const t = tracker({ channelOptions: { interceptors: [counter.interceptor] }, flushIntervalMs: 50 });
    const run = t.startRun({ experimentName: "sdk-batching", runName: "interval" });
    for (let i = 0; i < 10; i++) run.logMetric("acc", i / 10, { step: i });
    expect(counter.count("LogBatch")).toBe(0);
    while ((await metricHistory(lb.address, run.runId, "acc")).length < 10) await sleep(20);
    expect(counter.count("LogBatch")).toBeGreaterThanOrEqual(1);
    await t.close();
  });

  it("flushes on close(), ending the run", async () => {
    const t = tracker({ flushIntervalMs: 60_000 });
    const run = t.startRun({ experimentName: "sdk-batching", runName: "close", tags: { team: "quant" } });
    for (let i = 0; i < 10; i++) run.logMetric("acc", i / 10, { step: i });
    run.logParam("lr", 0.01).setTag("stage", "dev").end("FINISHED");
    expect(t.stats().queuedPoints).toBeGreaterThan(0);
    await t.close();
    expect(stepsExactlyOnce(await metricHistory(lb.address, run.runId, "acc"), 10)).toBe(true);
    const got = (await lb.tracking.getRun({ runId: run.runId, runUuid: "" })).run!;
    expect(got.info!.status).toBe(3); // FINISHED
    expect(got.info!.runName).toBe("close");
    expect(got.data!.params).toEqual([{ key: "lr", value: "0.01" }]);
    expect(Object.fromEntries(got.data!.tags.map((tag) => [tag.key, tag.value]))).toMatchObject({ team: "quant", stage: "dev" });
  });

  it("creates a run once even when its CreateRun is sent again (client-chosen run id)", async () => {
    const t = tracker();
    const runId = "ab".repeat(16);
    t.startRun({ experimentName: "sdk-idempotent", runId }).logMetric("x", 1);
    t.startRun({ experimentName: "sdk-idempotent", runId }).logMetric("x", 1);
    await t.close();
    expect(t.stats().errors).toBe(0);
    expect(await metricHistory(lb.address, runId, "x")).toHaveLength(1);
  });
});

describe("Tracker errors", () => {
  it("reports a non-retryable error via onError with the gRPC and MLflow codes, once, and keeps logging", async () => {
    const errors: { error: LogbookError; op: Op }[] = [];
    const counter = callCounter();
    const t = tracker({ channelOptions: { interceptors: [counter.interceptor] }, onError: (error, op) => errors.push({ error, op }) });
    const run = t.startRun({ experimentName: "sdk-errors" });
    run.logParam("lr", "0.1");
    await t.flush();
    run.logParam("lr", "0.2"); // MLflow refuses to change a logged param
    expect(() => run.logMetric("after", 1)).not.toThrow();
    await t.flush();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error.grpcCode).toBe(status.INVALID_ARGUMENT);
    expect(errors[0]!.error.mlflowCode).toBe("INVALID_PARAMETER_VALUE");
    expect(errors[0]!.op.kind).toBe("logBatch");
    expect(counter.count("LogBatch")).toBe(2); // the failed call was not retried
    run.logMetric("later", 2);
    await t.flush();
    expect(await metricHistory(lb.address, run.runId, "later")).toHaveLength(1);
    expect(t.stats()).toMatchObject({ errors: 1, online: true, spoolPendingBytes: 0 });
    await t.close();
  });

  it("reports NOT_FOUND / RESOURCE_DOES_NOT_EXIST for a run in an experiment that does not exist", async () => {
    const errors: LogbookError[] = [];
    const t = tracker({ onError: (error) => errors.push(error) });
    t.startRun({ experimentId: "987654321" }).logMetric("x", 1);
    await t.close();
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]!.grpcCode).toBe(status.NOT_FOUND);
    expect(errors[0]!.mlflowCode).toBe("RESOURCE_DOES_NOT_EXIST");
    expect(errors[0]!.retryable).toBe(false);
  });
});

describe("Tracker spool ownership", () => {
  it("one Tracker per spool file: a second one on the same path is refused; the default path moves to a free slot", async () => {
    const path = `${dir.path}/owned.jsonl`;
    const a = tracker({ spoolPath: path });
    expect(() => tracker({ spoolPath: path })).toThrow(SpoolLockedError);
    await a.close();
    const b = tracker({ spoolPath: path }); // released by close()
    await b.close();
    const d1 = new Tracker({ address: lb.address, handleProcessExit: false });
    const d2 = new Tracker({ address: lb.address, handleProcessExit: false });
    expect(d2.spoolPath).not.toBe(d1.spoolPath);
    await d1.close();
    await d2.close();
  });
});
