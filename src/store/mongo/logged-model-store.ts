/**
 * MLflow 3 logged models in MongoDB: one `logged_models` document per model (`_id` = the model id, tags and params
 * one field per key (key-fields.ts), a `deleted` flag that hides it from every read, and the linked-metric summaries
 * searches filter and sort by (logged-model-metrics.ts)). Every update of one — finalize, delete, tags,
 * params — runs under the model's lease (registry-lease.ts), so a concurrent tag and param write cannot lose each
 * other on FerretDB, whose updates write the whole document back. Linked metrics are its links in
 * logged_model_metrics (index model_id), written by logBatch; registrations are the live model versions whose
 * `model_id` is its id (index model_versions.model_id), with the name they carry.
 */
import { experimentNotActive, experimentNotFound } from "../../domain/messages.js";
import { type LoggedModel, loggedModelArtifactUri } from "../../domain/logged-model.js";
import { loggedModelNotFound, loggedModelParamChanged, loggedModelTagNotFound } from "../../domain/registry-messages.js";
import type { LoggedModelStore } from "../types.js";
import type { Collections } from "./connection.js";
import { hasKey, keyPath, toKeyFields, valueOfKey, withKeys } from "./key-fields.js";
import { METRIC_PROJECTION, type ModelMetricDoc, metricFromDoc } from "./mapping.js";
import type { Leases } from "./registry-lease.js";
import { WHOLE_READ } from "./search-query.js";
import { type LiveVersionDoc, type LoggedModelDoc, loggedModelFromDoc } from "./registry-mapping.js";

/** The history-order part of a link's `_id`, which ends in its point's historySuffix (timestamp, step, value). */
const HISTORY_POSITION_LENGTH = 44;
const position = (doc: Pick<ModelMetricDoc, "_id">) => doc._id.slice(-HISTORY_POSITION_LENGTH);
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** `items` by `key`, each group in the order of `items`. */
function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

/** The models whole, in two queries: linked metrics in history order (then key, then run), registrations by name then version. */
export async function wholeLoggedModels(c: Collections, docs: LoggedModelDoc[]): Promise<LoggedModel[]> {
  if (docs.length === 0) return [];
  const ids = docs.map((d) => d._id);
  const [points, versions] = await Promise.all([
    c.modelMetrics.find({ model_id: { $in: ids } }, { ...WHOLE_READ, projection: { ...METRIC_PROJECTION, run_id: 1 } }).toArray(),
    c.modelVersions.find({ model_id: { $in: ids }, deleted: false }, { ...WHOLE_READ, projection: { name: 1, version: 1, model_id: 1 } }).toArray(),
  ]);
  points.sort((a, b) => compare(position(a), position(b)) || compare(a.key, b.key) || compare(a.run_id, b.run_id));
  const registrations = (versions as Pick<LiveVersionDoc, "name" | "version" | "model_id">[])
    .map((v) => ({ name: v.name, version: v.version, modelId: v.model_id }))
    .sort((a, b) => compare(a.name, b.name) || a.version - b.version);
  const metricsOf = groupBy(points, (p) => p.model_id ?? "");
  const registrationsOf = groupBy(registrations, (r) => r.modelId ?? "");
  return docs.map((doc) =>
    loggedModelFromDoc(
      doc,
      (metricsOf.get(doc._id) ?? []).map((p) => ({ ...metricFromDoc(p), runId: p.run_id })),
      (registrationsOf.get(doc._id) ?? []).map((r) => ({ name: r.name, version: String(r.version) })),
    ),
  );
}

