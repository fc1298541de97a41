/**
 * Process-exit hooks shared by all live Trackers (one listener each, however many trackers):
 * `beforeExit` flushes (the event loop is empty, so async work is still possible); `exit` cannot wait, so
 * whatever is still in memory is written to the spool synchronously, to be replayed by the next process.
 */
import type { Tracker } from "./tracker.js";

const live = new Set<Tracker>();

function beforeExit(): void {
  for (const tracker of live) if (tracker.hasPendingWork) void tracker.flush();
}

function onExit(): void {
  for (const tracker of live) {
    try {
      tracker.spoolNowSync();
    } catch {
      // best effort: the process is going away
    }
  }
}

export function registerExitHooks(tracker: Tracker): void {
  if (live.size === 0) {
    process.on("beforeExit", beforeExit);
    process.on("exit", onExit);
  }
  live.add(tracker);
}

export function unregisterExitHooks(tracker: Tracker): void {
  live.delete(tracker);
  if (live.size === 0) {
    process.off("beforeExit", beforeExit);
    process.off("exit", onExit);
  }
}
