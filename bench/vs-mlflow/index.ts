/**
 * Logbook vs MLflow 3.17.2, side by side on this machine, over the MLflow REST API (issue "Performance").
 *   npm run bench:vs-mlflow -- [--runs 2000] [--rounds 2] [--ingest-calls 40] [--stores sqlite,mongodb]
 * Rounds alternate the servers (MLflow, Logbook, MLflow, Logbook, …), each on a fresh database; the table shows
 * medians over rounds, the Logbook/MLflow ratio and PASS/MISS per target. Both servers must return the same runs in
 * the same order for the search and paging steps (compared by run name), or the script fails.
 */
import { parseArgs } from "node:util";
import { startMongoForTests } from "../../scripts/ferretdb.mjs";
import { machine } from "../stats.js";
import { runSpecs } from "./dataset.js";
import { echoCeiling, grpcFigures } from "./grpc-extras.js";
import { RestClient } from "./http-client.js";
import { startLogbook, startMlflow, type Server } from "./servers.js";
import { getRuns, ingest, load, loadMore, pageToTen, searchFirstPage } from "./workload.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "2000" },
    rounds: { type: "string", default: "2" },
    "ingest-calls": { type: "string", default: "40" },
    // FerretDB (the MongoDB stand-in here) filters and sorts in memory, a correctness stand-in: keep its ingest short.
    "mongo-ingest-calls": { type: "string", default: "4" },
    stores: { type: "string", default: "sqlite,mongodb" },
    "large-runs": { type: "string", default: "20000" },
  },
});
const RUNS = Number(values.runs);
const ROUNDS = Number(values.rounds);

interface Figures {
  ingest: number;
  ingestP50: number;
  ingestP99: number;
  load: number;
  searchP50: number;
  searchP99: number;
  paging: number;
  getP50: number;
  rss: number;
  search: string[];
  pages: string[];
}

