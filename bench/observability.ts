/**
 * What observability costs: the same ingest and search workloads against five Logbooks that differ only in it —
 *   off      --no-metrics --no-log-requests (twice: "off again" is the A/A control, the noise floor)
 *   metrics  --no-log-requests                    (Prometheus metrics, no request log)
 *   default  (metrics and one request log line per call)
 *   tracing  default + OTEL_EXPORTER_OTLP_ENDPOINT to a local OTLP sink (every call traced, http/protobuf)
 * in rounds where the servers take turns call by call (in a rotated order, so the drifts of a shared machine fall on
 * all of them alike), and prints the median over rounds of each round's p50, and the overhead against "off". A
 * figure, not a gate.
 *   npm run bench:observability -- [--rounds 9] [--batches 80] [--searches 60] [--runs 1000] [--clients 1]
 * SQLite only (FerretDB's own cost would drown the difference), with the data in memory (see DATA_ROOT).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { SearchServiceService } from "../gen/ts/logbook/v1/search_service.js";
import { createCallObserver } from "../src/observability/call-observer.js";
import { createMetrics } from "../src/observability/metrics.js";
import { startTracing } from "../src/observability/tracing.js";
import { TrackingServiceService } from "../gen/ts/logbook/v1/tracking_service.js";
import { spawnLogbook, type LogbookProcess } from "../test/harness/logbook-process.js";
import { promiseClient, type PromiseClient } from "../test/harness/promise-client.js";
import { machine, percentile } from "./stats.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "9" },
    batches: { type: "string", default: "80" },
    searches: { type: "string", default: "60" },
    runs: { type: "string", default: "1000" },
    clients: { type: "string", default: "1" },
  },
});
const ROUNDS = Number(values.rounds);
const BATCHES = Number(values.batches);
const SEARCHES = Number(values.searches);
const RUNS = Number(values.runs);
/**
 * LogBatch calls in flight at once per server. 1 by default: with several, SQLite's group commit makes a call's
 * latency depend on which commit group it falls into, and a few microseconds' shift in arrival times moved the p50
 * by ±30% between identical runs (the throughput column then tells more than the latency).
 */
const CLIENTS = Number(values.clients);
const BATCH_SIZE = 1000;
const FILTER = "params.symbol = 'X' and metrics.r2 > 0.5";
/**
 * The data directories live in memory (/dev/shm) when there is one: what is compared is Logbook's own work per call,
 * and on a shared disk each commit's fsync time varies far more than that work (measured: ±50% on LogBatch p50).
 */
const DATA_ROOT = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
const ORDER = ["metrics.sharpe_ratio DESC"];

