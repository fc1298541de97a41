/**
 * The process's one change feed: every change record of the store's log (domain/run-change.ts), delivered once, in
 * sequence order, to the subscribers (the watch hub). Two sources are merged by sequence:
 * - this process's own commits, told by the store right after they commit (no read, no delay);
 * - other processes' commits, read from the log: one poll loop per process every `pollMs` (an index walk after the
 *   last delivered sequence), or a remote source such as a MongoDB change stream.
 * A record whose predecessors have not arrived yet waits (a gap): a commit of another process with a lower sequence
 * may not be visible yet, so the feed polls at once. A gap still open after `gapTimeoutMs` (a sequence allocated by
 * a process that died before writing, or records pruned before this process read them) is skipped.
 *
 * The feed reads nothing while nobody subscribes; the first subscriber starts it from the log's head. Retention
 * (`pruneChanges`) runs every `pruneIntervalMs` whether or not anybody watches.
 */
import type { Logger } from "pino";
import type { RunChange } from "../../domain/run-change.js";
import type { ChangeLogStore, ChangeStream } from "../../store/types.js";

/** Records read per poll; a full page is followed by another poll at once. */
const POLL_PAGE = 1000;

export interface ChangeFeedOptions {
  store: ChangeLogStore;
  logger: Logger;
  pollMs: number;
  retentionMs: number;
  /** Default: max(10 × pollMs, 2 s). */
  gapTimeoutMs?: number;
  /** Default: min(retention / 4, 60 s), at least 1 s. */
  pruneIntervalMs?: number;
  /** Records of every process pushed by the database (MongoDB change streams): no periodic poll while it runs. */
  remote?: ChangeStream;
  now?: () => number;
}

export interface ChangeFeed {
  /**
   * Adds a subscriber; resolves once the feed runs, and from then on every record with a higher sequence than
   * `delivered` is told to it, in order. Returns the function that unsubscribes.
   */
  subscribe(listener: (change: RunChange) => void): Promise<() => void>;
  /** The highest sequence delivered (0 before the feed first ran). */
  readonly delivered: number;
  /** How other processes' records arrive. */
  readonly path: "poll" | "change-stream";
  close(): Promise<void>;
}

export function createChangeFeed(options: ChangeFeedOptions): ChangeFeed {
  const { store, logger, pollMs } = options;
  const now = options.now ?? Date.now;
  const gapTimeoutMs = options.gapTimeoutMs ?? Math.max(10 * pollMs, 2000);
  const pruneIntervalMs = options.pruneIntervalMs ?? Math.max(1000, Math.min(options.retentionMs / 4, 60_000));
  const listeners = new Set<(change: RunChange) => void>();
  let state: "idle" | "starting" | "running" | "closed" = "idle";
  let starting: Promise<void> | undefined;
  let delivered = 0;
  /** Records above `delivered + 1`, waiting for the ones before them. */
  const waiting = new Map<number, RunChange>();
  let gapSince: number | undefined;
  let polling = false;
  let pollAgain = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let remoteActive = false;

  const deliver = (change: RunChange) => {
    delivered = change.seq;
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (err) {
        logger.error({ err }, "change feed subscriber failed");
      }
    }
  };

  const flush = () => {
    let next: RunChange | undefined;
    while ((next = waiting.get(delivered + 1)) !== undefined) {
      waiting.delete(delivered + 1);
      deliver(next);
    }
    if (waiting.size === 0) {
      gapSince = undefined;
      return;
    }
    gapSince ??= now();
    if (now() - gapSince >= gapTimeoutMs) {
      const first = Math.min(...waiting.keys());
      logger.warn({ from: delivered + 1, to: first - 1 }, "change feed: skipping change records that never arrived");
      delivered = first - 1;
      gapSince = undefined;
      flush();
    } else schedulePoll(0);
  };

  const accept = (change: RunChange) => {
    if (state !== "running" && state !== "starting") return;
    if (change.seq <= delivered || waiting.has(change.seq)) return;
    waiting.set(change.seq, change);
    if (state === "running") flush();
  };

  const poll = async () => {
    if (polling) {
      pollAgain = true;
      return;
    }
    polling = true;
    try {
      do {
        pollAgain = false;
        const records = await store.readChanges(delivered, POLL_PAGE);
        if (state !== "running") return;
        for (const record of records) accept(record);
        if (records.length === POLL_PAGE) pollAgain = true;
        flush();
      } while (pollAgain && state === "running");
    } catch (err) {
      logger.warn({ err }, "change feed: reading the change log failed");
    } finally {
      polling = false;
    }
  };

  /** One poll after `delay`; then the next every `pollMs` while polling is the way (not while a change stream runs). */
  function schedulePoll(delay: number): void {
    if (state !== "running") return;
    if (pollTimer) {
      if (delay > 0) return;
      clearTimeout(pollTimer);
    }
    pollTimer = setTimeout(() => {
      pollTimer = undefined;
      void poll().finally(() => {
        if (!remoteActive) schedulePoll(pollMs);
      });
    }, delay);
    pollTimer.unref();
  }

  const unsubscribeStore = store.onChange(accept);

  const startRemote = () => {
    if (!options.remote) return;
    remoteActive = true;
    options.remote.start({
      deliver: accept,
      // What committed between the head read and the stream's start is read from the log once.
      ready: () => schedulePoll(0),
      broken: (err) => {
        logger.warn({ err }, "change feed: the change stream broke; polling instead");
        remoteActive = false;
        schedulePoll(0);
      },
    });
  };

  const start = async () => {
    state = "starting";
    let head: number;
    try {
      ({ head } = await store.changeLogBounds());
    } catch (err) {
      if (state === "starting") state = "idle";
      starting = undefined;
      throw err;
    }
    if (state !== "starting") return;
    delivered = head;
    for (const seq of waiting.keys()) if (seq <= head) waiting.delete(seq);
    state = "running";
    flush();
    startRemote();
    if (!remoteActive) schedulePoll(pollMs);
  };

  const stop = async () => {
    state = "idle";
    clearTimeout(pollTimer);
    pollTimer = undefined;
    waiting.clear();
    gapSince = undefined;
    if (remoteActive) {
      remoteActive = false;
      await options.remote?.stop();
    }
  };

  const prune = async () => {
    try {
      const removed = await store.pruneChanges(now() - options.retentionMs);
      if (removed > 0) logger.debug({ removed }, "change log pruned");
    } catch (err) {
      logger.warn({ err }, "change log: pruning failed");
    }
  };
  const pruneTimer = setInterval(() => void prune(), pruneIntervalMs);
  pruneTimer.unref();

  return {
    get delivered() {
      return delivered;
    },
    get path() {
      return options.remote && (remoteActive || state !== "running") ? "change-stream" : "poll";
    },
    async subscribe(listener) {
      if (state === "closed") throw new Error("the change feed is closed");
      listeners.add(listener);
      if (state === "idle") starting = start();
      try {
        await starting;
      } catch (err) {
        listeners.delete(listener);
        throw err;
      }
      return () => {
        if (!listeners.delete(listener) || listeners.size > 0 || state === "closed") return;
        void stop();
      };
    },
    async close() {
      unsubscribeStore();
      clearInterval(pruneTimer);
      await stop();
      state = "closed";
      listeners.clear();
    },
  };
}
