/**
 * The storage contract. Every backend (mongo/, sqlite/) implements every member, and the same
 * conformance suite (contract.test.ts) runs against each. Stores throw only AppError:
 * RESOURCE_DOES_NOT_EXIST for unknown ids (getMetricHistory excepted: an unknown run has an empty history),
 * RESOURCE_ALREADY_EXISTS for duplicates (translated from the driver's duplicate-key error),
 * INVALID_PARAMETER_VALUE as documented per method,
 * TEMPORARILY_UNAVAILABLE when the database cannot be reached. Input is already validated by the
 * service layer; stores check only what needs stored state.
 */
import type { DatasetInput, DatasetSummary, Experiment, LifecycleStage, Metric, ModelOutput, Run, RunInfo, RunStatus, Tag } from "../domain/entities.js";
import type { OrderTerm, RunFilter } from "../domain/filter/ast.js";
import type { ExperimentClause, ExperimentOrderTerm } from "../domain/filter/experiment-search.js";
import type { SortKeyValues } from "../domain/filter/keyset-token.js";
import type { LoggedModelClause, LoggedModelDataset, LoggedModelOrderTerm } from "../domain/filter/logged-model-search.js";
import type { ModelVersionFilter, ModelVersionOrderTerm } from "../domain/filter/model-version-search.js";
import type { RegisteredModelFilter, RegisteredModelOrderTerm } from "../domain/filter/registered-model-search.js";
import type { LoggedModel, LoggedModelStatus } from "../domain/logged-model.js";
import type { ModelVersion, RegisteredModel, Stage } from "../domain/model-registry.js";
import type { RunChange } from "../domain/run-change.js";
import type { Grant, IdScope, ResourceType } from "../domain/permission.js";

export interface ExperimentStore {
  /**
   * Creates an experiment with the next free integer id (allocated atomically; never reused).
   * `artifactLocation` defaults to `mlflow-artifacts:/<id>`.
   * @throws RESOURCE_ALREADY_EXISTS when an experiment (active or deleted) has that name.
   */
  createExperiment(input: { name: string; artifactLocation?: string; tags: Tag[]; now: number }): Promise<string>;
  /** Active or deleted. @throws RESOURCE_DOES_NOT_EXIST "No Experiment with id=<id> exists" */
  getExperiment(experimentId: string): Promise<Experiment>;
  /** @returns null when no experiment has that name. */
  getExperimentByName(name: string): Promise<Experiment | null>;
  /** @throws RESOURCE_DOES_NOT_EXIST; RESOURCE_ALREADY_EXISTS when the name is taken. */
  renameExperiment(experimentId: string, newName: string, now: number): Promise<void>;
  /**
   * Deletes (stage "deleted") or restores (stage "active") an experiment together with its runs, as
   * MLflow does. @throws RESOURCE_DOES_NOT_EXIST
   */
  setExperimentLifecycle(experimentId: string, stage: LifecycleStage, now: number): Promise<void>;
  /** Upserts one tag. @throws RESOURCE_DOES_NOT_EXIST */
  setExperimentTag(experimentId: string, tag: Tag): Promise<void>;
  /** @throws RESOURCE_DOES_NOT_EXIST for an unknown experiment or "No tag with name: <key> in experiment with id <id>" */
  deleteExperimentTag(experimentId: string, key: string): Promise<void>;
}

export interface NewRun {
  runId: string;
  experimentId: string;
  userId: string;
  runName: string;
  startTime: number;
  tags: Tag[];
}

export interface RunUpdate {
  status?: RunStatus;
  endTime?: number;
  runName?: string;
}

export interface MetricHistoryPage {
  metrics: Metric[];
  /** Empty when this is the last page. */
  nextPageToken: string;
}

