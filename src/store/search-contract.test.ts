/**
 * The conformance suite of the experiment, registered-model, model-version and logged-model searches (SearchStore in
 * src/store/types.ts): the case tables of entity-search-cases.ts against every backend — each case whole, then
 * paged by 1, 2 and 3 through the sort keys the store returns — plus whole entities, empty scopes and the
 * leaderboard's versions-of-runs read. One database per backend for the suite: these tests only read.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORE_BACKENDS } from "../../test/harness/store-backends.js";
import { parseExperimentFilter, parseExperimentOrderBy } from "../domain/filter/experiment-search.js";
import { parseLoggedModelDatasets, parseLoggedModelFilter, parseLoggedModelOrderBy } from "../domain/filter/logged-model-search.js";
import { parseModelVersionFilter, parseModelVersionOrderBy } from "../domain/filter/model-version-search.js";
import { parseRegisteredModelFilter, parseRegisteredModelOrderBy } from "../domain/filter/registered-model-search.js";
import { LOGGED_MODEL_STATUSES } from "../domain/logged-model.js";
import {
  EXPERIMENT_CASES,
  EXPERIMENT_FIXTURE,
  LOGGED_MODEL_CASES,
  LOGGED_MODEL_FIXTURE,
  MODEL_VERSION_CASES,
  MODEL_VERSION_FIXTURE,
  REGISTERED_MODEL_CASES,
  REGISTERED_MODEL_FIXTURE,
  T0,
} from "./entity-search-cases.js";
import type { KeysetPage, SearchPage, Store } from "./types.js";

const backends = STORE_BACKENDS;
const hex = (n: number) => n.toString(16).padStart(32, "0");
const modelId = (id: string) => `m-${hex(Number(id.slice(1)))}`;
const caseName = (c: { filter?: string; orderBy?: unknown; viewType?: string; datasets?: unknown; both?: boolean }) =>
  [c.filter ?? "", JSON.stringify(c.orderBy ?? []), c.viewType ?? "", c.datasets ? JSON.stringify(c.datasets) : "", c.both ? "both" : ""].join(" | ");

/** Every item of a search, read in pages of `size` through the sort keys the store returns. */
async function allPages<T>(search: (page: KeysetPage) => Promise<SearchPage<T>>, size: number): Promise<T[]> {
  const items: T[] = [];
  let after: KeysetPage["after"];
  for (let pages = 0; pages < 100; pages++) {
    const page = await search({ maxResults: size, ...(after ? { after } : {}) });
    expect(page.items.length).toBeLessThanOrEqual(size);
    items.push(...page.items);
    if (!page.next) return items;
    expect(page.items).toHaveLength(size);
    after = page.next;
  }
  throw new Error("more than 100 pages");
}

async function seed(store: Store) {
  const experimentIds: Record<string, string> = {};
  for (const e of EXPERIMENT_FIXTURE) {
    experimentIds[e.name] = await store.createExperiment({ name: e.name, tags: e.tags, now: e.created });
    if (e.deleted) await store.setExperimentLifecycle(experimentIds[e.name]!, "deleted", e.created);
  }

  for (const m of REGISTERED_MODEL_FIXTURE) await store.createRegisteredModel({ name: m.name, description: "", userId: "ada", tags: m.tags, now: m.now });
  const version = (v: (typeof MODEL_VERSION_FIXTURE)[number]) =>
    store.createModelVersion({ name: v.name, source: v.source, runId: v.runId, runLink: "", description: "", userId: "ada", tags: v.tags, now: v.now });
  await version({ name: "RM1", runId: "", source: "s", now: T0 + 1, tags: [] });
  for (const name of ["MV", "MW"]) await store.createRegisteredModel({ name, description: "", userId: "ada", tags: [], now: T0 });
  for (const v of MODEL_VERSION_FIXTURE) await version(v);
  await store.deleteModelVersion("MW", 3, T0 + 16);
  await store.setRegisteredModelAlias("MV", "champion", 2, T0 + 13);

  const [x, y] = [experimentIds["exp-a"]!, experimentIds["exp-b"]!];
  const runs = { r1: hex(1), r2: hex(2) };
  for (const runId of Object.values(runs)) await store.createRun({ runId, experimentId: x, userId: "ada", runName: "r", startTime: T0, tags: [] });
  for (const m of LOGGED_MODEL_FIXTURE) {
    const id = modelId(m.id);
    await store.createLoggedModel({
      modelId: id,
      experimentId: m.other ? y : x,
      name: m.name,
      ...(m.modelType ? { modelType: m.modelType } : {}),
      ...(m.sourceRunId ? { sourceRunId: m.sourceRunId } : {}),
      params: m.params ?? [],
      tags: m.tags ?? [],
      now: T0 + m.created,
    });
    for (const p of m.points ?? []) {
      const { run, ...metric } = p;
      await store.logBatch(runs[run ?? "r1"], { metrics: [{ ...metric, modelId: id }], params: [], tags: [] });
    }
    if (m.status) await store.finalizeLoggedModel(id, m.status, T0 + m.created);
    if (m.deleted) await store.deleteLoggedModel(id, T0 + m.created);
  }
  return { x, y, runs };
}

