/**
 * The registry's and logged models' stored documents and their mapping to Logbook's entities (layout and indexes:
 * indexes.ts). A model version stores its registered model's immutable internal id, not its name, so a rename
 * writes one document; the name is joined in when a version is read.
 */
import type { LoggedModel, LoggedModelStatus } from "../../domain/logged-model.js";
import type { ModelVersion, ModelVersionStatus, RegisteredModel, RegisteredModelAlias, Stage } from "../../domain/model-registry.js";
import { type KeyFields, fromKeyFields } from "./key-fields.js";

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
  tags: KeyFields;
  /** Sorted by alias. */
  aliases: AliasDoc[];
  /**
   * Set by a rename while it copies the new name onto the model's versions; whoever next holds the model's lease (or
   * the next init()) finishes the copy, so a rename cut short by a crash is completed (registry-store.ts).
   */
  renaming?: true;
}

/** The fields a live version has; a tombstone keeps only `_id`, `model`, `version` and `deleted: true`. */
export interface LiveVersionFields {
  /** Its registered model's name, copied here (and by renames) so searches filter and sort versions by it. */
  name: string;
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
  tags: KeyFields;
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
  /** 1 when model_type / source_run_id is set: a search sorting by it puts models without it last (search-query.ts). */
  has_model_type?: 1;
  has_source_run_id?: 1;
  tags: KeyFields;
  params: KeyFields;
  deleted: boolean;
  /** Linked-metric summaries and datasets, for searches (logged-model-metrics.ts). */
  metrics?: LinkedMetricSummaries;
  datasets?: LinkedDatasets;
}

/**
 * What a search needs of a logged model's linked points of one key in one scope (every dataset, one dataset name, one
 * name and digest): the lowest and highest value (valueSortKey strings, NaN left out, -0 as 0), whether a NaN was
 * logged, and the latest point — by timestamp, then step, then the smallest run id, then the smallest value — whose
 * value sort key `v` (with `p: 1`) is what the search orders by; a NaN latest point has neither (it sorts as missing).
 */
export interface MetricScopeSummary {
  lo?: string;
  hi?: string;
  nan?: true;
  ts: number;
  step: number;
  run: string;
  /** valueSortKey of the latest value, NaN included: the last tie-break between latest candidates. */
  vs: string;
  v?: string;
  p?: 1;
}

/** By encoded metric key: `a` (any dataset), `n.<name>` (a dataset name), `d.<name>.<digest>` (names and digests encoded). */
export type LinkedMetricSummaries = Record<
  string,
  { a: MetricScopeSummary; n?: Record<string, MetricScopeSummary>; d?: Record<string, Record<string, MetricScopeSummary>> }
>;

/** The datasets (encoded names, and digests by name) some linked point was logged on: `n.<name>: 1`, `d.<name>.<digest>: 1`. */
export interface LinkedDatasets {
  n?: Record<string, 1>;
  d?: Record<string, Record<string, 1>>;
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
    tags: fromKeyFields(doc.tags),
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
    tags: fromKeyFields(doc.tags),
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
    tags: fromKeyFields(doc.tags),
    params: fromKeyFields(doc.params),
    metrics,
    registrations,
  };
  if (typeof doc.status_message === "string") model.statusMessage = doc.status_message;
  if (typeof doc.creator_id === "string") model.creatorId = doc.creator_id;
  if (typeof doc.model_type === "string") model.modelType = doc.model_type;
  if (typeof doc.source_run_id === "string") model.sourceRunId = doc.source_run_id;
  return model;
}
