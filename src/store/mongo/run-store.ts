/**
 * Runs in MongoDB: one document per run (info, params, tags, model inputs and outputs); metric history and
 * latest values in their own collections (metric-store.ts); dataset links in run_inputs (run-inputs.ts).
 */
import { type LifecycleStage, type RunInfo, runArtifactUri } from "../../domain/entities.js";
import { experimentNotActive, experimentNotFound, runAlreadyExists, runNotFound, runTagNotFound } from "../../domain/messages.js";
import type { NewRun, RunStore, RunUpdate } from "../types.js";
import type { Collections } from "./connection.js";
import { MAX_CAS_ATTEMPTS, contended, isDuplicateKeyError } from "./errors.js";
import { RUN_INFO_PROJECTION, type RunDoc, mergeKeyValues, runFromDocs, runInfoFromDoc, toKeyValues, uniqueByKey } from "./mapping.js";
import { createLatestMetrics } from "./latest-metrics.js";
import { createLogOrder } from "../../domain/log-order.js";
import { readMetricHistory, writeMetrics } from "./metric-store.js";
import { RUN_NAME_TAG, updateRunTags, writeParamsAndTags } from "./run-data.js";
import { createRunInputStore } from "./run-inputs.js";
import { readActiveRun } from "./run-state.js";
import { runIdRange } from "./value-encoding.js";

export function createRunStore(c: Collections): RunStore {
  const { runs, experiments } = c;
  const inputs = createRunInputStore(c);
  const latestMetrics = createLatestMetrics(c);
  const logOrder = createLogOrder();

  async function experimentStage(experimentId: string) {
    return experiments.findOne({ _id: experimentId }, { projection: { lifecycle_stage: 1, artifact_location: 1 } });
  }

  return {
    async createRun(run: NewRun) {
      const experiment = await experimentStage(run.experimentId);
      if (!experiment) throw experimentNotFound(run.experimentId);
      if (experiment.lifecycle_stage !== "active") throw experimentNotActive(run.experimentId, experiment.lifecycle_stage);
      const doc: RunDoc = {
        _id: run.runId,
        experiment_id: run.experimentId,
        user_id: run.userId,
        run_name: run.runName,
        status: "RUNNING",
        start_time: run.startTime,
        artifact_uri: runArtifactUri(experiment.artifact_location, run.runId),
        lifecycle_stage: "active",
        params: [],
        tags: toKeyValues(uniqueByKey(run.tags)),
        rev: 0,
        model_inputs: [],
        model_outputs: [],
      };
      try {
        await runs.insertOne(doc);
      } catch (err) {
        if (isDuplicateKeyError(err)) throw runAlreadyExists(run.runId, err);
        throw err;
      }
      // The experiment may have been deleted after our check and before the insert, its cascade missing this
      // run: look again, and take the run back if so (setExperimentLifecycle writes the experiment first).
      const after = await experimentStage(run.experimentId);
      if (after?.lifecycle_stage !== "active") {
        await runs.deleteOne({ _id: run.runId });
        throw after ? experimentNotActive(run.experimentId, after.lifecycle_stage) : experimentNotFound(run.experimentId);
      }
      return runFromDocs(doc, [], []);
    },

    async getRun(runId: string) {
      const [doc, latest, datasets] = await Promise.all([
        runs.findOne({ _id: runId }, { projection: { rev: 0, deleted_time: 0 } }),
        latestMetrics.read(runId),
        c.runInputs.find({ _id: runIdRange(runId) }).toArray(),
      ]);
      if (!doc) throw runNotFound(runId);
      return runFromDocs(doc, latest, datasets);
    },

    async updateRun(runId: string, update: RunUpdate): Promise<RunInfo> {
      const set: Partial<RunDoc> = {};
      if (update.status !== undefined) set.status = update.status;
      if (update.endTime !== undefined) set.end_time = update.endTime;
      if (update.runName !== undefined) set.run_name = update.runName;
      for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
        const doc = await readActiveRun(c, runId, { ...RUN_INFO_PROJECTION, tags: 1, rev: 1 });
        if (Object.keys(set).length === 0) return runInfoFromDoc(doc);
        // Only $set of known values: the run's info after the update is the info read plus `set`.
        let matched: number;
        if (update.runName === undefined) {
          ({ matchedCount: matched } = await runs.updateOne({ _id: runId, lifecycle_stage: "active" }, { $set: set }));
        } else {
          // Renaming also sets the mlflow.runName tag, as MLflow does: a tags write, so compare-and-set on rev.
          const tags = mergeKeyValues(doc.tags ?? [], [{ key: RUN_NAME_TAG, value: update.runName }]);
          ({ matchedCount: matched } = await runs.updateOne(
            { _id: runId, lifecycle_stage: "active", rev: doc.rev },
            { $set: { ...set, tags }, $inc: { rev: 1 } },
          ));
        }
        if (matched === 1) return runInfoFromDoc({ ...doc, ...set });
      }
      throw contended(`run ${runId}`);
    },

    async setRunLifecycle(runId: string, stage: LifecycleStage, now: number) {
      const { matchedCount } =
        stage === "deleted"
          ? await runs.updateOne({ _id: runId }, { $set: { lifecycle_stage: "deleted", deleted_time: now } })
          : await runs.updateOne({ _id: runId }, { $set: { lifecycle_stage: "active" }, $unset: { deleted_time: "" } });
      if (matchedCount === 0) throw runNotFound(runId);
    },

    async logBatch(runId, { metrics, params, tags }) {
      // Params and tags first: a changed param fails the batch before any metric is written.
      const { experimentId } =
        params.length > 0 || tags.length > 0
          ? await writeParamsAndTags(c, runId, params, tags)
          : { experimentId: (await readActiveRun(c, runId, { experiment_id: 1 })).experiment_id };
      await writeMetrics(c, latestMetrics, runId, experimentId, metrics, logOrder);
    },

    async deleteRunTag(runId: string, key: string) {
      await updateRunTags(c, runId, (tags) => {
        if (!tags.some((t) => t.k === key)) throw runTagNotFound(runId, key);
        return tags.filter((t) => t.k !== key);
      });
    },

    logInputs: inputs.logInputs,
    logOutputs: inputs.logOutputs,
    searchDatasets: inputs.searchDatasets,

    getMetricHistory: (runId, key, page) => readMetricHistory(c, runId, key, page),
  };
}
