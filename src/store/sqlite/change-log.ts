/**
 * The change log on SQLite (store/types.ts ChangeLogStore): table run_changes, one row per committed run write, its
 * seq an AUTOINCREMENT key — assigned inside the write's own transaction, so the log is in commit order across every
 * process sharing the file (SQLite has one writer at a time) and a seq is never handed out twice, even after pruning.
 * A reader that saw seq n has seen every record below n that is still kept: the sequence has no gaps to wait for.
 *
 * Writers call `append` inside their transaction (a group commit's, group-commit.ts); the records reach this process's
 * listeners (the in-process feed) once that transaction's COMMIT returned (`publish`), never for a write rolled back
 * to its savepoint (`rollbackTo`) or a group rolled back whole (`discard`).
 */
import type { Database } from "better-sqlite3";
import type { Run } from "../../domain/entities.js";
import { type ChangeItem, type RunChange, decodeChangeItems, encodeChangeItems } from "../../domain/run-change.js";
import { runNotFound } from "../../domain/messages.js";
import type { ChangeLogStore } from "../types.js";
import { parseExperimentId } from "./mapping.js";
import type { RunReader } from "./run-reader.js";
import type { Synchronous } from "./synchronous.js";

/** Rows deleted per transaction when pruning, so writers never wait long behind it. */
const PRUNE_CHUNK = 5000;

interface ChangeRow {
  seq: number;
  run_id: string | null;
  experiment_id: number;
  at: number;
  items: string;
}

export interface ChangeLog extends Synchronous<Omit<ChangeLogStore, "onChange">> {
  /** Writes one record within the caller's transaction. */
  append(change: { runId?: string; experimentId: string; items: ChangeItem[] }): void;
  /** Where a write begins in the records appended since the last commit (its savepoint). */
  mark(): number;
  /** The write begun at `mark` was rolled back (its savepoint): so are its records. */
  rollbackTo(mark: number): void;
  /** The transaction committed: the records appended in it go to `emit`, in seq order. */
  publish(): void;
  /** The transaction was rolled back whole: its records too. */
  discard(): void;
}

const toChange = (row: ChangeRow): RunChange => ({
  seq: row.seq,
  ...(row.run_id === null ? {} : { runId: row.run_id }),
  experimentId: String(row.experiment_id),
  at: row.at,
  items: decodeChangeItems(row.items),
});

export function createChangeLog(db: Database, readRuns: RunReader, emit: (change: RunChange) => void, now: () => number = Date.now): ChangeLog {
  const insert = db.prepare<[{ run_id: string | null; experiment_id: number; at: number; items: string }]>(
    "INSERT INTO run_changes (run_id, experiment_id, at, items) VALUES (@run_id, @experiment_id, @at, @items)",
  );
  const selectAfter = db.prepare<[number, number], ChangeRow>("SELECT seq, run_id, experiment_id, at, items FROM run_changes WHERE seq > ? ORDER BY seq LIMIT ?");
  // Two walks of run_changes_by_run, merged by seq: the run's records and the experiments' (run_id IS NULL).
  const selectRunAfter = db.prepare<[string, number, number, number, number], ChangeRow>(
    `SELECT * FROM (
       SELECT seq, run_id, experiment_id, at, items FROM run_changes WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?)
     UNION ALL SELECT * FROM (
       SELECT seq, run_id, experiment_id, at, items FROM run_changes WHERE run_id IS NULL AND seq > ? ORDER BY seq LIMIT ?)
     ORDER BY seq`,
  );
  const selectHead = db.prepare<[], number>("SELECT seq FROM sqlite_sequence WHERE name = 'run_changes'").pluck();
  const selectOldest = db.prepare<[], number | null>("SELECT min(seq) FROM run_changes").pluck();
  // Walks the key from the oldest record: the rows it passes are the ones to delete (commit times follow seqs).
  const selectFirstKept = db.prepare<[number], number>("SELECT seq FROM run_changes WHERE at >= ? ORDER BY seq LIMIT 1").pluck();
  const selectMax = db.prepare<[], number | null>("SELECT max(seq) FROM run_changes").pluck();
  const deleteBelow = db.prepare<[number, number]>(
    "DELETE FROM run_changes WHERE seq IN (SELECT seq FROM run_changes WHERE seq < ? ORDER BY seq LIMIT ?)",
  );

  let pending: RunChange[] = [];

  const head = (): number => selectHead.get() ?? 0;

  const runWithSequence = db.transaction((runId: string): { run: Run; seq: number } => {
    const seq = head();
    const [run] = readRuns([runId]);
    if (run === undefined) throw runNotFound(runId);
    return { run, seq };
  });

  const pruneChunk = db.transaction((below: number) => deleteBelow.run(below, PRUNE_CHUNK).changes);

  return {
    append(change) {
      const experimentId = parseExperimentId(change.experimentId);
      if (experimentId === undefined) throw new Error(`not an experiment id: ${change.experimentId}`);
      const at = now();
      const { lastInsertRowid } = insert.run({
        run_id: change.runId ?? null,
        experiment_id: experimentId,
        at,
        items: encodeChangeItems(change.items),
      });
      pending.push({ seq: Number(lastInsertRowid), ...(change.runId === undefined ? {} : { runId: change.runId }), experimentId: change.experimentId, at, items: change.items });
    },
    mark: () => pending.length,
    rollbackTo(mark) {
      pending.length = Math.min(pending.length, mark);
    },
    publish() {
      if (pending.length === 0) return;
      const committed = pending;
      pending = [];
      for (const change of committed) emit(change);
    },
    discard() {
      pending = [];
    },
    readChanges: (after, limit) => selectAfter.all(after, limit).map(toChange),
    readRunChanges: (runId, after, limit) => selectRunAfter.all(runId, after, limit, after, limit).slice(0, limit).map(toChange),
    changeLogBounds() {
      const h = head();
      return { head: h, oldest: selectOldest.get() ?? h + 1 };
    },
    getRunWithSequence: (runId) => runWithSequence.deferred(runId),
    pruneChanges(before) {
      const newest = selectMax.get();
      if (newest === null || newest === undefined) return 0;
      const below = Math.min(selectFirstKept.get(before) ?? newest, newest);
      let deleted = 0;
      for (;;) {
        const n = pruneChunk.immediate(below);
        deleted += n;
        if (n < PRUNE_CHUNK) return deleted;
      }
    },
  };
}
