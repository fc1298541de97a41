/**
 * The logged-model conformance suite (LoggedModelStore in src/store/types.ts is the contract): the same cases against
 * every backend, each on a fresh database per test.
 */
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { STORE_BACKENDS } from "../../test/harness/store-backends.js";
import type { Metric, Tag } from "../domain/entities.js";
import { AppError } from "../domain/errors.js";
import type { LoggedModel } from "../domain/logged-model.js";
import { experimentNotActive, experimentNotFound } from "../domain/messages.js";
import { loggedModelNotFound, loggedModelParamChanged, loggedModelTagNotFound } from "../domain/registry-messages.js";
import { parseLoggedModelOrderBy } from "../domain/filter/logged-model-search.js";
import type { NewLoggedModel, Store } from "./types.js";

const backends = STORE_BACKENDS;
const BY_CREATION = parseLoggedModelOrderBy([]);

const NOW = 1_700_000_000_000;
const newModelId = () => `m-${randomBytes(16).toString("hex")}`;
const newRunId = () => randomBytes(16).toString("hex");
const byKey = (tags: Tag[]) => [...tags].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
/** A model with its tags and params in key order, for comparisons that do not depend on stored order. */
const sorted = (model: LoggedModel) => ({ ...model, tags: byKey(model.tags), params: byKey(model.params) });

