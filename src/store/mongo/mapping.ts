/**
 * Stored documents shared by the store's parts and their mapping to and from Logbook's entities: experiments,
 * metric history points, datasets, key/value arrays. Field names are snake_case like MLflow's. The run document is
 * in run-document.ts; the layout and its indexes in indexes.ts.
 */
import type { Dataset, Experiment, LifecycleStage, Metric, ModelOutput, Tag } from "../../domain/entities.js";
import type { PermissionName, ResourceType } from "../../domain/permission.js";
import { AppError } from "../../domain/errors.js";
import { type KeyFields, fromKeyFields } from "./key-fields.js";
import { type EncodedValue, decodeValue, encodeValue, historyId, modelMetricId } from "./value-encoding.js";

/** A tag or param: key and value as array elements, so a key is never a field name. */
export interface KeyValueDoc {
  k: string;
  v: string;
}

export interface CounterDoc {
  _id: string;
  seq: number;
}

/** A user; `_id` is the integer user id. */
export interface UserDoc {
  _id: number;
  username: string;
  password_hash: string;
  is_admin: boolean;
}

/** One grant; unique per (user_id, resource_type, resource_id). */
export interface GrantDoc {
  user_id: number;
  resource_type: ResourceType;
  resource_id: string;
  permission: PermissionName;
}

/** A personal access token; `_id` is the token id, the secret only as its SHA-256. */
export interface AccessTokenDoc {
  _id: string;
  user_id: number;
  name: string;
  secret_hash: string;
  created_at: number;
  expires_at?: number;
}

export interface ExperimentDoc {
  /** The experiment id: a decimal string ("0" is Default). */
  _id: string;
  /** The id as a number: what searches order by (a string `_id` would put "10" before "9"). */
  num: number;
  name: string;
  artifact_location: string;
  lifecycle_stage: LifecycleStage;
  creation_time: number;
  last_update_time: number;
  tags: KeyFields;
  /** Bumped by every write of `tags`: the compare-and-set token of tag updates. */
  rev: number;
}

export interface ModelOutputDoc {
  model_id: string;
  step: number;
}

/** Fields a metric point carries besides its value (EncodedValue). */
interface MetricFields extends EncodedValue {
  run_id: string;
  key: string;
  step: number;
  ts: number;
  model_id?: string;
  dataset_name?: string;
  dataset_digest?: string;
}

/** One point of metric_history; `_id` = historyId(...), in history order. */
export interface HistoryDoc extends MetricFields {
  _id: string;
}

/**
 * A logged model's link to a metric point (logged_model_metrics): `_id` = modelMetricId(model, point), so a link is
 * stored once per model and point; the point's fields as the re-logging call sent them.
 */
export interface ModelMetricDoc extends MetricFields {
  _id: string;
  model_id: string;
}

export interface DatasetDoc {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema?: string;
  profile?: string;
}

/** The stored data did not have the shape this code writes: a bug or a foreign writer, never a client error. */
export function corrupt(what: string): AppError {
  return AppError.from(new Error(`corrupt stored ${what}`));
}

export const toKeyValues = (tags: Tag[]): KeyValueDoc[] => tags.map((t) => ({ k: t.key, v: t.value }));
export const fromKeyValues = (items: KeyValueDoc[] | undefined): Tag[] => (items ?? []).map((t) => ({ key: t.k, value: t.v }));

/** One value per key, the last given winning, in first-seen order. */
export function uniqueByKey(tags: Tag[]): Tag[] {
  const byKey = new Map<string, string>();
  for (const t of tags) byKey.set(t.key, t.value);
  return [...byKey].map(([key, value]) => ({ key, value }));
}

export function experimentFromDoc(doc: ExperimentDoc): Experiment {
  return {
    experimentId: doc._id,
    name: doc.name,
    artifactLocation: doc.artifact_location,
    lifecycleStage: doc.lifecycle_stage,
    creationTime: doc.creation_time,
    lastUpdateTime: doc.last_update_time,
    tags: fromKeyFields(doc.tags),
  };
}

function metricFields(runId: string, m: Metric): MetricFields {
  const fields: MetricFields = { run_id: runId, key: m.key, step: m.step, ts: m.timestamp, ...encodeValue(m.value) };
  if (m.modelId !== undefined) fields.model_id = m.modelId;
  if (m.datasetName !== undefined) fields.dataset_name = m.datasetName;
  if (m.datasetDigest !== undefined) fields.dataset_digest = m.datasetDigest;
  return fields;
}

export function historyDocOf(runId: string, m: Metric): HistoryDoc {
  return { _id: historyId(runId, m), ...metricFields(runId, m) };
}

/** The link of `m`'s model (`m.modelId`, set) to the point. */
export function modelMetricDocOf(runId: string, m: Metric & { modelId: string }): ModelMetricDoc {
  return { _id: modelMetricId(m.modelId, runId, m), ...metricFields(runId, m), model_id: m.modelId };
}

/** The fields a Metric is read from. */
export const METRIC_PROJECTION = { key: 1, step: 1, ts: 1, v: 1, x: 1, model_id: 1, dataset_name: 1, dataset_digest: 1 } as const;

export function metricFromDoc(doc: Pick<MetricFields, "key" | "step" | "ts" | "v" | "x" | "model_id" | "dataset_name" | "dataset_digest">): Metric {
  const value = decodeValue(doc);
  if (value === undefined) throw corrupt("metric value");
  const metric: Metric = { key: doc.key, value, timestamp: doc.ts, step: doc.step };
  if (typeof doc.model_id === "string") metric.modelId = doc.model_id;
  if (typeof doc.dataset_name === "string") metric.datasetName = doc.dataset_name;
  if (typeof doc.dataset_digest === "string") metric.datasetDigest = doc.dataset_digest;
  return metric;
}

export function datasetDocOf(d: Dataset): DatasetDoc {
  const doc: DatasetDoc = { name: d.name, digest: d.digest, source_type: d.sourceType, source: d.source };
  if (d.schema !== undefined) doc.schema = d.schema;
  if (d.profile !== undefined) doc.profile = d.profile;
  return doc;
}

export const modelOutputDocOf = (o: ModelOutput): ModelOutputDoc => ({ model_id: o.modelId, step: o.step });
