/**
 * The embedded store: one SQLite file in WAL mode through better-sqlite3. `init()` opens the file,
 * applies the pragmas and migrations and prepares every statement once; until then, and after
 * `close()`, every call fails with TEMPORARILY_UNAVAILABLE. Writes go through group commit
 * (group-commit.ts): acknowledged only once committed, with `synchronous = FULL` by default (durability.ts).
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { unavailable } from "../../domain/errors.js";
import { createLogOrder } from "../../domain/log-order.js";
import type { Run } from "../../domain/entities.js";
import type { RunChange } from "../../domain/run-change.js";
import type { ReadableScopes, RunSearchQuery, Store } from "../types.js";
import { type ChangeLog, createChangeLog } from "./change-log.js";
import type { SqlFragment } from "./filter-to-sql.js";
import { scopeToSql } from "./scope-to-sql.js";
import { toAppError } from "./errors.js";
import { createAuthStore } from "./auth-store.js";
import { createExperimentStore } from "./experiment-store.js";
import { type MetricStore, createMetricStore } from "./metric-store.js";
import { createRunState } from "./run-state.js";
import { type RunReader, createRunReader } from "./run-reader.js";
import { createRunStore } from "./run-store.js";
import { type RunSearch, createRunSearch } from "./run-search.js";
import { createExperimentSearch } from "./experiment-search.js";
import { createLoggedModelSearch } from "./logged-model-search.js";
import { createLoggedModelStore } from "./logged-model-store.js";
import { createRegistryReads } from "./registry-reads.js";
import { createRegistrySearch } from "./registry-search.js";
import { createRegistryStore } from "./registry-store.js";
import { DEFAULT_SQLITE_SYNCHRONOUS, type SqliteSynchronous } from "./durability.js";
import { createGroupCommit, type GroupCommit, type GroupCommitStats } from "./group-commit.js";
import { migrate } from "./schema.js";
import { lift } from "./synchronous.js";

export interface SqliteStoreOptions {
  /** The database file (created with its directory when missing), or ":memory:". */
  path: string;
  /** How long a writer waits for another connection's lock before giving up (ms). */
  busyTimeoutMs?: number;
  /** New experiments' locations are `<root>/<id>`; default `mlflow-artifacts:/`. */
  defaultArtifactRoot?: string;
  /** `synchronous` pragma (durability.ts); default "full". */
  synchronous?: SqliteSynchronous;
}

/** The embedded store, with its group-commit counters (for tests and diagnostics). */
export interface SqliteStore extends Store {
  readonly writeStats: Readonly<GroupCommitStats>;
  /** The `synchronous` setting the open connection really has (read back from SQLite). */
  synchronous(): SqliteSynchronous;
}

const SYNCHRONOUS_NAMES: Readonly<Record<number, SqliteSynchronous>> = { 0: "off", 1: "normal", 2: "full" };

interface OpenStore {
  db: Database.Database;
  group: GroupCommit;
  changes: ChangeLog;
  experiments: ReturnType<typeof createExperimentStore>;
  runs: ReturnType<typeof createRunStore>;
  metrics: MetricStore;
  search: RunSearch;
  /** Whole runs in bulk, in one read transaction. */
  readRuns: RunReader;
  experimentSearch: ReturnType<typeof createExperimentSearch>;
  registrySearch: ReturnType<typeof createRegistrySearch>;
  loggedModelSearch: ReturnType<typeof createLoggedModelSearch>;
  loggedModels: ReturnType<typeof createLoggedModelStore>;
  registry: ReturnType<typeof createRegistryStore>;
  auth: ReturnType<typeof createAuthStore>;
  ping: Database.Statement<[]>;
  counts: Database.Statement<[], Counts>;
}

type Counts = Awaited<ReturnType<Store["counts"]>>;

/** How long opening the file waits for another connection's lock (its migration). */
const OPEN_BUSY_TIMEOUT_MS = 30_000;

