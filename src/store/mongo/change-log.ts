/**
 * The change log on MongoDB (store/types.ts ChangeLogStore): collection `run_changes`, one document per committed run
 * write, `{_id: seq, r: run id | null, e: experiment id, at, items}` (items as domain/run-change.ts encodes them).
 *
 * A seq is taken by inserting its `_id` — the one write FerretDB makes atomically, and one round trip on both
 * servers: the next number this process knows of, and on a duplicate key (another process took it) the highest
 * stored plus one. The record is inserted after the write it describes succeeded, so no record describes a write that
 * did not happen; the price is that records of several processes can become visible out of seq order (a process took
 * 17 while 16 is on its way), which the change feed handles as a gap: it waits for 16, and skips it if it never comes
 * (its writer died between the write and the record). A write whose record failed to insert fails the call, as the
 * database is gone: the client's retry stores nothing new, so that change reaches no watcher (it is in the data).
 *
 * Reads: polls and bounds walk `_id`; a run's records (and the experiments' ones, `r: null`) walk `{r, _id}`. Pruning
 * deletes an `_id` range from the oldest (FerretDB has no TTL indexes), always keeping the newest record.
 */
import type { Collection } from "mongodb";
import { type ChangeItem, type RunChange, decodeChangeItems, encodeChangeItems } from "../../domain/run-change.js";
import type { ChangeLogStore } from "../types.js";
import { MAX_CAS_ATTEMPTS, contended, isDuplicateKeyError } from "./errors.js";

export interface ChangeDoc {
  _id: number;
  /** null for a change of a whole experiment's runs. */
  r: string | null;
  e: string;
  /** Commit time (ms), for retention. */
  at: number;
  items: string;
}

/** What the run and experiment writes need: one record appended after their change succeeded. */
export interface ChangeAppender {
  /** Writes one record (one insert), and tells the in-process listeners. */
  append(change: { runId?: string; experimentId: string; items: ChangeItem[] }): Promise<void>;
}

export interface MongoChangeLog extends ChangeAppender, Omit<ChangeLogStore, "onChange" | "getRunWithSequence"> {
  /** Reads the highest seq stored (init()), so that appends start from it without a read of their own. */
  init(): Promise<void>;
  /** The highest seq stored (0 before the first): one read. */
  head(): Promise<number>;
  onChange: ChangeLogStore["onChange"];
}

/** A stored record as the feed takes it. */
export const toChange = (doc: ChangeDoc): RunChange => ({
  seq: doc._id,
  ...(doc.r === null ? {} : { runId: doc.r }),
  experimentId: doc.e,
  at: doc.at,
  items: decodeChangeItems(doc.items),
});

export function createMongoChangeLog(changes: Collection<ChangeDoc>, now: () => number = Date.now): MongoChangeLog {
  const listeners = new Set<(change: RunChange) => void>();
  /** The highest seq this process has taken or seen stored (read by init(), else by the first append). */
  let known: number | undefined;

  const highest = async (): Promise<number> => (await changes.find({}, { projection: { _id: 1 } }).sort({ _id: -1 }).limit(1).next())?._id ?? 0;
  const lowest = async (): Promise<number | undefined> => (await changes.find({}, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(1).next())?._id;

  return {
    async init() {
      known = Math.max(known ?? 0, await highest());
    },

    async append(change) {
      if (change.items.length === 0) return;
      const doc = { r: change.runId ?? null, e: change.experimentId, at: now(), items: encodeChangeItems(change.items) };
      known ??= await highest();
      for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
        const seq = ++known;
        try {
          await changes.insertOne({ _id: seq, ...doc });
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
          known = Math.max(known, await highest());
          continue;
        }
        const record: RunChange = { seq, ...(change.runId === undefined ? {} : { runId: change.runId }), experimentId: change.experimentId, at: doc.at, items: change.items };
        for (const listener of listeners) listener(record);
        return;
      }
      throw contended("the change log");
    },

    head: highest,

    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },

    async readChanges(after, limit) {
      const docs = await changes.find({ _id: { $gt: after } }).sort({ _id: 1 }).limit(limit).toArray();
      // What polls see keeps this process's next number close to the others' (fewer duplicate keys on append).
      const last = docs.at(-1)?._id;
      if (known !== undefined && last !== undefined && last > known) known = last;
      return docs.map(toChange);
    },

    async readRunChanges(runId, after, limit) {
      const [own, experiments] = await Promise.all([
        changes.find({ r: runId, _id: { $gt: after } }).sort({ _id: 1 }).limit(limit).toArray(),
        changes.find({ r: null, _id: { $gt: after } }).sort({ _id: 1 }).limit(limit).toArray(),
      ]);
      return [...own, ...experiments].sort((a, b) => a._id - b._id).slice(0, limit).map(toChange);
    },

    async changeLogBounds() {
      const [head, oldest] = await Promise.all([highest(), lowest()]);
      return { head, oldest: oldest ?? head + 1 };
    },

    async pruneChanges(before) {
      const newest = await highest();
      if (newest === 0) return 0;
      // Walks `_id` from the oldest: the documents it passes are the ones to delete (commit times follow seqs).
      const firstKept = (await changes.find({ at: { $gte: before } }, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(1).next())?._id;
      const below = Math.min(firstKept ?? newest, newest);
      const { deletedCount } = await changes.deleteMany({ _id: { $lt: below } });
      return deletedCount;
    },
  };
}
