/**
 * Input validation with MLflow's rules and messages (mlflow/utils/validation.py). Every check
 * throws INVALID_PARAMETER_VALUE; none touches storage, so a request that fails here changes nothing.
 */
import { posix } from "node:path";
import type { Metric, Tag } from "./entities.js";
import { invalidParameter } from "./errors.js";
import * as L from "./limits.js";

// Python's \w (MLflow's regex) is Unicode-aware: letters, digits and underscore of any script.
const VALID_KEY = /^[/\p{L}\p{N}_.\- :]*$/u;
const RUN_ID = /^[a-zA-Z0-9][\w-]{0,255}$/;
const EXPERIMENT_ID = /^[0-9]{1,19}$/;
const BAD_CHARACTERS =
  "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).";

export function requireField(value: unknown, name: string): void {
  if (value === undefined || value === null || value === "") {
    throw invalidParameter(`Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`);
  }
}

function pathNotUnique(name: string): boolean {
  const norm = posix.normalize(name);
  return norm !== name || norm === "." || norm.startsWith("..") || norm.startsWith("/");
}

/** Metric, param and tag keys: MLflow's character set, no path tricks, at most 250 characters. */
export function validateKey(kind: "metric" | "parameter" | "tag", key: string): void {
  const Kind = kind === "parameter" ? "Param" : kind === "metric" ? "Metric" : "Tag";
  if (!key) throw invalidParameter(`${Kind} name cannot be empty. A key name must be provided.`);
  if (!VALID_KEY.test(key)) throw invalidParameter(`Invalid ${kind} name: '${key}'. ${BAD_CHARACTERS}`);
  if (pathNotUnique(key)) {
    throw invalidParameter(
      `Invalid ${kind} name: '${key}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${posix.normalize(key)}'`,
    );
  }
  validateLength(`${kind === "metric" ? "Metric name" : `${Kind} key`}`, L.MAX_ENTITY_KEY_LENGTH, key);
}

export function validateLength(what: string, limit: number, value: string): void {
  if (value.length > limit) {
    throw invalidParameter(`${what} '${value.slice(0, 250)}' had length ${value.length}, which exceeded length limit of ${limit}`);
  }
}

/** MLflow 3 truncates over-long param and tag values instead of rejecting them. */
const truncate = (value: string, limit: number) => (value.length > limit ? value.slice(0, limit) : value);

export function validateRunId(runId: string): void {
  requireField(runId, "run_id");
  if (!RUN_ID.test(runId)) throw invalidParameter(`Invalid run ID: '${runId}'`);
}

export function validateExperimentId(experimentId: string): void {
  requireField(experimentId, "experiment_id");
  if (!EXPERIMENT_ID.test(experimentId)) {
    throw invalidParameter(`Invalid experiment ID '${experimentId}'. Experiment ID must be a valid integer.`);
  }
}

export function validateExperimentName(name: string): void {
  if (!name) throw invalidParameter(`Invalid experiment name: '${name}'`);
  if (name.length > L.MAX_EXPERIMENT_NAME_LENGTH) {
    throw invalidParameter(`Experiment name exceeds the maximum length of ${L.MAX_EXPERIMENT_NAME_LENGTH} characters`);
  }
}

export function validateExperimentTag(tag: Tag): Tag {
  validateKey("tag", tag.key);
  validateLength("Tag key", L.MAX_EXPERIMENT_TAG_KEY_LENGTH, tag.key);
  validateLength("Tag value", L.MAX_EXPERIMENT_TAG_VAL_LENGTH, tag.value);
  return tag;
}

export function validateParam(param: Tag): Tag {
  validateKey("parameter", param.key);
  return { key: param.key, value: truncate(param.value, L.MAX_PARAM_VAL_LENGTH) };
}

export function validateRunTag(tag: Tag): Tag {
  validateKey("tag", tag.key);
  return { key: tag.key, value: truncate(tag.value, L.MAX_TAG_VAL_LENGTH) };
}

const isSafeInteger = (n: number) => Number.isSafeInteger(n);

export function validateMetric(m: Metric): Metric {
  validateKey("metric", m.key);
  if (typeof m.value !== "number") {
    throw invalidParameter(
      `Got invalid value ${String(m.value)} for metric '${m.key}' (timestamp=${m.timestamp}). Please specify value as a valid double (64-bit floating point)`,
    );
  }
  if (!isSafeInteger(m.timestamp) || m.timestamp < 0) {
    throw invalidParameter(
      `Got invalid timestamp ${m.timestamp} for metric '${m.key}' (value=${m.value}). Timestamp must be a nonnegative long (64-bit integer) `,
    );
  }
  if (!isSafeInteger(m.step)) {
    throw invalidParameter(
      `Got invalid step ${m.step} for metric '${m.key}' (value=${m.value}). Step must be a valid long (64-bit integer) within ±(2^53 - 1).`,
    );
  }
  return m;
}

function validateBatchLimit(entity: string, limit: number, length: number): void {
  if (length > limit) {
    throw invalidParameter(
      `A batch logging request can contain at most ${limit} ${entity}. Got ${length} ${entity}. Please split up ${entity} across multiple requests and try again.`,
    );
  }
}

/** Validates a whole LogBatch before anything is written; returns params and tags as stored (truncated). */
export function validateBatch(batch: { metrics: Metric[]; params: Tag[]; tags: Tag[] }): {
  metrics: Metric[];
  params: Tag[];
  tags: Tag[];
} {
  validateBatchLimit("metrics", L.MAX_METRICS_PER_BATCH, batch.metrics.length);
  validateBatchLimit("params", L.MAX_PARAMS_TAGS_PER_BATCH, batch.params.length);
  validateBatchLimit("tags", L.MAX_PARAMS_TAGS_PER_BATCH, batch.tags.length);
  validateBatchLimit(
    "metrics, params, and tags",
    L.MAX_ENTITIES_PER_BATCH,
    batch.metrics.length + batch.params.length + batch.tags.length,
  );
  const seen = new Set<string>();
  const dupes: string[] = [];
  for (const p of batch.params) (seen.has(p.key) ? dupes.push(p.key) : seen.add(p.key));
  if (dupes.length) {
    throw invalidParameter(
      `Duplicate parameter keys have been submitted: [${dupes.map((d) => `'${d}'`).join(", ")}]. Please ensure the request contains only one param value per param key.`,
    );
  }
  return {
    metrics: batch.metrics.map(validateMetric),
    params: batch.params.map(validateParam),
    tags: batch.tags.map(validateRunTag),
  };
}

/** The message MLflow gives when a param is logged again with another value. */
export function paramChangedMessage(runId: string, key: string, oldValue: string, newValue: string): string {
  return `Changing param values is not allowed. Param with key='${key}' was already logged with value='${oldValue}' for run ID='${runId}'. Attempted logging new value '${newValue}'.`;
}
