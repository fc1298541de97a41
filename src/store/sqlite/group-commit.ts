/**
 * Group commit for the embedded store. better-sqlite3 is synchronous: a write's transaction, fsync included,
 * blocks the process, so one transaction per write would cost one fsync per write. Instead writes are queued, and
 * every write that arrives while the event loop is busy (requests parsed in the same turn, or during the previous
 * group's commit) runs in one IMMEDIATE transaction, each in its own SAVEPOINT — one writer's error rolls back only
 * its own work — and all are answered after the single COMMIT returns, that is once it is durable as
 * `synchronous` promises (durability.ts). No write is acknowledged before its commit.
 */
import type { Database } from "better-sqlite3";
import { unavailable } from "../../domain/errors.js";

interface Pending {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitStats {
  /** COMMITs executed (groups). */
  commits: number;
  /** Writes that succeeded and were acknowledged after their group's COMMIT. */
  acknowledged: number;
  /** Writes that failed (their own error, or their group's). */
  failed: number;
}

export interface GroupCommit {
  /** Runs `write` in the next group's transaction; resolves with its result once that transaction is committed. */
  write<R>(write: () => R): Promise<R>;
  /** Runs the queued writes now (before the store closes). */
  flush(): void;
  readonly stats: Readonly<GroupCommitStats>;
}

const SAVEPOINT = "logbook_write";

/** Told what became of a group's transaction (the change log publishes its records after the COMMIT, or drops them). */
export interface GroupCommitHooks {
  /** The COMMIT returned: called before the group's writes are answered. */
  committed(): void;
  /** The open transaction was rolled back whole: nothing written since its BEGIN is kept. */
  rolledBack(): void;
}

export function createGroupCommit(db: Database, hooks?: GroupCommitHooks): GroupCommit {
  let queue: Pending[] = [];
  let scheduled = false;
  const stats: GroupCommitStats = { commits: 0, acknowledged: 0, failed: 0 };

  const fail = (entries: readonly Pending[], err: unknown) => {
    for (const entry of entries) {
      stats.failed++;
      entry.reject(err);
    }
  };

  /** One group, in one transaction; every entry is settled when this returns or throws. */
  function runGroup(batch: readonly Pending[]): void {
    // Writes run and kept so far in the open transaction, answered after the COMMIT.
    let kept: { entry: Pending; result: unknown }[] = [];
    let next = 0;
    try {
      for (; next < batch.length; next++) {
        const entry = batch[next]!;
        if (!db.inTransaction) db.exec("BEGIN IMMEDIATE");
        db.exec(`SAVEPOINT ${SAVEPOINT}`);
        try {
          const result = entry.run();
          db.exec(`RELEASE ${SAVEPOINT}`);
          kept.push({ entry, result });
        } catch (err) {
          if (db.inTransaction) {
            db.exec(`ROLLBACK TO ${SAVEPOINT}`);
            db.exec(`RELEASE ${SAVEPOINT}`);
          } else {
            // SQLite rolled the whole transaction back (I/O error, disk full…): the writes kept so far are gone
            // too, and none of them has been acknowledged.
            hooks?.rolledBack();
            fail(kept.map((k) => k.entry), unavailable("The write was rolled back with the rest of its group", err));
            kept = [];
          }
          fail([entry], err);
        }
      }
      if (db.inTransaction) {
        db.exec("COMMIT");
        stats.commits++;
      }
      hooks?.committed();
    } catch (err) {
      // BEGIN, SAVEPOINT or COMMIT failed (busy beyond the timeout, I/O error, store closed): nothing of the
      // open transaction is kept.
      try {
        if (db.open && db.inTransaction) db.exec("ROLLBACK");
      } catch {
        // the connection is unusable; its transaction goes with it
      }
      hooks?.rolledBack();
      fail(kept.map((k) => k.entry), err);
      fail(batch.slice(next + 1), err);
      if (next < batch.length && !kept.some((k) => k.entry === batch[next])) fail([batch[next]!], err);
      return;
    }
    for (const { entry, result } of kept) {
      stats.acknowledged++;
      entry.resolve(result);
    }
  }

  function flush(): void {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (batch.length > 0) runGroup(batch);
  }

  return {
    stats,
    write<R>(write: () => R): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ run: write, resolve: resolve as (value: unknown) => void, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    flush,
  };
}
