/**
 * One WatchRun stream's state between the change feed and its consumer: which run, which metrics, the sequence its
 * snapshot (or replay) reached — records up to it are already in what the consumer got — and a WatchQueue of the
 * run's changes as items. Records that arrive before that sequence is known wait in a short list.
 */
import { AppError, ErrorCode } from "../../domain/errors.js";
import type { RunInfo } from "../../domain/entities.js";
import { type ChangeItem, type RunChange, itemSequence } from "../../domain/run-change.js";
import { type QueuedUpdate, WatchQueue, type WatchQueueOptions, watcherTooSlow } from "./watch-queue.js";

/** An item of the run as the consumer gets it (an experiment-wide change becomes the run's info). */
export type RunItem = Exclude<ChangeItem, { kind: "experiment" }>;

const TERMINAL = new Set(["FINISHED", "FAILED", "KILLED"]);

/** A run is over for its watchers once it finished, failed, was killed or deleted. */
export const runEnded = (info: RunInfo): boolean => TERMINAL.has(info.status) || info.lifecycleStage === "deleted";

function keyOf(item: RunItem): string {
  switch (item.kind) {
    case "metric":
      return `m\u0000${item.metric.key}`;
    case "param":
      return `p\u0000${item.param.key}`;
    case "tag":
      return `t\u0000${item.key}`;
    case "info":
      return "i";
  }
}

export class RunWatcher {
  private readonly queue: WatchQueue<RunItem>;
  /** Records up to this seq are reflected in what the consumer already has (undefined until the start is read). */
  private floor: number | undefined;
  private early: RunChange[] = [];
  private earlyItems = 0;
  private info: RunInfo | undefined;

  constructor(
    readonly runId: string,
    private readonly metricKeys: ReadonlySet<string> | undefined,
    private readonly options: WatchQueueOptions,
  ) {
    this.queue = new WatchQueue(options);
  }

  get lag(): number {
    return this.queue.lag;
  }

  /** A record from the feed (any run's: the hub routes by run, experiment records reach every watcher of it). */
  offer(change: RunChange): void {
    if (this.queue.closed) return;
    if (this.floor === undefined) {
      this.early.push(change);
      this.earlyItems += change.items.length;
      if (this.earlyItems > this.options.maxLag) {
        this.early = [];
        const err = watcherTooSlow(this.earlyItems, this.options.maxLag);
        this.queue.fail(err);
        this.options.onCut?.(err);
      }
      return;
    }
    if (change.seq <= this.floor) return;
    this.floor = change.seq;
    this.add(change, 0);
  }

  /**
   * The consumer has the run up to record `seq` (a snapshot, or the end of a replay) with this info: later records
   * follow, from the feed.
   */
  startAfter(seq: number, info: RunInfo): void {
    this.floor = seq;
    this.info = info;
    const early = this.early;
    this.early = [];
    for (const change of early) this.offer(change);
    if (runEnded(info)) this.queue.end();
  }

  /** Replays a stored record (a resume) from item `fromIndex` on; records must come in seq order. */
  replay(change: RunChange, fromIndex: number, info: RunInfo): void {
    this.info ??= info;
    this.add(change, fromIndex);
  }

  get ended(): boolean {
    return this.queue.closed;
  }

  next(signal: AbortSignal): Promise<QueuedUpdate<RunItem> | undefined> {
    return this.queue.next(signal);
  }

  /** The server is going away: the consumer's stream ends with UNAVAILABLE. */
  shutDown(): void {
    this.queue.fail(new AppError(ErrorCode.TEMPORARILY_UNAVAILABLE, "The server is shutting down: reconnect to resume."));
  }

  private add(change: RunChange, fromIndex: number): void {
    for (let i = fromIndex; i < change.items.length; i++) {
      let item = change.items[i]!;
      if (item.kind === "experiment") {
        if (!this.info || this.info.experimentId !== change.experimentId) continue;
        item = { kind: "info", info: { ...this.info, lifecycleStage: item.lifecycleStage }, lifecycle: true };
      }
      if (item.kind === "metric" && this.metricKeys && !this.metricKeys.has(item.metric.key)) continue;
      this.queue.push(keyOf(item), itemSequence(change.seq, i), item);
      if (item.kind === "info") {
        this.info = item.info;
        if (runEnded(item.info)) {
          this.queue.end();
          return;
        }
      }
    }
  }
}