export interface RunStore {
  /**
   * Creates a run in an active experiment. Its artifact URI is `<experiment artifact location>/<run id>/artifacts`.
   * @throws RESOURCE_DOES_NOT_EXIST for an unknown experiment; INVALID_PARAMETER_VALUE (experimentNotActive) when the experiment is deleted.
   */
  createRun(run: NewRun): Promise<Run>;
  /** The whole run with the latest value of each metric. @throws RESOURCE_DOES_NOT_EXIST "Run with id=<id> not found" */
  getRun(runId: string): Promise<Run>;
  /**
   * Applies the given fields to an active run. @throws RESOURCE_DOES_NOT_EXIST; INVALID_PARAMETER_VALUE (runNotActive) when deleted.
   * A `runName` also sets the `mlflow.runName` tag, as MLflow does.
   */
  updateRun(runId: string, update: RunUpdate): Promise<RunInfo>;
  /** @throws RESOURCE_DOES_NOT_EXIST */
  setRunLifecycle(runId: string, stage: LifecycleStage, now: number): Promise<void>;
  /**
   * Writes metrics, params and tags to an active run in bulk (one write per kind, no per-point round trip).
   * Identical metric points (key, value, timestamp, step) are stored once; a point carrying a `modelId` also links that
   * logged model to it (once per model and point), whether or not the run already had the point — MLflow's
   * `log_model` re-logs the run's metrics with the new model's id —, and keeps its `datasetName`/`digest` on the link.
   * The run's latest value per key
   * follows `compareMetricRecency` whatever the arrival order, also under concurrent writers.
   * A param already logged with another value → INVALID_PARAMETER_VALUE (paramChangedMessage) and, when
   * detected before writing (the normal case), nothing of the batch is written. Tags are upserted.
   * @throws RESOURCE_DOES_NOT_EXIST; INVALID_PARAMETER_VALUE "The run <id> must be in the 'active' state. Current state is deleted."
   */
  logBatch(runId: string, batch: { metrics: Metric[]; params: Tag[]; tags: Tag[] }): Promise<void>;
  /** @throws RESOURCE_DOES_NOT_EXIST; INVALID_PARAMETER_VALUE (runNotActive) when deleted; RESOURCE_DOES_NOT_EXIST "No tag with name: <key> in run with id <id>" */
  deleteRunTag(runId: string, key: string): Promise<void>;
  /**
   * Records dataset inputs (a dataset already linked with the same name and digest is not added twice; its
   * input tags are replaced) and model inputs. @throws as logBatch.
   */
  logInputs(runId: string, inputs: { datasets: DatasetInput[]; modelIds: string[] }): Promise<void>;
  /** Records logged-model outputs of a run (idempotent per model id and step). @throws as logBatch. */
  logOutputs(runId: string, outputs: ModelOutput[]): Promise<void>;
  /**
   * The datasets logged to the runs of these experiments (deleted runs included: as in MLflow, a dataset belongs to
   * the experiment), each distinct (experiment, name, digest, context) once, at most `limit`, in experiment order and
   * then the order the datasets were first logged. Unknown experiment ids match nothing.
   */
  searchDatasets(experimentIds: string[], limit: number): Promise<DatasetSummary[]>;
  /**
   * The points of one metric in MLflow's history order — timestamp, then step, then value (NaN last) — keyset-paged
   * on that order. (Not the "latest" order, which is step first: see `compareMetricRecency`.)
   * `maxResults` undefined → every point. Page tokens are opaque; a malformed one → INVALID_PARAMETER_VALUE.
   * An unknown run has an empty history (MLflow answers `{}`), and stores do not look the run up to tell;
   * a deleted run's history is returned.
   */
  getMetricHistory(runId: string, key: string, page: { maxResults?: number; pageToken?: string }): Promise<MetricHistoryPage>;
  /**
   * Every point of one metric of each given run, in history order per run, read together (what
   * GetMetricHistoryBulkInterval samples from: at most 100 runs). Every given run id is a key of the answer; unknown
   * runs have empty histories.
   */
  getMetricHistories(runIds: string[], key: string): Promise<Map<string, Metric[]>>;
}

/** MLflow's ViewType: which lifecycle stages a search returns. */
export type ViewType = "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL";

