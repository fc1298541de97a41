/**
 * Leases: mutual exclusion per model (or, on FerretDB, per run: run-writer.ts) across every server on one database, built on the one write FerretDB v1.24
 * and MongoDB both make atomic — an insert against a unique `_id`. FerretDB applies update operators by reading
 * the document and writing all of it back, so two updates of one document (even compare-and-set ones) can lose
 * each other's changes; a registered model and its versions, or a logged model, are therefore only ever updated by
 * the holder of that model's lease.
 *
 * - Acquire: insertOne({_id: <model id>, owner: <random>, expires_at: now + TTL}). A duplicate key means someone
 *   holds it: wait a few jittered milliseconds (growing) and try again.
 * - A lease past `expires_at` belongs to a holder that crashed: deleteOne({_id, owner: <that owner>}) removes
 *   exactly that lease (not a newer one), then acquisition is retried.
 * - Give up after `waitMs` with TEMPORARILY_UNAVAILABLE (the client may retry).
 * - Release: deleteOne({_id, owner}) in a finally.
 * Within one process, holders of one id queue locally first, so only the head of each server's queue polls the
 * database (N concurrent requests on one server cost one poller, not N).
 *
 * Residual risks, accepted: a holder paused (GC, network, overloaded database) for longer than the TTL can have its
 * lease taken over and then write alongside the new holder; `expires_at` is compared with each server's own clock,
 * so clocks must agree to well within the TTL. On FerretDB the filtered deleteOne of an expired lease is itself a
 * read then a delete by `_id`, so two servers breaking the same expired lease at the same moment could, in a narrow
 * interleaving, remove the lease one of them has just taken. All need a crash or a stall first; a version number
 * stays unique even then (its `_id` insert is the arbiter, registry-store.ts).
 */
import { randomBytes } from "node:crypto";
import type { Collection } from "mongodb";
import { unavailable } from "../../domain/errors.js";
import { isDuplicateKeyError } from "./errors.js";
import { createKeyedQueue } from "./keyed-queue.js";
import type { LeaseDoc } from "./registry-mapping.js";

export interface LeaseOptions {
  /** How long a lease stays valid without its holder (default 15 s); operations under a lease take milliseconds. */
  ttlMs?: number;
  /** How long to wait for a lease before TEMPORARILY_UNAVAILABLE (default 20 s). */
  waitMs?: number;
}

export const DEFAULT_LEASE_TTL_MS = 15_000;
export const DEFAULT_LEASE_WAIT_MS = 20_000;

/** Backoff between attempts: from ~2 ms growing to ~100 ms, each randomised to half..one-and-a-half. */
const FIRST_PAUSE_MS = 2;
const LONGEST_PAUSE_MS = 100;

export interface Leases {
  /** Runs `work` while holding the lease on `id`. @throws TEMPORARILY_UNAVAILABLE when it cannot be had in time */
  hold<T>(id: string, work: () => Promise<T>): Promise<T>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `subject` names what a lease guards in the error of a wait that runs out ("this model", "this run"). */
export function createLeases(leases: Collection<LeaseDoc>, options: LeaseOptions = {}, subject = "this model"): Leases {
  const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const waitMs = options.waitMs ?? DEFAULT_LEASE_WAIT_MS;

  /** true when taken; false when someone else holds it (an expired lease has been removed meanwhile). */
  async function tryAcquire(id: string, owner: string): Promise<boolean> {
    try {
      await leases.insertOne({ _id: id, owner, expires_at: Date.now() + ttlMs });
      return true;
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
    const holder = await leases.findOne({ _id: id });
    if (holder && holder.expires_at < Date.now()) await leases.deleteOne({ _id: id, owner: holder.owner });
    return false;
  }

  async function acquire(id: string, deadline: number): Promise<string> {
    const owner = randomBytes(16).toString("hex");
    for (let attempt = 0; ; attempt++) {
      if (await tryAcquire(id, owner)) return owner;
      if (Date.now() >= deadline) throw unavailable(`Another update of ${subject} is holding it up; try again.`);
      const ceiling = Math.min(LONGEST_PAUSE_MS, FIRST_PAUSE_MS * 1.5 ** attempt);
      await pause(ceiling * (0.5 + Math.random()));
    }
  }

  const queue = createKeyedQueue();

  return {
    hold: (id, work) => {
      const deadline = Date.now() + waitMs;
      return queue(id, async () => {
        const owner = await acquire(id, deadline);
        try {
          return await work();
        } finally {
          // A release that fails (database gone) leaves the lease to expire: the work's own outcome stands.
          await leases.deleteOne({ _id: id, owner }).catch(() => undefined);
        }
      });
    },
  };
}