async function measure(start: () => Promise<Server>, ingestCalls: number): Promise<Figures> {
  const server = await start();
  const client = new RestClient(server.httpUrl);
  try {
    const ing = await ingest(client, ingestCalls);
    const loaded = await load(client, runSpecs(0, RUNS));
    const search = await searchFirstPage(client, loaded.experimentId, 20);
    const paging = await pageToTen(client, loaded.experimentId, 3);
    const get = await getRuns(client, [...loaded.ids.values()], 200);
    return {
      ingest: ing.pointsPerSecond,
      ingestP50: ing.p50,
      ingestP99: ing.p99,
      load: loaded.runsPerSecond,
      searchP50: search.p50,
      searchP99: search.p99,
      paging: paging.totalMs,
      getP50: get.p50,
      rss: server.rss(),
      search: search.page,
      pages: paging.runs,
    };
  } finally {
    client.close();
    await server.stop();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function sameAnswers(a: Figures, b: Figures, label: string): string[] {
  const problems: string[] = [];
  if (a.search.length === 0) problems.push(`${label}: the search page is empty`);
  if (JSON.stringify(a.search) !== JSON.stringify(b.search)) problems.push(`${label}: search first pages differ`);
  if (JSON.stringify(a.pages) !== JSON.stringify(b.pages)) problems.push(`${label}: pages 1–10 differ`);
  return problems;
}

type Row = { what: string; mlflow: string; logbook: string; ratio: string; target: string; verdict: string };

function table(label: string, ml: Figures[], lb: Figures[]): Row[] {
  const m = (f: (x: Figures) => number, xs: Figures[]) => median(xs.map(f));
  const row = (what: string, f: (x: Figures) => number, higherIsBetter: boolean, target: number | undefined, unit: string, digits = 1): Row => {
    const a = m(f, ml);
    const b = m(f, lb);
    const ratio = higherIsBetter ? b / a : a / b;
    return {
      what,
      mlflow: `${a.toFixed(digits)} ${unit}`,
      logbook: `${b.toFixed(digits)} ${unit}`,
      ratio: `${ratio.toFixed(1)}×`,
      target: target ? `${target}×` : "",
      verdict: target ? (ratio >= target ? "PASS" : "MISS") : "",
    };
  };
  console.log(`\n${label}`);
  return [
    row("ingest (log-batch 1,000 metrics, 4 clients)", (x) => x.ingest, true, 40, "points/s", 0),
    row("  ingest call p50", (x) => x.ingestP50, false, undefined, "ms"),
    row("  ingest call p99", (x) => x.ingestP99, false, undefined, "ms"),
    row(`load (${RUNS} runs: create + log-batch)`, (x) => x.load, true, 50, "runs/s"),
    row("search first page of 100, p50", (x) => x.searchP50, false, 30, "ms"),
    row("  search p99", (x) => x.searchP99, false, undefined, "ms"),
    row("page to 10 (pages of 100), total", (x) => x.paging, false, 30, "ms"),
    row("runs/get p50", (x) => x.getP50, false, 20, "ms", 2),
    row("server RSS at the end", (x) => x.rss, false, undefined, "MiB", 0),
  ];
}

console.log(`Logbook vs MLflow 3.17.2 over the MLflow REST API — ${RUNS} runs, ${ROUNDS} rounds, servers alternated`);
console.log(`machine: ${machine()}`);
const stores = values.stores!.split(",");
const mlflow: Figures[] = [];
const sqlite: Figures[] = [];
const mongodb: Figures[] = [];
const problems: string[] = [];
const mongo = stores.includes("mongodb") ? await startMongoForTests() : undefined;
try {
  for (let round = 1; round <= ROUNDS; round++) {
    console.error(`round ${round}: MLflow…`);
    const ml = await measure(startMlflow, Number(values["ingest-calls"]));
    mlflow.push(ml);
    if (stores.includes("sqlite")) {
      console.error(`round ${round}: Logbook (SQLite)…`);
      const lb = await measure(() => startLogbook("sqlite"), Number(values["ingest-calls"]));
      sqlite.push(lb);
      problems.push(...sameAnswers(lb, ml, `round ${round}, SQLite`));
    }
    if (mongo) {
      console.error(`round ${round}: Logbook (MongoDB)…`);
      const uri = `${new URL(`/logbook_bench_vs_${Date.now()}`, mongo.uri)}`;
      const lb = await measure(() => startLogbook(uri), Number(values["mongo-ingest-calls"]));
      mongodb.push(lb);
      problems.push(...sameAnswers(lb, ml, `round ${round}, MongoDB`));
    }
  }
  if (sqlite.length) console.table(table("Logbook (embedded SQLite) vs MLflow (SQLite, --workers 2)", mlflow, sqlite));
  if (mongodb.length) {
    const kind = process.env.MONGODB_URI ? "MONGODB_URI" : "FerretDB 1.24 on SQLite — sorts in memory, a correctness stand-in, not a speed reference";
    console.table(table(`Logbook (MongoDB: ${kind}) vs the same MLflow figures`, mlflow, mongodb));
  }

  if (stores.includes("sqlite")) {
    console.error("Logbook alone: flat search, gRPC, echo ceiling…");
    const server = await startLogbook("sqlite");
    const client = new RestClient(server.httpUrl);
    try {
      const loaded = await load(client, runSpecs(0, RUNS));
      const small = await searchFirstPage(client, loaded.experimentId, 30);
      const grpc = await grpcFigures(server.address, loaded.experimentId, [...loaded.ids.values()], Number(values["ingest-calls"]), 5);
      const large = Number(values["large-runs"]);
      await loadMore(client, loaded, RUNS, large - RUNS);
      const big = await searchFirstPage(client, loaded.experimentId, 30);
      const echo = await echoCeiling(5);
      console.log("\nLogbook (SQLite) alone");
      console.table([
        { what: `REST search first page p50 at ${RUNS} runs`, value: `${small.p50.toFixed(1)} ms` },
        { what: `REST search first page p50 at ${large} runs`, value: `${big.p50.toFixed(1)} ms` },
        { what: "gRPC ingest (LogBatch 1,000 metrics, 4 clients)", value: `${grpc.ingestPointsPerSecond.toFixed(0)} points/s` },
        { what: "gRPC SearchRuns first page p50", value: `${grpc.searchP50.toFixed(1)} ms` },
        { what: "gRPC GetRun p50 (one at a time)", value: `${grpc.getRunP50.toFixed(2)} ms` },
        { what: "gRPC GetRun throughput (16 in flight)", value: `${grpc.getRunPerSecond.toFixed(0)} calls/s` },
        { what: "bare grpc-js echo throughput (16 in flight): the ceiling", value: `${echo.toFixed(0)} calls/s` },
      ]);
    } finally {
      client.close();
      await server.stop();
    }
  }
} finally {
  await mongo?.stop();
}
if (problems.length) {
  console.error(`\nANSWERS DIFFER:\n${problems.join("\n")}`);
  process.exit(1);
}
console.log("\nBoth servers returned the same runs in the same order for search and paging (compared by run name).");
