/**
 * The stored documents and their mapping to and from Logbook's entities. Field names are snake_case like
 * MLflow's; keys of params, tags and metrics are never field names (they may contain `.` or start with `$`):
 * they are values in `[{k, v}]` arrays or in a `key` field. Layout and indexes: indexes.ts.
 */
import type {
  Dataset,
  DatasetInput,
  Experiment,
  LifecycleStage,
  Metric,
  ModelOutput,
  Run,
  RunInfo,
  RunStatus,
  Tag,
} from "../../domain/entities.js";
import { AppError } from "../../domain/errors.js";
import { type KeyFields, fromKeyFields } from "./key-fields.js";
import { type EncodedValue, decodeValue, encodeValue, historyId, latestMetricId, modelMetricId, recencyKey, valueSortKey } from "./value-encoding.js";

/** A tag or param: key and value as array elements, so a key is never a field name. */
export interface KeyValueDoc {
  k: string;
  v: string;
}

export interface CounterDoc {
  _id: string;
  seq: number;
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

export interface RunDoc {
  _id: string;
  experiment_id: string;
  user_id: string;
  run_name: string;
  status: RunStatus;
  start_time: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: LifecycleStage;
  deleted_time?: number;
  params: KeyValueDoc[];
  tags: KeyValueDoc[];
  /** Bumped by every write of `params` or `tags`: the compare-and-set token of those writes. */
  rev: number;
  model_inputs: string[];
  model_outputs: ModelOutputDoc[];
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
  /** recencyKey(point): settling finds the points of a key newer than its stored latest by `rk` (indexes.ts). */
  rk: string;
}

/**
 * A logged model's link to a metric point (logged_model_metrics): `_id` = modelMetricId(model, point), so a link is
 * stored once per model and point; the point's fields as the re-logging call sent them.
 */
export interface ModelMetricDoc extends MetricFields {
  _id: string;
  model_id: string;
}

/** The latest point of one (run, key); `_id` = latestMetricId(run, key). */
export interface LatestMetricDoc extends MetricFields {
  _id: string;
  /** Denormalised (a run never changes experiment) so searches on one metric can filter by experiment. */
  experiment_id: string;
  /** The value is NaN: lets a search put NaN last in either direction with an equality on the index prefix. */
  n: boolean;
  /** valueSortKey(value). */
  s: string;
  /** recencyKey(point): the conditional-upsert guard. */
  rk: string;
  /** When the key was first logged (domain/log-order.ts): set on insert, never changed; absent on older documents. */
  o?: number;
}

export interface DatasetDoc {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema?: string;
  profile?: string;
}

/** One dataset linked to a run; `_id` = `<run prefix><name>:<digest>` (escaped), so a link is stored once. */
export interface RunInputDoc {
  _id: string;
  run_id: string;
  /** Order of first linking. */
  ord: number;
  dataset: DatasetDoc;
  tags: KeyValueDoc[];
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

/** `current` with each of `updates` replacing the value of its key or appended. */
export function mergeKeyValues(current: KeyValueDoc[], updates: Tag[]): KeyValueDoc[] {
  const merged = current.map((t) => ({ ...t }));
  for (const u of updates) {
    const existing = merged.find((t) => t.k === u.key);
    if (existing) existing.v = u.value;
    else merged.push({ k: u.key, v: u.value });
  }
  return merged;
}

/**
 * The write-once items (params) of `items` not stored yet, in order. One already stored (or given earlier in `items`)
 * with another value → the error `changed` makes, and nothing is returned.
 */
export function newKeyValues(stored: KeyValueDoc[], items: Tag[], changed: (key: string, old: string, value: string) => AppError): KeyValueDoc[] {
  const known = new Map(stored.map((p) => [p.k, p.v]));
  const added: KeyValueDoc[] = [];
  for (const p of items) {
    const old = known.get(p.key);
    if (old === undefined) {
      known.set(p.key, p.value);
      added.push({ k: p.key, v: p.value });
    } else if (old !== p.value) {
      throw changed(p.key, old, p.value);
    }
  }
  return added;
}

export function sameKeyValues(a: KeyValueDoc[], b: KeyValueDoc[]): boolean {
  return a.length === b.length && a.every((t, i) => t.k === b[i]?.k && t.v === b[i]?.v);
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

/** The fields of a run document that make its RunInfo (a projection). */
export const RUN_INFO_PROJECTION = {
  experiment_id: 1,
  user_id: 1,
  run_name: 1,
  status: 1,
  start_time: 1,
  end_time: 1,
  artifact_uri: 1,
  lifecycle_stage: 1,
} as const;

export type RunInfoDoc = Pick<RunDoc, "_id" | keyof typeof RUN_INFO_PROJECTION>;

export function runInfoFromDoc(doc: RunInfoDoc): RunInfo {
  const info: RunInfo = {
    runId: doc._id,
    runName: doc.run_name,
    experimentId: doc.experiment_id,
    userId: doc.user_id,
    status: doc.status,
    startTime: doc.start_time,
    artifactUri: doc.artifact_uri,
    lifecycleStage: doc.lifecycle_stage,
  };
  if (typeof doc.end_time === "number") info.endTime = doc.end_time;
  return info;
}

/** First-logged order; documents from before the ordinal existed come first, by key. */
const byFirstLogged = (a: LatestMetricDoc, b: LatestMetricDoc) => (a.o ?? 0) - (b.o ?? 0) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export function runFromDocs(doc: RunDoc, latest: LatestMetricDoc[], inputs: RunInputDoc[]): Run {
  return {
    info: runInfoFromDoc(doc),
    data: {
      metrics: [...latest].sort(byFirstLogged).map(metricFromDoc),
      params: fromKeyValues(doc.params),
      tags: fromKeyValues(doc.tags),
    },
    inputs: {
      datasetInputs: [...inputs].sort((a, b) => a.ord - b.ord || (a._id < b._id ? -1 : 1)).map(datasetInputFromDoc),
      modelInputs: (doc.model_inputs ?? []).map((modelId) => ({ modelId })),
    },
    outputs: { modelOutputs: (doc.model_outputs ?? []).map(modelOutputFromDoc) },
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
  return { _id: historyId(runId, m), ...metricFields(runId, m), rk: recencyKey(m) };
}

/** The link of `m`'s model (`m.modelId`, set) to the point. */
export function modelMetricDocOf(runId: string, m: Metric & { modelId: string }): ModelMetricDoc {
  return { _id: modelMetricId(m.modelId, runId, m), ...metricFields(runId, m), model_id: m.modelId };
}

export function latestDocOf(runId: string, experimentId: string, m: Metric): LatestMetricDoc {
  return {
    _id: latestMetricId(runId, m.key),
    ...metricFields(runId, m),
    experiment_id: experimentId,
    n: Number.isNaN(m.value),
    s: valueSortKey(m.value),
    rk: recencyKey(m),
  };
}

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

function datasetInputFromDoc(doc: RunInputDoc): DatasetInput {
  const d = doc.dataset;
  const dataset: Dataset = { name: d.name, digest: d.digest, sourceType: d.source_type, source: d.source };
  if (typeof d.schema === "string") dataset.schema = d.schema;
  if (typeof d.profile === "string") dataset.profile = d.profile;
  return { tags: fromKeyValues(doc.tags), dataset };
}

export const modelOutputDocOf = (o: ModelOutput): ModelOutputDoc => ({ model_id: o.modelId, step: o.step });
const modelOutputFromDoc = (o: ModelOutputDoc): ModelOutput => ({ modelId: o.model_id, step: o.step });
