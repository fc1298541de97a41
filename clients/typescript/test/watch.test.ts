/**
 * Tracker.watchRun and Tracker.compareRuns against real Logbook processes (dist/, `npm run build` first): the
 * snapshot and every point the tracker logged, in order, ending with the run; a server shut down and started again
 * on the same data directory and port mid-watch — the iterator reconnects after the last update and misses nothing;
 * the comparison of two runs.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnLogbook, tempDir, type LogbookProcess } from "../../../test/harness/logbook.js";
import { Tracker } from "../src/index.js";

let dir: { path: string; remove(): void };
const started: LogbookProcess[] = [];

async function serve(dataDir: string, port = 0): Promise<LogbookProcess> {
  const p = await spawnLogbook(["--data-dir", dataDir, "--grpc-port", String(port), "--shutdown-timeout-s", "5"]);
  started.push(p);
  return p;
}

beforeAll(() => {
  dir = tempDir("logbook-sdk-watch-");
});
afterAll(async () => {
  for (const p of started) await p.stop();
  dir.remove();
});

describe("Tracker.watchRun", () => {
  it("iterates the snapshot and every point in order, ends with the run, and reconnects across a server restart", async () => {
    const dataDir = join(dir.path, "restart");
    const first = await serve(dataDir);
    const t = new Tracker({ address: first.address, spoolPath: join(dir.path, "spool.jsonl"), handleProcessExit: false, flushIntervalMs: 50, probeInitialMs: 50, probeMaxMs: 400, onWarning: () => {} });
    const run = t.startRun({ experimentName: "sdk-watch", runName: "live" });
    run.logParam("lr", 0.01);
    await t.flush();

    const seen: string[] = [];
    let snapshot = false;
    let finished = false;
    const watching = (async () => {
      for await (const update of t.watchRun(run.runId, { maxReconnectDelayMs: 200 })) {
        if (update.snapshot) snapshot = true;
        else if (update.metric) seen.push(`${update.metric.key}@${update.metric.step}`);
        else if (update.info) finished = update.info.status === 3; // RUN_STATUS_FINISHED
      }
    })();
    while (!snapshot) await new Promise((r) => setTimeout(r, 10));

    for (let i = 0; i < 50; i++) run.logMetric("loss", 1 / (i + 1), { step: i });
    await t.flush();
    while (seen.length < 50) await new Promise((r) => setTimeout(r, 10));

    // The server goes away (graceful: the watch ends UNAVAILABLE) and comes back on the same port and data.
    await first.stop();
    const second = await serve(dataDir, first.grpcPort);
    for (let i = 50; i < 100; i++) run.logMetric("loss", 1 / (i + 1), { step: i });
    run.end();
    await t.flush();
    await watching;
    await t.close();

    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => `loss@${i}`));
    expect(finished).toBe(true);
    await second.stop();
  });
});

describe("Tracker.compareRuns", () => {
  it("lays two runs side by side: params that differ, the best run by direction, downsampled histories", async () => {
    const server = await serve(join(dir.path, "compare"));
    const t = new Tracker({ address: server.address, spoolPath: join(dir.path, "compare.jsonl"), handleProcessExit: false, onWarning: () => {} });
    const a = t.startRun({ experimentName: "sdk-compare", runName: "a" });
    const b = t.startRun({ experimentName: "sdk-compare", runName: "b" });
    a.logParam("lr", 0.1);
    b.logParam("lr", 0.2);
    for (let i = 0; i < 100; i++) {
      a.logMetric("loss", 1 / (i + 1), { step: i });
      b.logMetric("loss", 2 / (i + 1), { step: i });
    }
    await t.flush();
    const result = await t.compareRuns([a.runId, b.runId], { metricKeys: ["loss"], maxPoints: 10, directions: { loss: "MINIMIZE" } });
    expect(result.params).toEqual([{ key: "lr", values: [{ runId: a.runId, value: "0.1" }, { runId: b.runId, value: "0.2" }], differs: true }]);
    expect(result.metrics.find((m) => m.key === "loss")?.bestRunId).toBe(a.runId);
    expect(result.histories.map((h) => [h.runId, h.points.length])).toEqual([
      [a.runId, 10],
      [b.runId, 10],
    ]);
    await t.close();
  });
});
