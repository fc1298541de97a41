/**
 * SearchService through the generated gRPC client against a real server, on both stores: SearchRuns paging and
 * errors, StreamSearchRuns with backpressure (counted at the source: rows/documents the store read) and
 * cancellation, Leaderboard with ties, NaN and missing metrics, and the seed query RPCs.
 */
import { type ClientReadableStream, credentials, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ViewType } from "../../gen/ts/logbook/v1/experiment.js";
import {
  type LeaderboardResponse,
  SearchServiceClient,
  SearchServiceService,
  type StreamSearchRunsResponse,
} from "../../gen/ts/logbook/v1/search_service.js";
import type { Run } from "../../src/domain/entities.js";
import type { RunSearchQuery, Store } from "../../src/store/types.js";
import { expectGrpcError, promiseClient } from "../harness/grpc.js";
import { STORE_KINDS, startTestLogbook, storeSpec, type TestLogbook } from "../harness/logbook.js";
import { seedRunsDirectly } from "../harness/mongo-seed.js";

const INVALID = { grpcCode: status.INVALID_ARGUMENT, mlflowCode: "INVALID_PARAMETER_VALUE" };
const NOT_FOUND = { grpcCode: status.NOT_FOUND, mlflowCode: "RESOURCE_DOES_NOT_EXIST" };

/** Runs on the store directly (the seed data of these tests, not what they test). */
async function seedRun(
  store: Store,
  experimentId: string,
  runId: string,
  startTime: number,
  data: { metrics?: Record<string, number>; params?: Record<string, string>; tags?: Record<string, string> },
): Promise<void> {
  await store.createRun({ runId, experimentId, userId: "u", runName: `name-${runId}`, startTime, tags: [] });
  await store.logBatch(runId, {
    metrics: Object.entries(data.metrics ?? {}).map(([key, value]) => ({ key, value, timestamp: startTime, step: 0 })),
    params: Object.entries(data.params ?? {}).map(([key, value]) => ({ key, value })),
    tags: Object.entries(data.tags ?? {}).map(([key, value]) => ({ key, value })),
  });
}

function collect<T>(call: ClientReadableStream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const items: T[] = [];
    call.on("data", (x: T) => items.push(x));
    call.on("error", reject);
    call.on("end", () => resolve(items));
  });
}

/** Counts, at the source, what the store read for streams, and whether each stream's iteration was closed. */
function instrument(store: Store) {
  const stats = { read: 0, streams: 0, closed: 0 };
  const original = store.streamRuns.bind(store);
  store.streamRuns = (query: RunSearchQuery, options = {}) =>
    (async function* (): AsyncGenerator<Run> {
      stats.streams++;
      try {
        yield* original(query, { ...options, onRead: (n) => (stats.read += n) });
      } finally {
        stats.closed++;
      }
    })();
  return stats;
}

const waitFor = async (condition: () => boolean, what: string) => {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
};

