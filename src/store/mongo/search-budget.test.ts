/**
 * Round-trip budgets of the experiment, registered-model, model-version and logged-model searches on MongoDB,
 * counted (never timed) with the driver's command monitoring: a page of 100, filtered and ordered, costs at most 4
 * wire messages — the page's `find` plus what makes it whole (latest versions, aliases, linked metrics,
 * registrations) — whatever the page size and however many documents match. Seeded with 150 of each (FerretDB is
 * slow; the counts do not depend on the numbers).
 *
 * On MongoDB (MONGODB_URI set to a real MongoDB) every query a search sends is also explained: none may be a
 * collection scan. FerretDB has no query planner to ask (it filters in memory), so that part is skipped there.
 */
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mongoTestUri } from "../../../test/harness/mongo.js";
import { type WireCounter, type WireMessages, collectionScans, openCountedMongoStore } from "../../../test/harness/wire-count.js";
import { parseExperimentFilter, parseExperimentOrderBy } from "../../domain/filter/experiment-search.js";
import { parseLoggedModelDatasets, parseLoggedModelFilter, parseLoggedModelOrderBy } from "../../domain/filter/logged-model-search.js";
import { parseModelVersionFilter, parseModelVersionOrderBy } from "../../domain/filter/model-version-search.js";
import { parseRegisteredModelFilter, parseRegisteredModelOrderBy } from "../../domain/filter/registered-model-search.js";
import type { KeysetPage, SearchPage, Store } from "../types.js";
import { detectServerKind } from "./server-kind.js";

const N = 150;
const NOW = 1_700_000_000_000;
const BUDGET = 4;
const hex = (n: number) => n.toString(16).padStart(32, "0");

type Sent = WireMessages["commands"];

let counting: { store: Store; wire: WireCounter; count(work: () => Promise<unknown>): Promise<Sent> };
let uri: string;
let server: "mongodb" | "ferretdb";
let experimentId: string;
const client = () => new MongoClient(uri);

async function seed(): Promise<void> {
  const { store } = counting;
  experimentId = await store.createExperiment({ name: "budget", tags: [], now: NOW });
  const runId = hex(1);
  await store.createRun({ runId, experimentId, userId: "u", runName: "r", startTime: NOW, tags: [] });
  for (let i = 0; i < N; i++) {
    const team = { key: "team", value: i % 3 === 0 ? "quant" : "ops" };
    await store.createExperiment({ name: `e-${String(i).padStart(3, "0")}`, tags: [team], now: NOW + i });
    const name = `model-${String(i).padStart(3, "0")}`;
    await store.createRegisteredModel({ name, description: "", userId: "u", tags: [team], now: NOW + i });
    const version = (n: number) =>
      store.createModelVersion({ name, source: "s", runId, runLink: "", description: "", userId: "u", tags: [team], now: NOW + i + n });
    await version(1);
    await version(2);
    await store.transitionModelVersionStage(name, 1, "Production", false, NOW + i + 3);
    await store.setRegisteredModelAlias(name, "champion", 1, NOW + i + 4);
    const modelId = `m-${hex(i + 1)}`;
    await store.createLoggedModel({ modelId, experimentId, name: `lm-${i}`, params: [{ key: "lr", value: String(i % 2) }], tags: [team], now: NOW + i });
    await store.logBatch(runId, {
      metrics: [{ key: "acc", value: i / N, timestamp: NOW + i, step: 0, modelId, datasetName: "test", datasetDigest: "d" }],
      params: [],
      tags: [],
    });
    await store.createModelVersion({ name, source: `models:/${modelId}`, runId, runLink: "", description: "", userId: "u", tags: [], modelId, now: NOW + i + 5 });
  }
}

beforeAll(async () => {
  uri = mongoTestUri("search_budget");
  const { store, wire } = openCountedMongoStore(uri, { keepCommands: true });
  counting = { store, wire, count: async (work) => (await wire.measure(work)).messages.commands };
  await counting.store.init();
  const c = client();
  server = (await detectServerKind(c.db())).kind;
  await c.close();
  await seed();
}, 600_000);

afterAll(async () => {
  await counting?.store.close();
});

/** Commands of a first page of 100 and of the next page, with the items each returned. */
async function twoPages<T>(search: (page: KeysetPage) => Promise<SearchPage<T>>) {
  let first: SearchPage<T> | undefined;
  const firstSent = await counting.count(async () => (first = await search({ maxResults: 100 })));
  let second: SearchPage<T> | undefined;
  const secondSent = await counting.count(async () => (second = await search({ maxResults: 100, after: first!.next! })));
  let small: SearchPage<T> | undefined;
  const smallSent = await counting.count(async () => (small = await search({ maxResults: 10 })));
  return { first: first!, second: second!, small: small!, sent: [firstSent, secondSent, smallSent] };
}

