/**
 * What changed between two versions of a leaderboard, entry by entry: the runs that entered, the ones that left,
 * those whose rank changed (moved) and those whose value changed at the same rank (updated). An entry whose rank and
 * value are the same in both is not listed, whatever else about its run changed.
 */

export interface BoardEntry {
  runId: string;
  rank: number;
  /** NaN ranks last; absent never happens on a board but is tolerated. */
  value?: number | undefined;
}

export type BoardChange<E extends BoardEntry> =
  | { kind: "entered"; entry: E }
  | { kind: "left"; runId: string; previousRank: number }
  | { kind: "moved"; entry: E; previousRank: number }
  | { kind: "updated"; entry: E };

/** NaN equals NaN here, and 0 equals -0 (they rank alike). */
const sameValue = (a: number | undefined, b: number | undefined) => a === b || Object.is(a, b);

/** The changes from `before` to `after`, in `after`'s order, the entries that left last (in `before`'s order). */
export function diffBoards<E extends BoardEntry>(before: readonly E[], after: readonly E[]): BoardChange<E>[] {
  const previous = new Map(before.map((e) => [e.runId, e]));
  const changes: BoardChange<E>[] = [];
  for (const entry of after) {
    const old = previous.get(entry.runId);
    previous.delete(entry.runId);
    if (old === undefined) changes.push({ kind: "entered", entry });
    else if (old.rank !== entry.rank) changes.push({ kind: "moved", entry, previousRank: old.rank });
    else if (!sameValue(old.value, entry.value)) changes.push({ kind: "updated", entry });
  }
  for (const old of previous.values()) changes.push({ kind: "left", runId: old.runId, previousRank: old.rank });
  return changes;
}
