/** Rows ⇄ entities for the SQLite store. Column names are snake_case, entities camelCase. */
import type { Experiment, LifecycleStage, Metric, RunInfo, RunStatus, Tag } from "../../domain/entities.js";

/** A metric value as stored: see schema.ts for why it takes three columns. */
export interface StoredMetricValue {
  value: number;
  is_nan: 0 | 1;
  is_negative_zero: 0 | 1;
}

export function encodeMetricValue(value: number): StoredMetricValue {
  if (Number.isNaN(value)) return { value: 0, is_nan: 1, is_negative_zero: 0 };
  if (Object.is(value, -0)) return { value: 0, is_nan: 0, is_negative_zero: 1 };
  return { value, is_nan: 0, is_negative_zero: 0 };
}

export function decodeMetricValue(row: StoredMetricValue): number {
  if (row.is_nan) return Number.NaN;
  return row.is_negative_zero ? -0 : row.value;
}

export interface MetricRow extends StoredMetricValue {
  key: string;
  step: number;
  timestamp: number;
  model_id: string | null;
  dataset_name: string | null;
  dataset_digest: string | null;
}

/** The named parameters of a metric-point insert. */
export function metricToRow(runId: string, m: Metric): MetricRow & { run_id: string } {
  return {
    run_id: runId,
    key: m.key,
    step: m.step,
    timestamp: m.timestamp,
    ...encodeMetricValue(m.value),
    model_id: m.modelId ?? null,
    dataset_name: m.datasetName ?? null,
    dataset_digest: m.datasetDigest ?? null,
  };
}

export function rowToMetric(row: MetricRow): Metric {
  const metric: Metric = { key: row.key, value: decodeMetricValue(row), timestamp: row.timestamp, step: row.step };
  if (row.model_id !== null) metric.modelId = row.model_id;
  if (row.dataset_name !== null) metric.datasetName = row.dataset_name;
  if (row.dataset_digest !== null) metric.datasetDigest = row.dataset_digest;
  return metric;
}

export interface ExperimentRow {
  experiment_id: number;
  name: string;
  artifact_location: string;
  lifecycle_stage: LifecycleStage;
  creation_time: number;
  last_update_time: number;
}

export function rowToExperiment(row: ExperimentRow, tags: Tag[]): Experiment {
  return {
    experimentId: String(row.experiment_id),
    name: row.name,
    artifactLocation: row.artifact_location,
    lifecycleStage: row.lifecycle_stage,
    creationTime: row.creation_time,
    lastUpdateTime: row.last_update_time,
    tags,
  };
}

/**
 * An experiment id as the integer key it is stored under, or undefined when no experiment can have it.
 * Strict, so "01" or "1e0" do not find experiment 1 through SQLite's type affinity.
 */
export function parseExperimentId(experimentId: string): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(experimentId)) return undefined;
  const id = Number(experimentId);
  return Number.isSafeInteger(id) ? id : undefined;
}

export interface RunRow {
  run_id: string;
  experiment_id: number;
  name: string;
  user_id: string;
  status: RunStatus;
  start_time: number;
  end_time: number | null;
  artifact_uri: string;
  lifecycle_stage: LifecycleStage;
}

export function rowToRunInfo(row: RunRow): RunInfo {
  const info: RunInfo = {
    runId: row.run_id,
    runName: row.name,
    experimentId: String(row.experiment_id),
    userId: row.user_id,
    status: row.status,
    startTime: row.start_time,
    artifactUri: row.artifact_uri,
    lifecycleStage: row.lifecycle_stage,
  };
  if (row.end_time !== null) info.endTime = row.end_time;
  return info;
}
