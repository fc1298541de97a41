/**
 * Conversions between generated Tracking messages and domain entities. Enum prefixes, int64 bigints
 * and absent optional fields are handled here and nowhere else.
 */
import type { DatasetInput, Experiment, Metric, Run, RunInfo, RunStatus, Tag } from "../domain/entities.js";
import { invalidParameter } from "../domain/errors.js";
import * as pb from "../../gen/ts/logbook/v1/run.js";
import type * as epb from "../../gen/ts/logbook/v1/experiment.js";

const STATUS_TO_PROTO: Record<RunStatus, pb.RunStatus> = {
  RUNNING: pb.RunStatus.RUN_STATUS_RUNNING,
  SCHEDULED: pb.RunStatus.RUN_STATUS_SCHEDULED,
  FINISHED: pb.RunStatus.RUN_STATUS_FINISHED,
  FAILED: pb.RunStatus.RUN_STATUS_FAILED,
  KILLED: pb.RunStatus.RUN_STATUS_KILLED,
};

export const runStatusToProto = (s: RunStatus): pb.RunStatus => STATUS_TO_PROTO[s];

/** undefined for RUN_STATUS_UNSPECIFIED (meaning "leave unchanged"). */
export function runStatusFromProto(s: pb.RunStatus): RunStatus | undefined {
  if (s === pb.RunStatus.RUN_STATUS_UNSPECIFIED) return undefined;
  const found = (Object.keys(STATUS_TO_PROTO) as RunStatus[]).find((k) => STATUS_TO_PROTO[k] === s);
  if (!found) throw invalidParameter(`Invalid value ${s} for parameter 'status' supplied.`);
  return found;
}

/** int64 fields arrive as bigint; Logbook keeps them as safe JavaScript integers. */
export function int64ToNumber(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw invalidParameter(`Invalid value ${value} for parameter '${field}' supplied: it must be within ±(2^53 - 1).`);
  }
  return Number(value);
}

const optInt64 = (n: number | undefined) => (n === undefined ? undefined : BigInt(n));

export const tagToProto = (t: Tag) => ({ key: t.key, value: t.value });

export function experimentToProto(e: Experiment): epb.Experiment {
  return {
    experimentId: e.experimentId,
    name: e.name,
    artifactLocation: e.artifactLocation,
    lifecycleStage: e.lifecycleStage,
    lastUpdateTime: BigInt(e.lastUpdateTime),
    creationTime: BigInt(e.creationTime),
    tags: e.tags.map(tagToProto),
  };
}

export function runInfoToProto(i: RunInfo): pb.RunInfo {
  return {
    runId: i.runId,
    runUuid: i.runId,
    runName: i.runName,
    experimentId: i.experimentId,
    userId: i.userId,
    status: runStatusToProto(i.status),
    startTime: BigInt(i.startTime),
    endTime: optInt64(i.endTime),
    artifactUri: i.artifactUri,
    lifecycleStage: i.lifecycleStage,
  };
}

export function metricToProto(m: Metric): pb.Metric {
  return {
    key: m.key,
    value: m.value,
    timestamp: BigInt(m.timestamp),
    step: BigInt(m.step),
    runId: "",
    modelId: m.modelId,
    datasetName: m.datasetName,
    datasetDigest: m.datasetDigest,
  };
}

export function runToProto(r: Run): pb.Run {
  return {
    info: runInfoToProto(r.info),
    data: { metrics: r.data.metrics.map(metricToProto), params: r.data.params.map(tagToProto), tags: r.data.tags.map(tagToProto) },
    inputs: {
      datasetInputs: r.inputs.datasetInputs.map((d) => ({ tags: d.tags.map(tagToProto), dataset: { ...d.dataset } })),
      modelInputs: r.inputs.modelInputs.map((m) => ({ modelId: m.modelId })),
    },
    outputs: { modelOutputs: r.outputs.modelOutputs.map((o) => ({ modelId: o.modelId, step: BigInt(o.step) })) },
  };
}

/** A required-but-absent field, MLflow's message. `name` is the request path, e.g. `metrics[3].value`. */
export function missing(name: string) {
  return invalidParameter(
    `Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`,
  );
}

export function metricFromProto(m: pb.Metric, path: string): Metric {
  if (!m.key) throw missing(`${path}key`);
  if (m.value === undefined) throw missing(`${path}value`);
  if (m.timestamp === undefined) throw missing(`${path}timestamp`);
  const metric: Metric = {
    key: m.key,
    value: m.value,
    timestamp: int64ToNumber(m.timestamp, `${path}timestamp`),
    step: m.step === undefined ? 0 : int64ToNumber(m.step, `${path}step`),
  };
  if (m.modelId) metric.modelId = m.modelId;
  if (m.datasetName) metric.datasetName = m.datasetName;
  if (m.datasetDigest) metric.datasetDigest = m.datasetDigest;
  return metric;
}

/** Params and tags: key required, value present (an empty string is a value). */
export function tagFromProto(t: { key: string; value?: string | undefined }, path: string): Tag {
  if (!t.key) throw missing(`${path}key`);
  if (t.value === undefined) throw missing(`${path}value`);
  return { key: t.key, value: t.value };
}

export function datasetInputFromProto(d: pb.DatasetInput, path: string): DatasetInput {
  const ds = d.dataset;
  if (!ds) throw missing(`${path}dataset`);
  for (const f of ["name", "digest", "sourceType", "source"] as const) {
    if (!ds[f]) throw missing(`${path}dataset.${f === "sourceType" ? "source_type" : f}`);
  }
  const dataset: DatasetInput["dataset"] = { name: ds.name, digest: ds.digest, sourceType: ds.sourceType, source: ds.source };
  if (ds.schema !== undefined) dataset.schema = ds.schema;
  if (ds.profile !== undefined) dataset.profile = ds.profile;
  return { dataset, tags: d.tags.map((t, i) => tagFromProto(t, `${path}tags[${i}].`)) };
}
