/**
 * Runs in MongoDB: one document per run carrying everything GetRun returns (run-document.ts), written through
 * run-writer.ts; metric history in its own collection (metric-store.ts).
 *
 * Round trips: getRun 1. logBatch: the run's update (MongoDB: read + compare-and-set, 2; FerretDB: lease, read,
 * update, release, 4), then one insertMany of the history, then the change record (change-log.ts) — 4 on MongoDB, 6
 * on FerretDB, whatever the batch holds. Every run write appends its change record after it succeeded, before the
 * run's next writer (run-writer.ts `then`).
 * The run is written first: a changed param, a deleted or unknown run fails the batch before any point is stored,
 * and a history insert that fails after it (the database gone) leaves the run with latest values whose points the
 * client's retry of the unacknowledged batch stores (identical points are stored once).
 */
import type { LifecycleStage, Metric, RunInfo, Tag } from "../../domain/entities.js";
import { batchItems } from "../../domain/run-change.js";
import { createLogOrder } from "../../domain/log-order.js";
import { experimentNotActive, experimentNotFound, runAlreadyExists, runNotActive, runNotFound, runTagNotFound } from "../../domain/messages.js";
import type { NewRun, RunStore, RunUpdate } from "../types.js";
import type { Collections } from "./connection.js";
import { isDuplicateKeyError } from "./errors.js";
import { insertHistory, readMetricHistories, readMetricHistory } from "./metric-store.js";
import { batchProjection, batchUpdate } from "./run-batch.js";
import {
  RUN_INFO_PROJECTION,
  RUN_PROJECTION,
  type RunDoc,
  asDouble,
  newRunDoc,
  runFromDoc,
  runInfoFromDoc,
  tagPath,
} from "./run-document.js";
import { INPUTS_PROJECTION, OUTPUTS_PROJECTION, inputsChange, outputsChange, searchDatasets } from "./run-inputs.js";
import type { RunWriter } from "./run-writer.js";
import type { ChangeAppender } from "./change-log.js";
import { encodeFieldKey } from "./key-fields.js";

export const RUN_NAME_TAG = "mlflow.runName";

/** The params of a batch not logged before (nor earlier in the batch), as `doc` (read with batchProjection) has them. */
function newParams(doc: Pick<RunDoc, "params">, params: Tag[]): Tag[] {
  const seen = new Set<string>();
  return params.filter((p) => {
    if (seen.has(p.key) || doc.params?.[encodeFieldKey(p.key)] !== undefined) return false;
    seen.add(p.key);
    return true;
  });
}

function requireActive(runId: string, doc: Pick<RunDoc, "lifecycle_stage">): void {
  if (doc.lifecycle_stage !== "active") throw runNotActive(runId, doc.lifecycle_stage);
}