/** Resolves once `read()` has returned the same value on 5 checks in a row (the source stopped). */
async function settled(read: () => number): Promise<number> {
  let last = -1;
  let same = 0;
  for (let i = 0; i < 500 && same < 5; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const now = read();
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

describe.each(STORE_KINDS)("SearchService over gRPC on %s", (kind) => {
  let lb: TestLogbook;
  let search: ReturnType<typeof promiseClient<typeof SearchServiceService>>;
  let streaming: SearchServiceClient;
  let experimentId: string;

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "search" });
    search = promiseClient(SearchServiceService, lb.address);
    streaming = new SearchServiceClient(lb.address, credentials.createInsecure());
    const store = lb.logbook.store;
    experimentId = await store.createExperiment({ name: "prices/daily", tags: [], now: 1 });
    // AAPL by param: a=2.0, b=2.0 (tie), c=NaN, d missing sharpe; e by tag only (1.5); f MSFT; g deleted AAPL 9.0;
    // h has param symbol MSFT and tag AAPL (its param wins: not AAPL).
    await seedRun(store, experimentId, "a", 100, { metrics: { sharpe: 2, r2: 0.9 }, params: { symbol: "AAPL", window: "20" } });
    await seedRun(store, experimentId, "b", 200, { metrics: { sharpe: 2, r2: 0.4 }, params: { symbol: "AAPL" } });
    await seedRun(store, experimentId, "c", 300, { metrics: { sharpe: Number.NaN }, params: { symbol: "AAPL" } });
    await seedRun(store, experimentId, "d", 400, { metrics: { r2: 0.7 }, params: { symbol: "AAPL" } });
    await seedRun(store, experimentId, "e", 500, { metrics: { sharpe: 1.5 }, tags: { symbol: "AAPL" } });
    await seedRun(store, experimentId, "f", 600, { metrics: { sharpe: 5 }, params: { symbol: "MSFT" } });
    await seedRun(store, experimentId, "g", 700, { metrics: { sharpe: 9 }, params: { symbol: "AAPL" } });
    await store.setRunLifecycle("g", "deleted", 1);
    await seedRun(store, experimentId, "h", 800, { metrics: { sharpe: 7 }, params: { symbol: "MSFT" }, tags: { symbol: "AAPL" } });
  });

  afterAll(async () => {
    search?.close();
    streaming?.close();
    await lb?.close();
  });

  const ids = (runs: { info?: { runId: string } }[]) => runs.map((r) => r.info!.runId);

  it("SearchRuns filters, orders and pages with opaque tokens", async () => {
    const base = { experimentIds: [experimentId], filter: "params.symbol = 'AAPL'", orderBy: ["metrics.sharpe DESC"], runViewType: ViewType.VIEW_TYPE_ACTIVE_ONLY, pageToken: "" };
    const all = await search.searchRuns({ ...base, maxResults: undefined });
    expect(ids(all.runs)).toEqual(["b", "a", "c", "d"]);
    expect(all.nextPageToken).toBe("");
    const first = await search.searchRuns({ ...base, maxResults: 3 });
    expect(ids(first.runs)).toEqual(["b", "a", "c"]);
    const second = await search.searchRuns({ ...base, maxResults: 3, pageToken: first.nextPageToken });
    expect(ids(second.runs)).toEqual(["d"]);
    expect(second.nextPageToken).toBe("");
    const everything = await search.searchRuns({ ...base, filter: "", orderBy: [], runViewType: ViewType.VIEW_TYPE_ALL, maxResults: 100 });
    expect(ids(everything.runs)).toEqual(["h", "g", "f", "e", "d", "c", "b", "a"]);
  });

  it("SearchRuns answers bad filters, orders, tokens and max_results with INVALID_PARAMETER_VALUE", async () => {
    const base = { experimentIds: [experimentId], filter: "", orderBy: [], runViewType: 0, pageToken: "", maxResults: undefined as number | undefined };
    await expectGrpcError(search.searchRuns({ ...base, filter: "metrics.x > 1 OR params.y = 'z'" }), { ...INVALID, message: "Invalid clause(s) in filter string" });
    await expectGrpcError(search.searchRuns({ ...base, filter: "metrics.x = 'a'" }), { ...INVALID, message: "Expected numeric value type for metric" });
    await expectGrpcError(search.searchRuns({ ...base, filter: "foo.x = 'a'" }), { ...INVALID, message: "Invalid entity type 'foo'" });
    await expectGrpcError(search.searchRuns({ ...base, orderBy: ["metrics.x sideways"] }), { ...INVALID, message: "Invalid order_by clause" });
    await expectGrpcError(search.searchRuns({ ...base, pageToken: "bogus" }), { ...INVALID, message: "Invalid page token" });
    await expectGrpcError(search.searchRuns({ ...base, maxResults: 50_001 }), { ...INVALID, message: "Invalid value 50001 for parameter 'max_results'" });
  });

  it("StreamSearchRuns streams every match in order", async () => {
    const runs = await collect<StreamSearchRunsResponse>(
      streaming.streamSearchRuns({ experimentIds: [experimentId], filter: "metrics.sharpe >= 1.5", orderBy: ["metrics.sharpe ASC"], runViewType: 0 }),
    );
    expect(runs.map((r) => r.run!.info!.runId)).toEqual(["e", "b", "a", "f", "h"]);
    await expect(collect(streaming.streamSearchRuns({ experimentIds: [], filter: "params.x ~ 1", orderBy: [], runViewType: 0 }))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it("Leaderboard ranks a symbol's active runs by one metric: ties share a rank, NaN last, missing left out", async () => {
    const board = await collect<LeaderboardResponse>(streaming.leaderboard({ symbol: "AAPL", metric: "sharpe", ascending: false, experimentIds: [], filter: "" }));
    expect(board.map((e) => [e.rank, e.runId, e.value])).toEqual([
      [1, "b", 2],
      [1, "a", 2],
      [3, "e", 1.5],
      [4, "c", Number.NaN],
    ]);
    expect(board[1]).toMatchObject({ runName: "name-a", experimentId, symbol: "AAPL", metric: "sharpe", metrics: { r2: 0.9 }, params: { symbol: "AAPL", window: "20" } });
    const ascending = await collect<LeaderboardResponse>(streaming.leaderboard({ symbol: "AAPL", metric: "sharpe", ascending: true, limit: 2, experimentIds: [experimentId], filter: "" }));
    expect(ascending.map((e) => e.runId)).toEqual(["e", "b"]);
    const filtered = await collect<LeaderboardResponse>(streaming.leaderboard({ symbol: "AAPL", metric: "sharpe", ascending: false, experimentIds: [], filter: "metrics.r2 < 0.5" }));
    expect(filtered.map((e) => e.runId)).toEqual(["b"]);
    await expect(collect(streaming.leaderboard({ symbol: "AAPL", metric: "", ascending: false, experimentIds: [], filter: "" }))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(collect(streaming.leaderboard({ symbol: "AAPL", metric: "sharpe", limit: 1001, ascending: false, experimentIds: [], filter: "" }))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it("SearchExperimentRuns finds the experiment by name; QueryRuns by ids or names", async () => {
    const byName = await search.searchExperimentRuns({ experimentName: "prices/daily", filter: "metrics.sharpe > 4", orderBy: [], pageToken: "", runViewType: 0 });
    expect(byName.experiment!.experimentId).toBe(experimentId);
    expect(ids(byName.runs)).toEqual(["h", "f"]);
    await expectGrpcError(search.searchExperimentRuns({ experimentName: "nope", filter: "", orderBy: [], pageToken: "", runViewType: 0 }), NOT_FOUND);
    const query = await search.queryRuns({ experimentIds: [], experimentNames: ["prices/daily"], filterString: "params.symbol = 'MSFT'", orderBy: ["metrics.sharpe DESC"], pageToken: "", runViewType: 0 });
    expect(ids(query.runs)).toEqual(["h", "f"]);
    const all = await search.queryRuns({ experimentIds: [], experimentNames: [], filterString: "", orderBy: [], maxResults: 2, pageToken: "", runViewType: 0 });
    expect(ids(all.runs)).toEqual(["h", "f"]);
    expect(all.nextPageToken).not.toBe("");
  });
});

describe.each(STORE_KINDS)("StreamSearchRuns backpressure on %s", (kind) => {
  // Many runs, counted at the source: 50,000 on SQLite; 10,000 on FerretDB, seeded in bulk there in the store's own
  // layout (through the store, one run at a time, FerretDB takes minutes). A stream is one database cursor.
  const RUNS = kind === "sqlite" ? 50_000 : 10_000;
  let lb: TestLogbook;
  let client: SearchServiceClient;
  let stats: ReturnType<typeof instrument>;
  let experimentId: string;

  beforeAll(async () => {
    const uri = storeSpec(kind, "stream");
    lb = await startTestLogbook(kind, { store: uri });
    client = new SearchServiceClient(lb.address, credentials.createInsecure());
    const store = lb.logbook.store;
    experimentId = await store.createExperiment({ name: "many", tags: [], now: 1 });
    const pad = "x".repeat(4000);
    const runId = (i: number) => `run${String(i).padStart(6, "0")}`;
    if (kind === "mongodb") {
      const { artifactLocation } = await store.getExperiment(experimentId);
      const runs = Array.from({ length: RUNS }, (_, i) => ({ runId: runId(i), runName: `name-${runId(i)}`, startTime: i, params: { symbol: "AAPL", note: pad } }));
      await seedRunsDirectly(uri, experimentId, artifactLocation, runs);
    } else {
      const batch: Promise<void>[] = [];
      for (let i = 0; i < RUNS; i++) {
        batch.push(seedRun(store, experimentId, runId(i), i, { params: { symbol: "AAPL", note: pad } }));
        if (batch.length === 200) await Promise.all(batch.splice(0));
      }
      await Promise.all(batch);
    }
    stats = instrument(store);
  }, 600_000);

  afterAll(async () => {
    client?.close();
    await lb?.close();
  });

  const request = () => ({ experimentIds: [experimentId], filter: "params.symbol = 'AAPL'", orderBy: [], runViewType: 0 });

  it("keeps the source bounded while the client is paused, then delivers everything", async () => {
    stats.read = 0;
    const call = client.streamSearchRuns(request());
    let received = 0;
    let paused = false;
    const done = new Promise<void>((resolve, reject) => {
      call.on("data", () => {
        received++;
        if (!paused) {
          paused = true;
          call.pause(); // after the first message: data is flowing, so grpc-js stops reading (toolchain.md §4)
        }
      });
      call.on("error", reject);
      call.on("end", resolve);
    });
    done.catch(() => {}); // a failed assertion below leaves the call to be cancelled by afterAll
    await waitFor(() => paused, "the first message");
    const whilePaused = await settled(() => stats.read);
    expect(whilePaused).toBeGreaterThan(0);
    // A few batches (100 runs each) at most; without backpressure the source would reach RUNS.
    expect(whilePaused).toBeLessThanOrEqual(Math.min(RUNS / 2, 5_000));
    expect(stats.read).toBe(whilePaused);
    call.resume();
    await done;
    expect(received).toBe(RUNS);
    expect(stats.read).toBeGreaterThanOrEqual(RUNS);
  }, 300_000);

  it("closes the store's cursor when the client cancels mid-way", async () => {
    const closedBefore = stats.closed;
    const call = client.streamSearchRuns(request());
    let received = 0;
    call.on("error", () => {});
    await new Promise<void>((resolve) => {
      call.on("data", () => {
        received++;
        if (received === 10) {
          call.cancel();
          resolve();
        }
      });
    });
    await waitFor(() => stats.closed > closedBefore, "the stream's source to close");
    expect(stats.read).toBeLessThan(RUNS * 2);
  }, 120_000);
});
