/**
 * The store conformance suite: the same cases against every backend (src/store/types.ts is the
 * contract). Each backend comes from a small factory module under test/harness/.
 */
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { STORE_BACKENDS } from "../../test/harness/store-backends.js";
import { type Metric, type Run, type Tag, compareMetricRecency } from "../domain/entities.js";
import { AppError, ErrorCode } from "../domain/errors.js";
import { paramChangedMessage } from "../domain/validation.js";
import { parseExperimentOrderBy } from "../domain/filter/experiment-search.js";
import { parseOrderBy, parseRunFilter } from "../domain/filter/index.js";
import { SEARCH_CASES, SEARCH_FIXTURE, fixtureBatch } from "./search-cases.js";
import type { NewRun, RunSearchQuery, Store } from "./types.js";

const backends = STORE_BACKENDS;

const NOW = 1_700_000_000_000;
const newRunId = () => randomBytes(16).toString("hex");
const byKey = <T extends { key: string }>(items: T[]) => [...items].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
const point = (key: string, value: number, timestamp: number, step: number): Metric => ({ key, value, timestamp, step });
/** A metric with its value spelled exactly, so NaN, -0 and ±Infinity compare with Object.is semantics. */
const exact = ({ key, value, timestamp, step }: Metric) => ({ key, value: Object.is(value, -0) ? "-0" : String(value), timestamp, step });

/** MLflow's history order: timestamp, step, value with NaN last. */
function historyOrder(a: Metric, b: Metric): number {
  if (a.timestamp !== b.timestamp) return a.timestamp - b.timestamp;
  if (a.step !== b.step) return a.step - b.step;
  if (Number.isNaN(a.value) || Number.isNaN(b.value)) return Number(Number.isNaN(a.value)) - Number(Number.isNaN(b.value));
  return a.value - b.value;
}

function latestOf(points: Metric[]): Metric {
  return points.reduce((best, p) => (compareMetricRecency(p, best) > 0 ? p : best));
}

