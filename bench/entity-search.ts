/**
 * The experiment, registered-model, model-version and logged-model searches at size: loads N of each into a store (in
 * process, through the store API), then prints the p50 latency of a filtered, ordered first page of 100 through the
 * SearchService functions, the total to walk to page 10 with page tokens, and — on MongoDB — the wire messages each
 * first page sent. SQLite by default 10,000 of each; MongoDB (MONGODB_URI, else FerretDB 1.24, a correctness
 * stand-in: it filters and sorts in memory) 1,000.
 *   npx tsx bench/entity-search.ts [--models N] [--mongo-models N] [--iterations N] [--stores sqlite,mongodb]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startMongoForTests } from "../scripts/ferretdb.mjs";
import { pino } from "pino";
import { createSearchService } from "../src/services/search-service.js";
import { createWatchHub } from "../src/services/watch/watch-hub.js";
import { createSqliteStore } from "../src/store/sqlite/sqlite-store.js";
import type { Store } from "../src/store/types.js";
import { openCountedMongoStore } from "../test/harness/wire-count.js";
import { machine, percentile } from "./stats.js";

const { values } = parseArgs({
  options: {
    models: { type: "string", default: "10000" },
    "mongo-models": { type: "string", default: "1000" },
    iterations: { type: "string", default: "20" },
    stores: { type: "string", default: "sqlite,mongodb" },
  },
});
const NOW = 1_700_000_000_000;
const hex = (n: number) => n.toString(16).padStart(32, "0");
const pad = (i: number) => String(i).padStart(6, "0");

async function seed(store: Store, n: number): Promise<string> {
  const experimentId = await store.createExperiment({ name: "bench", tags: [], now: NOW });
  const runId = hex(1);
  await store.createRun({ runId, experimentId, userId: "u", runName: "r", startTime: NOW, tags: [] });
  for (let i = 0; i < n; i++) {
    const team = { key: "team", value: i % 4 === 0 ? "quant" : "ops" };
    await store.createExperiment({ name: `e-${pad(i)}`, tags: [team], now: NOW + i });
    const name = `model-${pad(i)}`;
    await store.createRegisteredModel({ name, description: "", userId: "u", tags: [team], now: NOW + i });
    await store.createModelVersion({ name, source: "s", runId, runLink: "", description: "", userId: "u", tags: [team], now: NOW + i });
    const modelId = `m-${hex(i + 1)}`;
    await store.createLoggedModel({ modelId, experimentId, name: `lm-${pad(i)}`, params: [{ key: "lr", value: String(i % 10) }], tags: [team], now: NOW + i });
    await store.logBatch(runId, { metrics: [{ key: "acc", value: (i * 7919) % n / n, timestamp: NOW + i, step: 0, modelId }], params: [], tags: [] });
  }
  return experimentId;
}

async function measure(label: string, store: Store, n: number, iterations: number, countMessages?: (work: () => Promise<unknown>) => Promise<number>) {
  await store.init();
  const t0 = performance.now();
  const experimentId = await seed(store, n);
  const loadS = (performance.now() - t0) / 1000;
  const logger = pino({ level: "silent" });
  const search = createSearchService({ store, watch: createWatchHub({ store, logger }) });
  const searches: [string, (pageToken: string) => Promise<{ nextPageToken: string }>][] = [
    ["experiments: name LIKE 'e-%' and tags.team = 'ops', default order", (pageToken) =>
      search.searchExperiments({ filter: "name LIKE 'e-%' and tags.team = 'ops'", orderBy: [], maxResults: 100n, pageToken, viewType: 0 }, {} as never)],
    ["registered models: tags.team = 'ops', timestamp DESC", (pageToken) =>
      search.searchRegisteredModels({ filter: "tags.team = 'ops'", orderBy: ["timestamp DESC"], maxResults: 100n, pageToken }, {} as never)],
    ["model versions: name LIKE 'model-%', default order", (pageToken) =>
      search.searchModelVersions({ filter: "name LIKE 'model-%'", orderBy: [], maxResults: 100n, pageToken }, {} as never)],
    ["logged models: metrics.acc > 0.5 and params.lr != '3', metrics.acc DESC", (pageToken) =>
      search.searchLoggedModels({ experimentIds: [experimentId], filter: "metrics.acc > 0.5 and params.lr != '3'", orderBy: [{ fieldName: "metrics.acc", ascending: false }], datasets: [], maxResults: 100, pageToken }, {} as never)],
  ];
  const rows: Record<string, unknown>[] = [];
  for (const [what, page] of searches) {
    const first: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const s = performance.now();
      await page("");
      first.push(performance.now() - s);
    }
    const w = performance.now();
    let token = "";
    for (let p = 0; p < 10; p++) token = (await page(token)).nextPageToken;
    const to10 = performance.now() - w;
    const row: Record<string, unknown> = { search: what, "first page p50 ms": Number(percentile([...first].sort((a, b) => a - b), 50).toFixed(1)), "to page 10 ms": Math.round(to10) };
    if (countMessages) row["messages / page"] = await countMessages(() => page(""));
    rows.push(row);
  }
  console.log(`\n${label}: ${n} of each, loaded in ${loadS.toFixed(1)} s`);
  console.table(rows);
}

async function main() {
  const stores = values.stores.split(",");
  const iterations = Number(values.iterations);
  console.log(machine());
  if (stores.includes("sqlite")) {
    const dir = mkdtempSync(join(tmpdir(), "bench-entity-search-"));
    const store = createSqliteStore({ path: join(dir, "logbook.db") });
    try {
      await measure("SQLite", store, Number(values.models), iterations);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (stores.includes("mongodb")) {
    const mongo = await startMongoForTests();
    const uri = new URL(mongo.uri);
    uri.pathname = `/bench_entity_search_${Date.now()}`;
    const { store, wire } = openCountedMongoStore(uri.toString());
    const count = async (work: () => Promise<unknown>) => (await wire.measure(work)).messages.total;
    try {
      await measure(process.env.MONGODB_URI ? "MongoDB" : "FerretDB 1.24 (correctness stand-in)", store, Number(values["mongo-models"]), iterations, count);
    } finally {
      await store.close();
      await mongo.stop();
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
