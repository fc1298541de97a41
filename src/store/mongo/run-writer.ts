/**
 * Every update of a run document goes through here, so that concurrent writers of one run — requests on one
 * server, or several servers on one database — never lose each other's changes. Two paths, chosen by the server
 * found at connect time (server-kind.ts):
 *
 * - MongoDB (atomic single-document conditional updates): read the fields the change needs with the run's `rev`,
 *   compute the change, then `updateOne({_id, rev}, change + $inc rev)`. If another writer came in between, `rev`
 *   moved: nothing matched, read again and recompute (compare-and-set). 2 round trips.
 * - FerretDB v1.24 (an update reads the document and writes all of it back, without isolation; only an insert
 *   against a unique `_id` is atomic): the same read, compute and update while holding the run's lease
 *   (registry-lease.ts: an insert into `run_leases`). 4 round trips.
 *
 * Within one process, writers of one run queue locally first (keyed-queue.ts), so concurrent batches of one run cost
 * no lost compare-and-set rounds on MongoDB and one lease poller on FerretDB. What follows an update before the next
 * writer (`then`: the history insert, the change record) runs inside that queue, and on FerretDB inside the lease, so
 * a run's change records come in the order of its updates (across processes on MongoDB, two writes of one run in the
 * same instant may record in either order). Every update of a run document, here
 * or elsewhere (the experiment lifecycle cascade), bumps `rev`.
 *
 * Residual on FerretDB: the experiment delete/restore cascade is one updateMany over the experiment's runs without
 * their leases; a run write landing in the same instant as the cascade's read-then-write of that run can lose one of
 * the two changes. MongoDB applies each document's update atomically, so there it cannot.
 */
import type { Document, UpdateFilter } from "mongodb";
import { AppError, ErrorCode } from "../../domain/errors.js";
import { runNotFound } from "../../domain/messages.js";
import type { Collections } from "./connection.js";
import { MAX_CAS_ATTEMPTS, contended, isDocumentTooLarge } from "./errors.js";
import { createKeyedQueue } from "./keyed-queue.js";
import type { Leases } from "./registry-lease.js";
import type { RunDoc } from "./run-document.js";
import type { ServerKind } from "./server-kind.js";

/** The update operators a run change uses (`rev` is incremented by the writer). */
export interface RunUpdateDoc {
  $set?: Document;
  $unset?: Document;
}

export interface RunChange<T> {
  /** What to write; null when nothing changes. */
  update: RunUpdateDoc | null;
  result: T;
}

export interface RunWriter {
  /**
   * Reads the run's fields in `projection` (plus `_id`, `lifecycle_stage`, `rev`), lets `change` compute the update
   * from them, and writes it with no other write of the run in between. `change` may throw: nothing is written.
   * @throws RESOURCE_DOES_NOT_EXIST when no run has that id
   */
  update<T>(runId: string, projection: Document, change: (doc: RunDoc) => RunChange<T>, then?: Then<T>): Promise<T>;
  /**
   * An update that needs no read (its outcome does not depend on the stored state), then a read of the run's fields
   * in `projection` after it. @returns undefined when no run has that id
   */
  apply(runId: string, update: RunUpdateDoc, projection: Document, then?: Then<RunDoc>): Promise<RunDoc | undefined>;
}

/**
 * What follows a successful update (or a change that had nothing to write) before the next writer of the run: the
 * history insert and the change record, so that the run's change records come in the order of its updates.
 */
export type Then<T> = (result: T) => Promise<void>;

const withRev = (update: RunUpdateDoc): UpdateFilter<RunDoc> => ({ ...update, $inc: { rev: 1 } }) as UpdateFilter<RunDoc>;

/** A write MongoDB refused because the run document would pass 16 MB: the client's to fix, nothing was written. */
async function sized<T>(runId: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isDocumentTooLarge(err)) throw err;
    throw new AppError(
      ErrorCode.INVALID_PARAMETER_VALUE,
      `Run ${runId} cannot take this write: its latest metrics, params, tags and dataset inputs would pass MongoDB's 16 MB document limit.`,
      { cause: err },
    );
  }
}

export function createRunWriter(c: Collections, server: () => Promise<ServerKind>, leases: Leases): RunWriter {
  const queue = createKeyedQueue();

  async function read(runId: string, projection: Document): Promise<RunDoc> {
    const doc = await c.runs.findOne({ _id: runId }, { projection: { ...projection, lifecycle_stage: 1, rev: 1 } });
    if (!doc) throw runNotFound(runId);
    return doc;
  }

  return {
    async update(runId, projection, change, then) {
      const done = async <T>(result: T, next: Then<T> | undefined) => {
        await next?.(result);
        return result;
      };
      if ((await server()).atomicUpdates) {
        return queue(runId, async () => {
          for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
            const doc = await read(runId, projection);
            const { update, result } = change(doc);
            if (update === null) return done(result, then);
            const { matchedCount } = await sized(runId, () => c.runs.updateOne({ _id: runId, rev: doc.rev }, withRev(update)));
            if (matchedCount === 1) return done(result, then);
          }
          throw contended(`run ${runId}`);
        });
      }
      return leases.hold(runId, async () => {
        const { update, result } = change(await read(runId, projection));
        if (update !== null) await sized(runId, () => c.runs.updateOne({ _id: runId }, withRev(update)));
        return done(result, then);
      });
    },

    async apply(runId, update, projection, then) {
      // An update, then a read of what it left (FerretDB's findAndModify takes no projection, and a whole run
      // document is too much to answer with).
      const write = async () => {
        if ((await c.runs.updateOne({ _id: runId }, withRev(update))).matchedCount === 0) return undefined;
        const doc = (await c.runs.findOne({ _id: runId }, { projection })) ?? undefined;
        if (doc !== undefined) await then?.(doc);
        return doc;
      };
      return (await server()).atomicUpdates ? queue(runId, write) : leases.hold(runId, write);
    },
  };
}
