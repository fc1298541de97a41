/**
 * Search over gRPC against a spawned Logbook: loads N runs (a few params and tags, 10 metrics each), then prints p50/p99
 * latency of SearchRuns' first page (`params.symbol = 'X' and metrics.r2 > 0.5 order by metrics.sharpe_ratio DESC`),
 * the same paged to page 10 through page tokens, Leaderboard top 10, and StreamSearchRuns over all runs (time to
 * first result, total time), with the server's RSS before/after. SQLite by default 100,000 runs; MongoDB (MONGODB_URI,
 * else FerretDB 1.24 — a correctness stand-in, not a speed reference) 10,000.
 *   npm run bench:search -- [--runs N] [--mongo-runs N] [--iterations N] [--stores sqlite,mongodb]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { credentials } from "@grpc/grpc-js";
import { startMongoForTests } from "../scripts/ferretdb.mjs";
import { SearchServiceClient, SearchServiceService } from "../gen/ts/logbook/v1/search_service.js";
import { TrackingServiceService } from "../gen/ts/logbook/v1/tracking_service.js";
import { promiseClient } from "../test/harness/promise-client.js";
import { spawnLogbook } from "../test/harness/logbook-process.js";
import { machine, percentile, rssMiB } from "./stats.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "100000" },
    "mongo-runs": { type: "string", default: "10000" },
    iterations: { type: "string", default: "50" },
    stores: { type: "string", default: "sqlite,mongodb" },
  },
});
const SYMBOLS = ["X", "Y", "Z", "W"];
const FILTER = "params.symbol = 'X' and metrics.r2 > 0.5";
const ORDER = ["metrics.sharpe_ratio DESC"];

const stats = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  return { "p50 ms": Number(percentile(s, 50).toFixed(1)), "p99 ms": Number(percentile(s, 99).toFixed(1)) };
};

async function timeIt(iterations: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

async function measure(label: string, storeArgs: string[], runs: number, iterations: number) {
  const proc = await spawnLogbook(storeArgs);
  const tracking = promiseClient(TrackingServiceService, proc.address);
  const search = promiseClient(SearchServiceService, proc.address);
  const streaming = new SearchServiceClient(proc.address, credentials.createInsecure());
  try {
    const { experimentId } = await tracking.createExperiment({ name: `bench-search-${Date.now()}`, artifactLocation: "", tags: [] });
    let next = 0;
    const load0 = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < runs; i = next++) {
          const run = (await tracking.createRun({ experimentId, userId: "bench", runName: `r${i}`, startTime: BigInt(1_700_000_000_000 + i), tags: [] })).run!;
          await tracking.logBatch({
            runId: run.info!.runId,
            params: [
              { key: "symbol", value: SYMBOLS[i % SYMBOLS.length]! },
              { key: "window", value: String(10 + (i % 50)) },
              { key: "model", value: i % 2 ? "ridge" : "lasso" },
            ],
            tags: [{ key: "desk", value: `d${i % 7}` }, { key: "stage", value: "research" }],
            metrics: Array.from({ length: 10 }, (_, k) => ({
              key: k === 0 ? "r2" : k === 1 ? "sharpe_ratio" : `m${k}`,
              value: Math.random() * (k === 1 ? 4 : 1),
              timestamp: BigInt(Date.now()),
              step: 0n,
              runId: "",
            })),
          });
        }
      }),
    );
    const loadSeconds = (performance.now() - load0) / 1000;
    const before = rssMiB(proc.child.pid!);
    const request = { experimentIds: [experimentId], filter: FILTER, orderBy: ORDER, runViewType: 0, pageToken: "", maxResults: 10 };
    const firstPage = await timeIt(iterations, () => search.searchRuns(request));
    const page10 = await timeIt(Math.max(5, Math.floor(iterations / 5)), async () => {
      let token = "";
      for (let p = 0; p < 10; p++) token = (await search.searchRuns({ ...request, pageToken: token })).nextPageToken;
    });
    const leaderboard = await timeIt(iterations, () =>
      new Promise<void>((resolve, reject) => {
        const call = streaming.leaderboard({ symbol: "X", metric: "sharpe_ratio", limit: 10, ascending: false, experimentIds: [experimentId], filter: "" });
        call.on("data", () => {});
        call.on("error", reject);
        call.on("end", () => resolve());
      }),
    );
    let firstResult = 0;
    let count = 0;
    const s0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const call = streaming.streamSearchRuns({ experimentIds: [experimentId], filter: "", orderBy: [], runViewType: 0 });
      call.on("data", () => {
        if (count++ === 0) firstResult = performance.now() - s0;
      });
      call.on("error", reject);
      call.on("end", () => resolve());
    });
    const streamTotal = performance.now() - s0;
    const after = rssMiB(proc.child.pid!);
    console.log(`\n${label}: ${runs} runs loaded in ${loadSeconds.toFixed(0)} s`);
    console.table({
      "SearchRuns first page (10)": stats(firstPage),
      "SearchRuns to page 10 (10 calls)": stats(page10),
      "Leaderboard top 10": stats(leaderboard),
    });
    console.table({
      StreamSearchRuns: {
        runs: count,
        "first result ms": Number(firstResult.toFixed(1)),
        "total s": Number((streamTotal / 1000).toFixed(2)),
        "RSS before MiB": Math.round(before.rss),
        "RSS after MiB": Math.round(after.rss),
        "peak RSS MiB": Math.round(after.peak),
      },
    });
  } finally {
    tracking.close();
    search.close();
    streaming.close();
    await proc.stop();
  }
}

console.log(`Search over gRPC; filter "${FILTER}" order by ${ORDER.join(", ")}`);
console.log(`machine: ${machine()}`);
const stores = values.stores.split(",");
const iterations = Number(values.iterations);
if (stores.includes("sqlite")) {
  const dir = mkdtempSync(join(tmpdir(), "logbook-bench-"));
  try {
    await measure("sqlite (embedded)", ["--data-dir", dir], Number(values.runs), iterations);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (stores.includes("mongodb")) {
  const mongo = await startMongoForTests();
  try {
    const label = process.env.MONGODB_URI ? "mongodb (MONGODB_URI)" : "mongodb (FerretDB 1.24 on SQLite: correctness stand-in, not a speed reference)";
    await measure(label, ["--store", `${new URL("/logbook_bench_search", mongo.uri)}`], Number(values["mongo-runs"]), iterations);
  } finally {
    await mongo.stop();
  }
}
