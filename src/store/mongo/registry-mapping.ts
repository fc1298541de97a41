/**
 * The registry's and logged models' stored documents and their mapping to Logbook's entities (layout and indexes:
 * indexes.ts). A model version stores its registered model's immutable internal id, not its name, so a rename
 * writes one document; the name is joined in when a version is read.
 */
import type { LoggedModel, LoggedModelStatus } from "../../domain/logged-model.js";
import type { ModelVersion, ModelVersionStatus, RegisteredModel, RegisteredModelAlias, Stage } from "../../domain/model-registry.js";
import { type KeyValueDoc, fromKeyValues } from "./mapping.js";

export interface AliasDoc {
  alias: string;
  version: number;
}

/** `_id` = internal id ("rm-" + 32 hex), never changed; `name` is unique by index. */
export interface RegisteredModelDoc {
  _id: string;
  name: string;
  description: string;
  user_id: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  tags: KeyValueDoc[];
  /** Sorted by alias. */
  aliases: AliasDoc[];
}

/** The fields a live version has; a tombstone keeps only `_id`, `model`, `version` and `deleted: true`. */
export interface LiveVersionFields {
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id: string;
  current_stage: Stage;
  description: string;
  source: string;
  run_id: string;
  run_link: string;
  status: ModelVersionStatus;
  status_message?: string;
  tags: KeyValueDoc[];
  model_id?: string;
  storage_location?: string;
}

/** `_id` = modelVersionId(model, version). */
export type ModelVersionDoc = { _id: string; model: string; version: number } & (
  | ({ deleted: false } & LiveVersionFields)
  | ({ deleted: true } & Partial<LiveVersionFields>)
);

export type LiveVersionDoc = Extract<ModelVersionDoc, { deleted: false }>;

/** A lease on one registered or logged model (registry-lease.ts): `_id` = the model's id. */
export interface LeaseDoc {
  _id: string;
  owner: string;
  /** Epoch milliseconds (the acquirer's clock) after which another server may take the lease over. */
  expires_at: number;
}

/** `_id` = the model id ("m-" + 32 hex). A deleted one stays, flagged, and is invisible to every read. */
export interface LoggedModelDoc {
  _id: string;
  experiment_id: string;
  name: string;
  creation_timestamp_ms: number;
  last_updated_timestamp_ms: number;
  artifact_uri: string;
  status: LoggedModelStatus;
  status_message?: string;
  creator_id?: string;
  model_type?: string;
  source_run_id?: string;
  tags: KeyValueDoc[];
  params: KeyValueDoc[];
  deleted: boolean;
}

/** Internal ids: model versions and leases refer to a registered model by it, so a rename touches nothing else. */
export const REGISTERED_MODEL_ID_PREFIX = "rm-";

/** A version's `_id`: a number is taken by the first insert of this id and never again (tombstones keep it). */
export const modelVersionId = (model: string, version: number) => `${model}:${version}`;

const byAlias = (a: AliasDoc, b: AliasDoc) => (a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0);

/** `aliases` with `alias` pointing at `version` (moved if it pointed elsewhere), sorted. */
export const withAlias = (aliases: AliasDoc[], alias: string, version: number): AliasDoc[] =>
  [...aliases.filter((a) => a.alias !== alias), { alias, version }].sort(byAlias);

export function modelVersionFromDoc(doc: LiveVersionDoc, name: string, aliases: AliasDoc[]): ModelVersion {
  const version: ModelVersion = {
    name,
    version: doc.version,
    creationTimestamp: doc.creation_timestamp,
    lastUpdatedTimestamp: doc.last_updated_timestamp,
    userId: doc.user_id,
    currentStage: doc.current_stage,
    description: doc.description,
    source: doc.source,
    runId: doc.run_id,
    runLink: doc.run_link,
    status: doc.status,
    tags: fromKeyValues(doc.tags),
    aliases: aliases
      .filter((a) => a.version === doc.version)
      .map((a) => a.alias)
      .sort(),
  };
  if (typeof doc.status_message === "string") version.statusMessage = doc.status_message;
  if (typeof doc.model_id === "string") version.modelId = doc.model_id;
  if (typeof doc.storage_location === "string") version.storageLocation = doc.storage_location;
  return version;
}

export function registeredModelFromDoc(doc: RegisteredModelDoc, latestVersions: ModelVersion[]): RegisteredModel {
  return {
    name: doc.name,
    creationTimestamp: doc.creation_timestamp,
    lastUpdatedTimestamp: doc.last_updated_timestamp,
    userId: doc.user_id,
    description: doc.description,
    latestVersions,
    tags: fromKeyValues(doc.tags),
    aliases: [...(doc.aliases ?? [])].sort(byAlias).map((a): RegisteredModelAlias => ({ alias: a.alias, version: a.version })),
  };
}

export function loggedModelFromDoc(
  doc: LoggedModelDoc,
  metrics: LoggedModel["metrics"],
  registrations: LoggedModel["registrations"],
): LoggedModel {
  const model: LoggedModel = {
    modelId: doc._id,
    experimentId: doc.experiment_id,
    name: doc.name,
    creationTimestampMs: doc.creation_timestamp_ms,
    lastUpdatedTimestampMs: doc.last_updated_timestamp_ms,
    artifactUri: doc.artifact_uri,
    status: doc.status,
    tags: fromKeyValues(doc.tags),
    params: fromKeyValues(doc.params),
    metrics,
    registrations,
  };
  if (typeof doc.status_message === "string") model.statusMessage = doc.status_message;
  if (typeof doc.creator_id === "string") model.creatorId = doc.creator_id;
  if (typeof doc.model_type === "string") model.modelType = doc.model_type;
  if (typeof doc.source_run_id === "string") model.sourceRunId = doc.source_run_id;
  return model;
}
