/**
 * Live watch latency: 100 WatchRun watchers (gRPC) on 50 runs of a spawned Logbook while 4 writers each send a
 * LogBatch of 10 points to a random run every 20 ms (200 batches/s, 2,000 points/s, 4,000 updates/s to deliver).
 * Each point carries its send time as its value, so a watcher's latency is receive time minus send time — from the
 * writer's call to the watcher's read, an upper bound of commit → receive (it includes the write itself), measured on
 * one clock (writers and watchers are this process).
 *
 * Scenarios: `in-process` — writers and watchers on the same server (the in-process feed); `cross-process` — writers
 * on a second server sharing the database, watchers on the first (the change log, polled every --watch-poll-ms).
 * The watchers' server CPU (from /proc/<pid>/stat) is compared with the same writes and no watcher: its share spent
 * on watchers. SQLite by default; MongoDB (MONGODB_URI, else FerretDB 1.24 — a correctness stand-in, not a speed
 * reference) with --stores mongodb.
 *   npm run bench:watch -- [--seconds 10] [--stores sqlite,mongodb] [--poll-ms 250]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type ClientReadableStream, credentials } from "@grpc/grpc-js";
import { startMongoForTests } from "../scripts/ferretdb.mjs";
import type { RunUpdate } from "../gen/ts/logbook/v1/run_watch.js";
import { TrackingServiceClient, TrackingServiceService } from "../gen/ts/logbook/v1/tracking_service.js";
import { type LogbookProcess, spawnLogbook } from "../test/harness/logbook-process.js";
import { type PromiseClient, promiseClient } from "../test/harness/promise-client.js";
import { machine, percentile } from "./stats.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    stores: { type: "string", default: "sqlite" },
    "poll-ms": { type: "string", default: "250" },
  },
});
const SECONDS = Number(values.seconds);
const RUNS = 50;
const WATCHERS = 100;
const WATCHERS_PER_CONNECTION = 25;
const WRITERS = 4;
const POINTS_PER_BATCH = 10;
const BATCH_EVERY_MS = 20;
const WARMUP_MS = 1000;

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU seconds (user + system) a process has used so far (Linux /proc). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

interface Result {
  latencies: number[];
  received: number;
  sent: number;
  cpu: number;
}

/** Writers at a fixed pace for SECONDS; watchers (when given) collect latencies after the warm-up. */
async function load(writeTo: PromiseClient<typeof TrackingServiceService>, runIds: string[], watched: LogbookProcess, watchAt: string | undefined): Promise<Result> {
  const latencies: number[] = [];
  let received = 0;
  const streams: ClientReadableStream<RunUpdate>[] = [];
  const clients: TrackingServiceClient[] = [];
  const start = now();
  if (watchAt) {
    // The server takes --grpc-max-concurrent-streams (100) calls per connection: the watchers use connections of
    // their own (a local subchannel pool each), WATCHERS_PER_CONNECTION per connection, beside the writers'.
    for (let c = 0; c < Math.ceil(WATCHERS / WATCHERS_PER_CONNECTION); c++) {
      clients.push(new TrackingServiceClient(watchAt, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 }));
    }
    let snapshots = 0;
    for (let w = 0; w < WATCHERS; w++) {
      const call = clients[Math.floor(w / WATCHERS_PER_CONNECTION)]!.watchRun({ runId: runIds[w % RUNS]!, metricKeys: [] });
      call.on("data", (u: RunUpdate) => {
        if (u.snapshot) snapshots++;
        if (!u.metric) return;
        received++;
        if (u.metric.value! >= start + WARMUP_MS) latencies.push(now() - u.metric.value!);
      });
      call.on("error", () => undefined);
      streams.push(call);
    }
    while (snapshots < WATCHERS) await sleep(10);
  }
  const cpu0 = cpuSeconds(watched.child.pid!);
  let sent = 0;
  let step = 0;
  const end = now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let next = now(); next < end; next += BATCH_EVERY_MS) {
        const runId = runIds[(w * 7919 + sent * 31) % RUNS]!;
        const t = now();
        const metrics = Array.from({ length: POINTS_PER_BATCH }, (_, i) => ({ key: `m${i}`, value: t, timestamp: BigInt(Math.floor(t)), step: BigInt(step++), runId: "" }));
        await writeTo.logBatch({ runId, metrics, params: [], tags: [] });
        sent += POINTS_PER_BATCH;
        const wait = next + BATCH_EVERY_MS - now();
        if (wait > 0) await sleep(wait);
      }
    }),
  );
  await sleep(1500); // the last updates arrive (cross-process: a poll or more)
  const cpu = cpuSeconds(watched.child.pid!) - cpu0;
  for (const s of streams) s.cancel();
  for (const c of clients) c.close();
  return { latencies: latencies.sort((a, b) => a - b), received, sent, cpu };
}

