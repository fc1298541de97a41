/**
 * The MongoDB connection: one MongoClient per store, the database named by the URI path (default `logbook`),
 * and the typed collections. The driver reconnects by itself when the server comes back (its monitor keeps
 * probing and server selection asks for an immediate check), so nothing here caches a dead connection; a short
 * server-selection timeout makes calls fail fast (TEMPORARILY_UNAVAILABLE) while the database is down.
 */
import { type Collection, type CommandStartedEvent, type Db, MongoClient } from "mongodb";
import type { AccessTokenDoc, CounterDoc, ExperimentDoc, GrantDoc, HistoryDoc, ModelMetricDoc, UserDoc } from "./mapping.js";
import type { RunDoc } from "./run-document.js";
import type { ChangeDoc } from "./change-log.js";
import type { LeaseOptions } from "./registry-lease.js";
import type { LeaseDoc, LoggedModelDoc, ModelVersionDoc, RegisteredModelDoc } from "./registry-mapping.js";

export interface MongoStoreOptions {
  /** `mongodb://…/<database>`; the database defaults to `logbook`. */
  uri: string;
  /** How long an operation waits for a reachable server before failing TEMPORARILY_UNAVAILABLE (default 2000). */
  serverSelectionTimeoutMS?: number;
  /** Upper bound of `ping()`, also when the server accepts connections but does not answer (default 2000). */
  pingTimeoutMS?: number;
  /** Per-model leases of registry and logged-model writes (registry-lease.ts); defaults suit production. */
  leases?: LeaseOptions;
  /**
   * Instrumentation: told of every command the store sends (the driver's command monitoring: find, getMore,
   * killCursors, endSessions… — not its heartbeats). Tests count round trips with it.
   */
  onCommand?: (event: CommandStartedEvent) => void;
  /** New experiments' locations are `<root>/<id>`; default `mlflow-artifacts:/`. */
  defaultArtifactRoot?: string;
}

export const DEFAULT_DATABASE = "logbook";

/**
 * An acknowledged write is in the journal of a majority of the replica set, so it survives a primary's loss and
 * power loss — whatever default the cluster was given (an operator can lower MongoDB's default with
 * setDefaultRWConcern, and some layouts with arbiters default to w: 1). A write that cannot reach a majority
 * within 10 s fails (not acknowledged; it may still be applied) instead of holding its call forever.
 */
export const DURABLE_WRITES = { w: "majority", journal: true, wtimeoutMS: 10_000 } as const;
export const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 2000;

export interface Collections {
  counters: Collection<CounterDoc>;
  experiments: Collection<ExperimentDoc>;
  runs: Collection<RunDoc>;
  history: Collection<HistoryDoc>;
  runLeases: Collection<LeaseDoc>;
  registeredModels: Collection<RegisteredModelDoc>;
  modelVersions: Collection<ModelVersionDoc>;
  loggedModels: Collection<LoggedModelDoc>;
  modelMetrics: Collection<ModelMetricDoc>;
  leases: Collection<LeaseDoc>;
  changes: Collection<ChangeDoc>;
  users: Collection<UserDoc>;
  grants: Collection<GrantDoc>;
  accessTokens: Collection<AccessTokenDoc>;
}

export interface Connection {
  client: MongoClient;
  db: Db;
  collections: Collections;
  /** The URI without credentials or options, for the status endpoint. */
  location: string;
}

const URI = /^(mongodb(?:\+srv)?:\/\/)(?:[^@/]*@)?([^/?]*)(?:\/([^?]*))?/;

/** The database name and a credential-free location of a connection string. */
export function describeUri(uri: string): { database: string; location: string } {
  const match = URI.exec(uri);
  if (!match) return { database: DEFAULT_DATABASE, location: "mongodb" };
  const [, scheme, hosts, path] = match;
  const database = path ? decodeURIComponent(path) : DEFAULT_DATABASE;
  return { database, location: `${scheme}${hosts}/${database}` };
}

export function openConnection(options: MongoStoreOptions): Connection {
  const { database, location } = describeUri(options.uri);
  const client = new MongoClient(options.uri, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
    // Optional fields are left out of documents rather than stored as null.
    ignoreUndefined: true,
    appName: "logbook",
    monitorCommands: options.onCommand !== undefined,
    writeConcern: DURABLE_WRITES,
  });
  if (options.onCommand) client.on("commandStarted", options.onCommand);
  const db = client.db(database);
  return {
    client,
    db,
    location,
    collections: {
      counters: db.collection<CounterDoc>("counters"),
      experiments: db.collection<ExperimentDoc>("experiments"),
      runs: db.collection<RunDoc>("runs"),
      history: db.collection<HistoryDoc>("metric_history"),
      runLeases: db.collection<LeaseDoc>("run_leases"),
      registeredModels: db.collection<RegisteredModelDoc>("registered_models"),
      modelVersions: db.collection<ModelVersionDoc>("model_versions"),
      loggedModels: db.collection<LoggedModelDoc>("logged_models"),
      modelMetrics: db.collection<ModelMetricDoc>("logged_model_metrics"),
      leases: db.collection<LeaseDoc>("registry_leases"),
      changes: db.collection<ChangeDoc>("run_changes"),
      users: db.collection<UserDoc>("users"),
      grants: db.collection<GrantDoc>("grants"),
      accessTokens: db.collection<AccessTokenDoc>("access_tokens"),
    },
  };
}