/** A collector stand-in that accepts OTLP exports and drops them (no decoding: a real collector is elsewhere). */
async function startSink(): Promise<{ endpoint: string; exports: () => number; bytes: () => number; close(): void }> {
  let exports = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on("data", (c: Buffer) => (bytes += c.length));
    req.on("end", () => {
      exports++;
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports: () => exports,
    bytes: () => bytes,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

interface Server {
  name: string;
  proc: LogbookProcess;
  dir: string;
  tracking: PromiseClient<typeof TrackingServiceService>[];
  search: PromiseClient<typeof SearchServiceService>;
  ingestRunIds: string[];
  experimentId: string;
}

async function startServer(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<Server> {
  const dir = mkdtempSync(join(DATA_ROOT, `logbook-bench-obs-${name}-`));
  const proc = await spawnLogbook(["--data-dir", dir, ...args], env);
  const tracking = Array.from({ length: CLIENTS }, () => promiseClient(TrackingServiceService, proc.address));
  const search = promiseClient(SearchServiceService, proc.address);
  const t = tracking[0]!;
  const { experimentId } = await t.createExperiment({ name: "search", artifactLocation: "", tags: [] });
  // The searched runs: the same on every server.
  let next = 0;
  await Promise.all(
    tracking.map(async (client) => {
      for (let i = next++; i < RUNS; i = next++) {
        const run = (await client.createRun({ experimentId, userId: "bench", runName: `r${i}`, startTime: BigInt(1_700_000_000_000 + i), tags: [] })).run!;
        await client.logBatch({
          runId: run.info!.runId,
          params: [{ key: "symbol", value: "XYZW"[i % 4]! }, { key: "window", value: String(10 + (i % 50)) }],
          tags: [{ key: "desk", value: `d${i % 7}` }],
          metrics: [
            { key: "r2", value: (i * 7919) % 1000 / 1000, timestamp: 1_700_000_000_000n, step: 0n, runId: "" },
            { key: "sharpe_ratio", value: (i * 104729) % 4000 / 1000, timestamp: 1_700_000_000_000n, step: 0n, runId: "" },
          ],
        });
      }
    }),
  );
  const ingest = await t.createExperiment({ name: "ingest", artifactLocation: "", tags: [] });
  const ingestRunIds: string[] = [];
  for (let r = 0; r < 10; r++) ingestRunIds.push((await t.createRun({ experimentId: ingest.experimentId, userId: "bench", runName: `i${r}`, tags: [] })).run!.info!.runId);
  return { name, proc, dir, tracking, search, ingestRunIds, experimentId };
}

interface RoundFigures {
  ingestP50: number;
  pointsPerS: number;
  grpcP50: number;
  httpP50: number;
}

/** Rotates the servers by `step`, so no server is always first (or always right after another). */
const rotated = <T>(items: T[], step: number) => items.map((_, i) => items[(i + step) % items.length]!);
const p50 = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

/**
 * One round. The servers take turns call by call (an ingest step is CLIENTS concurrent LogBatch calls to one server;
 * a search step is one SearchRuns over gRPC and one over HTTP), so whatever else the machine does in the meantime
 * falls on all of them alike.
 */
async function round(servers: Server[], r: number): Promise<Map<string, RoundFigures>> {
  const ingest = new Map(servers.map((s) => [s.name, { latencies: [] as number[], ms: 0 }]));
  const grpc = new Map(servers.map((s) => [s.name, [] as number[]]));
  const http = new Map(servers.map((s) => [s.name, [] as number[]]));
  const steps = Math.ceil(BATCHES / CLIENTS);
  for (let step = 0; step < steps; step++) {
    for (const server of rotated(servers, step)) {
      const stats = ingest.get(server.name)!;
      const base = BigInt((r * steps + step) * CLIENTS * 50);
      const t0 = performance.now();
      await Promise.all(
        server.tracking.map(async (client, c) => {
          const first = base + BigInt(c * 50);
          const metrics = Array.from({ length: BATCH_SIZE }, (_, i) => ({
            key: `m${i % 20}`,
            value: i / BATCH_SIZE,
            timestamp: 1_700_000_000_000n + first,
            step: first + BigInt(Math.floor(i / 20)),
            runId: "",
          }));
          const started = performance.now();
          await client.logBatch({ runId: server.ingestRunIds[c % server.ingestRunIds.length]!, metrics, params: [], tags: [] });
          stats.latencies.push(performance.now() - started);
        }),
      );
      stats.ms += performance.now() - t0;
    }
  }
  const body = (server: Server) => JSON.stringify({ experiment_ids: [server.experimentId], filter: FILTER, order_by: ORDER, max_results: 100 });
  for (let i = 0; i < SEARCHES; i++) {
    for (const server of rotated(servers, i)) {
      let t0 = performance.now();
      await server.search.searchRuns({ experimentIds: [server.experimentId], filter: FILTER, orderBy: ORDER, runViewType: 0, pageToken: "", maxResults: 100 });
      grpc.get(server.name)!.push(performance.now() - t0);
      t0 = performance.now();
      const res = await fetch(`${server.proc.httpUrl}/api/2.0/mlflow/runs/search`, { method: "POST", headers: { "content-type": "application/json" }, body: body(server) });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`search: ${res.status}`);
      http.get(server.name)!.push(performance.now() - t0);
    }
  }
  return new Map(
    servers.map((s) => {
      const i = ingest.get(s.name)!;
      return [s.name, { ingestP50: p50(i.latencies), pointsPerS: (steps * CLIENTS * BATCH_SIZE) / (i.ms / 1000), grpcP50: p50(grpc.get(s.name)!), httpP50: p50(http.get(s.name)!) }];
    }),
  );
}

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

/**
 * The observation machinery alone, in this process, without any server or I/O around it: microseconds per call for
 * one gRPC-shaped call (begin, run, end) with each configuration. Unlike the server figures this is not at the mercy
 * of a shared machine's noise, and it bounds what observability can add to a call.
 */
async function perCallMicros(): Promise<Record<string, number>> {
  const CALLS = 50_000;
  const sources = { inFlight: () => 0, storeUp: () => true, artifactBytesRead: () => 0 };
  const nullLog = pino({ level: "info" }, pino.destination({ dest: "/dev/null", sync: true }));
  const silent = pino({ level: "silent" });
  const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const noopExporter = { export: (_spans: unknown[], done: (r: { code: number }) => void) => done({ code: 0 }), shutdown: async () => undefined };
  const tracing = await startTracing({ settings: { exporter: "console" }, version: "bench", logger: silent, exporter: noopExporter });
  const variants: [string, Parameters<typeof createCallObserver>[0]][] = [
    ["off", { logger: silent, logRequests: false, slowRequestMs: 1000 }],
    ["metrics", { metrics: createMetrics({ version: "bench", sources, runtime: false }), logger: silent, logRequests: false, slowRequestMs: 1000 }],
    ["default", { metrics: createMetrics({ version: "bench", sources, runtime: false }), logger: nullLog, logRequests: true, slowRequestMs: 1000 }],
    ["tracing", { metrics: createMetrics({ version: "bench", sources, runtime: false }), tracing, logger: nullLog, logRequests: true, slowRequestMs: 1000 }],
  ];
  const runs = variants.map(([name, options]) => {
    const observer = createCallObserver(options);
    const once = () => {
      const call = observer.begin({
        transport: "grpc",
        header: (h) => (h === "traceparent" ? traceparent : undefined),
        name: { service: "logbook.v1.TrackingService", method: "LogBatch", rpc: true },
      });
      call.run(() => 0);
      call.end({ code: "OK", bytesIn: 1800, bytesOut: 2 });
    };
    for (let i = 0; i < 5_000; i++) once(); // warm-up
    return { name, once, samples: [] as number[] };
  });
  // Interleaved rounds, as for the servers: the median of 9 rounds of CALLS / 9 calls per variant.
  const perRound = Math.ceil(CALLS / 9);
  for (let r = 0; r < 9; r++) {
    for (const run of rotated(runs, r)) {
      const t0 = performance.now();
      for (let i = 0; i < perRound; i++) run.once();
      run.samples.push(((performance.now() - t0) * 1000) / perRound);
    }
  }
  await tracing.shutdown();
  return Object.fromEntries(runs.map((run) => [run.name, median(run.samples)]));
}

const sink = await startSink();
const quiet = { OTEL_TRACES_EXPORTER: "none" };
const configs: [string, string[], NodeJS.ProcessEnv][] = [
  ["off", ["--no-metrics", "--no-log-requests"], quiet],
  // The same as "off": how far two identical servers differ here is the noise floor of every other figure.
  ["off again", ["--no-metrics", "--no-log-requests"], quiet],
  ["metrics", ["--no-log-requests"], quiet],
  ["default", [], quiet],
  ["tracing", [], { OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" }],
];
console.log(`Observability overhead: ${ROUNDS} rounds; per round and server ${BATCHES} LogBatch calls of ${BATCH_SIZE} points over gRPC, ${CLIENTS} at a time, then ${SEARCHES} SearchRuns (100 of ${RUNS} runs, "${FILTER}") over gRPC and over HTTP; the servers take turns call by call`);
console.log(`data in ${DATA_ROOT}; machine: ${machine()}; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} at the start`);
const servers: Server[] = [];
try {
  for (const [name, args, env] of configs) servers.push(await startServer(name, args, env));
  const results = new Map(servers.map((s) => [s.name, { ingestP50: [] as number[], pointsPerS: [] as number[], grpcP50: [] as number[], httpP50: [] as number[] }]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, figures] of await round(servers, r)) {
      const all = results.get(name)!;
      all.ingestP50.push(figures.ingestP50);
      all.pointsPerS.push(figures.pointsPerS);
      all.grpcP50.push(figures.grpcP50);
      all.httpP50.push(figures.httpP50);
    }
    process.stdout.write(`round ${r + 1}/${ROUNDS} done\n`);
  }
  const base = results.get("off")!;
  const pct = (value: number, reference: number, higherIsWorse = true) => {
    const d = ((value - reference) / reference) * 100 * (higherIsWorse ? 1 : -1);
    return `${d >= 0 ? "+" : ""}${d.toFixed(1)}%`;
  };
  const table: Record<string, Record<string, string | number>> = {};
  for (const [name, r] of results) {
    table[name] = {
      "LogBatch p50 ms": Number(median(r.ingestP50).toFixed(2)),
      "rounds' range": `${Math.min(...r.ingestP50).toFixed(1)}–${Math.max(...r.ingestP50).toFixed(1)}`,
      "vs off": pct(median(r.ingestP50), median(base.ingestP50)),
      "points/s": Math.round(median(r.pointsPerS)),
      "throughput cost": pct(median(r.pointsPerS), median(base.pointsPerS), false),
      "SearchRuns gRPC p50 ms": Number(median(r.grpcP50).toFixed(2)),
      "gRPC vs off": pct(median(r.grpcP50), median(base.grpcP50)),
      "SearchRuns HTTP p50 ms": Number(median(r.httpP50).toFixed(2)),
      "HTTP vs off": pct(median(r.httpP50), median(base.httpP50)),
    };
  }
  console.log("\nmedians over rounds (p50 per round, then the median of those):");
  console.table(table);
  const micros = await perCallMicros();
  console.log("\nthe observation machinery alone, in process (no server, no I/O), per call:");
  console.table(Object.fromEntries(Object.entries(micros).map(([name, us]) => [name, { "µs per call": Number(us.toFixed(2)) }])));
  console.log(`OTLP sink: ${sink.exports()} exports, ${(sink.bytes() / 2 ** 20).toFixed(1)} MiB; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} at the end`);
} finally {
  for (const s of servers) {
    s.tracking.forEach((c) => c.close());
    s.search.close();
    await s.proc.stop();
    rmSync(s.dir, { recursive: true, force: true });
  }
  sink.close();
}