/** A seeded PRNG (mulberry32): shuffles differ per seed and repeat on every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: T[], rnd: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

async function expectError(promise: Promise<unknown>, code: ErrorCode, message?: string): Promise<AppError> {
  const err = await promise.then(
    () => {
      throw new Error(`expected ${code}, but the call succeeded`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  const appError = err as AppError;
  expect({ code: appError.code, message: appError.message }).toEqual({ code, message: message ?? appError.message });
  return appError;
}

describe.each(backends)("Store contract: $name", (backend) => {
  const opened: Store[] = [];
  let store: Store;

  async function openStore(init = true): Promise<Store> {
    const s = await backend.open();
    opened.push(s);
    if (init) await s.init();
    return s;
  }

  async function createRun(experimentId = "0", fields: Partial<NewRun> = {}): Promise<Run> {
    return store.createRun({ runId: newRunId(), experimentId, userId: "ada", runName: "run", startTime: NOW, tags: [], ...fields });
  }

  async function history(runId: string, key: string): Promise<Metric[]> {
    const page = await store.getMetricHistory(runId, key, {});
    expect(page.nextPageToken).toBe("");
    return page.metrics;
  }

  beforeEach(async () => {
    store = await openStore();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  describe("init, ping, counts", () => {
    it("creates the Default experiment 0", async () => {
      const experiment = await store.getExperiment("0");
      expect(experiment).toMatchObject({
        experimentId: "0",
        name: "Default",
        artifactLocation: "mlflow-artifacts:/0",
        lifecycleStage: "active",
        tags: [],
      });
      expect(await store.getExperimentByName("Default")).toEqual(experiment);
      expect(await store.counts()).toEqual({ experiments: 1, runs: 0, registeredModels: 0, modelVersions: 0 });
    });

    it("is idempotent", async () => {
      const defaultBefore = await store.getExperiment("0");
      const id = await store.createExperiment({ name: "kept", tags: [], now: NOW });
      await createRun(id);
      await store.init();
      await store.init();
      expect(await store.getExperiment("0")).toEqual(defaultBefore);
      expect((await store.getExperimentByName("kept"))?.experimentId).toBe(id);
      expect(await store.counts()).toEqual({ experiments: 2, runs: 1, registeredModels: 0, modelVersions: 0 });
      expect(Number(await store.createExperiment({ name: "next", tags: [], now: NOW }))).toBeGreaterThan(Number(id));
    });

    it("lets two stores initialise one database at once and share it", async () => {
      const a = await openStore(false);
      const b = await backend.openSameDatabase(a);
      opened.push(b);
      await Promise.all([a.init(), b.init()]);
      const first = await a.createExperiment({ name: "from-a", tags: [], now: NOW });
      const second = await b.createExperiment({ name: "from-b", tags: [], now: NOW });
      expect(Number(second)).toBeGreaterThan(Number(first));
      expect((await b.getExperimentByName("from-a"))?.experimentId).toBe(first);
      expect((await a.getExperiment(second)).name).toBe("from-b");
      expect(await a.counts()).toEqual({ experiments: 3, runs: 0, registeredModels: 0, modelVersions: 0 });
      expect(await b.counts()).toEqual({ experiments: 3, runs: 0, registeredModels: 0, modelVersions: 0 });
    });

    it("answers ping while open and TEMPORARILY_UNAVAILABLE once closed", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      await store.close();
      await expectError(store.ping(), ErrorCode.TEMPORARILY_UNAVAILABLE);
    });

    it("counts every experiment and run, deleted ones included", async () => {
      const a = await store.createExperiment({ name: "a", tags: [], now: NOW });
      const b = await store.createExperiment({ name: "b", tags: [], now: NOW });
      await createRun(a);
      await createRun(b);
      const run = await createRun("0");
      await store.setExperimentLifecycle(a, "deleted", NOW);
      await store.setRunLifecycle(run.info.runId, "deleted", NOW);
      expect(await store.counts()).toEqual({ experiments: 3, runs: 3, registeredModels: 0, modelVersions: 0 });
    });
  });

  describe("experiments", () => {
    it("allocates increasing integer ids", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await store.createExperiment({ name: `e${i}`, tags: [], now: NOW }));
      for (const id of ids) expect(id).toMatch(/^[1-9][0-9]*$/);
      const numbers = ids.map(Number);
      expect(numbers).toEqual([...numbers].sort((x, y) => x - y));
      expect(new Set(numbers).size).toBe(5);
    });

    it("stores name, default artifact location, times and tags", async () => {
      const tags = [
        { key: "team.name", value: "vision" },
        { key: "b key", value: "" },
      ];
      const id = await store.createExperiment({ name: "a/b: c", tags, now: NOW });
      const experiment = await store.getExperiment(id);
      expect({ ...experiment, tags: byKey(experiment.tags) }).toEqual({
        experimentId: id,
        name: "a/b: c",
        artifactLocation: `mlflow-artifacts:/${id}`,
        lifecycleStage: "active",
        creationTime: NOW,
        lastUpdateTime: NOW,
        tags: byKey(tags),
      });
      expect(await store.getExperimentByName("a/b: c")).toEqual(experiment);
    });

    it("keeps a given artifact location", async () => {
      const id = await store.createExperiment({ name: "s3", artifactLocation: "s3://bucket/root", tags: [], now: NOW });
      expect((await store.getExperiment(id)).artifactLocation).toBe("s3://bucket/root");
    });

    it("answers RESOURCE_DOES_NOT_EXIST for an unknown id and null for an unknown name", async () => {
      await expectError(store.getExperiment("424242"), ErrorCode.RESOURCE_DOES_NOT_EXIST, "No Experiment with id=424242 exists");
      expect(await store.getExperimentByName("nope")).toBeNull();
    });

    it("rejects a duplicate name, also the name of a deleted experiment", async () => {
      const id = await store.createExperiment({ name: "dup", tags: [], now: NOW });
      const message = "Experiment(name=dup) already exists.";
      await expectError(store.createExperiment({ name: "dup", tags: [], now: NOW }), ErrorCode.RESOURCE_ALREADY_EXISTS, message);
      await store.setExperimentLifecycle(id, "deleted", NOW);
      await expectError(store.createExperiment({ name: "dup", tags: [], now: NOW }), ErrorCode.RESOURCE_ALREADY_EXISTS, message);
      const found = await store.getExperimentByName("dup");
      expect(found).toMatchObject({ experimentId: id, lifecycleStage: "deleted" });
      expect(await store.counts()).toEqual({ experiments: 2, runs: 0, registeredModels: 0, modelVersions: 0 });
    });

    it("renames, and refuses a taken name or an unknown id", async () => {
      const id = await store.createExperiment({ name: "old", tags: [], now: NOW });
      await store.renameExperiment(id, "new", NOW + 7);
      expect(await store.getExperiment(id)).toMatchObject({ name: "new", creationTime: NOW, lastUpdateTime: NOW + 7 });
      expect(await store.getExperimentByName("old")).toBeNull();
      await expectError(store.renameExperiment(id, "Default", NOW + 8), ErrorCode.RESOURCE_ALREADY_EXISTS, "Experiment(name=Default) already exists.");
      expect(await store.getExperiment(id)).toMatchObject({ name: "new", lastUpdateTime: NOW + 7 });
      await expectError(store.renameExperiment("999", "x", NOW), ErrorCode.RESOURCE_DOES_NOT_EXIST, "No Experiment with id=999 exists");
    });

    it("deletes and restores an experiment together with its runs", async () => {
      const id = await store.createExperiment({ name: "lifecycle", tags: [], now: NOW });
      const runs = [await createRun(id), await createRun(id)];
      const elsewhere = await createRun("0");
      const stages = async () => Promise.all(runs.map(async (r) => (await store.getRun(r.info.runId)).info.lifecycleStage));

      await store.setExperimentLifecycle(id, "deleted", NOW + 5);
      expect(await store.getExperiment(id)).toMatchObject({ lifecycleStage: "deleted", lastUpdateTime: NOW + 5 });
      expect(await stages()).toEqual(["deleted", "deleted"]);
      expect((await store.getRun(elsewhere.info.runId)).info.lifecycleStage).toBe("active");

      await store.setExperimentLifecycle(id, "active", NOW + 9);
      expect(await store.getExperiment(id)).toMatchObject({ lifecycleStage: "active", lastUpdateTime: NOW + 9 });
      expect(await stages()).toEqual(["active", "active"]);
      await expectError(store.setExperimentLifecycle("999", "deleted", NOW), ErrorCode.RESOURCE_DOES_NOT_EXIST);
    });

    it("upserts and deletes tags", async () => {
      const id = await store.createExperiment({ name: "tags", tags: [{ key: "k", value: "v0" }], now: NOW });
      await store.setExperimentTag(id, { key: "k", value: "v1" });
      await store.setExperimentTag(id, { key: "other.key", value: "o" });
      expect(byKey((await store.getExperiment(id)).tags)).toEqual([
        { key: "k", value: "v1" },
        { key: "other.key", value: "o" },
      ]);
      await store.deleteExperimentTag(id, "k");
      expect((await store.getExperiment(id)).tags).toEqual([{ key: "other.key", value: "o" }]);
      await expectError(store.deleteExperimentTag(id, "k"), ErrorCode.RESOURCE_DOES_NOT_EXIST, `No tag with name: k in experiment with id ${id}`);
      await expectError(store.setExperimentTag("999", { key: "k", value: "v" }), ErrorCode.RESOURCE_DOES_NOT_EXIST, "No Experiment with id=999 exists");
      await expectError(store.deleteExperimentTag("999", "k"), ErrorCode.RESOURCE_DOES_NOT_EXIST, "No Experiment with id=999 exists");
    });
  });

  describe("runs", () => {
    it("creates a run and reads it back whole", async () => {
      const id = await store.createExperiment({ name: "runs", tags: [], now: NOW });
      const runId = newRunId();
      const tags = [
        { key: "mlflow.user", value: "ada" },
        { key: "note", value: "first" },
      ];
      const run = await store.createRun({ runId, experimentId: id, userId: "ada", runName: "brave-fox", startTime: NOW, tags });
      expect({ ...run, data: { ...run.data, tags: byKey(run.data.tags) } }).toEqual({
        info: {
          runId,
          runName: "brave-fox",
          experimentId: id,
          userId: "ada",
          status: "RUNNING",
          startTime: NOW,
          artifactUri: `mlflow-artifacts:/${id}/${runId}/artifacts`,
          lifecycleStage: "active",
        },
        data: { metrics: [], params: [], tags: byKey(tags) },
        inputs: { datasetInputs: [], modelInputs: [] },
        outputs: { modelOutputs: [] },
      });
      expect(run.info.endTime).toBeUndefined();
      const read = await store.getRun(runId);
      expect({ ...read, data: { ...read.data, tags: byKey(read.data.tags) } }).toEqual({ ...run, data: { ...run.data, tags: byKey(tags) } });
    });

    it("puts the artifact URI below the experiment's location", async () => {
      const id = await store.createExperiment({ name: "loc", artifactLocation: "file:///data/artifacts/", tags: [], now: NOW });
      const run = await createRun(id);
      expect(run.info.artifactUri).toBe(`file:///data/artifacts/${run.info.runId}/artifacts`);
    });

    it("refuses unknown and deleted experiments and duplicate run ids", async () => {
      await expectError(createRun("999"), ErrorCode.RESOURCE_DOES_NOT_EXIST, "No Experiment with id=999 exists");
      const id = await store.createExperiment({ name: "gone", tags: [], now: NOW });
      await store.setExperimentLifecycle(id, "deleted", NOW);
      await expectError(createRun(id), ErrorCode.INVALID_PARAMETER_VALUE, `The experiment ${id} must be in the 'active' state. Current state is deleted.`);
      const run = await createRun("0");
      await expectError(createRun("0", { runId: run.info.runId }), ErrorCode.RESOURCE_ALREADY_EXISTS);
      expect(await store.counts()).toEqual({ experiments: 2, runs: 1, registeredModels: 0, modelVersions: 0 });
    });

    it("getRun of an unknown id is RESOURCE_DOES_NOT_EXIST", async () => {
      const runId = newRunId();
      await expectError(store.getRun(runId), ErrorCode.RESOURCE_DOES_NOT_EXIST, `Run with id=${runId} not found`);
    });

    it("updateRun changes only the given fields; runName also sets mlflow.runName", async () => {
      const run = await createRun("0", { runName: "before", tags: [{ key: "keep", value: "1" }] });
      const runId = run.info.runId;
      let info = await store.updateRun(runId, { status: "FINISHED" });
      expect(info).toEqual({ ...run.info, status: "FINISHED" });
      expect(info.endTime).toBeUndefined();
      info = await store.updateRun(runId, { endTime: NOW + 100 });
      expect(info).toEqual({ ...run.info, status: "FINISHED", endTime: NOW + 100 });
      info = await store.updateRun(runId, { runName: "after" });
      expect(info).toEqual({ ...run.info, status: "FINISHED", endTime: NOW + 100, runName: "after" });
      const read = await store.getRun(runId);
      expect(read.info).toEqual(info);
      expect(byKey(read.data.tags)).toEqual([
        { key: "keep", value: "1" },
        { key: "mlflow.runName", value: "after" },
      ]);
    });

    it("updateRun refuses unknown and deleted runs", async () => {
      const unknown = newRunId();
      await expectError(store.updateRun(unknown, { status: "KILLED" }), ErrorCode.RESOURCE_DOES_NOT_EXIST, `Run with id=${unknown} not found`);
      const run = await createRun();
      await store.setRunLifecycle(run.info.runId, "deleted", NOW);
      await expectError(
        store.updateRun(run.info.runId, { status: "KILLED" }),
        ErrorCode.INVALID_PARAMETER_VALUE,
        `The run ${run.info.runId} must be in the 'active' state. Current state is deleted.`,
      );
      expect((await store.getRun(run.info.runId)).info.status).toBe("RUNNING");
    });

    it("deletes and restores a run", async () => {
      const run = await createRun();
      await store.setRunLifecycle(run.info.runId, "deleted", NOW);
      expect((await store.getRun(run.info.runId)).info.lifecycleStage).toBe("deleted");
      await store.setRunLifecycle(run.info.runId, "active", NOW);
      expect((await store.getRun(run.info.runId)).info.lifecycleStage).toBe("active");
      const unknown = newRunId();
      await expectError(store.setRunLifecycle(unknown, "deleted", NOW), ErrorCode.RESOURCE_DOES_NOT_EXIST, `Run with id=${unknown} not found`);
    });

    it("deletes run tags", async () => {
      const run = await createRun("0", { tags: [{ key: "a", value: "1" }, { key: "b.c", value: "2" }] });
      const runId = run.info.runId;
      await store.deleteRunTag(runId, "a");
      expect((await store.getRun(runId)).data.tags).toEqual([{ key: "b.c", value: "2" }]);
      await expectError(store.deleteRunTag(runId, "a"), ErrorCode.RESOURCE_DOES_NOT_EXIST, `No tag with name: a in run with id ${runId}`);
      const unknown = newRunId();
      await expectError(store.deleteRunTag(unknown, "a"), ErrorCode.RESOURCE_DOES_NOT_EXIST, `Run with id=${unknown} not found`);
      await store.setRunLifecycle(runId, "deleted", NOW);
      await expectError(store.deleteRunTag(runId, "b.c"), ErrorCode.INVALID_PARAMETER_VALUE, `The run ${runId} must be in the 'active' state. Current state is deleted.`);
      expect((await store.getRun(runId)).data.tags).toEqual([{ key: "b.c", value: "2" }]);
    });
  });

  describe("logBatch", () => {
    it("writes params, tags and metrics, with a metric's model and dataset", async () => {
      const { runId } = (await createRun()).info;
      const linked: Metric = { key: "acc", value: 0.9, timestamp: NOW, step: 3, modelId: "m-1", datasetName: "ds", datasetDigest: "abc" };
      await store.logBatch(runId, {
        metrics: [linked, point("loss", 0.5, NOW, 0)],
        params: [{ key: "lr", value: "0.01" }, { key: "empty", value: "" }],
        tags: [{ key: "t", value: "x" }],
      });
      const run = await store.getRun(runId);
      expect(byKey(run.data.params)).toEqual([{ key: "empty", value: "" }, { key: "lr", value: "0.01" }]);
      expect(run.data.tags).toEqual([{ key: "t", value: "x" }]);
      expect(byKey(run.data.metrics)).toEqual([linked, point("loss", 0.5, NOW, 0)]);
      expect(await history(runId, "acc")).toEqual([linked]);
    });

    it("keeps params immutable and writes nothing of a batch that changes one", async () => {
      const { runId } = (await createRun()).info;
      await store.logBatch(runId, { metrics: [], params: [{ key: "lr", value: "0.01" }], tags: [] });
      await store.logBatch(runId, { metrics: [point("ok", 1, NOW, 0)], params: [{ key: "lr", value: "0.01" }], tags: [] });
      const failing = store.logBatch(runId, {
        metrics: [point("ok", 2, NOW, 1), point("bad-metric", 1, NOW, 0)],
        params: [{ key: "new-param", value: "n" }, { key: "lr", value: "0.02" }],
        tags: [{ key: "bad-tag", value: "x" }],
      });
      await expectError(failing, ErrorCode.INVALID_PARAMETER_VALUE, paramChangedMessage(runId, "lr", "0.01", "0.02"));
      const run = await store.getRun(runId);
      expect(run.data.params).toEqual([{ key: "lr", value: "0.01" }]);
      expect(run.data.tags).toEqual([]);
      expect(run.data.metrics.map(exact)).toEqual([exact(point("ok", 1, NOW, 0))]);
      expect(await history(runId, "ok")).toHaveLength(1);
      expect(await history(runId, "bad-metric")).toEqual([]);
    });

    it("upserts tags", async () => {
      const { runId } = (await createRun("0", { tags: [{ key: "t", value: "0" }] })).info;
      await store.logBatch(runId, { metrics: [], params: [], tags: [{ key: "t", value: "1" }, { key: "u", value: "2" }] });
      await store.logBatch(runId, { metrics: [], params: [], tags: [{ key: "t", value: "3" }] });
      expect(byKey((await store.getRun(runId)).data.tags)).toEqual([{ key: "t", value: "3" }, { key: "u", value: "2" }]);
    });

    it("returns metrics, params and tags in the order they were first logged, as MLflow on SQL does", async () => {
      const { runId } = (await createRun("0", { tags: [{ key: "zeta", value: "0" }, { key: "alpha", value: "0" }] })).info;
      await store.logBatch(runId, {
        metrics: [point("z_loss", 1, NOW, 0), point("b_acc", 1, NOW, 0), point("z_loss", 0.5, NOW, 1)],
        params: [{ key: "z", value: "1" }, { key: "a", value: "1" }],
        tags: [{ key: "mid", value: "1" }, { key: "zeta", value: "changed" }],
      });
      // Later batches: a newer point of an old key, a new key, a param logged again, a tag deleted and set again.
      await store.logBatch(runId, { metrics: [point("b_acc", 2, NOW, 5), point("a_new", 1, NOW, 0)], params: [{ key: "m", value: "1" }, { key: "z", value: "1" }], tags: [] });
      await store.deleteRunTag(runId, "alpha");
      await store.logBatch(runId, { metrics: [point("z_loss", 0.1, NOW, 9)], params: [], tags: [{ key: "alpha", value: "again" }] });
      const { data } = await store.getRun(runId);
      expect(data.metrics.map((m) => [m.key, m.value])).toEqual([["z_loss", 0.1], ["b_acc", 2], ["a_new", 1]]);
      expect(data.params.map((p) => p.key)).toEqual(["z", "a", "m"]);
      expect(data.tags).toEqual([
        { key: "zeta", value: "changed" },
        { key: "mid", value: "1" },
        { key: "alpha", value: "again" },
      ]);
      const query = { experimentIds: ["0"], filter: parseRunFilter(`attributes.run_id = '${runId}'`), order: [], viewType: "ACTIVE_ONLY" as const };
      const [searched] = (await store.searchRuns(query, { maxResults: 1 })).runs;
      expect(searched?.data).toEqual(data);
    });

    it("refuses deleted and unknown runs", async () => {
      const { runId } = (await createRun()).info;
      await store.setRunLifecycle(runId, "deleted", NOW);
      const batch = { metrics: [point("m", 1, NOW, 0)], params: [{ key: "p", value: "1" }], tags: [{ key: "t", value: "1" }] };
      await expectError(store.logBatch(runId, batch), ErrorCode.INVALID_PARAMETER_VALUE, `The run ${runId} must be in the 'active' state. Current state is deleted.`);
      await store.setRunLifecycle(runId, "active", NOW);
      const run = await store.getRun(runId);
      expect(run.data).toEqual({ metrics: [], params: [], tags: [] });
      const unknown = newRunId();
      await expectError(store.logBatch(unknown, batch), ErrorCode.RESOURCE_DOES_NOT_EXIST, `Run with id=${unknown} not found`);
    });

    it("stores identical points once and keeps different points of one step", async () => {
      const { runId } = (await createRun()).info;
      const same = point("m", 1.5, NOW, 2);
      await store.logBatch(runId, { metrics: [same, { ...same }, point("m", Number.NaN, NOW, 2), point("m", Number.NaN, NOW, 2)], params: [], tags: [] });
      await store.logBatch(runId, { metrics: [same, point("m", 1.5, NOW + 1, 2), point("m", 2.5, NOW, 2)], params: [], tags: [] });
      expect((await history(runId, "m")).map(exact)).toEqual(
        [point("m", 1.5, NOW, 2), point("m", 2.5, NOW, 2), point("m", Number.NaN, NOW, 2), point("m", 1.5, NOW + 1, 2)].map(exact),
      );
    });

    it("round-trips NaN, ±Infinity, -0 and the largest double exactly", async () => {
      const { runId } = (await createRun()).info;
      const values = [Number.NaN, Infinity, -Infinity, -0, 0, 1.7976931348623157e308, -1.7976931348623157e308, 5e-324, 0.1 + 0.2];
      const points = values.map((v, i) => point(`v${i}`, v, NOW + i, i));
      // The same values as the history of one key, and -0 as the latest of another.
      const series = values.map((v, i) => point("series", v, NOW, i));
      await store.logBatch(runId, { metrics: [...points, ...series, point("zero", 0, NOW, 0), point("zero", -0, NOW, 1)], params: [], tags: [] });
      const latest = byKey((await store.getRun(runId)).data.metrics);
      expect(latest.map(exact)).toEqual(byKey([...points, series.at(-1) as Metric, point("zero", -0, NOW, 1)]).map(exact));
      for (const p of points) expect((await history(runId, p.key)).map(exact)).toEqual([exact(p)]);
      expect((await history(runId, "series")).map(exact)).toEqual(series.map(exact));
      expect((await history(runId, "zero")).map(exact)).toEqual([point("zero", 0, NOW, 0), point("zero", -0, NOW, 1)].map(exact));
    });

    it("keeps the latest point by step, then timestamp, then value, whatever the arrival order", async () => {
      const fixed = [
        // MLflow's own example: the highest step wins, then the higher value.
        point("mlflow", 1.0, 1, 5), point("mlflow", 2.0, 10, 3), point("mlflow", 0.5, 1, 5),
        point("by-ts", 1, 3, 4), point("by-ts", -5, 7, 4), point("by-ts", 99, 5, 4),
        point("nan-loses", Number.NaN, 2, 2), point("nan-loses", -Infinity, 2, 2), point("nan-loses", 100, 9, 1),
        point("nan-latest", Number.NaN, 1, 1), point("nan-latest", 3, 5, 0),
        point("inf", Infinity, 1, 7), point("inf", 1.7976931348623157e308, 1, 7),
        point("negative-steps", 1, 1, -3), point("negative-steps", 5, 100, -10),
      ];
      const rnd = random(42);
      const noise = Array.from({ length: 300 }, () =>
        point("noise", Math.floor(rnd() * 50) - 25, Math.floor(rnd() * 20), Math.floor(rnd() * 20)),
      );
      const all = [...fixed, ...noise];
      const keys = [...new Set(all.map((p) => p.key))].sort();
      const expected = keys.map((key) => exact(latestOf(all.filter((p) => p.key === key))));
      for (const seed of [1, 2, 3, 4, 5]) {
        const { runId } = (await createRun()).info;
        const order = shuffled(all, random(seed));
        const rndSizes = random(seed * 100);
        while (order.length > 0) {
          await store.logBatch(runId, { metrics: order.splice(0, 1 + Math.floor(rndSizes() * 60)), params: [], tags: [] });
        }
        expect(byKey((await store.getRun(runId)).data.metrics).map(exact), `seed ${seed}`).toEqual(expected);
      }
    });

    it("accepts keys with dots, punctuation, spaces, slashes and unicode", async () => {
      const keys = ["a.b.c", "loss val", "x/y/z", "train-loss:1", "under_score", "é.ü-ñ", "数据/精度", "a b/c.d-e:f_g"];
      const { runId } = (await createRun()).info;
      await store.logBatch(runId, {
        metrics: keys.map((key, i) => point(key, i, NOW, i)),
        params: keys.map((key) => ({ key, value: `p ${key}` })),
        tags: keys.map((key) => ({ key, value: `t ${key}` })),
      });
      const run = await store.getRun(runId);
      expect(byKey(run.data.params)).toEqual(byKey(keys.map((key) => ({ key, value: `p ${key}` }))));
      expect(byKey(run.data.tags)).toEqual(byKey(keys.map((key) => ({ key, value: `t ${key}` }))));
      expect(byKey(run.data.metrics)).toEqual(byKey(keys.map((key, i) => point(key, i, NOW, i))));
      for (const [i, key] of keys.entries()) expect(await history(runId, key)).toEqual([point(key, i, NOW, i)]);
      const id = await store.createExperiment({ name: "keys", tags: keys.map((key) => ({ key, value: key })), now: NOW });
      expect(byKey((await store.getExperiment(id)).tags)).toEqual(byKey(keys.map((key) => ({ key, value: key }))));
    });

    it("takes 20 concurrent batches of 1000 points into one run", async () => {
      const { runId } = (await createRun()).info;
      // Batch b holds steps 0..999 at timestamp NOW - b: the first batch sent has the latest point.
      const batches = Array.from({ length: 20 }, (_, b) => Array.from({ length: 1000 }, (_, s) => point("loss", b * 1000 + s, NOW - b, s)));
      await Promise.all(batches.map((metrics) => store.logBatch(runId, { metrics, params: [], tags: [] })));
      const points = await history(runId, "loss");
      expect(points).toHaveLength(20_000);
      expect(points.map(exact)).toEqual(batches.flat().sort(historyOrder).map(exact));
      expect((await store.getRun(runId)).data.metrics).toEqual([point("loss", 999, NOW, 999)]);
    });
  });

  describe("metric history", () => {
    /** Every page of a key's history with `maxResults`, following the tokens to the end. */
    async function pagesOf(runId: string, key: string, maxResults: number): Promise<Metric[][]> {
      const pages: Metric[][] = [];
      let pageToken: string | undefined;
      do {
        const page = await store.getMetricHistory(runId, key, { maxResults, pageToken });
        pages.push(page.metrics);
        pageToken = page.nextPageToken;
        expect(pages.length).toBeLessThanOrEqual(1000);
      } while (pageToken !== "");
      return pages;
    }

    it("answers MLflow's example in MLflow's order: timestamp, then step, then value", async () => {
      const { runId } = (await createRun()).info;
      // Logged one at a time, as the differential test against MLflow 3.17.2 did.
      for (const p of [point("m", 1.0, 1, 5), point("m", 2.0, 10, 3), point("m", 0.5, 1, 5)]) {
        await store.logBatch(runId, { metrics: [p], params: [], tags: [] });
      }
      const expected = [point("m", 0.5, 1, 5), point("m", 1.0, 1, 5), point("m", 2.0, 10, 3)];
      expect(await history(runId, "m")).toEqual(expected);
      expect((await pagesOf(runId, "m", 1)).flat()).toEqual(expected);
      expect((await pagesOf(runId, "m", 2)).map((p) => p.length)).toEqual([2, 1]);
      // "Latest" keeps its own order: the highest step, then timestamp, then value.
      expect((await store.getRun(runId)).data.metrics).toEqual([point("m", 1.0, 1, 5)]);
    });

    it("orders points by timestamp, step, then value with NaN last", async () => {
      const { runId } = (await createRun()).info;
      const points = [
        point("m", 0, 5, 0), point("m", 10, 0, 1), point("m", -Infinity, 1, 1), point("m", 2, 1, 1),
        point("m", 3, 1, 1), point("m", Number.NaN, 1, 1), point("m", Infinity, 0, 2), point("m", -1, 0, -1),
      ];
      await store.logBatch(runId, { metrics: shuffled(points, random(7)).slice(0, 4), params: [], tags: [] });
      await store.logBatch(runId, { metrics: shuffled(points, random(7)).slice(4), params: [], tags: [] });
      expect((await history(runId, "m")).map(exact)).toEqual([...points].sort(historyOrder).map(exact));
      expect((await history(runId, "m")).map((p) => [p.timestamp, p.step])).toEqual([
        [0, -1], [0, 1], [0, 2], [1, 1], [1, 1], [1, 1], [1, 1], [5, 0],
      ]);
    });

    it("pages by maxResults into pages that concatenate to the whole history", async () => {
      const { runId } = (await createRun()).info;
      // Seven steps of up to ten points at one timestamp, so page boundaries fall inside ties.
      const points = Array.from({ length: 57 }, (_, i) => point("p", i % 10 === 9 ? Number.NaN : ((i % 10) - 4) * 1.5, NOW, Math.floor(i / 10)));
      await store.logBatch(runId, { metrics: shuffled(points, random(3)), params: [], tags: [] });
      const whole = await history(runId, "p");
      expect(whole.map(exact)).toEqual([...points].sort(historyOrder).map(exact));
      for (const maxResults of [1, 4, 10, 19, 57, 100]) {
        const pages = await pagesOf(runId, "p", maxResults);
        expect(pages.map((p) => p.length)).toEqual(
          Array.from({ length: Math.ceil(57 / maxResults) }, (_, i) => Math.min(maxResults, 57 - i * maxResults)),
        );
        expect(pages.flat().map(exact), `maxResults ${maxResults}`).toEqual(whole.map(exact));
      }
    });

    it("pages across points that share timestamps, with steps running against them", async () => {
      const { runId } = (await createRun()).info;
      // Five timestamps, each shared by points of several steps (steps fall as timestamps rise, so the step order
      // and the timestamp order disagree), several values per (timestamp, step), a NaN and ±0 among them.
      const rnd = random(17);
      const values = [Number.NaN, -Infinity, -2, -0, 0.5, 3, Infinity];
      const unique = new Map<string, Metric>();
      for (let i = 0; i < 120; i++) {
        const timestamp = NOW + Math.floor(rnd() * 5);
        const step = 40 - (timestamp - NOW) * 10 + Math.floor(rnd() * 3);
        const p = point("shared", values[Math.floor(rnd() * values.length)] as number, timestamp, step);
        // One of -0 and 0 per (timestamp, step): their relative order is not part of the contract.
        unique.set(`${timestamp}:${step}:${Object.is(p.value, -0) ? 0 : String(p.value)}`, p);
      }
      const points = [...unique.values()];
      await store.logBatch(runId, { metrics: shuffled(points, random(5)), params: [], tags: [] });
      const expected = [...points].sort(historyOrder).map(exact);
      expect((await history(runId, "shared")).map(exact)).toEqual(expected);
      for (const maxResults of [1, 2, 3, 5, 7, 11, points.length - 1, points.length]) {
        const pages = await pagesOf(runId, "shared", maxResults);
        expect(pages.length, `maxResults ${maxResults}`).toBe(Math.ceil(points.length / maxResults));
        expect(pages.flat().map(exact), `maxResults ${maxResults}`).toEqual(expected);
      }
      // A point logged after a page was read lands in a later page when it sorts after the page's last point.
      const first = await store.getMetricHistory(runId, "shared", { maxResults: 3 });
      await store.logBatch(runId, { metrics: [point("shared", 1, NOW, -1000), point("shared", 1, NOW + 4, 1000)], params: [], tags: [] });
      const rest: Metric[] = [];
      let pageToken = first.nextPageToken;
      while (pageToken !== "") {
        const page = await store.getMetricHistory(runId, "shared", { maxResults: 7, pageToken });
        rest.push(...page.metrics);
        pageToken = page.nextPageToken;
      }
      expect([...first.metrics, ...rest].map(exact)).toEqual([...points, point("shared", 1, NOW + 4, 1000)].sort(historyOrder).map(exact));
    });

    it("rejects malformed page tokens", async () => {
      const { runId } = (await createRun()).info;
      await store.logBatch(runId, { metrics: [point("m", 1, NOW, 0), point("m", 2, NOW, 1), point("m", 3, NOW, 2)], params: [], tags: [] });
      const first = await store.getMetricHistory(runId, "m", { maxResults: 1 });
      expect(first.nextPageToken).not.toBe("");
      const b64 = (text: string) => Buffer.from(text).toString("base64url");
      for (const pageToken of ["not a token", "%%%", "////", b64("{}"), b64("[]"), b64("null"), b64('"x"'), `${first.nextPageToken}x`]) {
        await expectError(store.getMetricHistory(runId, "m", { maxResults: 1, pageToken }), ErrorCode.INVALID_PARAMETER_VALUE);
      }
      const second = await store.getMetricHistory(runId, "m", { maxResults: 1, pageToken: first.nextPageToken });
      expect(second.metrics).toEqual([point("m", 2, NOW, 1)]);
    });

    it("reads the histories of several runs at once, each in history order; unknown runs and keys are empty", async () => {
      const runs = [(await createRun()).info.runId, (await createRun()).info.runId];
      const points = (shift: number) => [point("loss", 3 + shift, NOW + 2, 0), point("loss", 1 + shift, NOW, 2), point("loss", Number.NaN, NOW, 1), point("acc", 9, NOW, 0)];
      await store.logBatch(runs[0]!, { metrics: shuffled(points(0), random(11)), params: [], tags: [] });
      await store.logBatch(runs[1]!, { metrics: points(10), params: [], tags: [] });
      const unknown = newRunId();
      const histories = await store.getMetricHistories([runs[1]!, unknown, runs[0]!], "loss");
      expect([...histories.keys()]).toEqual([runs[1], unknown, runs[0]]);
      for (const [i, runId] of runs.entries()) {
        const expected = points(i * 10).filter((p) => p.key === "loss").sort(historyOrder);
        expect(histories.get(runId)!.map(exact)).toEqual(expected.map(exact));
        expect(histories.get(runId)!.map(exact)).toEqual((await history(runId, "loss")).map(exact));
      }
      expect(histories.get(unknown)).toEqual([]);
      expect([...(await store.getMetricHistories(runs, "none")).values()]).toEqual([[], []]);
      expect((await store.getMetricHistories([], "loss")).size).toBe(0);
    });

    it("is empty for an unknown key and for an unknown run, as in MLflow", async () => {
      const { runId } = (await createRun()).info;
      await store.logBatch(runId, { metrics: [point("m", 1, NOW, 0), point("m", 2, NOW, 1)], params: [], tags: [] });
      const empty = { metrics: [], nextPageToken: "" };
      expect(await store.getMetricHistory(runId, "none", { maxResults: 10 })).toEqual(empty);
      const unknown = newRunId();
      expect(await store.getMetricHistory(unknown, "m", {})).toEqual(empty);
      expect(await store.getMetricHistory(unknown, "m", { maxResults: 1 })).toEqual(empty);
      const { nextPageToken } = await store.getMetricHistory(runId, "m", { maxResults: 1 });
      expect(await store.getMetricHistory(unknown, "m", { maxResults: 1, pageToken: nextPageToken })).toEqual(empty);
      // A run that is deleted keeps its history readable.
      await store.setRunLifecycle(runId, "deleted", NOW);
      expect(await history(runId, "m")).toEqual([point("m", 1, NOW, 0), point("m", 2, NOW, 1)]);
    });
  });

  describe("inputs and outputs", () => {
    const context = (value: string): Tag[] => [{ key: "mlflow.data.context", value }];
    const dataset = { name: "prices", digest: "d1", sourceType: "local", source: "/data/prices.csv", schema: '{"a":1}', profile: '{"rows":3}' };

    it("logs dataset inputs once per name and digest, replacing their tags, and model inputs", async () => {
      const { runId } = (await createRun()).info;
      const trainTags = [...context("train"), { key: "extra", value: "x" }];
      await store.logInputs(runId, { datasets: [{ tags: trainTags, dataset }], modelIds: ["m-1"] });
      expect((await store.getRun(runId)).inputs.datasetInputs.map((d) => byKey(d.tags))).toEqual([byKey(trainTags)]);
      const other = { name: "prices", digest: "d2", sourceType: "s3", source: "s3://b/prices" };
      await store.logInputs(runId, {
        datasets: [{ tags: context("eval"), dataset: { ...dataset, source: "/elsewhere" } }, { tags: [], dataset: other }],
        modelIds: ["m-1", "m-2"],
      });
      const { inputs } = await store.getRun(runId);
      const datasets = [...inputs.datasetInputs].sort((a, b) => a.dataset.digest.localeCompare(b.dataset.digest));
      expect(datasets).toEqual([
        { tags: context("eval"), dataset },
        { tags: [], dataset: other },
      ]);
      expect(inputs.modelInputs.map((m) => m.modelId).sort()).toEqual(["m-1", "m-2"]);
    });

    it("logs model outputs once per model and step", async () => {
      const { runId } = (await createRun()).info;
      await store.logOutputs(runId, [{ modelId: "m-1", step: 0 }, { modelId: "m-1", step: 3 }]);
      await store.logOutputs(runId, [{ modelId: "m-1", step: 0 }]);
      const outputs = (await store.getRun(runId)).outputs.modelOutputs;
      expect([...outputs].sort((a, b) => a.step - b.step)).toEqual([{ modelId: "m-1", step: 0 }, { modelId: "m-1", step: 3 }]);
    });

    it("refuses unknown and deleted runs", async () => {
      const unknown = newRunId();
      const inputs = { datasets: [{ tags: [], dataset }], modelIds: ["m-1"] };
      await expectError(store.logInputs(unknown, inputs), ErrorCode.RESOURCE_DOES_NOT_EXIST, `Run with id=${unknown} not found`);
      await expectError(store.logOutputs(unknown, [{ modelId: "m", step: 0 }]), ErrorCode.RESOURCE_DOES_NOT_EXIST, `Run with id=${unknown} not found`);
      const { runId } = (await createRun()).info;
      await store.setRunLifecycle(runId, "deleted", NOW);
      const notActive = `The run ${runId} must be in the 'active' state. Current state is deleted.`;
      await expectError(store.logInputs(runId, inputs), ErrorCode.INVALID_PARAMETER_VALUE, notActive);
      await expectError(store.logOutputs(runId, [{ modelId: "m", step: 0 }]), ErrorCode.INVALID_PARAMETER_VALUE, notActive);
      const run = await store.getRun(runId);
      expect(run.inputs).toEqual({ datasetInputs: [], modelInputs: [] });
      expect(run.outputs).toEqual({ modelOutputs: [] });
    });
  });

  describe("run search", () => {
    let experimentId: string;

    beforeEach(async () => {
      experimentId = await store.createExperiment({ name: "search", tags: [], now: NOW });
      for (const r of SEARCH_FIXTURE) {
        await store.createRun({ runId: r.id, experimentId, userId: "ada", runName: `name-${r.id}`, startTime: r.startTime, tags: [] });
        await store.logBatch(r.id, fixtureBatch(r));
        if (r.endTime !== undefined) await store.updateRun(r.id, { status: "FINISHED", endTime: r.endTime });
        if (r.deleted) await store.setRunLifecycle(r.id, "deleted", NOW);
      }
      // A run of another experiment, which no search of `experimentId` returns.
      await store.createRun({ runId: "z", experimentId: "0", userId: "ada", runName: "other", startTime: 9999, tags: [] });
    });

    const queryOf = (c: { filter?: string; orderBy?: string[]; viewType?: RunSearchQuery["viewType"] }): RunSearchQuery => ({
      experimentIds: [experimentId],
      filter: parseRunFilter(c.filter),
      order: parseOrderBy(c.orderBy ?? []),
      viewType: c.viewType ?? "ACTIVE_ONLY",
    });

    async function allPages(query: RunSearchQuery, maxResults: number): Promise<string[]> {
      const ids: string[] = [];
      let pageToken: string | undefined;
      for (let pages = 0; pages < 50; pages++) {
        const page = await store.searchRuns(query, { maxResults, pageToken });
        expect(page.runs.length).toBeLessThanOrEqual(maxResults);
        ids.push(...page.runs.map((r) => r.info.runId));
        if (page.nextPageToken === "") return ids;
        pageToken = page.nextPageToken;
      }
      throw new Error("paging did not end");
    }

    it.each(SEARCH_CASES.map((c) => ({ ...c, name: `${c.filter ?? ""} | ${(c.orderBy ?? []).join(", ")} | ${c.viewType ?? ""}` })))(
      "$name",
      async (c) => {
        const query = queryOf(c);
        const page = await store.searchRuns(query, { maxResults: 1000 });
        expect(page.runs.map((r) => r.info.runId)).toEqual(c.expected);
        expect(page.nextPageToken).toBe("");
        // Paging across pages of every size gives the one unpaged result.
        for (const size of [1, 2, 3]) expect(await allPages(query, size)).toEqual(c.expected);
      },
    );

    it("searches experiments per view type, with their tags", async () => {
      await store.setExperimentTag(experimentId, { key: "desk", value: "eq" });
      const gone = await store.createExperiment({ name: "gone", tags: [], now: NOW });
      await store.setExperimentLifecycle(gone, "deleted", NOW);
      const search = (viewType: "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL") =>
        store.searchExperiments({ filter: [], order: parseExperimentOrderBy(["name"]), viewType }, { maxResults: 10 });
      const names = async (view: "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL") => (await search(view)).items.map((e) => e.name);
      expect(await names("ACTIVE_ONLY")).toEqual(["Default", "search"]);
      expect(await names("DELETED_ONLY")).toEqual(["gone"]);
      expect(await names("ALL")).toEqual(["Default", "gone", "search"]);
      const listed = (await search("ACTIVE_ONLY")).items.find((e) => e.experimentId === experimentId);
      expect(listed).toEqual(await store.getExperiment(experimentId));
    });

    it("returns whole runs, as getRun does", async () => {
      const page = await store.searchRuns(queryOf({ filter: "run_id IN ('a')" }), { maxResults: 10 });
      expect(page.runs).toEqual([await store.getRun("a")]);
    });

    it("searches every experiment when none is given, and nothing for unknown ones", async () => {
      const all = await store.searchRuns({ ...queryOf({}), experimentIds: [] }, { maxResults: 100 });
      expect(all.runs.map((r) => r.info.runId)).toEqual(["z", "c", "b", "d", "a", "e", "g"]);
      const none = await store.searchRuns({ ...queryOf({}), experimentIds: ["12345", "not-an-id"] }, { maxResults: 100 });
      expect(none).toEqual({ runs: [], nextPageToken: "" });
    });

    it("rejects malformed page tokens and a token of another order", async () => {
      const query = queryOf({ orderBy: ["metrics.acc DESC"] });
      const { nextPageToken } = await store.searchRuns(query, { maxResults: 2 });
      expect(nextPageToken).not.toBe("");
      for (const bad of ["", "!!", "eyJ4IjoxfQ", Buffer.from("[]").toString("base64url"), nextPageToken.slice(0, -2)]) {
        if (bad === "") continue;
        await expectError(store.searchRuns(query, { maxResults: 2, pageToken: bad }), ErrorCode.INVALID_PARAMETER_VALUE, "Invalid page token");
      }
      await expectError(store.searchRuns(queryOf({ orderBy: ["metrics.acc ASC"] }), { maxResults: 2, pageToken: nextPageToken }), ErrorCode.INVALID_PARAMETER_VALUE, "Invalid page token");
    });

    it("streams every match in order, and stops reading when the consumer leaves", async () => {
      for (const c of SEARCH_CASES.slice(0, 12)) {
        const ids: string[] = [];
        for await (const run of store.streamRuns(queryOf(c), { batchSize: 2 })) ids.push(run.info.runId);
        expect(ids).toEqual(c.expected);
      }
      let read = 0;
      for await (const run of store.streamRuns(queryOf({}), { batchSize: 2, onRead: (n) => (read += n) })) {
        expect(run.info.runId).toBe("c");
        break;
      }
      expect(read).toBeLessThanOrEqual(3);
    });
  });
});
