/**
 * TrackingService.WatchRun: a snapshot of the run, then its changes as they commit (watch/run-watcher.ts), until the
 * run ends or the caller goes away. With `after_sequence` (SSE: Last-Event-ID) the stored changes after it are
 * replayed first instead of a snapshot — unless the store no longer keeps them all (retention), or there are more of
 * them than a watcher may lag behind, in which case a fresh snapshot comes instead.
 */
import { invalidParameter } from "../domain/errors.js";
import type { Run, RunInfo } from "../domain/entities.js";
import { type RunChange, ITEMS_PER_CHANGE, positionOf, recordSequence } from "../domain/run-change.js";
import * as v from "../domain/validation.js";
import type { Store } from "../store/types.js";
import type { RunUpdate, WatchRunRequest } from "../../gen/ts/logbook/v1/run_watch.js";
import type { CallContext } from "./rpc.js";
import { int64ToNumber, metricToProto, runInfoToProto, runToProto } from "./tracking-convert.js";
import { type RunItem, type RunWatcher, runEnded } from "./watch/run-watcher.js";
import type { WatchHub } from "./watch/watch-hub.js";

/** Records read per page when replaying. */
const REPLAY_PAGE = 500;

function itemToProto(item: RunItem): Omit<RunUpdate, "sequence" | "coalesced"> {
  switch (item.kind) {
    case "metric":
      return { metric: metricToProto(item.metric) };
    case "param":
      return { param: { key: item.param.key, value: item.param.value } };
    case "tag":
      return { tag: { key: item.key, value: item.value } };
    case "info":
      return { info: runInfoToProto(item.info) };
  }
}

function snapshotOf(run: Run, seq: number, metricKeys: ReadonlySet<string> | undefined): RunUpdate {
  const proto = runToProto(metricKeys ? { ...run, data: { ...run.data, metrics: run.data.metrics.filter((m) => metricKeys.has(m.key)) } } : run);
  return { sequence: BigInt(recordSequence(seq)), coalesced: false, snapshot: { run: proto } };
}

/**
 * Replays the stored records after `after` into the watcher. False when they cannot all be replayed (pruned, or
 * more than `maxItems`): the caller sends a snapshot instead.
 */
async function replay(store: Store, watcher: RunWatcher, info: RunInfo, after: number, maxItems: number): Promise<{ ok: false } | { ok: true; last: number }> {
  const { seq: fromSeq, index } = positionOf(after);
  if (index >= ITEMS_PER_CHANGE) return { ok: false };
  const { oldest, head } = await store.changeLogBounds();
  if (fromSeq > head) throw invalidParameter(`Invalid value ${after} for parameter 'after_sequence' supplied: no change has that sequence yet.`);
  // The record named by `after` itself is read again when it was only partly received.
  let cursor = index === ITEMS_PER_CHANGE - 1 ? fromSeq : fromSeq - 1;
  if (cursor + 1 < oldest) return { ok: false };
  const pages: RunChange[] = [];
  let items = 0;
  for (;;) {
    const page = await store.readRunChanges(watcher.runId, cursor, REPLAY_PAGE);
    for (const change of page) {
      items += change.items.length;
      if (items > maxItems) return { ok: false };
      pages.push(change);
    }
    if (page.length < REPLAY_PAGE) break;
    cursor = page[page.length - 1]!.seq;
  }
  for (const change of pages) watcher.replay(change, change.seq === fromSeq ? index + 1 : 0, info);
  return { ok: true, last: Math.max(pages.at(-1)?.seq ?? 0, cursor) };
}

export function createWatchRunMethod(deps: { store: Store; watch: WatchHub }) {
  const { store, watch } = deps;
  return async function* watchRun(req: WatchRunRequest, ctx: CallContext): AsyncGenerator<RunUpdate> {
    v.validateRunId(req.runId);
    const metricKeys = req.metricKeys.length > 0 ? new Set(req.metricKeys) : undefined;
    const after = req.afterSequence === undefined ? undefined : int64ToNumber(req.afterSequence, "after_sequence");
    if (after !== undefined && after < 0) throw invalidParameter(`Invalid value ${after} for parameter 'after_sequence' supplied.`);
    // Subscribe first, then read the start: no record committed in between is missed.
    const watcher = await watch.watchRun(req.runId, metricKeys);
    try {
      let resumed = false;
      if (after !== undefined) {
        const { info } = await store.getRun(req.runId);
        const r = await replay(store, watcher, info, after, watch.limits.maxLag);
        // Records up to the last one replayed are in; any later one of the run comes from the feed.
        if (r.ok) watcher.startAfter(r.last, info);
        resumed = r.ok;
      }
      if (!resumed) {
        const { run, seq } = await store.getRunWithSequence(req.runId);
        // Before the yield: while the consumer has not taken the snapshot, changes queue (and coalesce) already.
        watcher.startAfter(seq, run.info);
        yield snapshotOf(run, seq, metricKeys);
        if (runEnded(run.info)) return;
      }
      for (;;) {
        const update = await watcher.next(ctx.signal);
        if (update === undefined) return;
        yield { sequence: BigInt(update.sequence), coalesced: update.coalesced, ...itemToProto(update.value) };
      }
    } finally {
      watch.release(watcher);
    }
  };
}