async function measure(label: string, storeArgs: string[]) {
  const args = [...storeArgs, "--watch-poll-ms", values["poll-ms"]!];
  const a = await spawnLogbook(args);
  const b = await spawnLogbook(args);
  const onA = promiseClient(TrackingServiceService, a.address);
  const onB = promiseClient(TrackingServiceService, b.address);
  try {
    const { experimentId } = await onA.createExperiment({ name: `watch-bench-${Date.now()}`, artifactLocation: "", tags: [] });
    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const { run } = await onA.createRun({ experimentId, runName: `r${i}`, tags: [], startTime: BigInt(Date.now()) } as never);
      runIds.push(run!.info!.runId);
    }
    const rows: Record<string, unknown>[] = [];
    const row = (scenario: string, r: Result, baselineCpu: number) => ({
      scenario,
      "updates received": r.received,
      "of expected": r.sent * 2,
      "p50 ms": Number(percentile(r.latencies, 50).toFixed(1)),
      "p95 ms": Number(percentile(r.latencies, 95).toFixed(1)),
      "p99 ms": Number(percentile(r.latencies, 99).toFixed(1)),
      "watchers' server CPU s": Number(r.cpu.toFixed(2)),
      "same writes, no watcher": Number(baselineCpu.toFixed(2)),
      "CPU share on watchers": `${(Math.max(0, (r.cpu - baselineCpu) / r.cpu) * 100).toFixed(0)}%`,
    });
    const baseIn = await load(onA, runIds, a, undefined);
    const inProcess = await load(onA, runIds, a, a.address);
    rows.push(row("in-process (writes and watchers on one server)", inProcess, baseIn.cpu));
    const baseCross = await load(onB, runIds, a, undefined);
    const crossProcess = await load(onB, runIds, a, a.address);
    rows.push(row(`cross-process (writes on another server, polled every ${values["poll-ms"]} ms)`, crossProcess, baseCross.cpu));
    console.log(`\n${label}: ${WATCHERS} watchers on ${RUNS} runs, ${WRITERS} writers × ${1000 / BATCH_EVERY_MS} batches/s × ${POINTS_PER_BATCH} points, ${SECONDS} s`);
    console.table(rows);
  } finally {
    onA.close();
    onB.close();
    await a.stop();
    await b.stop();
  }
}

console.log(`machine: ${machine()}`);
for (const store of values.stores!.split(",")) {
  if (store === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "logbook-bench-watch-"));
    try {
      await measure("SQLite", ["--store", `sqlite:${join(dir, "logbook.db")}`, "--data-dir", dir]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else if (store === "mongodb") {
    const mongo = await startMongoForTests();
    try {
      const label = process.env.MONGODB_URI ? "MongoDB (MONGODB_URI)" : "MongoDB wire: FerretDB 1.24 on SQLite (correctness stand-in, not a speed reference)";
      await measure(label, ["--store", `${new URL(`/logbook_bench_watch_${Date.now()}`, mongo.uri)}`]);
    } finally {
      await mongo.stop();
    }
  } else throw new Error(`unknown store ${store}`);
}
