/**
 * The offline fallback against real Logbook processes (dist/, `npm run build` first): a server killed mid-run
 * and restarted on the same data dir and port, a stopped (slow) server, an unreachable one, spools replayed
 * twice and across process restarts, and a full spool.
 */
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client, credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadGrpc } from "../../../test/harness/artifacts.js";
import { SearchServiceService } from "../../../gen/ts/logbook/v1/search_service.js";
import { TrackingServiceService } from "../../../gen/ts/logbook/v1/tracking_service.js";
import { spawnLogbook, tempDir, type LogbookProcess } from "../../../test/harness/logbook.js";
import { promiseClient } from "../../../test/harness/promise-client.js";
import { Tracker, type TrackerOptions } from "../src/index.js";
import { callCounter, metricHistory, stepsExactlyOnce } from "./helpers.js";

const run = promisify(execFile);
let dir: { path: string; remove(): void };
const started: LogbookProcess[] = [];

async function serve(dataDir: string, port = 0): Promise<LogbookProcess> {
  const p = await spawnLogbook(["--data-dir", dataDir, "--grpc-port", String(port), "--shutdown-timeout-s", "1"]);
  started.push(p);
  return p;
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const fast: TrackerOptions = { handleProcessExit: false, flushIntervalMs: 50, probeInitialMs: 50, probeMaxMs: 400 };

async function runsOf(address: string, experimentName: string): Promise<string[]> {
  const tracking = promiseClient(TrackingServiceService, address);
  const search = promiseClient(SearchServiceService, address);
  try {
    const exp = await tracking.getExperimentByName({ experimentName });
    const res = await search.searchRuns({ experimentIds: [exp.experiment!.experimentId], runViewType: 1, filter: "", orderBy: [], pageToken: "", maxResults: 1000 });
    return res.runs.map((r) => r.info!.runId);
  } finally {
    tracking.close();
    search.close();
  }
}

beforeAll(() => {
  dir = tempDir("logbook-sdk-offline-");
});
afterAll(async () => {
  for (const p of started) {
    if (p.child.signalCode === "SIGSTOP") p.child.kill("SIGCONT");
    await p.stop();
  }
  dir.remove();
});

describe("offline fallback", () => {
  it("a server killed mid-run and restarted: every point is stored exactly once after the replay, also when the spool is replayed twice", async () => {
    const dataDir = join(dir.path, "killed");
    const spoolPath = join(dir.path, "killed.jsonl");
    const warnings: string[] = [];
    const first = await serve(dataDir);
    const t = new Tracker({ ...fast, address: first.address, spoolPath, onWarning: (w) => warnings.push(w) });
    const r = t.startRun({ experimentName: "sdk-killed", runName: "mid-run" });
    for (let i = 0; i < 1500; i++) r.logMetric("loss", 1 / (i + 1), { step: i });
    await t.flush();
    expect(t.stats().online).toBe(true);

    for (let i = 1500; i < 2000; i++) r.logMetric("loss", 1 / (i + 1), { step: i });
    first.child.kill("SIGKILL");
    await first.exited;
    for (let i = 2000; i < 3000; i++) r.logMetric("loss", 1 / (i + 1), { step: i });
    r.setTag("phase", "after-kill");
    r.end("FINISHED");
    await t.flush(); // the server is gone: flush resolves once everything is in the spool
    const offline = t.stats();
    expect(offline.online).toBe(false);
    expect(offline.queuedCalls).toBe(0);
    expect(offline.spoolPendingBytes).toBeGreaterThan(0);
    expect(offline.droppedPoints).toBe(0);
    expect(warnings.filter((w) => w.includes("unreachable"))).toHaveLength(1);
    const copy = join(dir.path, "killed-copy.jsonl");
    copyFileSync(spoolPath, copy);

    const second = await serve(dataDir, first.grpcPort); // same data dir, same port
    await t.drain();
    expect(t.stats()).toMatchObject({ online: true, spoolPendingBytes: 0, queuedCalls: 0, errors: 0 });
    expect(statSync(spoolPath).size).toBe(0);
    expect(stepsExactlyOnce(await metricHistory(second.address, r.runId, "loss"), 3000)).toBe(true);
    await t.close();

    // The same spool replayed a second time (a copy, by a new Tracker): nothing doubles, no second run.
    const again = new Tracker({ ...fast, address: second.address, spoolPath: copy });
    await again.drain();
    expect(again.stats()).toMatchObject({ errors: 0, spoolPendingBytes: 0 });
    expect(again.stats().replayedCalls).toBeGreaterThan(0);
    await again.close();
    expect(stepsExactlyOnce(await metricHistory(second.address, r.runId, "loss"), 3000)).toBe(true);
    expect(await runsOf(second.address, "sdk-killed")).toEqual([r.runId]);
    const got = promiseClient(TrackingServiceService, second.address);
    const info = (await got.getRun({ runId: r.runId, runUuid: "" })).run!;
    got.close();
    expect(info.info!.status).toBe(3);
    expect(info.data!.tags.find((tag) => tag.key === "phase")?.value).toBe("after-kill");
  });

  it("a stopped (slow) server does not slow the logMetric loop: one call in flight, the rest queued; all delivered once it resumes", async () => {
    const server = await serve(join(dir.path, "slow"));
    const counter = callCounter();
    const t = new Tracker({ ...fast, flushIntervalMs: 60_000, deadlineMs: 120_000, address: server.address, spoolPath: join(dir.path, "slow.jsonl"), channelOptions: { interceptors: [counter.interceptor] } });
    const r = t.startRun({ experimentName: "sdk-slow" });
    await t.flush();
    server.child.kill("SIGSTOP");
    for (let i = 0; i < 10_000; i++) {
      r.logMetric("pnl", i, { step: i });
      if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve)); // let the pump run
    }
    const s = t.stats();
    expect(counter.count("LogBatch")).toBe(1); // only the first full batch went out; it hangs
    expect(s.inFlight).toBe(1);
    expect(s.maxInFlight).toBe(1);
    expect(s.queuedCalls).toBe(9);
    expect(s.queuedPoints).toBe(9000);
    server.child.kill("SIGCONT");
    await t.flush();
    expect(counter.count("LogBatch")).toBe(10);
    expect(t.stats()).toMatchObject({ inFlight: 0, queuedCalls: 0, maxInFlight: 1, errors: 0 });
    expect(stepsExactlyOnce(await metricHistory(server.address, r.runId, "pnl"), 10_000)).toBe(true);
    await t.close();
  });

  it("an unreachable server: calls return at once, nothing is thrown, everything goes to the spool; a new Tracker on that spool replays it", async () => {
    const spoolPath = join(dir.path, "unreachable.jsonl");
    const errors: unknown[] = [];
    const t = new Tracker({ ...fast, address: `127.0.0.1:${await deadPort()}`, spoolPath, onError: (e) => errors.push(e), onWarning: () => {} });
    const r = t.startRun({ experimentName: "sdk-unreachable", runName: "offline" });
    for (let i = 0; i < 2500; i++) r.logMetric("x", i, { step: i });
    r.logMetrics({ nan: NaN, inf: Infinity, ninf: -Infinity }, { step: 0 });
    r.logParam("alpha", 0.5).logArtifact(Buffer.from("hello"), "notes/hello.txt").end();
    await t.close();
    expect(errors).toHaveLength(0);
    expect(t.stats()).toMatchObject({ online: false, queuedCalls: 0, droppedPoints: 0 });
    expect(t.stats().spooledCalls).toBe(6); // createRun, 3 LogBatch (the params and the last 503 metrics share one), upload, endRun

    const server = await serve(join(dir.path, "unreachable-data"));
    const next = new Tracker({ ...fast, address: server.address, spoolPath });
    await next.drain();
    await next.close();
    expect(next.stats()).toMatchObject({ replayedCalls: 6, errors: 0 });
    expect(stepsExactlyOnce(await metricHistory(server.address, r.runId, "x"), 2500)).toBe(true);
    expect(await runsOf(server.address, "sdk-unreachable")).toEqual([r.runId]);
    expect((await metricHistory(server.address, r.runId, "nan"))[0]!.value).toBeNaN(); // non-finite values survive the spool
    expect((await metricHistory(server.address, r.runId, "inf"))[0]!.value).toBe(Infinity);
    expect((await metricHistory(server.address, r.runId, "ninf"))[0]!.value).toBe(-Infinity);
    const raw = new Client(server.address, credentials.createInsecure());
    expect((await downloadGrpc(raw, { runId: r.runId, path: "notes/hello.txt" })).data.toString()).toBe("hello");
    raw.close();
  });

  it("a spool written by a process that exited (process.exit and a natural exit) is replayed by the next one", async () => {
    const tsx = join(import.meta.dirname, "..", "..", "..", "node_modules", ".bin", "tsx");
    const script = join(import.meta.dirname, "fixtures", "log-and-exit.ts");
    const address = `127.0.0.1:${await deadPort()}`;
    const spools = { exit: join(dir.path, "child-exit.jsonl"), natural: join(dir.path, "child-natural.jsonl") };
    const runIds = { exit: "e".repeat(32), natural: "a".repeat(32) };
    for (const mode of ["exit", "natural"] as const) {
      await run(tsx, [script, address, spools[mode], runIds[mode], "1200", mode], { env: { ...process.env, LOGBOOK_ADDRESS: "" } });
      expect(existsSync(spools[mode])).toBe(true);
      expect(readFileSync(spools[mode], "utf8").trim().split("\n").length).toBeGreaterThanOrEqual(3);
    }
    const server = await serve(join(dir.path, "child-data"));
    for (const mode of ["exit", "natural"] as const) {
      const t = new Tracker({ ...fast, address: server.address, spoolPath: spools[mode] });
      await t.drain();
      await t.close();
      expect(t.stats().errors).toBe(0);
      expect(stepsExactlyOnce(await metricHistory(server.address, runIds[mode], "pnl"), 1200)).toBe(true);
    }
  });

  it("a full spool: one warning, the newest points dropped and counted", async () => {
    const warnings: string[] = [];
    const t = new Tracker({ ...fast, address: `127.0.0.1:${await deadPort()}`, spoolPath: join(dir.path, "full.jsonl"), maxSpoolBytes: 200_000, onWarning: (w) => warnings.push(w) });
    const r = t.startRun({ experimentName: "sdk-full" });
    for (let i = 0; i < 10_000; i++) r.logMetric("y", i, { step: i });
    await t.close();
    const s = t.stats();
    expect(s.spoolBytes).toBeLessThanOrEqual(200_000);
    expect(s.droppedPoints).toBeGreaterThan(0);
    expect(s.droppedPoints % 1000).toBe(0); // whole batches of the newest points
    expect(warnings.filter((w) => w.includes("is full"))).toHaveLength(1);
  });
});