export interface RunSearchQuery {
  /** The experiments searched; empty → every experiment. Ids no experiment has match nothing. */
  experimentIds: string[];
  /** Parsed by src/domain/filter (parseRunFilter); every clause must hold. */
  filter: RunFilter;
  /** Parsed order terms; MLflow's tie-break (start_time DESC, run_id ASC) always follows them. */
  order: OrderTerm[];
  /** Of the run itself (a deleted experiment's runs are deleted with it). */
  viewType: ViewType;
  /** The experiments the caller may read (permissions), one more condition of the query; unset: all. */
  readable?: IdScope;
}

export interface RunSearchPage {
  runs: Run[];
  /** Empty when this is the last page. */
  nextPageToken: string;
}

/**
 * Run search, with the semantics of src/domain/filter/run-order.ts (the reference both stores are tested against):
 * a run lacking a key fails every clause but IS NULL; NaN fails every metric comparison but `!=`; LIKE is
 * case-sensitive, ILIKE folds ASCII case; order by (rank, value) per term — values in the term's direction, then NaN,
 * then missing, in both directions — then start_time DESC, run_id ASC.
 */
export interface RunSearchStore {
  /**
   * One page of at most `maxResults` (≥ 1) runs in order, whole as getRun returns them. Pages are keyset-based: the
   * opaque token holds the last run's sort key (src/domain/filter/page-token.ts), so a page never skips rows and a run
   * written between pages appears once at most. @throws INVALID_PARAMETER_VALUE "Invalid page token" for a token this
   * store did not issue for this order.
   */
  searchRuns(query: RunSearchQuery, page: { maxResults: number; pageToken?: string }): Promise<RunSearchPage>;
  /**
   * Every matching run in order, read from the database in bounded batches as the consumer pulls (memory stays flat
   * with the consumer paused); leaving the iteration early (return()) closes what is open. `onRead` is told how many
   * rows/documents each database read returned (instrumentation; tests count at the source with it).
   */
  streamRuns(query: RunSearchQuery, options?: { batchSize?: number; onRead?: (rows: number) => void }): AsyncIterable<Run>;
}

/** One page of a keyset-paged search: at most `maxResults` (≥ 1) items after the sort key `after` (from the start without). */
export interface KeysetPage {
  maxResults: number;
  /** The sort key of the last item of the previous page (`next` of that page). */
  after?: SortKeyValues;
}

export interface SearchPage<T> {
  items: T[];
  /** The sort key of the last item, when more items follow; absent on the last page. */
  next?: SortKeyValues;
}

/**
 * The searches of experiments, registered models, model versions and logged models. Each is filtered, ordered and
 * keyset-paged by the database: no store reads what a page does not need, and none lists everything to filter it.
 * Orders are total (the parsers append MLflow's tie-breaks), and a sort key has one value per order term — a string,
 * a number, or null for a term without a value (an absent logged-model attribute or metric), which sorts after every
 * value whatever the direction. A page holds the items strictly after `after` in that order, so pages never skip or
 * repeat an item that stays put between them. Strings compare by code point (SQLite's BINARY, MongoDB's binary order);
 * LIKE is case-sensitive and ILIKE folds ASCII letters only, as on runs; a tag, param or optional attribute that an
 * item lacks fails every comparison (`!=` and NOT IN included) but IS NULL.
 *
 * Later conditions (a "readable by" restriction for permissions) are one more condition of the same query.
 */
export interface ExperimentSearchQuery {
  filter: ExperimentClause[];
  /** Ends with experiment_id (parseExperimentOrderBy). */
  order: ExperimentOrderTerm[];
  viewType: ViewType;
  /** The experiments the caller may read; unset: all. */
  readable?: IdScope;
}

export interface RegisteredModelSearchQuery {
  /** Prompts (models tagged `mlflow.prompt.is_prompt` = 'true') are left out unless `filter.prompts`. */
  filter: RegisteredModelFilter;
  /** Ends with name. */
  order: RegisteredModelOrderTerm[];
  /** The registered models (by name) the caller may read; unset: all. */
  readable?: IdScope;
}

