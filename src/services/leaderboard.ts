/**
 * Leaderboards: the active runs of one symbol (param `symbol`, else tag `symbol`) ranked by the latest value of one
 * metric, best first, with the model versions made from each. Leaderboard streams them; WatchLeaderboard keeps them
 * live (watch/live-board.ts).
 */
import type { IdScope } from "../domain/permission.js";
import type { Run } from "../domain/entities.js";
import { invalidParameter } from "../domain/errors.js";
import { type OrderTerm, RANK_MISSING, type RunClause, parseRunFilter } from "../domain/filter/index.js";
import { compareSortKeys, searchableRun, sortKeyOf } from "../domain/filter/run-order.js";
import type { Store } from "../store/types.js";
import type { LeaderboardRequest, LeaderboardResponse } from "../../gen/ts/logbook/v1/search_service.js";
import { modelVersionsByRun } from "./registry-search.js";
import { maxResultsOf } from "./search-limits.js";

/** The analysis service's defaults (reference/service-endpoints.md). */
export const LEADERBOARD_DEFAULT = 10;
export const LEADERBOARD_MAX = 1000;
/** Runs read from the store per batch. */
const STREAM_BATCH = 100;

/** A validated leaderboard request. */
export interface LeaderboardQuery {
  symbol: string;
  metric: string;
  limit: number;
  ascending: boolean;
  experimentIds: string[];
  /** The extra filter, parsed. */
  filter: RunClause[];
}

/**
 * What the caller may read (`--auth basic`; absent: everything): the runs' experiments and the registered models of
 * the entries' versions — conditions inside the store's queries, so the board is the caller's top N.
 */
export interface LeaderboardScopes {
  readable?: IdScope;
  readableModels?: IdScope;
}

export function leaderboardQuery(req: LeaderboardRequest): LeaderboardQuery {
  if (!req.metric) throw invalidParameter("Missing value for required parameter 'metric'.");
  if (!req.symbol) throw invalidParameter("Missing value for required parameter 'symbol'.");
  return {
    symbol: req.symbol,
    metric: req.metric,
    limit: maxResultsOf(req.limit, LEADERBOARD_DEFAULT, LEADERBOARD_MAX, "limit"),
    ascending: req.ascending,
    experimentIds: req.experimentIds,
    filter: parseRunFilter(req.filter),
  };
}

/**
 * Merges streams that are each in `order` into one in `order`, pulling one run ahead per stream; leaving early
 * returns every source (their cursors close).
 */
async function* mergeOrdered(sources: AsyncIterable<Run>[], order: OrderTerm[]): AsyncGenerator<Run> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  try {
    const heads = await Promise.all(iterators.map((it) => it.next()));
    for (;;) {
      let best = -1;
      let bestKey;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i]!;
        if (h.done) continue;
        const key = sortKeyOf(searchableRun(h.value), order);
        if (best < 0 || compareSortKeys(key, bestKey!, order) < 0) {
          best = i;
          bestKey = key;
        }
      }
      if (best < 0) return;
      yield (heads[best] as IteratorYieldResult<Run>).value;
      heads[best] = await iterators[best]!.next();
    }
  } finally {
    await Promise.all(
      iterators.map(async (it) => {
        await it.return?.();
      }),
    );
  }
}

/** The board, best first; entries go out in batches, each with one model-version read (never one per entry). */
export async function* leaderboardEntries(store: Store, req: LeaderboardQuery & LeaderboardScopes, signal: AbortSignal): AsyncGenerator<LeaderboardResponse> {
  const { limit, filter: extra } = req;
  const order: OrderTerm[] = [{ type: "metric", key: req.metric, ascending: req.ascending }];
  const base = { experimentIds: req.experimentIds, order, viewType: "ACTIVE_ONLY" as const, ...(req.readable ? { readable: req.readable } : {}) };
  // A run's symbol is its param `symbol`, else its tag `symbol`: two searches in the same order, merged.
  const byParam: RunClause[] = [...extra, { type: "param", key: "symbol", comparator: "=", value: req.symbol }];
  const byTag: RunClause[] = [
    ...extra,
    { type: "param", key: "symbol", comparator: "IS NULL" },
    { type: "tag", key: "symbol", comparator: "=", value: req.symbol },
  ];
  const merged = mergeOrdered(
    [
      store.streamRuns({ ...base, filter: byParam }, { batchSize: Math.min(limit + 1, STREAM_BATCH) }),
      store.streamRuns({ ...base, filter: byTag }, { batchSize: Math.min(limit + 1, STREAM_BATCH) }),
    ],
    order,
  );
  // Entries go out in batches: one model-version read per batch, never one per entry.
  const batchSize = Math.min(limit, STREAM_BATCH);
  let batch: LeaderboardResponse[] = [];
  const withModelVersions = async function* () {
    const byRun = await modelVersionsByRun(store, batch.map((e) => e.runId), req.readableModels ? { readable: req.readableModels } : {});
    for (const entry of batch) yield { ...entry, modelVersions: byRun.get(entry.runId) ?? [] };
    batch = [];
  };
  let position = 0;
  let rank = 0;
  let previous: number | undefined;
  for await (const run of merged) {
    if (signal.aborted) return;
    const key = sortKeyOf(searchableRun(run), order);
    if (key.terms[0]![0] === RANK_MISSING) break; // runs without the metric are left out (and sort last)
    const value = run.data.metrics.find((m) => m.key === req.metric)!.value;
    position += 1;
    // Competition ranking: equal values (NaN equal to NaN here) share the rank of the first of them.
    if (previous === undefined || !(Object.is(previous, value) || previous === value)) rank = position;
    previous = value;
    batch.push({
      rank,
      runId: run.info.runId,
      runName: run.info.runName,
      experimentId: run.info.experimentId,
      symbol: req.symbol,
      metric: req.metric,
      value,
      metrics: Object.fromEntries(run.data.metrics.filter((m) => m.key !== req.metric).map((m) => [m.key, m.value])),
      params: Object.fromEntries(run.data.params.map((p) => [p.key, p.value])),
      modelVersions: [],
    });
    if (batch.length >= batchSize) yield* withModelVersions();
    if (position >= limit) break;
  }
  if (batch.length > 0 && !signal.aborted) yield* withModelVersions();
}
