/**
 * Logbook's entities as plain data. Times are milliseconds since the Unix epoch; steps and times
 * are JavaScript numbers, so they are kept within ±(2^53 − 1) (validated at the edge).
 */

export type LifecycleStage = "active" | "deleted";

export interface Tag {
  key: string;
  value: string;
}

export interface Experiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  creationTime: number;
  lastUpdateTime: number;
  tags: Tag[];
}

export const RUN_STATUSES = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunInfo {
  runId: string;
  runName: string;
  experimentId: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  /** Absent while the run has not ended. */
  endTime?: number;
  artifactUri: string;
  lifecycleStage: LifecycleStage;
}

/** One metric point. `value` may be NaN or ±Infinity. */
export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
  modelId?: string;
  datasetName?: string;
  datasetDigest?: string;
}

export interface Dataset {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema?: string;
  profile?: string;
}

export interface DatasetInput {
  tags: Tag[];
  dataset: Dataset;
}

/** A dataset logged to an experiment's runs, as MLflow's search-datasets lists it. */
export interface DatasetSummary {
  experimentId: string;
  name: string;
  digest: string;
  /** The input's `mlflow.data.context` tag, when it has one. */
  context?: string;
}

/** The input tag that says what a dataset was used for ("training", "eval", …). */
export const DATASET_CONTEXT_TAG = "mlflow.data.context";

export interface ModelOutput {
  modelId: string;
  step: number;
}

export interface Run {
  info: RunInfo;
  data: {
    /** The latest point of each metric key. */
    metrics: Metric[];
    params: Tag[];
    tags: Tag[];
  };
  inputs: {
    datasetInputs: DatasetInput[];
    modelInputs: { modelId: string }[];
  };
  outputs: {
    modelOutputs: ModelOutput[];
  };
}

export const DEFAULT_EXPERIMENT_ID = "0";
export const DEFAULT_EXPERIMENT_NAME = "Default";

/** MLflow's default artifact root when it serves artifacts (the proxied scheme). */
export const PROXIED_ARTIFACT_ROOT = "mlflow-artifacts:/";

/** An experiment's default artifact location: the server's default artifact root with the id appended. */
export const experimentArtifactLocation = (experimentId: string, root: string = PROXIED_ARTIFACT_ROOT) =>
  `${root}${root.endsWith("/") ? "" : "/"}${experimentId}`;

/** A run's artifact root below its experiment's root. */
export const runArtifactUri = (experimentArtifactRoot: string, runId: string) =>
  `${experimentArtifactRoot.replace(/\/+$/, "")}/${runId}/artifacts`;

/**
 * MLflow's order of "latest": the point with the highest step, then the highest timestamp, then the
 * highest value. NaN counts as lower than every number here, so a real value wins a tie with it.
 * Returns > 0 when `a` is later than `b`.
 */
export function compareMetricRecency(a: Metric, b: Metric): number {
  if (a.step !== b.step) return a.step - b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp - b.timestamp;
  const an = Number.isNaN(a.value);
  const bn = Number.isNaN(b.value);
  if (an || bn) return an === bn ? 0 : an ? -1 : 1;
  return a.value === b.value ? 0 : a.value > b.value ? 1 : -1;
}
