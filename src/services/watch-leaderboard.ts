/**
 * SearchService.WatchLeaderboard: the board (as Leaderboard answers it), then the entries that changed whenever the
 * board changes (watch/live-board.ts). A reconnect gets a fresh board: a board is small, and its state is what counts.
 */
import type { BoardChange } from "../domain/leaderboard-diff.js";
import { recordSequence } from "../domain/run-change.js";
import {
  type LeaderboardChange,
  LeaderboardChangeKind,
  type LeaderboardRequest,
  type LeaderboardResponse,
  type LeaderboardUpdate,
} from "../../gen/ts/logbook/v1/search_service.js";
import { type LeaderboardScopes, leaderboardQuery } from "./leaderboard.js";
import type { CallContext } from "./rpc.js";
import type { WatchHub } from "./watch/watch-hub.js";

function changeToProto(change: BoardChange<LeaderboardResponse>): LeaderboardChange {
  switch (change.kind) {
    case "entered":
      return { kind: LeaderboardChangeKind.LEADERBOARD_CHANGE_KIND_ENTERED, runId: change.entry.runId, entry: change.entry };
    case "left":
      return { kind: LeaderboardChangeKind.LEADERBOARD_CHANGE_KIND_LEFT, runId: change.runId, previousRank: change.previousRank };
    case "moved":
      return { kind: LeaderboardChangeKind.LEADERBOARD_CHANGE_KIND_MOVED, runId: change.entry.runId, entry: change.entry, previousRank: change.previousRank };
    case "updated":
      return { kind: LeaderboardChangeKind.LEADERBOARD_CHANGE_KIND_UPDATED, runId: change.entry.runId, entry: change.entry };
  }
}

export function createWatchLeaderboardMethod(deps: { watch: WatchHub; scopes?: (ctx: CallContext) => LeaderboardScopes }) {
  return async function* watchLeaderboard(req: LeaderboardRequest, ctx: CallContext): AsyncGenerator<LeaderboardUpdate> {
    // The caller's scopes as of the subscription: a grant changed later applies from the next WatchLeaderboard.
    const query = { ...leaderboardQuery(req), ...deps.scopes?.(ctx) };
    const { watcher, board } = await deps.watch.watchLeaderboard(query);
    try {
      yield { sequence: BigInt(recordSequence(board.seq)), coalesced: false, snapshot: { entries: board.entries } };
      for (;;) {
        const update = await watcher.next(ctx.signal);
        if (update === undefined) return;
        yield {
          sequence: BigInt(recordSequence(update.seq)),
          coalesced: update.coalesced,
          leaderboard: { changes: update.changes.map(changeToProto) },
        };
      }
    } finally {
      deps.watch.release(watcher);
    }
  };
}