async function expectError(promise: Promise<unknown>, expected: AppError): Promise<void> {
  const err = await promise.then(
    () => {
      throw new Error(`expected ${expected.code}, but the call succeeded`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  const appError = err as AppError;
  expect({ code: appError.code, message: appError.message }).toEqual({ code: expected.code, message: expected.message });
}

describe.each(backends)("Logged model contract: $name", (backend) => {
  const opened: Store[] = [];
  let store: Store;

  /** The live models of the experiments, newest first. */
  const listModels = async (experimentIds: string[]) =>
    (await store.searchLoggedModels({ experimentIds, filter: [], datasets: [], order: BY_CREATION }, { maxResults: 1000 })).items;

  const createModel = (fields: Partial<NewLoggedModel> = {}) =>
    store.createLoggedModel({ modelId: newModelId(), experimentId: "0", name: "model", params: [], tags: [], now: NOW, ...fields });

  const createRun = async (experimentId = "0") => {
    const run = await store.createRun({ runId: newRunId(), experimentId, userId: "ada", runName: "run", startTime: NOW, tags: [] });
    return run.info.runId;
  };

  const registerVersion = (name: string, modelId: string) =>
    store.createModelVersion({
      name,
      source: `models:/${modelId}`,
      runId: "",
      runLink: "",
      description: "",
      userId: "ada",
      tags: [],
      modelId,
      now: NOW,
    });

  beforeEach(async () => {
    store = await backend.open();
    opened.push(store);
    await store.init();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  describe("create and get", () => {
    it("creates a PENDING model with its params and tags below the experiment's artifact location", async () => {
      const modelId = newModelId();
      const runId = await createRun();
      const params = [
        { key: "alpha", value: "0.5" },
        { key: "layers.n", value: "3" },
      ];
      const tags = [
        { key: "mlflow.source", value: "train.py" },
        { key: "b", value: "" },
      ];
      const created = await store.createLoggedModel({
        modelId,
        experimentId: "0",
        name: "classifier",
        modelType: "sklearn",
        sourceRunId: runId,
        creatorId: "ada",
        params,
        tags,
        now: NOW,
      });
      const expected = {
        modelId,
        experimentId: "0",
        name: "classifier",
        creationTimestampMs: NOW,
        lastUpdatedTimestampMs: NOW,
        artifactUri: `mlflow-artifacts:/0/models/${modelId}/artifacts`,
        status: "PENDING",
        creatorId: "ada",
        modelType: "sklearn",
        sourceRunId: runId,
        tags: byKey(tags),
        params: byKey(params),
        metrics: [],
        registrations: [],
      };
      expect(sorted(created)).toEqual(expected);
      expect(sorted(await store.getLoggedModel(modelId))).toEqual(expected);
    });

    it("leaves optional fields unset", async () => {
      const model = await createModel();
      expect(model.modelType).toBeUndefined();
      expect(model.sourceRunId).toBeUndefined();
      expect(model.creatorId).toBeUndefined();
      expect(model.statusMessage).toBeUndefined();
      expect(await store.getLoggedModel(model.modelId)).toEqual(model);
    });

    it("puts the artifact URI below an experiment's own location", async () => {
      const experimentId = await store.createExperiment({ name: "s3", artifactLocation: "s3://bucket/root/", tags: [], now: NOW });
      const model = await createModel({ experimentId });
      expect(model.experimentId).toBe(experimentId);
      expect(model.artifactUri).toBe(`s3://bucket/root/models/${model.modelId}/artifacts`);
    });

    it("refuses unknown and deleted experiments", async () => {
      await expectError(createModel({ experimentId: "12345" }), experimentNotFound("12345"));
      const experimentId = await store.createExperiment({ name: "gone", tags: [], now: NOW });
      await store.setExperimentLifecycle(experimentId, "deleted", NOW);
      await expectError(createModel({ experimentId }), experimentNotActive(experimentId));
      expect(await listModels(["0", experimentId])).toEqual([]);
    });

    it("answers RESOURCE_DOES_NOT_EXIST for an unknown id", async () => {
      const unknown = newModelId();
      await expectError(store.getLoggedModel(unknown), loggedModelNotFound(unknown));
    });
  });

  describe("updates", () => {
    it("finalizes to READY or UPLOAD_FAILED with the last-updated time", async () => {
      const a = await createModel();
      const ready = await store.finalizeLoggedModel(a.modelId, "READY", NOW + 10);
      expect(ready).toEqual({ ...a, status: "READY", lastUpdatedTimestampMs: NOW + 10 });
      expect(await store.getLoggedModel(a.modelId)).toEqual(ready);
      const b = await createModel();
      expect((await store.finalizeLoggedModel(b.modelId, "UPLOAD_FAILED", NOW + 1)).status).toBe("UPLOAD_FAILED");
      expect((await store.getLoggedModel(b.modelId)).status).toBe("UPLOAD_FAILED");
    });

    it("upserts tags and deletes them; a tag that is not set is RESOURCE_DOES_NOT_EXIST", async () => {
      const { modelId } = await createModel({ tags: [{ key: "a", value: "1" }] });
      const updated = await store.setLoggedModelTags(
        modelId,
        [
          { key: "a", value: "changed" },
          { key: "b", value: "2" },
        ],
        NOW + 1,
      );
      expect(byKey(updated.tags)).toEqual([
        { key: "a", value: "changed" },
        { key: "b", value: "2" },
      ]);
      expect(sorted(await store.getLoggedModel(modelId))).toEqual(sorted(updated));
      await store.deleteLoggedModelTag(modelId, "a", NOW + 2);
      expect((await store.getLoggedModel(modelId)).tags).toEqual([{ key: "b", value: "2" }]);
      await expectError(store.deleteLoggedModelTag(modelId, "a", NOW), loggedModelTagNotFound(modelId, "a"));
    });

    it("logs params: the same value again is accepted, another value is refused and nothing of that call is written", async () => {
      const { modelId } = await createModel({ params: [{ key: "alpha", value: "0.5" }] });
      await store.logLoggedModelParams(
        modelId,
        [
          { key: "alpha", value: "0.5" },
          { key: "beta", value: "1" },
        ],
        NOW,
      );
      expect(byKey((await store.getLoggedModel(modelId)).params)).toEqual([
        { key: "alpha", value: "0.5" },
        { key: "beta", value: "1" },
      ]);
      await expectError(
        store.logLoggedModelParams(
          modelId,
          [
            { key: "gamma", value: "new" },
            { key: "alpha", value: "0.9" },
          ],
          NOW,
        ),
        loggedModelParamChanged(modelId, "alpha", "0.5", "0.9"),
      );
      expect(byKey((await store.getLoggedModel(modelId)).params)).toEqual([
        { key: "alpha", value: "0.5" },
        { key: "beta", value: "1" },
      ]);
    });

    it("keeps models apart", async () => {
      const a = await createModel({ params: [{ key: "p", value: "a" }], tags: [{ key: "t", value: "a" }] });
      const b = await createModel({ params: [{ key: "p", value: "b" }] });
      await store.setLoggedModelTags(b.modelId, [{ key: "t", value: "b" }], NOW);
      await store.finalizeLoggedModel(b.modelId, "READY", NOW);
      expect(await store.getLoggedModel(a.modelId)).toEqual(a);
      expect((await store.getLoggedModel(b.modelId)).params).toEqual([{ key: "p", value: "b" }]);
    });
  });

  describe("delete", () => {
    it("makes a deleted model unknown to every method", async () => {
      const kept = await createModel();
      const { modelId } = await createModel({ tags: [{ key: "a", value: "1" }] });
      await store.deleteLoggedModel(modelId, NOW + 1);
      const gone = loggedModelNotFound(modelId);
      await expectError(store.getLoggedModel(modelId), gone);
      await expectError(store.finalizeLoggedModel(modelId, "READY", NOW), gone);
      await expectError(store.deleteLoggedModel(modelId, NOW), gone);
      await expectError(store.setLoggedModelTags(modelId, [{ key: "b", value: "2" }], NOW), gone);
      await expectError(store.deleteLoggedModelTag(modelId, "a", NOW), gone);
      await expectError(store.logLoggedModelParams(modelId, [{ key: "p", value: "1" }], NOW), gone);
      expect(await listModels(["0"])).toEqual([kept]);
    });

    it("refuses every method on an unknown id", async () => {
      const unknown = newModelId();
      const gone = loggedModelNotFound(unknown);
      await expectError(store.finalizeLoggedModel(unknown, "READY", NOW), gone);
      await expectError(store.deleteLoggedModel(unknown, NOW), gone);
      await expectError(store.setLoggedModelTags(unknown, [{ key: "b", value: "2" }], NOW), gone);
      await expectError(store.deleteLoggedModelTag(unknown, "a", NOW), gone);
      await expectError(store.logLoggedModelParams(unknown, [{ key: "p", value: "1" }], NOW), gone);
    });
  });

  describe("linked metrics and registrations", () => {
    it("shows every point logged with the model's id, in history order, each with its run", async () => {
      const model = await createModel();
      const other = await createModel();
      const [runA, runB] = [await createRun(), await createRun()];
      const linked = (key: string, value: number, timestamp: number, step: number): Metric => ({ key, value, timestamp, step, modelId: model.modelId });
      await store.logBatch(runA, {
        metrics: [
          linked("acc", 0.5, NOW + 2, 1),
          { ...linked("acc", 0.7, NOW + 4, 2), datasetName: "eval", datasetDigest: "abc" },
          { key: "acc", value: 0.1, timestamp: NOW + 1, step: 0 },
          { key: "acc", value: 0.2, timestamp: NOW + 1, step: 0, modelId: other.modelId },
        ],
        params: [],
        tags: [],
      });
      await store.logBatch(runB, { metrics: [linked("loss", Number.NaN, NOW + 3, 0), linked("acc", 0.6, NOW + 1, 5)], params: [], tags: [] });

      const { metrics } = await store.getLoggedModel(model.modelId);
      expect(metrics).toEqual([
        { ...linked("acc", 0.6, NOW + 1, 5), runId: runB },
        { ...linked("acc", 0.5, NOW + 2, 1), runId: runA },
        { ...linked("loss", Number.NaN, NOW + 3, 0), runId: runB },
        { ...linked("acc", 0.7, NOW + 4, 2), datasetName: "eval", datasetDigest: "abc", runId: runA },
      ]);
      expect((await store.getLoggedModel(other.modelId)).metrics).toEqual([
        { key: "acc", value: 0.2, timestamp: NOW + 1, step: 0, modelId: other.modelId, runId: runA },
      ]);
      const listed = (await listModels(["0"])).find((m) => m.modelId === model.modelId);
      expect(listed?.metrics).toEqual(metrics);
    });

    it("links a point re-logged with the model's id although the run already has it, once per model", async () => {
      // What `mlflow.<flavor>.log_model` does: the run's metrics of the step, logged again with the new model's id.
      const [first, second] = [await createModel(), await createModel()];
      const run = await createRun();
      const point: Metric = { key: "acc", value: 0.9, timestamp: NOW + 1, step: 0 };
      const other: Metric = { key: "loss", value: 0.3, timestamp: NOW + 1, step: 0 };
      await store.logBatch(run, { metrics: [point, other], params: [], tags: [] });
      await store.logBatch(run, { metrics: [{ ...point, modelId: first.modelId }], params: [], tags: [] });
      await store.logBatch(run, { metrics: [{ ...point, modelId: second.modelId, datasetName: "eval", datasetDigest: "d1" }], params: [], tags: [] });
      await store.logBatch(run, { metrics: [{ ...point, modelId: first.modelId }, { ...other, modelId: first.modelId }], params: [], tags: [] });

      expect((await store.getLoggedModel(first.modelId)).metrics).toEqual([
        { ...other, modelId: first.modelId, runId: run },
        { ...point, modelId: first.modelId, runId: run },
      ]);
      expect((await store.getLoggedModel(second.modelId)).metrics).toEqual([
        { ...point, modelId: second.modelId, datasetName: "eval", datasetDigest: "d1", runId: run },
      ]);
      // The run's own history keeps each point once, as first logged.
      expect((await store.getMetricHistory(run, "acc", {})).metrics).toEqual([point]);
      expect((await store.getRun(run)).data.metrics.find((m) => m.key === "acc")).toEqual(point);
      // Searches see the links too: an equality (MongoDB asks the links for it) and an order by the metric.
      const byAccuracy = async (comparator: "=" | ">") => {
        const filter = [{ type: "metric", key: "acc", comparator, value: comparator === "=" ? 0.9 : 0.5 }] as never;
        const { items } = await store.searchLoggedModels({ experimentIds: ["0"], filter, datasets: [], order: BY_CREATION }, { maxResults: 100 });
        return items.map((m) => m.modelId).sort();
      };
      const both = [first.modelId, second.modelId].sort();
      expect(await byAccuracy("=")).toEqual(both);
      expect(await byAccuracy(">")).toEqual(both);
    });

    it("shows the live model versions made from it as registrations, by name then version", async () => {
      const model = await createModel();
      const unrelated = await createModel();
      await store.createRegisteredModel({ name: "zeta", description: "", userId: "ada", tags: [], now: NOW });
      await store.createRegisteredModel({ name: "alpha", description: "", userId: "ada", tags: [], now: NOW });
      await registerVersion("zeta", model.modelId);
      await registerVersion("alpha", unrelated.modelId);
      await registerVersion("alpha", model.modelId);
      await registerVersion("alpha", model.modelId);
      expect((await store.getLoggedModel(model.modelId)).registrations).toEqual([
        { name: "alpha", version: "2" },
        { name: "alpha", version: "3" },
        { name: "zeta", version: "1" },
      ]);
      expect((await store.getLoggedModel(unrelated.modelId)).registrations).toEqual([{ name: "alpha", version: "1" }]);

      await store.deleteModelVersion("alpha", 2, NOW);
      await store.renameRegisteredModel("zeta", "beta", NOW);
      expect((await store.getLoggedModel(model.modelId)).registrations).toEqual([
        { name: "alpha", version: "3" },
        { name: "beta", version: "1" },
      ]);
      await store.deleteRegisteredModel("alpha");
      expect((await store.getLoggedModel(model.modelId)).registrations).toEqual([{ name: "beta", version: "1" }]);
      expect((await store.getLoggedModel(unrelated.modelId)).registrations).toEqual([]);
    });
  });

  describe("searching", () => {
    it("finds the live models of the given experiments (none given: none), whole", async () => {
      const experimentId = await store.createExperiment({ name: "e", tags: [], now: NOW });
      const a = await createModel({ name: "a", params: [{ key: "p", value: "1" }], tags: [{ key: "t", value: "1" }] });
      const b = await createModel({ name: "b", experimentId });
      const c = await createModel({ name: "c", experimentId });
      const deleted = await createModel({ name: "d" });
      await store.deleteLoggedModel(deleted.modelId, NOW);
      await store.finalizeLoggedModel(c.modelId, "READY", NOW + 1);
      const names = (models: LoggedModel[]) => models.map((m) => m.name).sort();

      expect(names(await listModels([experimentId]))).toEqual(["b", "c"]);
      expect(names(await listModels(["0", experimentId]))).toEqual(["a", "b", "c"]);
      expect(await listModels(["999"])).toEqual([]);
      expect(await listModels([])).toEqual([]);

      const all = await listModels(["0", experimentId]);
      for (const model of [a, b, c]) {
        expect(sorted(all.find((m) => m.modelId === model.modelId) as LoggedModel)).toEqual(sorted(await store.getLoggedModel(model.modelId)));
      }
    });
  });
});
