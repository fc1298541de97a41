/**
 * The "readable by the caller" condition (permissions, `readable` of every search query and of counts) against every
 * backend: each search returns exactly what the scope allows, pages stay full (the condition is inside the query, not
 * applied to a page afterwards) and keyset paging neither skips nor repeats. One small database per backend.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mongoBackend } from "../../test/harness/mongo-backend.js";
import { sqliteBackend } from "../../test/harness/sqlite-backend.js";
import { parseExperimentFilter, parseExperimentOrderBy } from "../domain/filter/experiment-search.js";
import { parseOrderBy, parseRunFilter } from "../domain/filter/index.js";
import { parseLoggedModelFilter, parseLoggedModelOrderBy } from "../domain/filter/logged-model-search.js";
import { parseModelVersionFilter, parseModelVersionOrderBy } from "../domain/filter/model-version-search.js";
import { parseRegisteredModelFilter, parseRegisteredModelOrderBy } from "../domain/filter/registered-model-search.js";
import type { IdScope } from "../domain/permission.js";
import type { KeysetPage, RunSearchQuery, SearchPage, Store } from "./types.js";

const backends = [sqliteBackend, mongoBackend];
const T0 = 1_700_000_000_000;
const hex = (n: number) => n.toString(16).padStart(32, "0");

async function allKeysetPages<T>(search: (page: KeysetPage) => Promise<SearchPage<T>>, size: number): Promise<T[]> {
  const items: T[] = [];
  let after: KeysetPage["after"];
  for (let pages = 0; pages < 50; pages++) {
    const page = await search({ maxResults: size, ...(after ? { after } : {}) });
    items.push(...page.items);
    if (!page.next) return items;
    expect(page.items, "every page but the last is full").toHaveLength(size);
    after = page.next;
  }
  throw new Error("more than 50 pages");
}

describe.each(backends)("Readable scopes: $name", (backend) => {
  let store: Store;
  /** Experiment name → id; 3 experiments × 3 runs each, one logged model each, 3 registered models with 2 versions. */
  const experiments: Record<string, string> = {};
  const runsOf: Record<string, string[]> = {};

  beforeAll(async () => {
    store = await backend.open();
    await store.init();
    let n = 0;
    for (const name of ["alpha", "beta", "gamma"]) {
      const id = await store.createExperiment({ name, tags: [], now: T0 + n });
      experiments[name] = id;
      runsOf[name] = [];
      for (let i = 0; i < 3; i++) {
        const runId = hex(++n);
        await store.createRun({ runId, experimentId: id, userId: "u", runName: `${name}-${i}`, startTime: T0 + n, tags: [] });
        await store.logBatch(runId, { metrics: [{ key: "m", value: n, timestamp: T0, step: 0 }], params: [], tags: [] });
        runsOf[name]!.push(runId);
      }
      await store.createLoggedModel({ modelId: `m-${hex(100 + n)}`, experimentId: id, name: `lm-${name}`, params: [], tags: [], now: T0 + n });
      await store.createRegisteredModel({ name: `model-${name}`, description: "", userId: "u", tags: [], now: T0 + n });
      for (const runId of runsOf[name]!.slice(0, 2)) {
        await store.createModelVersion({ name: `model-${name}`, source: "s3://b/m", runId, runLink: "", description: "", userId: "u", tags: [], now: T0 + n });
      }
    }
  });

  afterAll(async () => {
    await store.close();
  });

  const only = (...names: string[]): IdScope => ({ only: names.map((n) => experiments[n]!) });
  const except = (...names: string[]): IdScope => ({ except: names.map((n) => experiments[n]!) });
  const runQuery = (readable?: IdScope): RunSearchQuery => ({
    experimentIds: Object.values(experiments),
    filter: parseRunFilter(""),
    order: parseOrderBy(["metrics.m DESC"]),
    viewType: "ALL",
    ...(readable ? { readable } : {}),
  });

  async function allRunPages(query: RunSearchQuery, size: number): Promise<string[]> {
    const ids: string[] = [];
    let pageToken: string | undefined;
    for (let pages = 0; pages < 50; pages++) {
      const page = await store.searchRuns(query, { maxResults: size, ...(pageToken ? { pageToken } : {}) });
      ids.push(...page.runs.map((r) => r.info.runId));
      if (!page.nextPageToken) return ids;
      expect(page.runs, "every page but the last is full").toHaveLength(size);
      pageToken = page.nextPageToken;
    }
    throw new Error("more than 50 pages");
  }

  it("searches runs of readable experiments only, in full pages", async () => {
    const all = await allRunPages(runQuery(), 100);
    expect(all).toHaveLength(9);
    const expected = all.filter((id) => !runsOf.beta!.includes(id));
    expect(await allRunPages(runQuery(except("beta")), 2)).toEqual(expected);
    expect(await allRunPages(runQuery(only("alpha", "gamma")), 4)).toEqual(expected);
    expect(await allRunPages(runQuery({ only: [] }), 2)).toEqual([]);
    expect(await allRunPages(runQuery({ only: ["not-an-id", experiments.beta!] }), 2)).toEqual(runsOf.beta!.slice().reverse());
    // A search naming its experiments takes the scope as a shorter list; one over all experiments as a condition.
    expect(await allRunPages({ ...runQuery(except("beta")), experimentIds: [] }, 2)).toEqual(expected);
    expect(await allRunPages({ ...runQuery(only("alpha", "gamma")), experimentIds: [] }, 4)).toEqual(expected);
    expect(await allRunPages({ ...runQuery(only("alpha")), experimentIds: [experiments.beta!] }, 2)).toEqual([]);
  });

  it("streams runs of readable experiments only", async () => {
    const streamed: string[] = [];
    for await (const run of store.streamRuns(runQuery(except("gamma")), { batchSize: 2 })) streamed.push(run.info.runId);
    expect(new Set(streamed)).toEqual(new Set([...runsOf.alpha!, ...runsOf.beta!]));
    expect(streamed).toHaveLength(6);
    const everywhere: string[] = [];
    for await (const run of store.streamRuns({ ...runQuery(only("beta")), experimentIds: [] }, { batchSize: 2 })) everywhere.push(run.info.runId);
    expect(new Set(everywhere)).toEqual(new Set(runsOf.beta!));
  });

  it("searches experiments, registered models, model versions and logged models within the scope", async () => {
    const experimentQuery = { filter: parseExperimentFilter(""), order: parseExperimentOrderBy([]), viewType: "ALL" as const };
    const names = async (readable?: IdScope) =>
      (await allKeysetPages((p) => store.searchExperiments({ ...experimentQuery, ...(readable ? { readable } : {}) }, p), 1)).map((e) => e.name);
    expect(await names()).toEqual(["Default", "gamma", "beta", "alpha"]);
    expect(await names(except("beta"))).toEqual(["Default", "gamma", "alpha"]);
    expect(await names(only("beta"))).toEqual(["beta"]);

    const modelQuery = { filter: parseRegisteredModelFilter(""), order: parseRegisteredModelOrderBy(["name ASC"]) };
    const models = await allKeysetPages((p) => store.searchRegisteredModels({ ...modelQuery, readable: { except: ["model-beta"] } }, p), 1);
    expect(models.map((m) => m.name)).toEqual(["model-alpha", "model-gamma"]);

    const versionQuery = { filter: parseModelVersionFilter(""), order: parseModelVersionOrderBy(["name ASC"]) };
    const versions = await allKeysetPages((p) => store.searchModelVersions({ ...versionQuery, readable: { only: ["model-gamma", "model-alpha"] } }, p), 3);
    expect(versions.map((v) => `${v.name}/${v.version}`)).toEqual(["model-alpha/2", "model-alpha/1", "model-gamma/2", "model-gamma/1"]);

    const loggedQuery = { experimentIds: Object.values(experiments), filter: parseLoggedModelFilter(""), datasets: [], order: parseLoggedModelOrderBy([]) };
    const logged = await allKeysetPages((p) => store.searchLoggedModels({ ...loggedQuery, readable: except("alpha") }, p), 1);
    expect(logged.map((m) => m.name)).toEqual(["lm-gamma", "lm-beta"]);
  });

  it("reads the versions of runs and counts within the scope", async () => {
    const runIds = Object.values(runsOf).flat();
    const versions = await store.modelVersionsOfRuns(runIds, { except: ["model-alpha"] });
    expect(new Set(versions.map((v) => v.name))).toEqual(new Set(["model-beta", "model-gamma"]));
    expect(await store.modelVersionsOfRuns(runIds, { only: [] })).toEqual([]);

    expect(await store.counts()).toEqual({ experiments: 4, runs: 9, registeredModels: 3, modelVersions: 6 });
    expect(await store.counts({ experiments: except("beta"), registeredModels: { only: ["model-beta"] } })).toEqual({
      experiments: 3,
      runs: 6,
      registeredModels: 1,
      modelVersions: 2,
    });
    expect(await store.counts({ experiments: { only: [] } })).toEqual({ experiments: 0, runs: 0, registeredModels: 3, modelVersions: 6 });
  });
});
