/**
 * SearchService.WatchLeaderboard over gRPC on both stores: the board, then only the entries that changed when a run
 * enters, leaves or moves in the top N (or its value changes), and nothing for writes that cannot change the board;
 * one live board shared by identical watches, released when they go.
 */
import { credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunStatus } from "../../gen/ts/logbook/v1/run.js";
import {
  LeaderboardChangeKind,
  type LeaderboardRequest,
  type LeaderboardUpdate,
  SearchServiceClient,
} from "../../gen/ts/logbook/v1/search_service.js";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";
import { type LiveStream, liveStream } from "../harness/watch-stream.js";

const NOW = 1_700_000_000_000;
const K = LeaderboardChangeKind;

describe.each(STORE_KINDS)("WatchLeaderboard on %s", (kind) => {
  let lb: TestLogbook;
  let search: SearchServiceClient;
  let experimentId: string;
  let step = 0;

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "watch-leaderboard" });
    search = new SearchServiceClient(lb.address, credentials.createInsecure());
    ({ experimentId } = await lb.tracking.createExperiment({ name: "boards", artifactLocation: "", tags: [] }));
  });
  afterAll(async () => {
    search?.close();
    await lb?.close();
  });

  const watch = (request: Partial<LeaderboardRequest>): LiveStream<LeaderboardUpdate> =>
    liveStream(search.watchLeaderboard({ symbol: "AAPL", metric: "sharpe", ascending: false, experimentIds: [experimentId], filter: "", ...request }));

  async function run(name: string, symbol: string, sharpe?: number): Promise<string> {
    const { run } = await lb.tracking.createRun({ experimentId, runName: name, tags: [], startTime: BigInt(NOW) } as never);
    const runId = run!.info!.runId;
    await lb.tracking.logBatch({ runId, metrics: [], params: [{ key: "symbol", value: symbol }], tags: [] });
    if (sharpe !== undefined) await log(runId, "sharpe", sharpe);
    return runId;
  }
  const log = (runId: string, key: string, value: number) =>
    lb.tracking.logBatch({ runId, metrics: [{ key, value, timestamp: BigInt(NOW + ++step), step: BigInt(step), runId: "" }], params: [], tags: [] });
  const changes = (u: LeaderboardUpdate) => u.leaderboard!.changes.map((c) => [c.kind, c.runId, c.entry?.rank, c.previousRank]);

  it("sends the board, then the changes of a rank change, and nothing for irrelevant writes", async () => {
    const a = await run("a", "AAPL", 1);
    const b = await run("b", "AAPL", 2);
    const c = await run("c", "AAPL", 3);
    const msft = await run("m", "MSFT", 10);
    const stream = watch({ limit: 2 });
    const first = await stream.next();
    expect(first.snapshot?.entries.map((e) => [e.rank, e.runId, e.value])).toEqual([
      [1, c, 3],
      [2, b, 2],
    ]);

    // Writes that cannot change this board: another metric of a run on it, another symbol's run, a tag, a worse
    // value below the board. Then a rank change: it must be the very next update.
    await log(c, "r2", 0.5);
    await log(msft, "sharpe", 11);
    await lb.tracking.setTag({ runId: b, runUuid: "", key: "note", value: "x" });
    await log(a, "sharpe", 0.5);
    await log(a, "sharpe", 5);
    const update = await stream.next();
    expect(update.snapshot).toBeUndefined();
    expect(changes(update)).toEqual([
      [K.LEADERBOARD_CHANGE_KIND_ENTERED, a, 1, undefined],
      [K.LEADERBOARD_CHANGE_KIND_MOVED, c, 2, 1],
      [K.LEADERBOARD_CHANGE_KIND_LEFT, b, undefined, 2],
    ]);
    expect(update.leaderboard!.changes[0]!.entry).toMatchObject({ runName: "a", symbol: "AAPL", metric: "sharpe", value: 5 });
    expect(update.sequence > first.sequence).toBe(true);

    // A new value at the same rank; then a run deleted; then one whose symbol changes to this board's.
    await log(a, "sharpe", 6);
    expect(changes(await stream.next())).toEqual([[K.LEADERBOARD_CHANGE_KIND_UPDATED, a, 1, undefined]]);
    await lb.tracking.deleteRun({ runId: a });
    expect(changes(await stream.next())).toEqual([
      [K.LEADERBOARD_CHANGE_KIND_MOVED, c, 1, 2],
      [K.LEADERBOARD_CHANGE_KIND_ENTERED, b, 2, undefined],
      [K.LEADERBOARD_CHANGE_KIND_LEFT, a, undefined, 1],
    ]);
    await lb.tracking.setTag({ runId: msft, runUuid: "", key: "symbol", value: "AAPL" }); // its param stays MSFT: still not AAPL's
    await lb.tracking.restoreRun({ runId: a });
    expect(changes(await stream.next())).toEqual([
      [K.LEADERBOARD_CHANGE_KIND_ENTERED, a, 1, undefined],
      [K.LEADERBOARD_CHANGE_KIND_MOVED, c, 2, 1],
      [K.LEADERBOARD_CHANGE_KIND_LEFT, b, undefined, 2],
    ]);
    // Ending a run is no change of the board.
    await lb.tracking.updateRun({ runId: c, status: RunStatus.RUN_STATUS_FINISHED } as never);
    await log(b, "sharpe", 7);
    expect(changes(await stream.next())).toEqual([
      [K.LEADERBOARD_CHANGE_KIND_ENTERED, b, 1, undefined],
      [K.LEADERBOARD_CHANGE_KIND_MOVED, a, 2, 1],
      [K.LEADERBOARD_CHANGE_KIND_LEFT, c, undefined, 2],
    ]);
    stream.cancel();
  });

  it("shares one live board between identical watches and lets it go when they end", async () => {
    const x = await run("x", "GOOG", 1);
    const one = watch({ symbol: "GOOG" });
    const two = watch({ symbol: "GOOG" });
    await one.next();
    await two.next();
    expect(lb.logbook.watch.stats().leaderboardWatchers).toBe(2);
    await log(x, "sharpe", 2);
    expect(changes(await one.next())).toEqual([[K.LEADERBOARD_CHANGE_KIND_UPDATED, x, 1, undefined]]);
    expect(changes(await two.next())).toEqual([[K.LEADERBOARD_CHANGE_KIND_UPDATED, x, 1, undefined]]);
    one.cancel();
    two.cancel();
    for (let i = 0; i < 200 && lb.logbook.watch.stats().leaderboardWatchers > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(lb.logbook.watch.stats().leaderboardWatchers).toBe(0);
  });
});