function open(options: SqliteStoreOptions, emit: (change: RunChange) => void): OpenStore {
  if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  try {
    // busy_timeout first: switching to WAL needs a lock that a concurrent opener may hold. Opening waits longer than
    // a call would: another process starting at the same moment may hold the lock through its migration, whose
    // fsync (synchronous = FULL) can take seconds on a busy disk.
    const busyTimeoutMs = Math.trunc(options.busyTimeoutMs ?? 5000);
    db.pragma(`busy_timeout = ${Math.max(busyTimeoutMs, OPEN_BUSY_TIMEOUT_MS)}`);
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${(options.synchronous ?? DEFAULT_SQLITE_SYNCHRONOUS).toUpperCase()}`);
    db.pragma("foreign_keys = ON");
    migrate(db, Date.now(), options.defaultArtifactRoot);
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    const runState = createRunState(db);
    const logOrder = createLogOrder();
    const readRuns = createRunReader(db);
    const changes = createChangeLog(db, readRuns, emit);
    const metrics = createMetricStore(db, runState, logOrder, changes);
    const runs = createRunStore(db, runState, readRuns, logOrder, changes);
    return {
      db,
      group: createGroupCommit(db, { committed: () => changes.publish(), rolledBack: () => changes.discard() }),
      changes,
      experiments: createExperimentStore(db, changes, options.defaultArtifactRoot),
      runs,
      metrics,
      search: createRunSearch(db, readRuns),
      readRuns: db.transaction(readRuns),
      experimentSearch: createExperimentSearch(db),
      registrySearch: createRegistrySearch(db, createRegistryReads(db)),
      loggedModelSearch: createLoggedModelSearch(db),
      loggedModels: createLoggedModelStore(db),
      registry: createRegistryStore(db),
      auth: createAuthStore(db),
      ping: db.prepare("SELECT 1"),
      counts: db.prepare(
        `SELECT (SELECT count(*) FROM experiments) AS experiments, (SELECT count(*) FROM runs) AS runs,
           (SELECT count(*) FROM registered_models) AS registeredModels, (SELECT count(*) FROM model_versions) AS modelVersions`,
      ),
    };
  } catch (err) {
    db.close();
    throw err;
  }
}

export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  let opened: OpenStore | undefined;
  let closed = false;
  const noWrites: GroupCommitStats = { commits: 0, acknowledged: 0, failed: 0 };

  const current = (): OpenStore => {
    if (opened === undefined || closed) throw unavailable("The SQLite store is not open");
    return opened;
  };

  const listeners = new Set<(change: RunChange) => void>();
  const emit = (change: RunChange) => {
    for (const listener of listeners) listener(change);
  };

  /**
   * A write through group commit: answered once its group's transaction is committed. The change records it appends
   * reach the listeners when that COMMIT returned (never for a write or group rolled back).
   */
  const write =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    async (...args: A): Promise<R> => {
      const store = current();
      try {
        return await store.group.write(() => {
          const mark = store.changes.mark();
          try {
            return fn(...args);
          } catch (err) {
            store.changes.rollbackTo(mark); // its savepoint is rolled back: so are its records
            throw err;
          }
        });
      } catch (err) {
        throw toAppError(err);
      }
    };

  return {
    status: { kind: "sqlite", location: options.path },
    get writeStats() {
      return opened?.group.stats ?? noWrites;
    },
    synchronous() {
      const level = current().db.pragma("synchronous", { simple: true }) as number;
      const name = SYNCHRONOUS_NAMES[level];
      if (!name) throw new Error(`unexpected synchronous level ${level}`);
      return name;
    },

    async init() {
      if (closed) throw unavailable("The SQLite store is closed");
      try {
        if (opened === undefined) opened = open(options, emit);
        else migrate(opened.db, Date.now(), options.defaultArtifactRoot);
      } catch (err) {
        throw toAppError(err);
      }
    },

    async ping() {
      try {
        current().ping.get();
      } catch (err) {
        throw unavailable("The SQLite database does not answer", err);
      }
    },

    counts: lift((readable?: ReadableScopes) => {
      if (!readable?.experiments && !readable?.registeredModels) return current().counts.get() as Counts;
      // The same counts, each with the caller's scope inside its query.
      const experiments = scopeToSql("experiment_id", readable.experiments, true);
      const models = scopeToSql("name", readable.registeredModels);
      const where = (f: SqlFragment | undefined) => (f ? `WHERE ${f.sql}` : "");
      const sql = `SELECT
          (SELECT count(*) FROM experiments ${where(experiments)}) AS experiments,
          (SELECT count(*) FROM runs ${where(experiments)}) AS runs,
          (SELECT count(*) FROM registered_models ${where(models)}) AS registeredModels,
          (SELECT count(*) FROM model_versions WHERE model_key IN (SELECT model_key FROM registered_models ${where(models)})) AS modelVersions`;
      const params = [...(experiments?.params ?? []), ...(experiments?.params ?? []), ...(models?.params ?? []), ...(models?.params ?? [])];
      return current().db.prepare(sql).get(...params) as Counts;
    }),

    async close() {
      opened?.group.flush(); // queued writes commit (or fail) before the file closes
      closed = true;
      opened?.db.close();
      opened = undefined;
    },

    createExperiment: write((input) => current().experiments.createExperiment(input)),
    getExperiment: lift((experimentId) => current().experiments.getExperiment(experimentId)),
    getExperimentByName: lift((name) => current().experiments.getExperimentByName(name)),
    renameExperiment: write((experimentId, newName, now) => current().experiments.renameExperiment(experimentId, newName, now)),
    setExperimentLifecycle: write((experimentId, stage, now) => current().experiments.setExperimentLifecycle(experimentId, stage, now)),
    setExperimentTag: write((experimentId, tag) => current().experiments.setExperimentTag(experimentId, tag)),
    deleteExperimentTag: write((experimentId, key) => current().experiments.deleteExperimentTag(experimentId, key)),

    createRun: write((run) => current().runs.createRun(run)),
    getRun: lift((runId) => current().runs.getRun(runId)),
    updateRun: write((runId, update) => current().runs.updateRun(runId, update)),
    setRunLifecycle: write((runId, stage, now) => current().runs.setRunLifecycle(runId, stage, now)),
    deleteRunTag: write((runId, key) => current().runs.deleteRunTag(runId, key)),
    logInputs: write((runId, inputs) => current().runs.logInputs(runId, inputs)),
    logOutputs: write((runId, outputs) => current().runs.logOutputs(runId, outputs)),
    searchDatasets: lift((experimentIds, limit) => current().runs.searchDatasets(experimentIds, limit)),
    logBatch: write((runId, batch) => current().metrics.logBatch(runId, batch)),
    getMetricHistory: lift((runId, key, page) => current().metrics.getMetricHistory(runId, key, page)),
    getMetricHistories: lift((runIds, key) => current().metrics.getMetricHistories(runIds, key)),

    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    readChanges: lift((after, limit) => current().changes.readChanges(after, limit)),
    readRunChanges: lift((runId, after, limit) => current().changes.readRunChanges(runId, after, limit)),
    changeLogBounds: lift(() => current().changes.changeLogBounds()),
    getRunWithSequence: lift((runId) => current().changes.getRunWithSequence(runId)),
    pruneChanges: lift((before) => current().changes.pruneChanges(before)),

    searchRuns: lift((query, page) => current().search.searchRuns(query, page)),
    searchExperiments: lift((query, page) => current().experimentSearch.searchExperiments(query, page)),
    searchRegisteredModels: lift((query, page) => current().registrySearch.searchRegisteredModels(query, page)),
    searchModelVersions: lift((query, page) => current().registrySearch.searchModelVersions(query, page)),
    modelVersionsOfRuns: lift((runIds, readable) => current().registrySearch.modelVersionsOfRuns(runIds, readable)),
    searchLoggedModels: lift((query, page) => current().loggedModelSearch.searchLoggedModels(query, page)),
    streamRuns: (query, options) => streamRuns(query, options),

    createLoggedModel: write((model) => current().loggedModels.createLoggedModel(model)),
    getLoggedModel: lift((modelId) => current().loggedModels.getLoggedModel(modelId)),
    finalizeLoggedModel: write((modelId, status, now) => current().loggedModels.finalizeLoggedModel(modelId, status, now)),
    deleteLoggedModel: write((modelId, now) => current().loggedModels.deleteLoggedModel(modelId, now)),
    setLoggedModelTags: write((modelId, tags, now) => current().loggedModels.setLoggedModelTags(modelId, tags, now)),
    deleteLoggedModelTag: write((modelId, key, now) => current().loggedModels.deleteLoggedModelTag(modelId, key, now)),
    logLoggedModelParams: write((modelId, params, now) => current().loggedModels.logLoggedModelParams(modelId, params, now)),

    createRegisteredModel: write((model) => current().registry.createRegisteredModel(model)),
    getRegisteredModel: lift((name) => current().registry.getRegisteredModel(name)),
    renameRegisteredModel: write((name, newName, now) => current().registry.renameRegisteredModel(name, newName, now)),
    updateRegisteredModel: write((name, description, now) => current().registry.updateRegisteredModel(name, description, now)),
    deleteRegisteredModel: write((name) => current().registry.deleteRegisteredModel(name)),
    setRegisteredModelTag: write((name, tag) => current().registry.setRegisteredModelTag(name, tag)),
    deleteRegisteredModelTag: write((name, key) => current().registry.deleteRegisteredModelTag(name, key)),
    getLatestVersions: lift((name, stages) => current().registry.getLatestVersions(name, stages)),
    createModelVersion: write((version) => current().registry.createModelVersion(version)),
    getModelVersion: lift((name, version) => current().registry.getModelVersion(name, version)),
    updateModelVersion: write((name, version, description, now) => current().registry.updateModelVersion(name, version, description, now)),
    deleteModelVersion: write((name, version, now) => current().registry.deleteModelVersion(name, version, now)),
    setModelVersionTag: write((name, version, tag) => current().registry.setModelVersionTag(name, version, tag)),
    deleteModelVersionTag: write((name, version, key) => current().registry.deleteModelVersionTag(name, version, key)),
    transitionModelVersionStage: write((name, version, stage, archiveExisting, now) =>
      current().registry.transitionModelVersionStage(name, version, stage, archiveExisting, now),
    ),
    listModelVersionsOf: lift((name) => current().registry.listModelVersionsOf(name)),
    setRegisteredModelAlias: write((name, alias, version, now) => current().registry.setRegisteredModelAlias(name, alias, version, now)),
    deleteRegisteredModelAlias: write((name, alias, now) => current().registry.deleteRegisteredModelAlias(name, alias, now)),
    getModelVersionByAlias: lift((name, alias) => current().registry.getModelVersionByAlias(name, alias)),

    createUser: lift((user) => current().auth.createUser(user)),
    getUser: lift((username) => current().auth.getUser(username)),
    getUserById: lift((id) => current().auth.getUserById(id)),
    listUsers: lift(() => current().auth.listUsers()),
    updateUser: lift((username, update) => current().auth.updateUser(username, update)),
    deleteUser: lift((username) => current().auth.deleteUser(username)),
    addGrant: lift((grant, username) => current().auth.addGrant(grant, username)),
    putGrant: lift((grant) => current().auth.putGrant(grant)),
    removeGrant: lift((grant, username) => current().auth.removeGrant(grant, username)),
    listGrants: lift((userId) => current().auth.listGrants(userId)),
    removeGrantsOn: lift((resourceType, resourceId) => current().auth.removeGrantsOn(resourceType, resourceId)),
    renameGrantsOn: lift((resourceType, resourceId, newResourceId) => current().auth.renameGrantsOn(resourceType, resourceId, newResourceId)),
    createAccessToken: lift((token) => current().auth.createAccessToken(token)),
    getAccessToken: lift((tokenId) => current().auth.getAccessToken(tokenId)),
    listAccessTokens: lift((userId) => current().auth.listAccessTokens(userId)),
    deleteAccessToken: lift((userId, tokenId) => current().auth.deleteAccessToken(userId, tokenId)),
  };

  /** Keyset pages of `batchSize` read as the consumer pulls: no statement stays open between pulls. */
  async function* streamRuns(query: RunSearchQuery, options: { batchSize?: number; onRead?: (rows: number) => void } = {}): AsyncGenerator<Run> {
    const batchSize = options.batchSize ?? 100;
    let pageToken: string | undefined;
    do {
      const page = await lift(() => {
        const ids = current().search.searchRunIds(query, { maxResults: batchSize, pageToken });
        options.onRead?.(ids.rowsRead);
        // A run removed between the page query and this read is left out: not part of the stream any more.
        return { runs: current().readRuns(ids.runIds), nextPageToken: ids.nextPageToken };
      })();
      yield* page.runs;
      pageToken = page.nextPageToken || undefined;
    } while (pageToken);
  }
}