export interface ModelVersionSearchQuery {
  /**
   * `name` is the registered model's; a version without a source run (run_id "") fails every run_id clause; prompt
   * versions (their own tag `mlflow.prompt.is_prompt` = 'true') are left out unless `filter.prompts`.
   */
  filter: ModelVersionFilter;
  /** Ends with name and version_number. */
  order: ModelVersionOrderTerm[];
  /** The registered models (by name) whose versions the caller may read; unset: all. */
  readable?: IdScope;
}

export interface LoggedModelSearchQuery {
  /** Live models of these experiments (none → none). */
  experimentIds: string[];
  /**
   * A metric clause holds when some linked point of the key — on one of `datasets` when given — compares true (NaN:
   * `!=` only). `datasets` without a metric clause keep the models with a linked point on one of them.
   */
  filter: LoggedModelClause[];
  datasets: LoggedModelDataset[];
  /**
   * Ends with creation_timestamp and model_id. A metric term sorts by the model's latest point of the key (on the
   * term's dataset when given): the highest timestamp, then step, then the smallest run id, then the smallest value;
   * a NaN latest value counts as no value. Status sorts as PENDING < READY < UPLOAD_FAILED.
   */
  order: LoggedModelOrderTerm[];
  /** The experiments whose logged models the caller may read; unset: all. */
  readable?: IdScope;
}

export interface SearchStore {
  /** Experiments whole (with tags). */
  searchExperiments(query: ExperimentSearchQuery, page: KeysetPage): Promise<SearchPage<Experiment>>;
  /** Registered models whole (tags, aliases, latest version per stage). */
  searchRegisteredModels(query: RegisteredModelSearchQuery, page: KeysetPage): Promise<SearchPage<RegisteredModel>>;
  /** Model versions whole (tags, aliases). */
  searchModelVersions(query: ModelVersionSearchQuery, page: KeysetPage): Promise<SearchPage<ModelVersion>>;
  /** Logged models whole (as getLoggedModel returns them). */
  searchLoggedModels(query: LoggedModelSearchQuery, page: KeysetPage): Promise<SearchPage<LoggedModel>>;
  /**
   * The versions made from any of these runs, whole, in no particular order: one bulk read (leaderboard entries);
   * with `readable`, only versions of those registered models (by name).
   */
  modelVersionsOfRuns(runIds: string[], readable?: IdScope): Promise<ModelVersion[]>;
}

export interface NewLoggedModel {
  /** `m-<32 hex>`, made by the service. */
  modelId: string;
  experimentId: string;
  name: string;
  modelType?: string;
  sourceRunId?: string;
  creatorId?: string;
  params: Tag[];
  tags: Tag[];
  now: number;
}

/**
 * MLflow 3 logged models. A deleted logged model is gone for every method (RESOURCE_DOES_NOT_EXIST
 * loggedModelNotFound), as in MLflow. Every returned model is whole: tags, params, linked metrics (every metric point
 * logged through logBatch with `modelId` equal to its id — its links, see logBatch —, in history order, each with its
 * run id) and registrations
 * (the live model versions whose `modelId` is its id, ordered by name then version).
 */
export interface LoggedModelStore {
  /**
   * Creates a PENDING model whose artifact URI is `<experiment artifact location>/models/<model_id>/artifacts`.
   * @throws RESOURCE_DOES_NOT_EXIST for an unknown experiment; INVALID_PARAMETER_VALUE (experimentNotActive) when deleted.
   */
  createLoggedModel(model: NewLoggedModel): Promise<LoggedModel>;
  /** @throws RESOURCE_DOES_NOT_EXIST loggedModelNotFound */
  getLoggedModel(modelId: string): Promise<LoggedModel>;
  /** Sets the status (and last-updated time). @throws as getLoggedModel */
  finalizeLoggedModel(modelId: string, status: LoggedModelStatus, now: number): Promise<LoggedModel>;
  /** @throws as getLoggedModel */
  deleteLoggedModel(modelId: string, now: number): Promise<void>;
  /** Upserts the tags. @throws as getLoggedModel */
  setLoggedModelTags(modelId: string, tags: Tag[], now: number): Promise<LoggedModel>;
  /** @throws as getLoggedModel; RESOURCE_DOES_NOT_EXIST loggedModelTagNotFound */
  deleteLoggedModelTag(modelId: string, key: string, now: number): Promise<void>;
  /**
   * Adds params; one already logged with the same value is accepted, with another value → INVALID_PARAMETER_VALUE
   * (loggedModelParamChanged) and nothing of the call is written. @throws as getLoggedModel
   */
  logLoggedModelParams(modelId: string, params: Tag[], now: number): Promise<void>;
}

