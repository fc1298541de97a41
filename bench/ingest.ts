/**
 * LogBatch ingestion through gRPC: 1,000-metric batches into 10 runs from 4 concurrent clients, on the
 * embedded store and on MongoDB (MONGODB_URI, else FerretDB — a correctness stand-in, not a speed
 * reference). Prints metric points/s, p50/p99 call latency and the server's RSS.
 *
 * The embedded store runs twice, with `--sqlite-synchronous normal` (commits not fsynced) and `full` (the
 * default: every group commit fsynced before its writers are answered), and prints FULL's throughput as a share
 * of NORMAL's. With `--small`, a second workload of 16 clients sending 10-metric batches shows group commit where
 * fsync dominates.
 *   npm run bench:ingest -- [--batches N] [--stores sqlite,mongodb] [--small]
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
    small: { type: "boolean", default: false },
  },
});
const RUNS = 10;

interface Workload {
  clients: number;
  batches: number;
  batchSize: number;
}

async function measure(label: string, storeArgs: string[], { clients: CLIENTS, batches: BATCHES, batchSize: BATCH_SIZE }: Workload) {
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
            step: BigInt(b * Math.ceil(BATCH_SIZE / 20) + Math.floor(i / 20)),
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

async function sqliteModes(workload: Workload): Promise<void> {
  console.log(`\nLogBatch ingest over gRPC: batches of ${workload.batchSize} metrics, ${RUNS} runs, ${workload.clients} concurrent clients`);
  const rows = [];
  for (const mode of ["normal", "full"]) {
    const dir = mkdtempSync(join(tmpdir(), "logbook-bench-"));
    try {
      rows.push(await measure(`sqlite synchronous=${mode}`, ["--data-dir", dir, "--sqlite-synchronous", mode], workload));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.table(rows);
  const [normal, full] = [rows[0]!, rows[1]!];
  console.log(`FULL + group commit: ${((100 * full["points/s"]) / normal["points/s"]).toFixed(0)}% of NORMAL's points/s`);
}

console.log(`machine: ${machine()}`);
const stores = values.stores.split(",");
if (stores.includes("sqlite")) {
  await sqliteModes({ clients: 4, batches: Number(values.batches), batchSize: 1000 });
  if (values.small) await sqliteModes({ clients: 16, batches: Number(values.batches) * 10, batchSize: 10 });
}
if (stores.includes("mongodb")) {
  const mongo = await startMongoForTests();
  try {
    const label = process.env.MONGODB_URI ? "mongodb (MONGODB_URI)" : "mongodb (FerretDB 1.24 on SQLite: correctness stand-in, not a speed reference)";
    console.log("\nLogBatch ingest over gRPC: batches of 1000 metrics, 10 runs, 4 concurrent clients");
    console.table([await measure(label, ["--store", `${new URL("/logbook_bench_ingest", mongo.uri)}`], { clients: 4, batches: Number(values["mongo-batches"]), batchSize: 1000 })]);
  } finally {
    await mongo.stop();
  }
}
