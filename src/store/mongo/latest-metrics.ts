/**
 * The latest value of each (run, key), kept in `latest_metrics` without transactions and without lost updates.
 *
 * Writes are conditional upserts in one unordered bulkWrite: `updateOne({_id, rk: {$lt: new rk}}, {$set: point},
 * {upsert: true})` replaces an older stored point and inserts a missing one. A duplicate-key error means the
 * stored point was newer or equal — or that another writer inserted the first point of the key a moment earlier,
 * which may be older. So a bulk that wrote something or failed is followed by a settling read: the stored latest
 * documents of the keys, then any history point newer than each — one `$or` query with a clause
 * `{run_id, key, rk: {$gt: stored rk}}` per key, on the recency key every history document carries (its `_id` is
 * in history order, timestamp first, so no `_id` range holds "newer"; the index run_key_recency serves it);
 * the newest of those per key is upserted in turn, until nothing newer remains.
 *
 * Why that converges: history is written before latest, and each writer settles after its own last write. So
 * the last write to a key is followed by a read of every history point of that key newer than what it left
 * stored, by the writer who made it, which writes again if anything is newer. A bulk that wrote nothing and
 * failed nowhere needs no settling: the stored points were newer when the server looked, and whoever lowers one
 * later settles after that write.
 *
 * On MongoDB the conditional upsert is atomic and settling only resolves the duplicate-key cases. FerretDB v1.24
 * is why the read covers every write: its updates read and then write a document without isolation (a slower
 * concurrent update can put an older point back), and it stops an update batch at its first error.
 *
 * Settling scans history on FerretDB (it pushes down no range), so concurrent batches for one run within a
 * process are coalesced: one settling pass takes the newest candidate per key of every batch waiting, and each
 * batch's promise resolves after a pass that started once its points were in history.
 */
import type { Collections } from "./connection.js";
import { contended, isDuplicateKeyError } from "./errors.js";
import { type HistoryDoc, type LatestMetricDoc, latestDocOf, metricFromDoc } from "./mapping.js";
import { runIdRange } from "./value-encoding.js";

/** The fields a Metric is read from. */
export const METRIC_PROJECTION = { key: 1, step: 1, ts: 1, v: 1, x: 1, model_id: 1, dataset_name: 1, dataset_digest: 1, o: 1 } as const;

/** Fields of a latest document a newer point may lack: a replacement unsets them. */
const OPTIONAL_FIELDS = ["v", "x", "model_id", "dataset_name", "dataset_digest"] as const;

/** Settling rounds before giving up: each round after the first means another writer moved a key meanwhile. */
const MAX_SETTLE_ROUNDS = 25;

export interface LatestMetrics {
  /** Makes the stored latest point of each candidate's key at least as recent as the candidate (already in history). */
  settle(runId: string, experimentId: string, candidates: LatestMetricDoc[]): Promise<void>;
  /** The latest point of each metric of a run (the fields of a Metric). */
  read(runId: string): Promise<LatestMetricDoc[]>;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

interface RunQueue {
  experimentId: string;
  candidates: Map<string, LatestMetricDoc>;
  waiters: Waiter[];
}

export function createLatestMetrics(c: Collections): LatestMetrics {
  /** Runs with a settling pass under way, and what waits for the next one. */
  const queues = new Map<string, RunQueue>();

  async function drain(runId: string, queue: RunQueue): Promise<void> {
    while (queue.waiters.length > 0) {
      const candidates = [...queue.candidates.values()];
      const waiters = queue.waiters;
      queue.candidates = new Map();
      queue.waiters = [];
      try {
        await settleLatest(c, runId, queue.experimentId, candidates);
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
      }
    }
    queues.delete(runId);
  }

  return {
    settle(runId, experimentId, candidates) {
      if (candidates.length === 0) return Promise.resolve();
      let queue = queues.get(runId);
      const idle = queue === undefined;
      if (!queue) {
        queue = { experimentId, candidates: new Map(), waiters: [] };
        queues.set(runId, queue);
      }
      for (const candidate of candidates) {
        const best = queue.candidates.get(candidate._id);
        if (!best || candidate.rk > best.rk) queue.candidates.set(candidate._id, candidate);
      }
      const done = new Promise<void>((resolve, reject) => queue.waiters.push({ resolve, reject }));
      if (idle) void drain(runId, queue);
      return done;
    },

    read: (runId) => c.latest.find({ _id: runIdRange(runId) }, { projection: METRIC_PROJECTION }).toArray(),
  };
}

/** Conditional upserts of `docs`; false when they certainly changed nothing (no write, no error). */
async function upsertLatest(c: Collections, docs: LatestMetricDoc[]): Promise<boolean> {
  if (docs.length === 0) return false;
  try {
    // An update rather than a replacement, so that `o` (when the key was first logged) survives newer points.
    const result = await c.latest.bulkWrite(
      docs.map(({ _id, o, ...fields }) => {
        const absent = OPTIONAL_FIELDS.filter((f) => fields[f] === undefined);
        return {
          updateOne: {
            filter: { _id, rk: { $lt: fields.rk } },
            update: {
              $set: fields,
              ...(absent.length > 0 ? { $unset: Object.fromEntries(absent.map((f) => [f, ""])) } : {}),
              ...(o !== undefined ? { $setOnInsert: { o } } : {}),
            },
            upsert: true,
          },
        };
      }),
      { ordered: false },
    );
    return result.modifiedCount + result.upsertedCount > 0;
  } catch (err) {
    // The stored point is newer or equal, or a concurrent first insert won: settling sorts out which.
    if (!isDuplicateKeyError(err)) throw err;
    return true;
  }
}

async function settleLatest(c: Collections, runId: string, experimentId: string, candidates: LatestMetricDoc[]): Promise<void> {
  const ids = candidates.map((d) => d._id);
  let pending = candidates;
  for (let round = 0; round < MAX_SETTLE_ROUNDS; round++) {
    if (round > 1) await jitter(round);
    if (!(await upsertLatest(c, pending))) return;
    const stored = await c.latest.find({ _id: { $in: ids } }, { projection: { key: 1, rk: 1 } }).toArray();
    const storedIds = new Set(stored.map((s) => s._id));
    // A candidate with nothing stored: its upsert did not run (a batch stopped at an earlier error). Again.
    pending = candidates.filter((d) => !storedIds.has(d._id));
    pending.push(...(await newerThanStored(c, runId, experimentId, stored)));
    if (pending.length === 0) return;
  }
  throw contended(`the latest metrics of run ${runId}`);
}

/** For each stored latest point, the newest history point of its key that is later, if any. */
async function newerThanStored(
  c: Collections,
  runId: string,
  experimentId: string,
  stored: Pick<LatestMetricDoc, "_id" | "key" | "rk">[],
): Promise<LatestMetricDoc[]> {
  if (stored.length === 0) return [];
  // `rk` is the same recency key on both collections, so "later" is exactly `rk` greater (NaN included).
  const clauses = stored.map((s) => ({ run_id: runId, key: s.key, rk: { $gt: s.rk } }));
  const points = await c.history.find({ $or: clauses }, { projection: { ...METRIC_PROJECTION, rk: 1 } }).toArray();
  const best = new Map<string, HistoryDoc>();
  for (const doc of points) {
    const current = best.get(doc.key);
    if (!current || doc.rk > current.rk) best.set(doc.key, doc);
  }
  return [...best.values()].map((doc) => latestDocOf(runId, experimentId, metricFromDoc(doc)));
}

/** A short random pause between settling rounds, so writers that keep colliding spread out. */
const jitter = (round: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * round));