const names = (sent: Sent) => sent.map((c) => c.name);

/** On MongoDB: no query the searches sent scans a collection. */
async function expectIndexed(sent: Sent[]): Promise<void> {
  if (server !== "mongodb") return;
  const c = client();
  try {
    expect(await collectionScans(c.db(), sent.flat())).toEqual([]);
  } finally {
    await c.close();
  }
}

describe("MongoDB search budgets (wire messages per page)", () => {
  it("experiments: one find per page", async () => {
    const query = { filter: parseExperimentFilter("name LIKE 'e-%' and tags.team != 'x'"), order: parseExperimentOrderBy(["name DESC"]), viewType: "ACTIVE_ONLY" as const };
    const { first, second, small, sent } = await twoPages((page) => counting.store.searchExperiments(query, page));
    expect([first.items.length, second.items.length, small.items.length]).toEqual([100, 50, 10]);
    for (const s of sent) expect(names(s)).toEqual(["find"]);
    await expectIndexed(sent);
  });

  it("registered models: the page, then the latest versions per stage in two reads", async () => {
    const query = { filter: parseRegisteredModelFilter("name LIKE 'model-%'"), order: parseRegisteredModelOrderBy(["timestamp DESC"]) };
    const { first, second, small, sent } = await twoPages((page) => counting.store.searchRegisteredModels(query, page));
    expect([first.items.length, second.items.length, small.items.length]).toEqual([100, 50, 10]);
    expect(first.items[0]).toMatchObject({
      aliases: [{ alias: "champion", version: 1 }],
      latestVersions: [expect.objectContaining({ version: 3, currentStage: "None" }), expect.objectContaining({ version: 1, currentStage: "Production" })],
    });
    for (const s of sent) expect(s.length).toBeLessThanOrEqual(BUDGET);
    expect(names(sent[0]!)).toEqual(["find", "find", "find"]);
    await expectIndexed(sent);
  });

  it("model versions: the page, then their models' names and aliases in one read", async () => {
    const query = { filter: parseModelVersionFilter("name LIKE 'model-%' and tags.team = 'ops'"), order: parseModelVersionOrderBy([]) };
    const { first, second, small, sent } = await twoPages((page) => counting.store.searchModelVersions(query, page));
    expect([first.items.length, second.items.length, small.items.length]).toEqual([100, 100, 10]);
    for (const s of sent) expect(names(s)).toEqual(["find", "find"]);
    await expectIndexed(sent);
  });

  it("logged models: the page, then linked metrics and registrations; one more read per `metrics.x = v` clause", async () => {
    const search = (filter: string) => {
      const query = {
        experimentIds: [experimentId],
        filter: parseLoggedModelFilter(filter),
        datasets: parseLoggedModelDatasets([{ datasetName: "test" }]),
        order: parseLoggedModelOrderBy([{ fieldName: "metrics.acc", ascending: false, datasetName: "test", datasetDigest: "d" }]),
      };
      return (page: KeysetPage) => counting.store.searchLoggedModels(query, page);
    };
    const ranged = await twoPages(search("metrics.acc >= 0.1 and params.lr LIKE '%' and tags.team != 'x'"));
    expect([ranged.first.items.length, ranged.second.items.length, ranged.small.items.length]).toEqual([100, 35, 10]);
    expect(ranged.first.items[0]).toMatchObject({ registrations: [expect.objectContaining({ version: "3" })], metrics: [expect.objectContaining({ key: "acc" })] });
    for (const s of ranged.sent) expect(names(s).sort()).toEqual(["find", "find", "find"]);
    let exact: SearchPage<unknown> | undefined;
    const exactSent = await counting.count(async () => (exact = await search(`metrics.acc = ${30 / N}`)({ maxResults: 100 })));
    expect(names(exactSent).sort()).toEqual(["distinct", "find", "find", "find"]);
    expect((exact!.items as { name: string }[]).map((m) => m.name)).toEqual(["lm-30"]);
    await expectIndexed([...ranged.sent, exactSent]);
  });

  it("reads the versions of a batch of leaderboard runs in two queries, however many there are", async () => {
    let versions: unknown[] = [];
    const sent = await counting.count(async () => (versions = await counting.store.modelVersionsOfRuns([hex(1), hex(2)])));
    expect(versions).toHaveLength(3 * N);
    expect(names(sent)).toEqual(["find", "find"]);
    await expectIndexed([sent]);
  });
});