export function createRunStore(c: Collections, writer: RunWriter, changes: ChangeAppender): RunStore {
  const { runs, experiments } = c;
  const logOrder = createLogOrder();

  async function experimentStage(experimentId: string) {
    return experiments.findOne({ _id: experimentId }, { projection: { lifecycle_stage: 1, artifact_location: 1 } });
  }

  return {
    async createRun(run: NewRun) {
      const experiment = await experimentStage(run.experimentId);
      if (!experiment) throw experimentNotFound(run.experimentId);
      if (experiment.lifecycle_stage !== "active") throw experimentNotActive(run.experimentId, experiment.lifecycle_stage);
      const doc = newRunDoc(run, experiment.artifact_location);
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
      const created = runFromDoc(doc);
      await changes.append({ runId: run.runId, experimentId: run.experimentId, items: [{ kind: "info", info: created.info }] });
      return created;
    },

    async getRun(runId: string) {
      const doc = await runs.findOne({ _id: runId }, { projection: RUN_PROJECTION });
      if (!doc) throw runNotFound(runId);
      return runFromDoc(doc);
    },

    async updateRun(runId: string, update: RunUpdate): Promise<RunInfo> {
      const name = tagPath(RUN_NAME_TAG);
      const renamed = update.runName === undefined ? [] : [{ kind: "tag" as const, key: RUN_NAME_TAG, value: update.runName }];
      const recorded = (info: RunInfo) => changes.append({ runId, experimentId: info.experimentId, items: [...renamed, { kind: "info", info }] });
      return writer.update(runId, { ...RUN_INFO_PROJECTION, [name]: 1, seq: 1 }, (doc) => {
        requireActive(runId, doc);
        const set: Record<string, unknown> = {};
        if (update.status !== undefined) set.status = update.status;
        if (update.endTime !== undefined) set.end_time = asDouble(update.endTime);
        if (update.runName !== undefined) {
          // Renaming also sets the mlflow.runName tag, as MLflow does (keeping its place among the tags).
          set.run_name = update.runName;
          const stored = doc.tags?.[encodeFieldKey(RUN_NAME_TAG)];
          set[name] = { v: update.runName, o: stored?.o ?? doc.seq };
          if (!stored) set.seq = doc.seq + 1;
        }
        const info = runInfoFromDoc({
          ...doc,
          ...(update.status !== undefined ? { status: update.status } : {}),
          ...(update.endTime !== undefined ? { end_time: update.endTime } : {}),
          ...(update.runName !== undefined ? { run_name: update.runName } : {}),
        });
        return { update: Object.keys(set).length > 0 ? { $set: set } : null, result: info };
      }, recorded);
    },

    async setRunLifecycle(runId: string, stage: LifecycleStage, now: number) {
      const update = stage === "deleted" ? { $set: { lifecycle_stage: "deleted", deleted_time: now } } : { $set: { lifecycle_stage: "active" }, $unset: { deleted_time: "" } };
      // The run's info after the change goes into its change record.
      const doc = await writer.apply(runId, update, RUN_INFO_PROJECTION, (after) =>
        changes.append({ runId, experimentId: after.experiment_id, items: [{ kind: "info", info: runInfoFromDoc(after), lifecycle: true }] }),
      );
      if (!doc) throw runNotFound(runId);
    },

    async logBatch(runId, batch) {
      // Every write of the batch to the run happens in this one update: nothing of a failing batch is written.
      await writer.update(
        runId,
        { ...batchProjection(batch), experiment_id: 1 },
        (doc) => {
          requireActive(runId, doc);
          const set = batchUpdate(runId, doc, batch);
          return { update: set === null ? null : { $set: set }, result: { experimentId: doc.experiment_id, params: newParams(doc, batch.params) } };
        },
        async ({ experimentId, params }) => {
          const points = await insertHistory(c, runId, batch.metrics);
          // The change record: the params logged now, every tag, and the points stored now (a repeat is no change).
          const items = batchItems({ params, tags: batch.tags, metrics: points });
          if (items.length > 0) await changes.append({ runId, experimentId, items });
        },
      );
    },

    async deleteRunTag(runId: string, key: string) {
      const path = tagPath(key);
      await writer.update(
        runId,
        { [path]: 1, experiment_id: 1 },
        (doc) => {
          requireActive(runId, doc);
          if (!doc.tags?.[encodeFieldKey(key)]) throw runTagNotFound(runId, key);
          return { update: { $unset: { [path]: "" } }, result: doc.experiment_id };
        },
        (experimentId) => changes.append({ runId, experimentId, items: [{ kind: "tag", key }] }),
      );
    },

    logInputs: (runId, inputs) => writer.update(runId, INPUTS_PROJECTION, (doc) => inputsChange(runId, doc, inputs, logOrder)),
    logOutputs: (runId, outputs) => writer.update(runId, OUTPUTS_PROJECTION, (doc) => outputsChange(runId, doc, outputs)),
    searchDatasets: (experimentIds, limit) => searchDatasets(c, experimentIds, limit),

    getMetricHistory: (runId, key, page) => readMetricHistory(c, runId, key, page),
    getMetricHistories: (runIds: string[], key: string): Promise<Map<string, Metric[]>> => readMetricHistories(c, runIds, key),
  };
}