export interface NewModelVersion {
  name: string;
  source: string;
  runId: string;
  runLink: string;
  description: string;
  userId: string;
  tags: Tag[];
  modelId?: string;
  /** The logged model's artifact URI for a version made from one. */
  storageLocation?: string;
  now: number;
}

/**
 * The model registry. Registered models are hard-deleted with everything they own; model versions are deleted for
 * good too, but their numbers are never reused. A returned RegisteredModel carries its tags, aliases and latest
 * version per stage; a returned ModelVersion its tags and aliases.
 *
 * Concurrency (both stores, several server processes on one database): createModelVersion numbers are exactly
 * 1, 2, 3… per model with no duplicate and no gap however many run at once; transitions of one model's versions are
 * serialised, so after any set of concurrent `archiveExisting` promotions to a stage exactly one version is in it.
 */
export interface RegistryStore {
  /** @throws RESOURCE_ALREADY_EXISTS registeredModelExists */
  createRegisteredModel(model: { name: string; description: string; userId: string; tags: Tag[]; now: number }): Promise<RegisteredModel>;
  /** @throws RESOURCE_DOES_NOT_EXIST registeredModelNotFound */
  getRegisteredModel(name: string): Promise<RegisteredModel>;
  /** Versions, tags and aliases follow. @throws as getRegisteredModel; RESOURCE_ALREADY_EXISTS when newName is taken */
  renameRegisteredModel(name: string, newName: string, now: number): Promise<RegisteredModel>;
  /** @throws as getRegisteredModel */
  updateRegisteredModel(name: string, description: string, now: number): Promise<RegisteredModel>;
  /** With its versions, tags and aliases. @throws as getRegisteredModel */
  deleteRegisteredModel(name: string): Promise<void>;
  /** Upserts. @throws as getRegisteredModel */
  setRegisteredModelTag(name: string, tag: Tag): Promise<void>;
  /** A key that is not set is not an error (MLflow). @throws as getRegisteredModel */
  deleteRegisteredModelTag(name: string, key: string): Promise<void>;
  /** The highest-numbered version in each given stage (all stages when empty), ordered by stage. @throws as getRegisteredModel */
  getLatestVersions(name: string, stages: Stage[]): Promise<ModelVersion[]>;

  /** Stage "None", status READY, the next number. @throws as getRegisteredModel */
  createModelVersion(version: NewModelVersion): Promise<ModelVersion>;
  /** @throws RESOURCE_DOES_NOT_EXIST registeredModelNotFound or modelVersionNotFound */
  getModelVersion(name: string, version: number): Promise<ModelVersion>;
  /** @throws as getModelVersion */
  updateModelVersion(name: string, version: number, description: string, now: number): Promise<ModelVersion>;
  /** And the aliases pointing at it. @throws as getModelVersion */
  deleteModelVersion(name: string, version: number, now: number): Promise<void>;
  /** @throws as getModelVersion */
  setModelVersionTag(name: string, version: number, tag: Tag): Promise<void>;
  /** A key that is not set is not an error (MLflow). @throws as getModelVersion */
  deleteModelVersionTag(name: string, version: number, key: string): Promise<void>;
  /**
   * Moves a version to a stage; with `archiveExisting`, every other version of the model in that stage moves to
   * Archived in the same serialised step. Updates both last-updated times. @throws as getModelVersion
   */
  transitionModelVersionStage(name: string, version: number, stage: Stage, archiveExisting: boolean, now: number): Promise<ModelVersion>;
  /** Every version of the model, newest first. @throws as getRegisteredModel */
  listModelVersionsOf(name: string): Promise<ModelVersion[]>;

