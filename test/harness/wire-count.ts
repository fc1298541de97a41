/**
 * Counting the MongoDB wire messages a store sends, for round-trip budgets: every command the driver reports through
 * command monitoring (find, getMore, killCursors, endSessions, insert, update, …). The driver's monitoring
 * heartbeats and connection handshakes are not commands and are not counted. Each command is one request message
 * and one round trip (the store never uses exhaust cursors or unacknowledged writes).
 *
 *   const { store, wire } = openCountedMongoStore(mongoTestUri("budgets"));
 *   await store.init();
 *   const { messages } = await wire.measure(() => store.getRun(runId));
 *   expect(messages.total).toBeLessThanOrEqual(3);
 *
 * Measure one operation at a time: everything the store sends while `measure` runs is counted.
 *
 * `collectionScans` explains what was sent (on MongoDB only: FerretDB's explain describes its own SQLite query, which
 * says nothing about MongoDB's plans).
 */
import type { CommandStartedEvent, Db, Document } from "mongodb";
import { type MongoStoreOptions, createMongoStore } from "../../src/store/mongo/mongo-store.js";
import type { Store } from "../../src/store/types.js";

export interface WireMessages {
  total: number;
  /** Per command name: `{find: 2, getMore: 1}`. */
  byCommand: Record<string, number>;
  /** Per command and collection: `{"find runs": 1, "insert metric_history": 1}`. */
  byTarget: Record<string, number>;
  /** The commands themselves, in order (only when the counter keeps them). */
  commands: { name: string; collection?: string; command: Document }[];
}

export interface WireCounter {
  /** Pass as `onCommand` to createMongoStore. */
  listener: (event: CommandStartedEvent) => void;
  /** Messages since the last reset. */
  snapshot(): WireMessages;
  reset(): void;
  /** Runs `work` and returns what it sent (the counter is reset first). */
  measure<T>(work: () => Promise<T>): Promise<{ result: T; messages: WireMessages }>;
}

/** The collection a command addresses, when it names one (getMore names it in `collection`). */
function collectionOf(event: CommandStartedEvent): string | undefined {
  const target = event.commandName === "getMore" ? event.command.collection : event.command[event.commandName];
  return typeof target === "string" ? target : undefined;
}

const empty = (): WireMessages => ({ total: 0, byCommand: {}, byTarget: {}, commands: [] });

export function createWireCounter(options: { keepCommands?: boolean } = {}): WireCounter {
  let current = empty();
  const counter: WireCounter = {
    listener(event) {
      const collection = collectionOf(event);
      current.total += 1;
      current.byCommand[event.commandName] = (current.byCommand[event.commandName] ?? 0) + 1;
      const target = collection === undefined ? event.commandName : `${event.commandName} ${collection}`;
      current.byTarget[target] = (current.byTarget[target] ?? 0) + 1;
      if (options.keepCommands) current.commands.push({ name: event.commandName, collection, command: structuredClone(event.command) });
    },
    snapshot: () => structuredClone(current),
    reset() {
      current = empty();
    },
    async measure(work) {
      counter.reset();
      const result = await work();
      return { result, messages: counter.snapshot() };
    },
  };
  return counter;
}

/** A MongoDB store (not yet initialised) whose every command is counted by `wire`. */
export function openCountedMongoStore(uri: string, options: Omit<MongoStoreOptions, "uri" | "onCommand"> & { keepCommands?: boolean } = {}): { store: Store; wire: WireCounter } {
  const { keepCommands, ...storeOptions } = options;
  const wire = createWireCounter({ keepCommands });
  return { store: createMongoStore({ ...storeOptions, uri, onCommand: wire.listener }), wire };
}

/** The explain commands of one sent command: none for commands without a query plan. */
function explainableOf(name: string, command: Document): Document[] {
  // Session, transaction and concern fields belong to the command's execution, not to its plan.
  const body = Object.fromEntries(
    Object.entries(command).filter(([field]) => !["lsid", "$db", "$clusterTime", "$readPreference", "txnNumber", "writeConcern", "readConcern", "apiVersion"].includes(field)),
  );
  switch (name) {
    case "find":
    case "aggregate":
    case "count":
    case "distinct":
    case "findAndModify":
      return [body];
    case "update":
      return (body.updates as Document[]).map((u) => ({ update: body.update, updates: [u] }));
    case "delete":
      return (body.deletes as Document[]).map((d) => ({ delete: body.delete, deletes: [d] }));
    default:
      return [];
  }
}

/** Every `stage` of the winning plans in an explain answer (a sharded cluster's answer has one per shard). */
function winningStages(explained: unknown, inWinningPlan = false, stages: string[] = []): string[] {
  if (Array.isArray(explained)) for (const x of explained) winningStages(x, inWinningPlan, stages);
  else if (explained && typeof explained === "object") {
    for (const [key, value] of Object.entries(explained)) {
      if (key === "stage" && inWinningPlan) stages.push(String(value));
      else winningStages(value, inWinningPlan || key === "winningPlan", stages);
    }
  }
  return stages;
}

/**
 * The commands among `commands` (kept by a counter made with `keepCommands`) whose winning plan on MongoDB scans a
 * collection (explain, queryPlanner verbosity), as JSON. Call it against MongoDB only.
 */
export async function collectionScans(db: Db, commands: WireMessages["commands"]): Promise<string[]> {
  const offenders: string[] = [];
  for (const { name, command } of commands) {
    for (const explainable of explainableOf(name, command)) {
      const plan = await db.command({ explain: explainable, verbosity: "queryPlanner" });
      if (winningStages(plan).includes("COLLSCAN")) offenders.push(JSON.stringify(explainable));
    }
  }
  return offenders;
}