describe.each(backends)("Search contract: $name", (backend) => {
  let store: Store;
  let data: Awaited<ReturnType<typeof seed>>;

  beforeAll(async () => {
    store = await backend.open();
    await store.init();
    data = await seed(store);
  });
  afterAll(async () => {
    await store?.close();
  });

  describe("experiments", () => {
    it.each(EXPERIMENT_CASES.map((c) => ({ ...c, name: caseName(c) })))("$name", async (c) => {
      const query = { filter: parseExperimentFilter(c.filter), order: parseExperimentOrderBy(c.orderBy ?? []), viewType: c.viewType ?? ("ACTIVE_ONLY" as const) };
      const search = (page: KeysetPage) => store.searchExperiments(query, page);
      const whole = await search({ maxResults: 1000 });
      expect(whole.items.map((e) => e.name)).toEqual(c.expected);
      expect(whole.next).toBeUndefined();
      for (const size of [1, 2, 3]) expect((await allPages(search, size)).map((e) => e.name)).toEqual(c.expected);
    });

    it("returns experiments whole, as getExperiment does", async () => {
      const { items } = await store.searchExperiments({ filter: parseExperimentFilter("name = 'exp-a'"), order: parseExperimentOrderBy([]), viewType: "ALL" }, { maxResults: 5 });
      expect(items).toEqual([await store.getExperiment(data.x)]);
      expect(items[0]!.tags).toHaveLength(2);
    });
  });

  describe("registered models", () => {
    it.each(REGISTERED_MODEL_CASES.map((c) => ({ ...c, name: caseName(c) })))("$name", async (c) => {
      const query = { filter: parseRegisteredModelFilter(c.filter), order: parseRegisteredModelOrderBy(c.orderBy ?? []) };
      const search = (page: KeysetPage) => store.searchRegisteredModels(query, page);
      expect((await search({ maxResults: 1000 })).items.map((m) => m.name)).toEqual(c.expected);
      for (const size of [1, 2, 3]) expect((await allPages(search, size)).map((m) => m.name)).toEqual(c.expected);
    });

    it("returns models whole (tags, aliases, latest versions), as getRegisteredModel does", async () => {
      const query = { filter: parseRegisteredModelFilter("name LIKE 'M%'"), order: parseRegisteredModelOrderBy([]) };
      const { items } = await store.searchRegisteredModels(query, { maxResults: 5 });
      expect(items).toEqual([await store.getRegisteredModel("MV"), await store.getRegisteredModel("MW")]);
      expect(items[0]).toMatchObject({ aliases: [{ alias: "champion", version: 2 }], latestVersions: [expect.objectContaining({ version: 4 })] });
    });
  });

  describe("model versions", () => {
    it.each(MODEL_VERSION_CASES.map((c) => ({ ...c, name: caseName(c) })))("$name", async (c) => {
      const query = { filter: parseModelVersionFilter(c.filter), order: parseModelVersionOrderBy(c.orderBy ?? []) };
      const search = (page: KeysetPage) => store.searchModelVersions(query, page);
      const ids = (items: { name: string; version: number }[]) => items.map((v) => `${v.name}/${v.version}`);
      expect(ids((await search({ maxResults: 1000 })).items)).toEqual(c.expected);
      for (const size of [1, 2, 3]) expect(ids(await allPages(search, size))).toEqual(c.expected);
    });

    it("returns versions whole (tags, aliases), as getModelVersion does", async () => {
      const { items } = await store.searchModelVersions({ filter: parseModelVersionFilter("name = 'MV' and version_number <= 2"), order: parseModelVersionOrderBy([]) }, { maxResults: 5 });
      expect(items).toEqual([await store.getModelVersion("MV", 2), await store.getModelVersion("MV", 1)]);
      expect(items[0]).toMatchObject({ aliases: ["champion"], tags: [{ key: "t1", value: "abc" }, { key: "t2", value: "x123" }] });
    });

    it("reads the versions of a set of runs in one call", async () => {
      const ids = (versions: { name: string; version: number }[]) => versions.map((v) => `${v.name}/${v.version}`).sort();
      expect(ids(await store.modelVersionsOfRuns(["run1"]))).toEqual(["MV/1", "MW/1"]);
      expect(ids(await store.modelVersionsOfRuns(["run2", "run1", "nope"]))).toEqual(["MV/1", "MV/2", "MV/3", "MW/1"]);
      expect(await store.modelVersionsOfRuns([])).toEqual([]);
      const [one] = await store.modelVersionsOfRuns(["run2"]).then((vs) => vs.filter((v) => v.version === 2));
      expect(one).toEqual(await store.getModelVersion("MV", 2));
    });
  });

  describe("logged models", () => {
    it.each(LOGGED_MODEL_CASES.map((c) => ({ ...c, name: caseName(c) })))("$name", async (c) => {
      const query = {
        experimentIds: c.both ? [data.x, data.y] : [data.x],
        filter: parseLoggedModelFilter(c.filter),
        datasets: parseLoggedModelDatasets(c.datasets ?? []),
        order: parseLoggedModelOrderBy(c.orderBy ?? []),
      };
      const search = (page: KeysetPage) => store.searchLoggedModels(query, page);
      const expected = c.expected.map(modelId);
      expect((await search({ maxResults: 1000 })).items.map((m) => m.modelId)).toEqual(expected);
      for (const size of [1, 2, 3]) expect((await allPages(search, size)).map((m) => m.modelId)).toEqual(expected);
    });

    it("returns models whole, as getLoggedModel does", async () => {
      const query = { experimentIds: [data.x], filter: parseLoggedModelFilter("name IN ('alpha', 'tied')"), datasets: [], order: parseLoggedModelOrderBy([]) };
      const { items } = await store.searchLoggedModels(query, { maxResults: 5 });
      const sorted = (m: { tags: { key: string }[]; params: { key: string }[] }) => ({ ...m, tags: [...m.tags].sort(), params: [...m.params].sort() });
      expect(items.map(sorted)).toEqual([sorted(await store.getLoggedModel(modelId("m8"))), sorted(await store.getLoggedModel(modelId("m1")))]);
      expect(items[0]!.metrics).toHaveLength(3);
    });

    it("finds nothing in experiments that hold no models or do not exist", async () => {
      const query = { filter: [], datasets: [], order: parseLoggedModelOrderBy([]) };
      expect(await store.searchLoggedModels({ ...query, experimentIds: ["0"] }, { maxResults: 5 })).toEqual({ items: [] });
      expect(await store.searchLoggedModels({ ...query, experimentIds: ["999999", "not-an-id"] }, { maxResults: 5 })).toEqual({ items: [] });
    });

    it("sorts statuses by rank, which is their alphabetical order", () => {
      expect([...LOGGED_MODEL_STATUSES].sort()).toEqual([...LOGGED_MODEL_STATUSES]);
    });
  });
});