  /** Points the alias at the version (moving it). @throws as getModelVersion */
  setRegisteredModelAlias(name: string, alias: string, version: number, now: number): Promise<void>;
  /** An alias that is not set is not an error. @throws as getRegisteredModel */
  deleteRegisteredModelAlias(name: string, alias: string, now: number): Promise<void>;
  /** @throws as getRegisteredModel; INVALID_PARAMETER_VALUE aliasNotFound (MLflow's code for an unknown alias) */
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion>;

}

/**
 * The change log of run writes (domain/run-change.ts) that live watches read. Every write that changes a run —
 * createRun, updateRun, setRunLifecycle, logBatch (its new params, its tags and the points it stored), deleteRunTag —
 * and setExperimentLifecycle (one record for the experiment's runs) appends one record in the same commit as the
 * change, so no record describes a write that did not happen. Sequences increase in commit order; several processes
 * sharing one database share one sequence. Records are kept until pruned (the server prunes those older than
 * `--watch-retention-s`), the newest always stays.
 */
export interface ChangeLogStore {
  /**
   * Calls `listener` with each record this store object commits, after the commit, in commit order (the in-process
   * feed: no read, no delay). Synchronous; the listener must not throw. Returns the function that unsubscribes.
   */
  onChange(listener: (change: RunChange) => void): () => void;
  /** The records with seq > `after`, by seq, at most `limit`: one read along the log's key (a poll). */
  readChanges(after: number, limit: number): Promise<RunChange[]>;
  /**
   * The records of one run and those of whole experiments (no runId) with seq > `after`, by seq, at most `limit`: one
   * read along an index on (run, seq) (a resume).
   */
  readRunChanges(runId: string, after: number, limit: number): Promise<RunChange[]>;
  /** `head`: the highest seq ever written (0 before the first); `oldest`: the lowest seq kept (head + 1 when none is). */
  changeLogBounds(): Promise<{ oldest: number; head: number }>;
  /**
   * The run as getRun returns it and the seq of the log its state reflects: every record up to `seq` is in it. On
   * SQLite no later one is (one read transaction); on MongoDB a record committed during the read may be in it too
   * (its watcher sees that change twice, never not at all). @throws as getRun
   */
  getRunWithSequence(runId: string): Promise<{ run: Run; seq: number }>;
  /** Deletes the records committed before `before` (ms since the epoch), except the newest. Returns how many went. */
  pruneChanges(before: number): Promise<number>;
}

/** A push source of change records committed by any process (a MongoDB change stream): the feed's other way in. */
export interface ChangeStream {
  /**
   * Starts telling `deliver` of every record inserted from about now on, in the order the database reports them;
   * `ready` once it listens (records committed before may be missed: the caller reads the log once then), `broken`
   * when it fails (the caller falls back to polling).
   */
  start(handlers: { deliver(change: RunChange): void; ready(): void; broken(err: unknown): void }): void;
  stop(): Promise<void>;
}

/**
 * An optional capability, checked when the server wires its change feed: stores that can push other processes'
 * change records. MongoDB replica sets and sharded clusters can; FerretDB, a standalone MongoDB and SQLite cannot
 * (their watchers poll the log).
 */
export interface ChangeStreamCapable {
  /** After init(): a change stream on the log, or undefined when the server has none. */
  changeStream(): ChangeStream | undefined;
}

export const canStreamChanges = (store: object): store is ChangeStreamCapable => typeof (store as Partial<ChangeStreamCapable>).changeStream === "function";

/** A user as stored: the password only as its hash (a self-describing scrypt string, src/services/auth/password-hash.ts). */
export interface UserRecord {
  id: number;
  username: string;
  passwordHash: string;
  isAdmin: boolean;
}

/** A personal access token as stored: the secret only as its SHA-256 (the token itself is shown once, at creation). */
export interface AccessTokenRecord {
  tokenId: string;
  userId: number;
  name: string;
  secretHash: string;
  createdAt: number;
  /** Milliseconds since the epoch; unset: never expires. */
  expiresAt?: number;
}

