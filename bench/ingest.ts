/**
 * LogBatch ingestion through gRPC: 1,000-metric batches into 10 runs from 4 concurrent clients, on the
 * embedded store and on MongoDB (MONGODB_URI, else FerretDB — a correctness stand-in, not a speed
 * reference). Prints metric points/s, p50/p99 call latency and the server's RSS.
 *   npm run bench:ingest -- [--batches N] [--stores sqlite,mongodb]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startMongoForTests } from "../scripts/ferretdb.mjs";
import { TrackingServiceService } from "../gen/ts/logbook/v1/tracking_service.js";
import type { Metric } from "../gen/ts/logbook/v1/run.js";
import { promiseClient } from "../test/harness/promise-client.js";
import { spawnLogbook } from "../test/harness/logbook-process.js";
import { machine, percentile, rssMiB } from "./stats.js";

const { values } = parseArgs({
  options: {
    batches: { type: "string", default: "200" },
    // FerretDB (the MongoDB stand-in here) filters and sorts in memory, a correctness stand-in: keep its load modest.
    "mongo-batches": { type: "string", default: "40" },
    stores: { type: "string", default: "sqlite,mongodb" },
  },
});
const CLIENTS = 4;
const RUNS = 10;
const BATCH_SIZE = 1000;

async function measure(label: string, storeArgs: string[], BATCHES: number) {
  const proc = await spawnLogbook(storeArgs);
  const clients = Array.from({ length: CLIENTS }, () => promiseClient(TrackingServiceService, proc.address));
  try {
    const c0 = clients[0]!;
    const { experimentId } = await c0.createExperiment({ name: `ingest-${Date.now()}`, artifactLocation: "", tags: [] });
    const runIds: string[] = [];
    for (let r = 0; r < RUNS; r++) {
      runIds.push((await c0.createRun({ experimentId, userId: "bench", runName: `r${r}`, tags: [] })).run!.info!.runId);
    }
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      clients.map(async (client) => {
        for (let b = next++; b < BATCHES; b = next++) {
          const metrics: Metric[] = Array.from({ length: BATCH_SIZE }, (_, i) => ({
            key: `m${i % 20}`,
            value: Math.random(),
            timestamp: BigInt(Date.now()),
            step: BigInt(b * 50 + Math.floor(i / 20)),
            runId: "",
          }));
          const t0 = performance.now();
          await client.logBatch({ runId: runIds[b % RUNS]!, metrics, params: [], tags: [] });
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const mem = rssMiB(proc.child.pid!);
    return {
      store: label,
      points: BATCHES * BATCH_SIZE,
      "points/s": Math.round((BATCHES * BATCH_SIZE) / seconds),
      "p50 ms": Number(percentile(latencies, 50).toFixed(1)),
      "p99 ms": Number(percentile(latencies, 99).toFixed(1)),
      "RSS MiB": Number(mem.rss.toFixed(0)),
      "peak RSS MiB": Number(mem.peak.toFixed(0)),
    };
  } finally {
    clients.forEach((c) => c.close());
    await proc.stop();
  }
}

console.log(`LogBatch ingest over gRPC: batches of ${BATCH_SIZE} metrics, ${RUNS} runs, ${CLIENTS} concurrent clients`);
console.log(`machine: ${machine()}`);
const stores = values.stores.split(",");
if (stores.includes("sqlite")) {
  const dir = mkdtempSync(join(tmpdir(), "logbook-bench-"));
  try {
    console.table([await measure("sqlite (embedded)", ["--data-dir", dir], Number(values.batches))]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (stores.includes("mongodb")) {
  const mongo = await startMongoForTests();
  try {
    const label = process.env.MONGODB_URI ? "mongodb (MONGODB_URI)" : "mongodb (FerretDB 1.24 on SQLite: correctness stand-in, not a speed reference)";
    console.table([await measure(label, ["--store", `${new URL("/logbook_bench_ingest", mongo.uri)}`], Number(values["mongo-batches"]))]);
  } finally {
    await mongo.stop();
  }
}
