/**
 * Every live watch of the process, fed by its one change feed: run watchers indexed by run (a record reaches only the
 * watchers of its run; an experiment-wide record those of every run), and one live board per distinct leaderboard
 * request shared by its watchers. The hub holds its feed subscription only while somebody watches.
 */
import type { Logger } from "pino";
import type { RunChange } from "../../domain/run-change.js";
import { recordSequence } from "../../domain/run-change.js";
import type { Store } from "../../store/types.js";
import { type LeaderboardQuery, type LeaderboardScopes, leaderboardEntries } from "../leaderboard.js";
import { type ChangeFeed, createChangeFeed } from "./change-feed.js";
import { type Board, type LeaderboardWatcher, LiveBoard } from "./live-board.js";
import { RunWatcher } from "./run-watcher.js";

export interface WatchLimits {
  /** A watcher further behind than this many changes (leaderboards: board versions) is cut. */
  maxLag: number;
  /** Updates a run watcher queues one by one before it keeps only the latest per key. */
  maxQueued: number;
  /** Keys a coalescing run watcher may hold. */
  maxKeys: number;
  /** The least time between two recomputations of one leaderboard. */
  leaderboardIntervalMs: number;
}

export const DEFAULT_WATCH_LIMITS: WatchLimits = { maxLag: 100_000, maxQueued: 1000, maxKeys: 10_000, leaderboardIntervalMs: 50 };

export interface WatchStats {
  runWatchers: number;
  leaderboardWatchers: number;
  feed: "poll" | "change-stream";
  /** The highest sequence delivered to watchers (a record sequence). */
  sequence: number;
}

export interface WatchHub {
  readonly limits: WatchLimits;
  /** A watcher of one run, receiving the feed's records from now on (the caller reads its start, then `startAfter`). */
  watchRun(runId: string, metricKeys?: ReadonlySet<string>): Promise<RunWatcher>;
  /** A leaderboard watcher and the board it starts from. */
  /** `query` may carry the caller's scopes (`--auth basic`): boards are shared only between callers with the same ones. */
  watchLeaderboard(query: LeaderboardQuery & LeaderboardScopes): Promise<{ watcher: LeaderboardWatcher; board: Board }>;
  /** The watcher is done (stream over): it stops receiving. Idempotent. */
  release(watcher: RunWatcher | LeaderboardWatcher): void;
  stats(): WatchStats;
  /** Ends every watch (UNAVAILABLE: the server is shutting down) and releases the feed. */
  close(): Promise<void>;
}

/** `feed` defaults to one polling every 250 ms with an hour's retention (the server's defaults). */
export function createWatchHub(deps: { store: Store; logger: Logger; feed?: ChangeFeed; limits?: Partial<WatchLimits> }): WatchHub {
  const { store, logger } = deps;
  const feed = deps.feed ?? createChangeFeed({ store, logger, pollMs: 250, retentionMs: 3_600_000 });
  const limits = { ...DEFAULT_WATCH_LIMITS, ...deps.limits };
  const byRun = new Map<string, Set<RunWatcher>>();
  let runWatchers = 0;
  const boards = new Map<string, LiveBoard>();
  const boardOf = new Map<LeaderboardWatcher, LiveBoard>();
  let subscription: Promise<() => void> | undefined;

  const dispatch = (change: RunChange) => {
    if (change.runId !== undefined) {
      const watchers = byRun.get(change.runId);
      if (watchers) for (const w of watchers) w.offer(change);
    } else {
      for (const watchers of byRun.values()) for (const w of watchers) w.offer(change);
    }
    for (const board of boards.values()) board.offer(change);
  };

  const subscribe = async () => {
    subscription ??= feed.subscribe(dispatch);
    try {
      await subscription;
    } catch (err) {
      subscription = undefined;
      throw err;
    }
  };

  const unsubscribeWhenIdle = () => {
    if (runWatchers > 0 || boards.size > 0 || !subscription) return;
    const s = subscription;
    subscription = undefined;
    void s.then((unsubscribe) => unsubscribe(), () => undefined);
  };

  const removeRunWatcher = (watcher: RunWatcher) => {
    const set = byRun.get(watcher.runId);
    if (!set?.delete(watcher)) return;
    runWatchers--;
    if (set.size === 0) byRun.delete(watcher.runId);
    unsubscribeWhenIdle();
  };

  const compute = async (query: LeaderboardQuery): Promise<Board> => {
    const seq = feed.delivered;
    const entries = [];
    for await (const entry of leaderboardEntries(store, query, new AbortController().signal)) entries.push(entry);
    return { seq, version: 0, entries };
  };

  return {
    limits,

    async watchRun(runId, metricKeys) {
      const watcher: RunWatcher = new RunWatcher(runId, metricKeys, {
        maxQueued: limits.maxQueued,
        maxLag: limits.maxLag,
        maxKeys: limits.maxKeys,
        onCut: () => removeRunWatcher(watcher),
      });
      let set = byRun.get(runId);
      if (!set) byRun.set(runId, (set = new Set()));
      set.add(watcher);
      runWatchers++;
      try {
        await subscribe();
      } catch (err) {
        removeRunWatcher(watcher);
        throw err;
      }
      return watcher;
    },

    async watchLeaderboard(query) {
      const key = JSON.stringify([query.symbol, query.metric, query.limit, query.ascending, [...query.experimentIds].sort(), query.filter, query.readable ?? null, query.readableModels ?? null]);
      await subscribe();
      let board = boards.get(key);
      if (!board) {
        let initial: Board;
        try {
          initial = await compute(query);
        } catch (err) {
          unsubscribeWhenIdle(); // nobody else watching: the feed stops again
          throw err;
        }
        board = boards.get(key); // another watcher of the same board may have made it meanwhile
        if (!board) {
          const created: LiveBoard = new LiveBoard(query, initial, compute, {
            minIntervalMs: limits.leaderboardIntervalMs,
            maxLag: limits.maxLag,
            logger,
            onEmpty: () => {
              if (boards.get(key) === created) boards.delete(key);
              unsubscribeWhenIdle();
            },
          });
          boards.set(key, created);
          board = created;
        }
      }
      const watcher = board.attach(board.current);
      boardOf.set(watcher, board);
      return { watcher, board: board.current };
    },

    release(watcher) {
      if (watcher instanceof RunWatcher) return removeRunWatcher(watcher);
      const board = boardOf.get(watcher);
      if (!board) return;
      boardOf.delete(watcher);
      board.detach(watcher);
    },

    stats() {
      let leaderboardWatchers = 0;
      for (const board of boards.values()) leaderboardWatchers += board.size;
      return { runWatchers, leaderboardWatchers, feed: feed.path, sequence: recordSequence(feed.delivered) };
    },

    async close() {
      for (const set of byRun.values()) for (const w of set) w.shutDown();
      for (const board of boards.values()) board.shutDown();
      byRun.clear();
      runWatchers = 0;
      boards.clear();
      boardOf.clear();
      unsubscribeWhenIdle();
      await feed.close();
    },
  };
}
