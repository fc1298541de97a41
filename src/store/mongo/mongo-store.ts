/**
 * The MongoDB store (production backend): `createMongoStore({ uri })`. Designed for MongoDB ≥ 6.0 (replica set or
 * sharded): every query is served by an index and a page or stream batch costs a constant number of round trips
 * (docs/mongodb.md). It also runs, correctly if slowly, on FerretDB v1.24 — the tests' stand-in — which it detects
 * when it connects (server-kind.ts) to take the paths FerretDB needs: no wildcard indexes, and run writes under a
 * per-run lease instead of MongoDB's atomic compare-and-set (run-writer.ts). Needs no transactions and no
 * multi-document atomicity: indexes.ts has the layout; run-writer.ts and experiment-store.ts say how concurrent
 * writers agree. The registry and logged models update their documents only under a per-model lease
 * (registry-lease.ts), itself an insert against a unique `_id`, so their writers are serialised on both servers —
 * LogBatch's updates of a logged model's search summaries too (logged-model-metrics.ts). The searches of experiments,
 * the registry and logged models are one find per page (docs/mongodb.md); init() upgrades documents of earlier
 * layouts (layout.ts).
 * Every method throws only AppError; driver errors are kept as `cause`.
 */
import { unavailable } from "../../domain/errors.js";
import type { ChangeStreamCapable, ReadableScopes, Store } from "../types.js";
import { DEFAULT_SERVER_SELECTION_TIMEOUT_MS, type MongoStoreOptions, openConnection } from "./connection.js";
import { scopeFilter } from "./scope-filter.js";
import { UNAVAILABLE_MESSAGE, guarded, toAppError } from "./errors.js";
import { createMongoChangeLog } from "./change-log.js";
import { createChangeStream } from "./change-stream.js";
import { createAuthStore } from "./auth-store.js";
import { createExperimentSearch } from "./experiment-search.js";
import { createExperimentStore, ensureDefaultExperiment } from "./experiment-store.js";
import { ensureIndexes } from "./indexes.js";
import { upgradeLayout } from "./layout.js";
import { linkMetrics } from "./logged-model-metrics.js";
import { createLoggedModelSearch } from "./logged-model-search.js";
import { createLoggedModelStore } from "./logged-model-store.js";
import { carryOverModelLinks } from "./metric-store.js";
import { createLeases } from "./registry-lease.js";
import { createRegistryReads } from "./registry-reads.js";
import { createRegistrySearch } from "./registry-search.js";
import { createRegistryStore } from "./registry-store.js";
import { createRunSearch } from "./run-search.js";
import { createRunStore } from "./run-store.js";
import { createRunWriter } from "./run-writer.js";
import { type ServerKind, detectServerKind } from "./server-kind.js";

export type { MongoStoreOptions } from "./connection.js";

/** Driver errors of a stream become AppErrors, as every other method's do. */
async function* guardedStream<T>(source: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* source;
  } catch (err) {
    throw toAppError(err);
  }
}

