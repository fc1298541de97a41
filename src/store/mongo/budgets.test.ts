/**
 * Round-trip budgets of the MongoDB store's run operations, counted in wire messages (every command the driver sends,
 * getMore, killCursors and endSessions included; test/harness/wire-count.ts), against the run's MongoDB-wire server:
 * FerretDB here, MongoDB when MONGODB_URI points at one (the same budgets, and LogBatch's tighter one there). Counts,
 * not times: nothing here depends on how fast the server is.
 *
 * On MongoDB the last case also runs `explain` on every query the store sent during a workload of every run
 * operation and fails on any collection scan. On FerretDB it is skipped: FerretDB's explain describes its own SQLite
 * query, which says nothing about MongoDB's plans.
 */
import { type Db, MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mongoTestUri } from "../../../test/harness/mongo.js";
import { seedRunsDirectly } from "../../../test/harness/mongo-seed.js";
import { type WireCounter, type WireMessages, collectionScans, openCountedMongoStore } from "../../../test/harness/wire-count.js";
import type { Metric, Run } from "../../domain/entities.js";
import { parseOrderBy, parseRunFilter } from "../../domain/filter/index.js";
import type { RunSearchQuery, Store } from "../types.js";
import { detectServerKind } from "./server-kind.js";

const NOW = 1_700_000_000_000;
const SYMBOLS = ["AAPL", "MSFT", "GOOG", "AMZN"];
const SEARCH = { filter: "params.symbol = 'AAPL' and metrics.r2 > 0.5", orderBy: ["metrics.sharpe_ratio DESC"] };

/** A deterministic value in [0, 1) per (run, salt). */
const unit = (i: number, salt: number) => (((i + 1) * 2654435761 + salt * 40503) % 10007) / 10007;

let store: Store;
let wire: WireCounter;
let client: MongoClient;
let db: Db;
let ferretdb: boolean;
/** Experiments of 160 and 1,600 seeded runs: the same searches over few and many matches. */
const experiments: { small: string; large: string } = { small: "", large: "" };

function query(experimentId: string, c: { filter?: string; orderBy?: string[]; viewType?: RunSearchQuery["viewType"] } = {}): RunSearchQuery {
  return { experimentIds: experimentId ? [experimentId] : [], filter: parseRunFilter(c.filter), order: parseOrderBy(c.orderBy ?? []), viewType: c.viewType ?? "ACTIVE_ONLY" };
}

async function seed(name: string, runs: number): Promise<string> {
  const experimentId = await store.createExperiment({ name, tags: [], now: NOW });
  const { artifactLocation } = await store.getExperiment(experimentId);
  await seedRunsDirectly(
    mongoUri,
    experimentId,
    artifactLocation,
    Array.from({ length: runs }, (_, i) => ({
      runId: `${name}-${String(i).padStart(5, "0")}`,
      runName: `${name}-${i}`,
      startTime: NOW + i,
      params: { symbol: SYMBOLS[i % SYMBOLS.length]!, window: String(20 + (i % 7)) },
      tags: { desk: `d${i % 3}` },
      // Every 10th run lacks sharpe_ratio and every 25th has NaN: pages cross into the NaN and missing runs.
      metrics: { r2: unit(i, 1), ...(i % 10 === 9 ? {} : { sharpe_ratio: i % 25 === 0 ? Number.NaN : unit(i, 2) * 4 - 1 }) },
    })),
  );
  return experimentId;
}

let mongoUri: string;

beforeAll(async () => {
  mongoUri = mongoTestUri("budgets");
  ({ store, wire } = openCountedMongoStore(mongoUri, { keepCommands: true }));
  await store.init();
  client = new MongoClient(mongoUri);
  db = client.db();
  ferretdb = (await detectServerKind(db)).kind === "ferretdb";
  experiments.small = await seed("small", 160);
  experiments.large = await seed("large", 1600);
}, 300_000);

afterAll(async () => {
  await store?.close();
  await client?.close();
});

