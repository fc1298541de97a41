/**
 * Conversions between generated logged-model messages and domain entities (shared by the Tracking and Search
 * services). The status enum's prefix and the absent optional fields are handled here and nowhere else.
 */
import type { Tag } from "../domain/entities.js";
import { invalidParameter } from "../domain/errors.js";
import type { LoggedModel, LoggedModelStatus } from "../domain/logged-model.js";
import * as pb from "../../gen/ts/logbook/v1/logged_model.js";
import { missing, tagToProto } from "./tracking-convert.js";

const STATUS_TO_PROTO: Record<LoggedModelStatus, pb.LoggedModelStatus> = {
  PENDING: pb.LoggedModelStatus.LOGGED_MODEL_STATUS_LOGGED_MODEL_PENDING,
  READY: pb.LoggedModelStatus.LOGGED_MODEL_STATUS_LOGGED_MODEL_READY,
  UPLOAD_FAILED: pb.LoggedModelStatus.LOGGED_MODEL_STATUS_LOGGED_MODEL_UPLOAD_FAILED,
};

export const loggedModelStatusToProto = (s: LoggedModelStatus): pb.LoggedModelStatus => STATUS_TO_PROTO[s];

/** undefined for LOGGED_MODEL_STATUS_UNSPECIFIED (not given); INVALID_PARAMETER_VALUE for a number no status has. */
export function loggedModelStatusFromProto(s: pb.LoggedModelStatus, field = "status"): LoggedModelStatus | undefined {
  if (s === pb.LoggedModelStatus.LOGGED_MODEL_STATUS_UNSPECIFIED) return undefined;
  const found = (Object.keys(STATUS_TO_PROTO) as LoggedModelStatus[]).find((k) => STATUS_TO_PROTO[k] === s);
  if (!found) throw invalidParameter(`Invalid value ${s} for parameter '${field}' supplied.`);
  return found;
}

/** The wire name of a status (`LOGGED_MODEL_READY`), for messages. */
export const loggedModelStatusWireName = (s: LoggedModelStatus) => `LOGGED_MODEL_${s}`;

/** Logged-model params and tags: key required; an absent value is empty, as MLflow reads it. */
export function loggedModelKeyValueFromProto(t: { key: string; value?: string | undefined }, path: string): Tag {
  if (!t.key) throw missing(`${path}key`);
  return { key: t.key, value: t.value ?? "" };
}

export function loggedModelToProto(m: LoggedModel): pb.LoggedModel {
  return {
    info: {
      modelId: m.modelId,
      experimentId: m.experimentId,
      name: m.name,
      creationTimestampMs: BigInt(m.creationTimestampMs),
      lastUpdatedTimestampMs: BigInt(m.lastUpdatedTimestampMs),
      artifactUri: m.artifactUri,
      status: loggedModelStatusToProto(m.status),
      creatorId: m.creatorId,
      modelType: m.modelType,
      sourceRunId: m.sourceRunId,
      statusMessage: m.statusMessage,
      tags: m.tags.map(tagToProto),
      registrations: m.registrations.map((r) => ({ name: r.name, version: r.version })),
    },
    data: {
      params: m.params.map(tagToProto),
      metrics: m.metrics.map((p) => ({
        key: p.key,
        value: p.value,
        timestamp: BigInt(p.timestamp),
        step: BigInt(p.step),
        runId: p.runId,
        modelId: p.modelId ?? m.modelId,
        datasetName: p.datasetName,
        datasetDigest: p.datasetDigest,
      })),
    },
  };
}
