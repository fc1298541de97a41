/**
 * Round trips of the MongoDB store, counted on the wire: the vs-mlflow workload (load, ingest, search first page, page
 * to 10, GetRun) over the MLflow REST API and a StreamSearchRuns of every run over gRPC, against Logbook on MongoDB
 * through a loopback proxy (wire-proxy.ts) that counts the commands Logbook sends and adds a fixed delay to each round
 * trip (0 and 1 ms by default), beside the same workload on the embedded SQLite store (latency only).
 *   npx tsx bench/mongo-roundtrips.ts [--runs 2000] [--stream-runs 10000] [--ingest-calls 20] [--delays 0,1] [--stores mongodb,sqlite]
 * MongoDB is MONGODB_URI (its first host) when set, else FerretDB 1.24 on SQLite — a correctness stand-in that filters
 * and sorts in memory: its latencies are not MongoDB's; the command counts are what Logbook sends to either.
 * The runs the stream needs beyond the loaded ones are written straight into the MongoDB database in the store's own
 * document layout (through the API, FerretDB takes most of an hour for 8,000 more); on SQLite through the API.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { credentials } from "@grpc/grpc-js";
import { startMongoForTests } from "../scripts/ferretdb.mjs";
import { SearchServiceClient } from "../gen/ts/logbook/v1/search_service.js";
import { spawnLogbook } from "../test/harness/logbook-process.js";
import { machine } from "./stats.js";
import { PAGING_ORDER, runSpecs } from "./vs-mlflow/dataset.js";
import { RestClient } from "./vs-mlflow/http-client.js";
import { getRuns, ingest, load, loadMore, pageToTen, searchFirstPage } from "./vs-mlflow/workload.js";
import { seedRunsDirectly } from "../test/harness/mongo-seed.js";
import { type WireProxy, startWireProxy } from "./wire-proxy.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "2000" },
    "stream-runs": { type: "string", default: "10000" },
    "ingest-calls": { type: "string", default: "20" },
    reps: { type: "string", default: "20" },
    delays: { type: "string", default: "0,1" },
    stores: { type: "string", default: "mongodb,sqlite" },
  },
});
const RUNS = Number(values.runs);
const STREAM_RUNS = Math.max(Number(values["stream-runs"]), RUNS);
const INGEST_CALLS = Number(values["ingest-calls"]);
const REPS = Number(values.reps);
const PAGING_REPS = 3;

interface Step {
  /** Commands per operation (MongoDB only). */
  commands?: number;
  /** Latency figure of the step, ms. */
  ms: number;
}

interface Figures {
  load: Step;
  ingest: Step;
  search: Step;
  page: Step;
  get: Step;
  streamFirst: Step;
  stream: Step;
  streamed: number;
}

/** Streams every run of the experiment ordered by PAGING_ORDER; counts commands before the first message and in all. */
function stream(address: string, experimentId: string, proxy?: WireProxy): Promise<{ first: Step; all: Step; received: number }> {
  const client = new SearchServiceClient(address, credentials.createInsecure(), { "grpc.max_receive_message_length": 64 * 1024 * 1024 });
  proxy?.reset();
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const call = client.streamSearchRuns({ experimentIds: [experimentId], filter: "", orderBy: PAGING_ORDER, runViewType: 0 });
    let received = 0;
    let first: Step | undefined;
    call.on("data", () => {
      if (received++ === 0) first = { ms: performance.now() - t0, commands: proxy?.counts().commands };
    });
    call.on("error", (err) => {
      client.close();
      reject(err);
    });
    call.on("end", () => {
      client.close();
      resolve({ first: first ?? { ms: Number.NaN }, all: { ms: performance.now() - t0, commands: proxy?.counts().commands }, received });
    });
  });
}

/** Runs `from` … `from + count − 1` of the data set written straight into the MongoDB database of `store`. */
async function seedMore(store: string, client: RestClient, experimentId: string, from: number, count: number): Promise<void> {
  const { experiment } = await client.get<{ experiment: { artifact_location: string } }>("/api/2.0/mlflow/experiments/get", { experiment_id: experimentId });
  const runs = runSpecs(from, count).map((spec, i) => ({
    runId: `seeded${String(from + i).padStart(8, "0")}`,
    runName: spec.name,
    startTime: spec.startTime,
    params: Object.fromEntries(spec.params.map((p) => [p.key, p.value])),
    tags: Object.fromEntries(spec.tags.map((t) => [t.key, t.value])),
    metrics: Object.fromEntries(spec.metrics.map((m) => [m.key, m.value])),
  }));
  await seedRunsDirectly(store, experimentId, experiment.artifact_location, runs);
}

