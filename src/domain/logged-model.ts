/**
 * MLflow 3 logged models: a model's files, params and tags, recorded when a flavor's log_model runs and before any
 * registration. Metrics logged with the model's id are linked to it; registered versions made from it are its
 * registrations.
 */
import type { Metric, Tag } from "./entities.js";

export const LOGGED_MODEL_STATUSES = ["PENDING", "READY", "UPLOAD_FAILED"] as const;
export type LoggedModelStatus = (typeof LOGGED_MODEL_STATUSES)[number];

export interface LoggedModel {
  /** `m-` and 32 lowercase hex characters. */
  modelId: string;
  experimentId: string;
  name: string;
  creationTimestampMs: number;
  lastUpdatedTimestampMs: number;
  /** `<experiment artifact location>/models/<model_id>/artifacts`. */
  artifactUri: string;
  status: LoggedModelStatus;
  statusMessage?: string;
  creatorId?: string;
  modelType?: string;
  sourceRunId?: string;
  tags: Tag[];
  params: Tag[];
  /** Every point logged with this model's id, each with its run. */
  metrics: (Metric & { runId: string })[];
  /** Registered model versions made from this model (version numbers as strings, as on the wire). */
  registrations: { name: string; version: string }[];
}

/** A logged model's artifact root below its experiment's root. */
export const loggedModelArtifactUri = (experimentArtifactRoot: string, modelId: string) =>
  `${experimentArtifactRoot.replace(/\/+$/, "")}/models/${modelId}/artifacts`;

export const LOGGED_MODEL_ID_PATTERN = /^m-[0-9a-f]{32}$/;
