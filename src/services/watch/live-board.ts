/**
 * A leaderboard kept live for every WatchLeaderboard stream of the same request (one per distinct request per
 * process). It is recomputed — the Leaderboard query, index-served by the store — when a change record could move
 * it: a point of its metric, a `symbol` param or tag, a key its filter names, a run deleted or restored, a change of
 * a run on the board (its name), an experiment deleted or restored. Other writes cost nothing. One recomputation runs
 * at a time; changes arriving meanwhile cause one more, at least `minIntervalMs` after the previous one started.
 *
 * Each watcher remembers the board it last sent; when it pulls, it gets the changes from that one to the current one
 * (coalesced when several versions passed), so a slow watcher costs no memory beyond one board. One further behind
 * than `maxLag` versions is cut.
 */
import type { Logger } from "pino";
import { AppError, ErrorCode } from "../../domain/errors.js";
import { Waker } from "./waker.js";
import { type BoardChange, diffBoards } from "../../domain/leaderboard-diff.js";
import type { RunChange } from "../../domain/run-change.js";
import type { LeaderboardResponse } from "../../../gen/ts/logbook/v1/search_service.js";
import type { LeaderboardQuery } from "../leaderboard.js";
import { watcherTooSlow } from "./watch-queue.js";

export interface Board {
  /** The change-log record every change up to which the board reflects. */
  seq: number;
  /** Increases by one with each board that differs from the previous. */
  version: number;
  entries: LeaderboardResponse[];
}

export interface BoardUpdate {
  seq: number;
  changes: BoardChange<LeaderboardResponse>[];
  coalesced: boolean;
}

/** Reads the board as it is now, and the record up to which it is (the feed's delivered sequence before the read). */
export type ComputeBoard = (query: LeaderboardQuery) => Promise<Board>;

export class LeaderboardWatcher {
  private sent: Board;
  private error: AppError | undefined;
  private readonly waker = new Waker();

  constructor(
    private readonly board: LiveBoard,
    initial: Board,
    private readonly maxLag: number,
  ) {
    this.sent = initial;
  }

  /** The board moved on. */
  notify(): void {
    const lag = this.board.current.version - this.sent.version;
    if (lag > this.maxLag) {
      this.fail(watcherTooSlow(lag, this.maxLag));
      this.board.detach(this);
      return;
    }
    this.waker.wake();
  }

  fail(err: AppError): void {
    this.error ??= err;
    this.waker.wake();
  }

  /** The changes since the board this watcher last got; undefined when `signal` aborts. */
  async next(signal: AbortSignal): Promise<BoardUpdate | undefined> {
    for (;;) {
      if (this.error) throw this.error;
      if (signal.aborted) return undefined;
      const current = this.board.current;
      if (current.version > this.sent.version) {
        const changes = diffBoards(this.sent.entries, current.entries);
        const coalesced = current.version - this.sent.version > 1;
        this.sent = current;
        if (changes.length > 0) return { seq: current.seq, changes, coalesced };
        continue;
      }
      await this.waker.wait(signal);
    }
  }
}

export class LiveBoard {
  current: Board;
  private readonly watchers = new Set<LeaderboardWatcher>();
  private readonly keys: { params: Set<string>; tags: Set<string>; metrics: Set<string>; attributes: boolean };
  private onBoard = new Set<string>();
  private computing = false;
  private dirty = false;
  private lastStart = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly query: LeaderboardQuery,
    initial: Board,
    private readonly compute: ComputeBoard,
    private readonly options: { minIntervalMs: number; maxLag: number; logger: Logger; onEmpty: () => void },
  ) {
    this.current = initial;
    this.onBoard = new Set(initial.entries.map((e) => e.runId));
    const keys = { params: new Set(["symbol"]), tags: new Set(["symbol"]), metrics: new Set([query.metric]), attributes: false };
    for (const clause of query.filter) {
      if (clause.type === "param") keys.params.add(clause.key);
      else if (clause.type === "tag") keys.tags.add(clause.key);
      else if (clause.type === "metric") keys.metrics.add(clause.key);
      else keys.attributes = true;
    }
    this.keys = keys;
  }

  get size(): number {
    return this.watchers.size;
  }

  attach(initial: Board): LeaderboardWatcher {
    const watcher = new LeaderboardWatcher(this, initial, this.options.maxLag);
    this.watchers.add(watcher);
    return watcher;
  }

  detach(watcher: LeaderboardWatcher): void {
    if (this.watchers.delete(watcher) && this.watchers.size === 0) {
      clearTimeout(this.timer);
      this.options.onEmpty();
    }
  }

  shutDown(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers) w.fail(new AppError(ErrorCode.TEMPORARILY_UNAVAILABLE, "The server is shutting down: reconnect to resume."));
  }

  /** A record from the feed: recompute when it could change the board. */
  offer(change: RunChange): void {
    if (this.relevant(change)) this.refresh();
  }

  private relevant(change: RunChange): boolean {
    const { experimentIds } = this.query;
    if (experimentIds.length > 0 && !experimentIds.includes(change.experimentId)) return false;
    const onBoard = change.runId !== undefined && this.onBoard.has(change.runId);
    for (const item of change.items) {
      switch (item.kind) {
        case "metric":
          if (this.keys.metrics.has(item.metric.key)) return true;
          break;
        case "param":
          if (this.keys.params.has(item.param.key)) return true;
          break;
        case "tag":
          if (this.keys.tags.has(item.key)) return true;
          break;
        case "info":
          if (onBoard || item.lifecycle || this.keys.attributes) return true;
          break;
        case "experiment":
          return true;
      }
    }
    return false;
  }

  private refresh(): void {
    if (this.computing) {
      this.dirty = true;
      return;
    }
    if (this.timer) return;
    const wait = this.lastStart + this.options.minIntervalMs - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.refresh();
      }, wait);
      this.timer.unref();
      return;
    }
    this.computing = true;
    this.dirty = false;
    this.lastStart = Date.now();
    this.compute(this.query)
      .then((board) => {
        if (diffBoards(this.current.entries, board.entries).length === 0) {
          this.current = { ...this.current, seq: board.seq };
          return;
        }
        this.current = { ...board, version: this.current.version + 1 };
        this.onBoard = new Set(board.entries.map((e) => e.runId));
        for (const w of [...this.watchers]) w.notify();
      })
      .catch((err: unknown) => this.options.logger.warn({ err }, "leaderboard watch: recomputing the board failed"))
      .finally(() => {
        this.computing = false;
        if (this.dirty && this.watchers.size > 0) this.refresh();
      });
  }
}