async function measure(store: string, proxy?: WireProxy): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), "bench-roundtrips-"));
  // No health pings during the workload: they would be counted.
  const server = await spawnLogbook(["--store", store, "--data-dir", dir], { LOGBOOK_HEALTH_INTERVAL_MS: "600000" });
  const client = new RestClient(server.httpUrl);
  const per = (ops: number) => (proxy ? proxy.counts().commands / ops : undefined);
  try {
    proxy?.reset();
    const loaded = await load(client, runSpecs(0, RUNS));
    const load1: Step = { commands: per(RUNS), ms: 1000 / loaded.runsPerSecond };
    const ing = await ingest(client, INGEST_CALLS, 4, () => proxy?.reset());
    const ingest1: Step = { commands: per(INGEST_CALLS), ms: ing.p50 };
    proxy?.reset();
    const search = await searchFirstPage(client, loaded.experimentId, REPS);
    const search1: Step = { commands: per(REPS), ms: search.p50 };
    proxy?.reset();
    const paging = await pageToTen(client, loaded.experimentId, PAGING_REPS);
    const pages = PAGING_REPS * Math.max(1, Math.ceil(paging.runs.length / 100));
    const page1: Step = { commands: per(pages), ms: paging.totalMs / (pages / PAGING_REPS) };
    proxy?.reset();
    const get = await getRuns(client, [...loaded.ids.values()], REPS);
    const get1: Step = { commands: per(REPS), ms: get.p50 };
    console.error(`  loading up to ${STREAM_RUNS} runs for the stream…`);
    if (STREAM_RUNS > RUNS && proxy) await seedMore(store, client, loaded.experimentId, RUNS, STREAM_RUNS - RUNS);
    else if (STREAM_RUNS > RUNS) await loadMore(client, loaded, RUNS, STREAM_RUNS - RUNS);
    const streamed = await stream(server.address, loaded.experimentId, proxy);
    return { load: load1, ingest: ingest1, search: search1, page: page1, get: get1, streamFirst: streamed.first, stream: streamed.all, streamed: streamed.received };
  } finally {
    client.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (n: number | undefined, digits = 1) => (n === undefined || Number.isNaN(n) ? "" : n.toFixed(digits));

console.log(`Logbook's MongoDB round trips — ${RUNS} runs loaded, ingest ${INGEST_CALLS} × 1,000 metrics, stream of ${STREAM_RUNS} runs`);
console.log(`machine: ${machine()}`);
const stores = values.stores!.split(",");
const delays = values.delays!.split(",").map(Number);
const mongo: Map<number, Figures> = new Map();
let sqlite: Figures | undefined;

if (stores.includes("mongodb")) {
  const server = await startMongoForTests();
  const upstream = new URL(server.uri.replace(/^mongodb(\+srv)?:\/\/([^@/]*@)?/, "mongodb://").split(",")[0]!.replace(/\/?$/, "/"));
  try {
    for (const delay of delays) {
      console.error(`MongoDB (${process.env.MONGODB_URI ? "MONGODB_URI" : "FerretDB"}), ${delay} ms per round trip…`);
      const proxy = await startWireProxy({ host: upstream.hostname, port: Number(upstream.port || 27017) }, delay);
      try {
        mongo.set(delay, await measure(proxy.uri(`logbook_roundtrips_${Date.now()}`), proxy));
      } finally {
        await proxy.close();
      }
    }
  } finally {
    await server.stop();
  }
}
if (stores.includes("sqlite")) {
  console.error("SQLite…");
  sqlite = await measure("sqlite:");
}

const rows: [string, keyof Figures][] = [
  [`load: create + log-batch (3 params, 2 tags, 10 metrics), per run (ms: 1 / throughput, 4 clients)`, "load"],
  ["ingest: log-batch of 1,000 metrics, p50", "ingest"],
  ["search first page of 100 (param + metric filter, metric order), p50", "search"],
  ["page to 10 (pages of 100, metric order), per page", "page"],
  ["GetRun, p50", "get"],
  [`stream ${STREAM_RUNS} runs (metric order): first message`, "streamFirst"],
  [`stream ${STREAM_RUNS} runs (metric order): all`, "stream"],
];
const table = rows.map(([what, key]) => {
  const row: Record<string, string> = { operation: what };
  for (const delay of delays) {
    const f = mongo.get(delay)?.[key] as Step | undefined;
    if (!f) continue;
    row[`commands @${delay} ms`] = fmt(f.commands, key === "load" || key === "page" ? 2 : 1);
    row[`ms @${delay} ms`] = fmt(f.ms, 1);
  }
  if (sqlite) row["SQLite ms"] = fmt((sqlite[key] as Step).ms, 1);
  return row;
});
const kind = process.env.MONGODB_URI ? "MONGODB_URI" : "FerretDB 1.24 (a correctness stand-in: its latencies are not MongoDB's)";
console.log(`\nMongoDB: ${kind}; commands are counted at the proxy (monitoring heartbeats and handshakes left out)`);
console.table(table);
for (const [delay, f] of mongo) if (f.streamed !== STREAM_RUNS) console.error(`delay ${delay}: the stream returned ${f.streamed} runs, not ${STREAM_RUNS}`);
if (sqlite && sqlite.streamed !== STREAM_RUNS) console.error(`SQLite: the stream returned ${sqlite.streamed} runs, not ${STREAM_RUNS}`);
