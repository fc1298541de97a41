/**
 * The run document: one per run, carrying everything GetRun returns — info, the latest value of each metric,
 * params, tags, dataset inputs, model inputs and outputs — so that reading a run, a search page or a stream batch
 * is reading documents, never a query per run. Metric history lives in its own collection (metric-store.ts).
 *
 * Params, tags and latest metrics are objects keyed by `encodeFieldKey(key)` (key-fields.ts: `%`, `.`, `$` and NUL
 * percent-encoded), so a filter or a sort on one key is a plain field path (`params.symbol.v`,
 * `metric_desc.sharpe_ratio`) that MongoDB can serve from an index. Each entry carries `o`, the order in which its
 * key was first logged on the run (the run's `seq` counter), which is the order reads return them in, as MLflow
 * does: a tag rewritten keeps its place, a tag deleted and set again goes last.
 *
 * `metric_asc` / `metric_desc` hold each metric's order key (value-encoding.ts metricOrderKey) for searches ordered
 * by one metric; `rev` is bumped by every update (the compare-and-set token of run-writer.ts).
 */
import { Double } from "mongodb";
import { type DatasetInput, type Metric, type Run, type RunInfo, runArtifactUri } from "../../domain/entities.js";
import type { NewRun } from "../types.js";
import { type DatasetDoc, type KeyValueDoc, type ModelOutputDoc, corrupt, fromKeyValues, uniqueByKey } from "./mapping.js";
import { decodeFieldKey, encodeFieldKey } from "./key-fields.js";
import { type EncodedValue, decodeValue, encodeValue, metricOrderKey, valueSortKey } from "./value-encoding.js";

/** A param or tag: its value and first-logged order. */
export interface KeyValueEntry {
  v: string;
  o: number;
}

/** The latest point of one metric key. */
export interface LatestMetricEntry extends EncodedValue {
  /** valueSortKey of the value (-0 as 0); absent for NaN. Multi-term searches sort on it. */
  s?: string;
  ts: number;
  step: number;
  /** First-logged order of the key. */
  o: number;
  model_id?: string;
  dataset_name?: string;
  dataset_digest?: string;
}

export interface DatasetInputDoc {
  dataset: DatasetDoc;
  tags: KeyValueDoc[];
  /** When it was first linked (domain/log-order.ts; absent on links migrated without one). */
  o?: number;
}

export interface RunDoc {
  _id: string;
  experiment_id: string;
  /** The experiment id as a number: order_by experiment_id is numeric. */
  experiment_number: number;
  user_id: string;
  run_name: string;
  status: RunInfo["status"];
  start_time: number;
  /** Always written as a double, so its BSON type is one name for multi-term sorts (run-query.ts). */
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: RunInfo["lifecycleStage"];
  deleted_time?: number;
  /** Bumped by every update of the run. */
  rev: number;
  /** The next first-logged order number. */
  seq: number;
  params: Record<string, KeyValueEntry>;
  tags: Record<string, KeyValueEntry>;
  metrics: Record<string, LatestMetricEntry>;
  metric_asc: Record<string, string>;
  metric_desc: Record<string, string>;
  inputs: DatasetInputDoc[];
  model_inputs: string[];
  model_outputs: ModelOutputDoc[];
}

/** What a read of a whole run leaves out: search and bookkeeping fields. */
export const RUN_PROJECTION = { metric_asc: 0, metric_desc: 0, rev: 0, seq: 0, experiment_number: 0, deleted_time: 0 } as const;

/** The fields of a run document that make its RunInfo. */
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

/**
 * A number stored as a BSON double even when it is integral (the driver writes small integers as int32): fields
 * whose BSON type a search compares must have one type.
 */
export const asDouble = (n: number): number => new Double(n) as unknown as number;

export const paramPath = (key: string) => `params.${encodeFieldKey(key)}`;
export const tagPath = (key: string) => `tags.${encodeFieldKey(key)}`;
export const metricPath = (key: string) => `metrics.${encodeFieldKey(key)}`;
export const metricOrderPath = (key: string, ascending: boolean) => `${ascending ? "metric_asc" : "metric_desc"}.${encodeFieldKey(key)}`;