/** Every page of a search with `maxResults`, with the messages each page cost. */
async function pages(q: RunSearchQuery, maxResults: number): Promise<{ ids: string[]; costs: number[] }> {
  const ids: string[] = [];
  const costs: number[] = [];
  let pageToken: string | undefined;
  do {
    const { result, messages } = await wire.measure(() => store.searchRuns(q, { maxResults, pageToken }));
    ids.push(...result.runs.map((r) => r.info.runId));
    costs.push(messages.total);
    pageToken = result.nextPageToken || undefined;
  } while (pageToken);
  return { ids, costs };
}

const describeMessages = (m: WireMessages) => JSON.stringify(m.byTarget);
/** Prints a measured count (the figures of docs/mongodb.md come from here). */
const report = (what: string, value: unknown) => console.log(`budget: ${what}: ${typeof value === "string" ? value : JSON.stringify(value)}`);

describe("MongoDB store round trips", () => {
  it("GetRun: at most 3 messages, datasets, inputs and outputs included", async () => {
    const { runId } = (await store.createRun({ runId: "get-run", experimentId: "0", userId: "u", runName: "r", startTime: NOW, tags: [] })).info;
    await store.logBatch(runId, { metrics: [{ key: "m", value: 1, timestamp: NOW, step: 0 }], params: [{ key: "p", value: "1" }], tags: [{ key: "t", value: "1" }] });
    const dataset = { name: "prices", digest: "d1", sourceType: "local", source: "/data", schema: "{}", profile: "{}" };
    await store.logInputs(runId, { datasets: [{ tags: [{ key: "mlflow.data.context", value: "train" }], dataset }], modelIds: ["m-1"] });
    await store.logOutputs(runId, [{ modelId: "m-1", step: 3 }]);
    const { result, messages } = await wire.measure(() => store.getRun(runId));
    expect(result.inputs.datasetInputs).toHaveLength(1);
    expect(messages.total, describeMessages(messages)).toBeLessThanOrEqual(3);
    report("GetRun", messages.byTarget);
  });

  it("SearchRuns (param and metric filter, metric order): at most 6 messages a page, whatever the page size or matches", async () => {
    // FerretDB sorts every match for each page: pages of 1 over the small experiment only.
    for (const [experimentId, sizes] of [[experiments.small, [1, 10, 100, 1000]], [experiments.large, [25, 100, 1000]]] as const) {
      const q = query(experimentId, SEARCH);
      const whole = (await pages(q, 5000)).ids;
      expect(whole.length).toBeGreaterThan(10);
      for (const size of sizes) {
        const { ids, costs } = await pages(q, size);
        expect(ids).toEqual(whole);
        for (const cost of costs) expect(cost, `experiment ${experimentId}, pages of ${size}: ${costs.join(",")}`).toBeLessThanOrEqual(6);
        report(`SearchRuns, ${whole.length} matches, pages of ${size}: messages per page`, [...new Set(costs)].join(" or "));
      }
    }
  });

  it.each([
    { orderBy: [] },
    { orderBy: ["metrics.sharpe_ratio ASC"], filter: "tags.desk != 'd1'" },
    { orderBy: ["params.window DESC"], filter: "metrics.r2 <= 0.3" },
    { orderBy: ["metrics.r2 DESC", "params.symbol ASC"] },
    { orderBy: ["attributes.end_time DESC", "tags.desk ASC"], viewType: "ALL" as const },
  ])("SearchRuns pages cost at most 6 messages in other orders too: $orderBy", async (c) => {
    const { ids, costs } = await pages(query(experiments.large, c), 100);
    expect(ids.length).toBeGreaterThan(100);
    for (const cost of costs) expect(cost, costs.join(",")).toBeLessThanOrEqual(6);
    report(`SearchRuns ordered by ${JSON.stringify(c.orderBy)}, pages of 100: messages per page`, [...new Set(costs)].join(" or "));
  });

  it("StreamSearchRuns of N runs ordered by a metric: at most ceil(N/100) + 6 messages, the first run after at most 4", async () => {
    for (const experimentId of ["", experiments.large]) {
      wire.reset();
      let first: number | undefined;
      const runs: Run[] = [];
      for await (const run of store.streamRuns(query(experimentId, { orderBy: ["metrics.sharpe_ratio DESC"] }), { batchSize: 100 })) {
        first ??= wire.snapshot().total;
        runs.push(run);
      }
      const messages = wire.snapshot();
      const n = runs.length;
      expect(n).toBeGreaterThanOrEqual(1600);
      expect(first).toBeLessThanOrEqual(4);
      expect(messages.total, describeMessages(messages)).toBeLessThanOrEqual(Math.ceil(n / 100) + 6);
      report(`StreamSearchRuns of ${n} runs (${experimentId ? "one experiment" : "every experiment"}): first run after ${first}, in all`, messages.byCommand);
    }
  });

  it("a caller's readable scope (--auth basic) costs no message: the same pages, the same counts", async () => {
    const scoped = (experimentId: string, readable: RunSearchQuery["readable"]) => ({ ...query(experimentId, SEARCH), ...(readable ? { readable } : {}) });
    const small = (await pages(query(experiments.small, SEARCH), 5000)).ids;
    const everywhere = (await pages(query("", SEARCH), 5000)).ids;
    const cases: Array<[string, RunSearchQuery, string[]]> = [
      ["one experiment, all but another readable", scoped(experiments.small, { except: [experiments.large] }), small],
      ["one experiment, not readable", scoped(experiments.small, { only: [experiments.large] }), []],
      ["every experiment, only one readable", scoped("", { only: [experiments.small] }), small],
      ["every experiment, all but one readable", scoped("", { except: [experiments.large] }), everywhere.filter((id) => !id.startsWith("large-"))],
    ];
    for (const [label, q, expected] of cases) {
      const { ids, costs } = await pages(q, 100);
      expect(ids, label).toEqual(expected);
      for (const cost of costs) expect(cost, `${label}: ${costs.join(",")}`).toBeLessThanOrEqual(6);
      report(`SearchRuns, ${label}, pages of 100: messages per page`, [...new Set(costs)].join(" or "));
    }
    const { result, messages } = await wire.measure(() => store.counts({ experiments: { except: [experiments.large] }, registeredModels: { only: [] } }));
    expect(result.runs).toBe((await store.counts()).runs - 1600);
    expect(messages.total, describeMessages(messages)).toBeLessThanOrEqual(4);
  });

  it(`LogBatch of 1,000 metrics, 100 params and 100 tags: at most 6 messages (4 on MongoDB), no history read`, async () => {
    const { runId } = (await store.createRun({ runId: "log-batch", experimentId: "0", userId: "u", runName: "r", startTime: NOW, tags: [] })).info;
    for (let round = 0; round < 3; round++) {
      const metrics: Metric[] = Array.from({ length: 1000 }, (_, i) => ({ key: `m${i % 250}`, value: i * round, timestamp: NOW + round, step: Math.floor(i / 250) }));
      const params = Array.from({ length: 100 }, (_, i) => ({ key: `p${round}.${i}`, value: "x".repeat(100) }));
      const tags = Array.from({ length: 100 }, (_, i) => ({ key: `t.${i}`, value: `round ${round}` }));
      const { messages } = await wire.measure(() => store.logBatch(runId, { metrics, params, tags }));
      expect(messages.total, describeMessages(messages)).toBeLessThanOrEqual(ferretdb ? 6 : 4);
      if (round === 0) report("LogBatch 1,000 metrics + 100 params + 100 tags", messages.byTarget);
      const historyReads = messages.commands.filter((c) => c.collection === "metric_history" && c.name !== "insert");
      expect(historyReads).toEqual([]);
    }
    const run = await store.getRun(runId);
    expect(run.data.metrics).toHaveLength(250);
    expect(run.data.params).toHaveLength(300);
  });

  it("metric history: a page in one message; the bulk-interval read of 100 runs in one", async () => {
    const runIds = Array.from({ length: 100 }, (_, i) => `history-${i}`);
    for (const runId of runIds) {
      await store.createRun({ runId, experimentId: "0", userId: "u", runName: "r", startTime: NOW, tags: [] });
      await store.logBatch(runId, { metrics: Array.from({ length: 20 }, (_, s) => ({ key: "loss", value: s, timestamp: NOW + s, step: s })), params: [], tags: [] });
    }
    const page = await wire.measure(() => store.getMetricHistory(runIds[0]!, "loss", { maxResults: 10 }));
    expect(page.result.metrics).toHaveLength(10);
    expect(page.messages.total).toBe(1);
    const next = await wire.measure(() => store.getMetricHistory(runIds[0]!, "loss", { maxResults: 10, pageToken: page.result.nextPageToken }));
    expect(next.result.metrics.map((m) => m.step)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(next.messages.total).toBe(1);
    const bulk = await wire.measure(() => store.getMetricHistories(runIds, "loss"));
    expect([...bulk.result.values()].map((h) => h.length)).toEqual(runIds.map(() => 20));
    expect(bulk.messages.total).toBe(1);
  });

  it("the other run operations cost a constant few messages (each run write one more: its change record)", async () => {
    const budget = (mongodb: number, ferret: number) => (ferretdb ? ferret : mongodb);
    const cost = async (work: () => Promise<unknown>) => (await wire.measure(work)).messages.total;
    const experimentId = await store.createExperiment({ name: "others", tags: [], now: NOW });
    expect(await cost(() => store.createRun({ runId: "others", experimentId, userId: "u", runName: "r", startTime: NOW, tags: [{ key: "a", value: "1" }] }))).toBeLessThanOrEqual(4);
    expect(await cost(() => store.updateRun("others", { status: "FINISHED", endTime: NOW + 1, runName: "renamed" }))).toBeLessThanOrEqual(budget(3, 5));
    expect(await cost(() => store.deleteRunTag("others", "a"))).toBeLessThanOrEqual(budget(3, 5));
    expect(await cost(() => store.logInputs("others", { datasets: [], modelIds: ["m-2"] }))).toBeLessThanOrEqual(budget(2, 4));
    expect(await cost(() => store.logOutputs("others", [{ modelId: "m-2", step: 1 }]))).toBeLessThanOrEqual(budget(2, 4));
    expect(await cost(() => store.setRunLifecycle("others", "deleted", NOW))).toBeLessThanOrEqual(budget(3, 5));
    expect(await cost(() => store.setRunLifecycle("others", "active", NOW))).toBeLessThanOrEqual(budget(3, 5));
    expect(await cost(() => store.setExperimentLifecycle(experimentId, "deleted", NOW))).toBe(3);
    expect(await cost(() => store.setExperimentLifecycle(experimentId, "active", NOW))).toBe(3);
    expect(await cost(() => store.counts())).toBe(4);
  });

  it("the change log's reads cost a constant few messages: a poll 1, a resume 2, the bounds 2, a run with its sequence 2, pruning 3", async () => {
    const experimentId = await store.createExperiment({ name: "changes", tags: [], now: NOW });
    await store.createRun({ runId: "watched", experimentId, userId: "u", runName: "r", startTime: NOW, tags: [] });
    for (let i = 0; i < 30; i++) await store.logBatch("watched", { metrics: [{ key: "loss", value: i, timestamp: NOW + i, step: i }], params: [], tags: [] });
    const { head } = await store.changeLogBounds();
    const poll = await wire.measure(() => store.readChanges(head - 20, 1000));
    expect(poll.result).toHaveLength(20);
    expect(poll.messages.total, describeMessages(poll.messages)).toBe(1);
    const resume = await wire.measure(() => store.readRunChanges("watched", head - 20, 500));
    expect(resume.result).toHaveLength(20);
    expect(resume.messages.total, describeMessages(resume.messages)).toBe(2);
    expect((await wire.measure(() => store.changeLogBounds())).messages.total).toBe(2);
    expect((await wire.measure(() => store.getRunWithSequence("watched"))).messages.total).toBe(2);
    expect((await wire.measure(() => store.pruneChanges(NOW))).messages.total).toBe(3);
  });

  it("serves every query of the run operations from an index on MongoDB (explain: no collection scan)", async (ctx) => {
    if (ferretdb) console.log("skipped on FerretDB: its explain describes FerretDB's own SQLite query, not a MongoDB plan");
    ctx.skip(ferretdb, "FerretDB's explain says nothing about MongoDB's plans");
    wire.reset();
    await everyRunOperation();
    expect(await collectionScans(db, wire.snapshot().commands)).toEqual([]);
  });
});

/** Every run operation, with every query shape the store has for it. */
async function everyRunOperation(): Promise<void> {
  const experimentId = await store.createExperiment({ name: "shapes", tags: [], now: NOW });
  await store.getExperimentByName("shapes");
  const runIds = ["shape-a", "shape-b", "shape-c"];
  for (const [i, runId] of runIds.entries()) {
    await store.createRun({ runId, experimentId, userId: "u", runName: runId, startTime: NOW + i, tags: [] });
    await store.logBatch(runId, {
      metrics: i === 2 ? [] : [{ key: "acc", value: i === 1 ? Number.NaN : 0.5, timestamp: NOW, step: 0 }],
      params: [{ key: "symbol", value: SYMBOLS[i]! }],
      tags: [{ key: "desk", value: `d${i}` }],
    });
  }
  await store.getRun("shape-a");
  await store.updateRun("shape-a", { status: "FINISHED", endTime: NOW + 5, runName: "renamed" });
  await store.deleteRunTag("shape-a", "desk");
  await store.logInputs("shape-a", { datasets: [{ tags: [], dataset: { name: "d", digest: "1", sourceType: "local", source: "/" } }], modelIds: ["m-1"] });
  await store.logOutputs("shape-a", [{ modelId: "m-1", step: 0 }]);
  await store.setRunLifecycle("shape-b", "deleted", NOW);
  await store.setRunLifecycle("shape-b", "active", NOW);
  const history = await store.getMetricHistory("shape-a", "acc", { maxResults: 1 });
  await store.getMetricHistory("shape-a", "acc", { maxResults: 1, pageToken: history.nextPageToken || undefined });
  await store.getMetricHistories(runIds, "acc");
  const orders = [[], ["metrics.acc DESC"], ["metrics.acc ASC"], ["params.symbol ASC"], ["metrics.acc DESC", "tags.desk ASC"], ["attributes.end_time DESC"]];
  const filters = ["", "params.symbol = 'AAPL' and metrics.acc > 0.1", "tags.desk LIKE 'd%'", "metrics.acc != 1", "attributes.run_name ILIKE 'SHAPE%'"];
  for (const scope of [experimentId, ""]) {
    for (const viewType of ["ACTIVE_ONLY", "ALL"] as const) {
      for (const orderBy of orders) {
        for (const filter of filters) {
          const q = query(scope, { filter, orderBy, viewType });
          const first = await store.searchRuns(q, { maxResults: 1 });
          if (first.nextPageToken) await store.searchRuns(q, { maxResults: 2, pageToken: first.nextPageToken });
          for await (const run of store.streamRuns(q, { batchSize: 2 })) void run;
        }
      }
    }
  }
  // A caller's scope (--auth basic): a shorter experiment list, or $in / $nin across every experiment.
  for (const readable of [{ except: ["0"] }, { only: [experimentId] }]) {
    for (const scope of [experimentId, ""]) {
      for (const orderBy of [[], ["metrics.acc DESC"], ["params.symbol ASC"]]) {
        const q = { ...query(scope, { filter: "params.symbol = 'AAPL'", orderBy }), readable };
        await store.searchRuns(q, { maxResults: 1 });
        for await (const run of store.streamRuns(q, { batchSize: 2 })) void run;
      }
    }
  }
  await store.counts();
  await store.counts({ experiments: { except: ["0"] }, registeredModels: { only: ["m"] } });
  await store.setExperimentLifecycle(experimentId, "deleted", NOW);
  await store.setExperimentLifecycle(experimentId, "active", NOW);
  // The change log's reads (live watches).
  const { head } = await store.changeLogBounds();
  await store.readChanges(head - 3, 1000);
  await store.readRunChanges("shape-a", head - 3, 500);
  await store.getRunWithSequence("shape-a");
  await store.pruneChanges(NOW);
}