/**
 * Users, their grants and their access tokens (with `--auth basic`). Usernames are unique and case-sensitive; user ids
 * are integers allocated atomically and never reused. A user has at most one grant per (resource type, resource id).
 */
export interface AuthStore {
  /** @throws RESOURCE_ALREADY_EXISTS "User (username=<name>) already exists." */
  createUser(user: { username: string; passwordHash: string; isAdmin: boolean }): Promise<UserRecord>;
  /** @returns null when no user has that name. */
  getUser(username: string): Promise<UserRecord | null>;
  /** @returns null when no user has that id. */
  getUserById(id: number): Promise<UserRecord | null>;
  /** Every user, by id. */
  listUsers(): Promise<UserRecord[]>;
  /** Changes the given fields. @throws RESOURCE_DOES_NOT_EXIST "User with username=<name> not found" */
  updateUser(username: string, update: { passwordHash?: string; isAdmin?: boolean }): Promise<UserRecord>;
  /** Deletes a user with all their grants and tokens. @throws RESOURCE_DOES_NOT_EXIST as updateUser */
  deleteUser(username: string): Promise<void>;
  /**
   * Adds a grant. @throws RESOURCE_ALREADY_EXISTS "Permission for user=<name> on resource_type=<type>,
   * resource_id=<id> already exists." when the user has one there (`username` is for that message).
   */
  addGrant(grant: Grant, username: string): Promise<void>;
  /** Adds the grant or replaces the permission of the user's grant there (a creator's MANAGE). */
  putGrant(grant: Grant): Promise<void>;
  /** @throws RESOURCE_DOES_NOT_EXIST "Permission for user=<name> on resource_type=<type>, resource_id=<id> not found." */
  removeGrant(grant: Omit<Grant, "permission">, username: string): Promise<void>;
  /** A user's grants, by resource type and id. */
  listGrants(userId: number): Promise<Grant[]>;
  /** Removes every user's grants on one resource (a deleted registered model). */
  removeGrantsOn(resourceType: ResourceType, resourceId: string): Promise<void>;
  /** Moves every user's grants on one resource to its new id (a renamed registered model). */
  renameGrantsOn(resourceType: ResourceType, resourceId: string, newResourceId: string): Promise<void>;
  /** @throws RESOURCE_ALREADY_EXISTS when the token id is taken (random ids: practically never). */
  createAccessToken(token: AccessTokenRecord): Promise<void>;
  /** @returns null for an unknown (or revoked) token id. */
  getAccessToken(tokenId: string): Promise<AccessTokenRecord | null>;
  /** A user's tokens, oldest first. */
  listAccessTokens(userId: number): Promise<AccessTokenRecord[]>;
  /** @throws RESOURCE_DOES_NOT_EXIST "Access token <id> not found" when the user has no token with that id. */
  deleteAccessToken(userId: number, tokenId: string): Promise<void>;
}

/** What a caller may read, for counts: experiments (with their runs) by id, registered models (with their versions) by name. */
export interface ReadableScopes {
  experiments?: IdScope;
  registeredModels?: IdScope;
}

export interface StoreStatus {
  kind: "sqlite" | "mongodb";
  /** Where the data lives, without credentials. */
  location: string;
}

export interface Store extends ExperimentStore, RunStore, RunSearchStore, SearchStore, LoggedModelStore, RegistryStore, ChangeLogStore, AuthStore {
  readonly status: StoreStatus;
  /** Creates or migrates the schema and indexes, and the Default experiment "0" — idempotent and safe when several servers start at once. */
  init(): Promise<void>;
  /** Resolves when the database answers; throws TEMPORARILY_UNAVAILABLE otherwise. Cheap: used by health checks. */
  ping(): Promise<void>;
  /**
   * Counts for the status endpoint: every stored experiment (Default included) and run, deleted ones too; registered
   * models and (live) model versions — with `readable`, only those in the experiments and registered models given.
   */
  counts(readable?: ReadableScopes): Promise<{ experiments: number; runs: number; registeredModels: number; modelVersions: number }>;
  close(): Promise<void>;
}