export function createMongoStore(options: MongoStoreOptions): Store & ChangeStreamCapable {
  const connection = openConnection(options);
  const { client, db, collections } = connection;
  const pingTimeoutMS = options.pingTimeoutMS ?? options.serverSelectionTimeoutMS ?? DEFAULT_SERVER_SELECTION_TIMEOUT_MS;
  let closed = false;
  const leases = createLeases(collections.leases, options.leases);
  // Found once per store, when it first talks to the server (init() does, before anything else).
  let kind: Promise<ServerKind> | undefined;
  const server = () => (kind ??= detectServerKind(db).catch((err: unknown) => {
    kind = undefined;
    throw err;
  }));
  /** Set by init(): replica sets and sharded clusters push change records (ChangeStreamCapable). */
  let changeStreams = false;
  /** Run and experiment writes append their change records to it (change-log.ts). */
  const changeLog = createMongoChangeLog(collections.changes);

  const lifecycle = guarded({
    async init(): Promise<void> {
      await client.connect();
      const found = await server();
      changeStreams = found.changeStreams;
      await ensureIndexes(collections, found);
      // Links first: the layout upgrade summarises logged models' metrics from them.
      await carryOverModelLinks(collections);
      await upgradeLayout(db, collections, leases);
      await ensureDefaultExperiment(collections, Date.now(), options.defaultArtifactRoot);
      await changeLog.init();
    },

    /**
     * Experiments, runs and registered models from collection metadata (the `count` command): O(1), exact outside
     * sharded clusters and crash recovery. Model versions by a count of the live ones (tombstones excluded).
     */
    async counts(readable?: ReadableScopes) {
      if (readable?.experiments || readable?.registeredModels) {
        // Restricted to what the caller may read: counts of index ranges ($in) or of all but a few ($nin).
        const models = scopeFilter("name", readable.registeredModels) ?? {};
        const [experiments, runs, registeredModels, modelVersions] = await Promise.all([
          collections.experiments.countDocuments(scopeFilter("_id", readable.experiments) ?? {}),
          collections.runs.countDocuments(scopeFilter("experiment_id", readable.experiments) ?? {}),
          collections.registeredModels.countDocuments(models),
          collections.modelVersions.countDocuments({ deleted: false, ...models }),
        ]);
        return { experiments, runs, registeredModels, modelVersions };
      }
      const [experiments, runs, registeredModels, modelVersions] = await Promise.all([
        collections.experiments.estimatedDocumentCount(),
        collections.runs.estimatedDocumentCount(),
        collections.registeredModels.estimatedDocumentCount(),
        collections.modelVersions.countDocuments({ deleted: false }),
      ]);
      return { experiments, runs, registeredModels, modelVersions };
    },

    async close(): Promise<void> {
      closed = true;
      await client.close();
    },
  });

  const runWriter = createRunWriter(collections, server, createLeases(collections.runLeases, options.leases, "this run"));
  const runStore = guarded(createRunStore(collections, runWriter, changeLog));
  const experimentStore = createExperimentStore(collections, changeLog, options.defaultArtifactRoot);
  const changeReads = guarded({
    async getRunWithSequence(runId: string) {
      // The head first: every record up to it describes a write already done, so the run read after has it.
      const seq = await changeLog.head();
      return { run: await runStore.getRun(runId), seq };
    },
    readChanges: changeLog.readChanges,
    readRunChanges: changeLog.readRunChanges,
    changeLogBounds: changeLog.changeLogBounds,
    pruneChanges: changeLog.pruneChanges,
  });
  const runSearch = createRunSearch(collections, server);
  const guardedSearch = guarded({
    searchRuns: runSearch.searchRuns,
    ...createExperimentSearch(collections),
    ...createRegistrySearch(collections, createRegistryReads(collections)),
    ...createLoggedModelSearch(collections),
    /** Model-linked points also update their logged models' search summaries (logged-model-metrics.ts). */
    async logBatch(runId: string, batch: Parameters<Store["logBatch"]>[1]) {
      await runStore.logBatch(runId, batch);
      if (batch.metrics.some((m) => m.modelId !== undefined)) await linkMetrics(collections, leases, runId, batch.metrics);
    },
  });

  return {
    status: { kind: "mongodb", location: connection.location },
    ...lifecycle,
    ...guarded(experimentStore),
    ...runStore,
    ...changeReads,
    onChange: changeLog.onChange,
    changeStream: () => (changeStreams ? createChangeStream(collections.changes) : undefined),
    ...guarded(createLoggedModelStore(collections, leases)),
    ...guarded(createRegistryStore(collections, leases)),
    ...guardedSearch,
    ...guarded(createAuthStore(collections)),
    streamRuns: (query, options) => guardedStream(runSearch.streamRuns(query, options)),

    /**
     * Server selection fails within serverSelectionTimeoutMS when the server is down; a server that accepts
     * connections but does not answer (frozen, partitioned) would hold a command until the driver's monitor gives
     * up (tens of seconds), so the answer is bounded here too. The driver keeps reconnecting in the background.
     */
    async ping(): Promise<void> {
      if (closed) throw unavailable("The store is closed.");
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(unavailable(UNAVAILABLE_MESSAGE, new Error(`ping: no answer within ${pingTimeoutMS} ms`))), pingTimeoutMS);
      });
      // Whatever stops the database from answering (down, unreachable, refusing us) means "not ready".
      const ping = db.command({ ping: 1 }).catch((err: unknown) => {
        throw unavailable(UNAVAILABLE_MESSAGE, err);
      });
      try {
        await Promise.race([ping, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
