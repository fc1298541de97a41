/**
 * TrackingService.WatchRun over gRPC on both stores: the snapshot, then every change of the run exactly once and in
 * commit order (counted); metric_keys; tags deleted; the stream completing when the run ends; resume after a
 * sequence (replay, and a fresh snapshot when the log no longer has the changes); cancellation releasing the watcher;
 * errors.
 */
import { credentials, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunStatus } from "../../gen/ts/logbook/v1/run.js";
import type { RunUpdate, WatchRunRequest } from "../../gen/ts/logbook/v1/run_watch.js";
import { TrackingServiceClient } from "../../gen/ts/logbook/v1/tracking_service.js";
import { positionOf } from "../../src/domain/run-change.js";
import { expectGrpcError } from "../harness/grpc.js";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";
import { type LiveStream, liveStream } from "../harness/watch-stream.js";

const NOW = 1_700_000_000_000;

describe.each(STORE_KINDS)("WatchRun on %s", (kind) => {
  let lb: TestLogbook;
  let client: TrackingServiceClient;
  let experimentId: string;

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "watch-run" });
    client = new TrackingServiceClient(lb.address, credentials.createInsecure());
    ({ experimentId } = await lb.tracking.createExperiment({ name: "watch", artifactLocation: "", tags: [] }));
  });
  afterAll(async () => {
    client?.close();
    await lb?.close();
  });

  const watch = (request: Partial<WatchRunRequest> & { runId: string }): LiveStream<RunUpdate> =>
    liveStream(client.watchRun({ metricKeys: [], ...request }));

  async function newRun(name: string): Promise<string> {
    const { run } = await lb.tracking.createRun({ experimentId, runName: name, tags: [], startTime: BigInt(NOW) } as never);
    return run!.info!.runId;
  }

  const point = (key: string, step: number, value = step) => ({ key, value, timestamp: BigInt(NOW + step), step: BigInt(step), runId: "" });
  const runWatchers = () => lb.logbook.watch.stats().runWatchers;
  const released = async () => {
    for (let i = 0; i < 200 && runWatchers() > 0; i++) await new Promise((r) => setTimeout(r, 25));
    return runWatchers();
  };

  it("sends the snapshot, then every point logged after it once, in order", async () => {
    const runId = await newRun("every-point");
    await lb.tracking.logBatch({ runId, metrics: [point("loss", 0)], params: [{ key: "lr", value: "0.1" }], tags: [] });
    const stream = watch({ runId });
    const snapshot = await stream.next();
    expect(snapshot.snapshot?.run?.info?.runId).toBe(runId);
    expect(snapshot.snapshot?.run?.data?.params).toEqual([{ key: "lr", value: "0.1" }]);
    expect(snapshot.snapshot?.run?.data?.metrics.map((m) => m.key)).toEqual(["loss"]);

    // 30 batches of 40 points over two keys, one call after the other: commit order is logging order.
    const logged: string[] = [];
    for (let b = 0; b < 30; b++) {
      const metrics = Array.from({ length: 40 }, (_, i) => point(i % 2 ? "acc" : "loss", 1 + b * 20 + Math.floor(i / 2), b * 40 + i));
      metrics.forEach((m) => logged.push(`${m.key}@${m.step}`));
      await lb.tracking.logBatch({ runId, metrics, params: [], tags: [] });
    }
    const updates = await stream.take(logged.length);
    stream.cancel();
    expect(updates.every((u) => u.metric !== undefined && !u.coalesced)).toBe(true);
    expect(updates.map((u) => `${u.metric!.key}@${u.metric!.step}`)).toEqual(logged);
    const sequences = updates.map((u) => u.sequence);
    expect(new Set(sequences).size).toBe(sequences.length);
    expect([...sequences].sort((a, b) => (a < b ? -1 : 1))).toEqual(sequences);
    expect(sequences[0]! > snapshot.sequence).toBe(true);
    expect(await released()).toBe(0);
  });

  it("sends params, tags (a deleted one without value) and info; completes when the run ends", async () => {
    const runId = await newRun("lifecycle");
    const stream = watch({ runId });
    await stream.next();
    await lb.tracking.logBatch({ runId, metrics: [], params: [{ key: "window", value: "20" }], tags: [{ key: "stage", value: "train" }] });
    await lb.tracking.deleteTag({ runId, key: "stage" });
    // The same param again is no change; a repeated identical point neither.
    await lb.tracking.logBatch({ runId, metrics: [point("m", 1)], params: [{ key: "window", value: "20" }], tags: [] });
    await lb.tracking.logBatch({ runId, metrics: [point("m", 1)], params: [], tags: [] });
    await lb.tracking.updateRun({ runId, status: RunStatus.RUN_STATUS_FINISHED, endTime: BigInt(NOW + 99) } as never);
    const rest = await stream.end();
    expect(rest.map((u) => Object.keys(u).find((k) => !["sequence", "coalesced"].includes(k) && u[k as keyof RunUpdate] !== undefined))).toEqual([
      "param",
      "tag",
      "tag",
      "metric",
      "info",
    ]);
    expect(rest[1]!.tag).toEqual({ key: "stage", value: "train" });
    expect(rest[2]!.tag).toEqual({ key: "stage", value: undefined });
    expect(rest[4]!.info).toMatchObject({ status: RunStatus.RUN_STATUS_FINISHED, endTime: BigInt(NOW + 99) });
    expect(await released()).toBe(0);

    // A finished run: the snapshot, then the end.
    const after = await watch({ runId }).end().catch((e: unknown) => e);
    expect(Array.isArray(after) && after.length === 1 && after[0]!.snapshot !== undefined).toBe(true);
  });

  it("metric_keys limits the snapshot's metrics and the points to those keys", async () => {
    const runId = await newRun("keys");
    await lb.tracking.logBatch({ runId, metrics: [point("a", 0), point("b", 0)], params: [], tags: [] });
    const stream = watch({ runId, metricKeys: ["b"] });
    const snapshot = await stream.next();
    expect(snapshot.snapshot?.run?.data?.metrics.map((m) => m.key)).toEqual(["b"]);
    await lb.tracking.logBatch({ runId, metrics: [point("a", 1), point("b", 1), point("a", 2)], params: [], tags: [] });
    await lb.tracking.logBatch({ runId, metrics: [point("b", 2)], params: [], tags: [] });
    const updates = await stream.take(2);
    expect(updates.map((u) => `${u.metric?.key}@${u.metric?.step}`)).toEqual(["b@1", "b@2"]);
    stream.cancel();
  });

  it("resumes after a sequence: the changes after it, without a snapshot; too old a sequence gets a snapshot", async () => {
    const runId = await newRun("resume");
    const first = watch({ runId });
    await first.next();
    await lb.tracking.logBatch({ runId, metrics: [point("x", 1), point("x", 2), point("x", 3)], params: [], tags: [] });
    const [one] = await first.take(1);
    first.cancel();
    await lb.tracking.logBatch({ runId, metrics: [point("x", 4)], params: [], tags: [{ key: "t", value: "v" }] });

    // After x@1: the rest of its batch (x@2, x@3), then the next batch — nothing twice, nothing missing.
    const resumed = watch({ runId, afterSequence: one!.sequence });
    const replayed = await resumed.take(4);
    expect(replayed.map((u) => (u.metric ? `x@${u.metric.step}` : `tag ${u.tag?.key}`))).toEqual(["x@2", "x@3", "tag t", "x@4"]);
    await lb.tracking.logBatch({ runId, metrics: [point("x", 5)], params: [], tags: [] });
    expect((await resumed.next()).metric?.step).toBe(5n);
    resumed.cancel();

    // Records pruned: a resume from before them is a fresh snapshot.
    await lb.logbook.store.pruneChanges(Date.now() + 1000);
    const late = watch({ runId, afterSequence: one!.sequence });
    const snap = await late.next();
    expect(snap.snapshot?.run?.data?.metrics.find((m) => m.key === "x")?.step).toBe(5n);
    expect(positionOf(Number(snap.sequence)).seq).toBeGreaterThan(positionOf(Number(one!.sequence)).seq);
    late.cancel();
  });

  it("answers NOT_FOUND for an unknown run and INVALID_ARGUMENT for a malformed id or sequence", async () => {
    await expectGrpcError(watch({ runId: "f".repeat(32) }).next(), { grpcCode: status.NOT_FOUND, mlflowCode: "RESOURCE_DOES_NOT_EXIST" });
    await expectGrpcError(watch({ runId: "../etc" }).next(), { grpcCode: status.INVALID_ARGUMENT, mlflowCode: "INVALID_PARAMETER_VALUE" });
    const runId = await newRun("bad-sequence");
    await expectGrpcError(watch({ runId, afterSequence: -1n }).next(), { grpcCode: status.INVALID_ARGUMENT, mlflowCode: "INVALID_PARAMETER_VALUE" });
    expect(await released()).toBe(0);
  });
});