export function createLoggedModelStore(c: Collections, leases: Leases): LoggedModelStore {
  const { loggedModels } = c;

  async function liveModel(modelId: string): Promise<LoggedModelDoc> {
    const doc = await loggedModels.findOne({ _id: modelId });
    if (!doc || doc.deleted) throw loggedModelNotFound(modelId);
    return doc;
  }

  /** Runs `work` on the live model holding its lease. */
  const withModel = <T>(modelId: string, work: (doc: LoggedModelDoc) => Promise<T>) =>
    leases.hold(modelId, async () => work(await liveModel(modelId)));

  async function wholeOne(doc: LoggedModelDoc): Promise<LoggedModel> {
    const [model] = await wholeLoggedModels(c, [doc]);
    if (!model) throw loggedModelNotFound(doc._id);
    return model;
  }

  return {
    async createLoggedModel(input) {
      const experiment = await c.experiments.findOne({ _id: input.experimentId }, { projection: { lifecycle_stage: 1, artifact_location: 1 } });
      if (!experiment) throw experimentNotFound(input.experimentId);
      if (experiment.lifecycle_stage !== "active") throw experimentNotActive(input.experimentId, experiment.lifecycle_stage);
      const doc: LoggedModelDoc = {
        _id: input.modelId,
        experiment_id: input.experimentId,
        name: input.name,
        creation_timestamp_ms: input.now,
        last_updated_timestamp_ms: input.now,
        artifact_uri: loggedModelArtifactUri(experiment.artifact_location, input.modelId),
        status: "PENDING",
        creator_id: input.creatorId,
        model_type: input.modelType,
        source_run_id: input.sourceRunId,
        ...(input.modelType !== undefined ? { has_model_type: 1 as const } : {}),
        ...(input.sourceRunId !== undefined ? { has_source_run_id: 1 as const } : {}),
        tags: toKeyFields(input.tags),
        params: toKeyFields(input.params),
        deleted: false,
      };
      await loggedModels.insertOne(doc);
      return loggedModelFromDoc(doc, [], []);
    },

    getLoggedModel: async (modelId) => wholeOne(await liveModel(modelId)),

    async finalizeLoggedModel(modelId, status, now) {
      const doc = await withModel(modelId, async (doc) => {
        await loggedModels.updateOne({ _id: modelId }, { $set: { status, last_updated_timestamp_ms: now } });
        return { ...doc, status, last_updated_timestamp_ms: now };
      });
      return wholeOne(doc);
    },

    async deleteLoggedModel(modelId, now) {
      await withModel(modelId, async () => {
        await loggedModels.updateOne({ _id: modelId }, { $set: { deleted: true, last_updated_timestamp_ms: now } });
      });
    },

    async setLoggedModelTags(modelId, tags, now) {
      const doc = await withModel(modelId, async (doc) => {
        const set = Object.fromEntries(tags.map((t) => [keyPath("tags", t.key), t.value]));
        await loggedModels.updateOne({ _id: modelId }, { $set: { ...set, last_updated_timestamp_ms: now } });
        return { ...doc, tags: withKeys(doc.tags, tags), last_updated_timestamp_ms: now };
      });
      return wholeOne(doc);
    },

    async deleteLoggedModelTag(modelId, key, now) {
      await withModel(modelId, async (doc) => {
        if (!hasKey(doc.tags, key)) throw loggedModelTagNotFound(modelId, key);
        await loggedModels.updateOne({ _id: modelId }, { $unset: { [keyPath("tags", key)]: "" }, $set: { last_updated_timestamp_ms: now } });
      });
    },

    async logLoggedModelParams(modelId, params, now) {
      await withModel(modelId, async (doc) => {
        // Params are written once: all checked (against what is stored and each other) before any is written.
        const added = new Map<string, string>();
        for (const p of params) {
          const old = added.get(p.key) ?? valueOfKey(doc.params, p.key);
          if (old !== undefined && old !== p.value) throw loggedModelParamChanged(modelId, p.key, old, p.value);
          if (old === undefined) added.set(p.key, p.value);
        }
        if (added.size === 0) return;
        const set = Object.fromEntries([...added].map(([key, value]) => [keyPath("params", key), value]));
        await loggedModels.updateOne({ _id: modelId }, { $set: { ...set, last_updated_timestamp_ms: now } });
      });
    },
  };
}