/** A new run's document: RUNNING, active, its initial tags in order. */
export function newRunDoc(run: NewRun, experimentArtifactLocation: string): RunDoc {
  const tags: Record<string, KeyValueEntry> = {};
  const initial = uniqueByKey(run.tags);
  initial.forEach((t, o) => (tags[encodeFieldKey(t.key)] = { v: t.value, o }));
  return {
    _id: run.runId,
    experiment_id: run.experimentId,
    experiment_number: Number(run.experimentId),
    user_id: run.userId,
    run_name: run.runName,
    status: "RUNNING",
    start_time: run.startTime,
    artifact_uri: runArtifactUri(experimentArtifactLocation, run.runId),
    lifecycle_stage: "active",
    rev: 0,
    seq: initial.length,
    params: {},
    tags,
    metrics: {},
    metric_asc: {},
    metric_desc: {},
    inputs: [],
    model_inputs: [],
    model_outputs: [],
  };
}

/** The stored latest point of a metric, in first-logged place `o`. */
export function latestEntryOf(m: Metric, o: number): LatestMetricEntry {
  const entry: LatestMetricEntry = { ...encodeValue(m.value), ts: m.timestamp, step: m.step, o };
  if (!Number.isNaN(m.value)) entry.s = valueSortKey(m.value === 0 ? 0 : m.value);
  if (m.modelId !== undefined) entry.model_id = m.modelId;
  if (m.datasetName !== undefined) entry.dataset_name = m.datasetName;
  if (m.datasetDigest !== undefined) entry.dataset_digest = m.datasetDigest;
  return entry;
}

/** The `$set` fields that make `m` the latest point of its key on run (`runId`, `startTime`). */
export function latestMetricFields(runId: string, startTime: number, m: Metric, o: number): Record<string, unknown> {
  return {
    [metricPath(m.key)]: latestEntryOf(m, o),
    [metricOrderPath(m.key, true)]: metricOrderKey(true, m.value, startTime, runId),
    [metricOrderPath(m.key, false)]: metricOrderKey(false, m.value, startTime, runId),
  };
}

export function metricOfEntry(key: string, entry: LatestMetricEntry): Metric {
  const value = decodeValue(entry);
  if (value === undefined) throw corrupt("metric value");
  const metric: Metric = { key, value, timestamp: entry.ts, step: entry.step };
  if (typeof entry.model_id === "string") metric.modelId = entry.model_id;
  if (typeof entry.dataset_name === "string") metric.datasetName = entry.dataset_name;
  if (typeof entry.dataset_digest === "string") metric.datasetDigest = entry.dataset_digest;
  return metric;
}

/** The entries of a keyed object in first-logged order (then key), with their keys decoded. */
function inLoggedOrder<E extends { o: number }>(entries: Record<string, E> | undefined): [string, E][] {
  return Object.entries(entries ?? {})
    .map(([field, entry]): [string, E] => [decodeFieldKey(field), entry])
    .sort(([ka, a], [kb, b]) => a.o - b.o || (ka < kb ? -1 : ka > kb ? 1 : 0));
}

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

function datasetInputFromDoc(doc: DatasetInputDoc): DatasetInput {
  const d = doc.dataset;
  const dataset: DatasetInput["dataset"] = { name: d.name, digest: d.digest, sourceType: d.source_type, source: d.source };
  if (typeof d.schema === "string") dataset.schema = d.schema;
  if (typeof d.profile === "string") dataset.profile = d.profile;
  return { tags: fromKeyValues(doc.tags), dataset };
}

export type StoredRun = Omit<RunDoc, keyof typeof RUN_PROJECTION>;

/** The run a document holds (read with RUN_PROJECTION or more). */
export function runFromDoc(doc: StoredRun): Run {
  return {
    info: runInfoFromDoc(doc),
    data: {
      metrics: inLoggedOrder(doc.metrics).map(([key, entry]) => metricOfEntry(key, entry)),
      params: inLoggedOrder(doc.params).map(([key, entry]) => ({ key, value: entry.v })),
      tags: inLoggedOrder(doc.tags).map(([key, entry]) => ({ key, value: entry.v })),
    },
    inputs: {
      datasetInputs: (doc.inputs ?? []).map(datasetInputFromDoc),
      modelInputs: (doc.model_inputs ?? []).map((modelId) => ({ modelId })),
    },
    outputs: { modelOutputs: (doc.model_outputs ?? []).map((o) => ({ modelId: o.model_id, step: o.step })) },
  };
}
