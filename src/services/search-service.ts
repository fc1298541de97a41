/**
 * logbook.v1.SearchService: run searches (MLflow's SearchRuns, the stream without a page cap, the analysis service's
 * /mlflow/... queries) and leaderboards (leaderboard.ts). Filters and order_by are parsed once here (src/domain/filter) and handed to
 * the store as an AST; every search shares `runQuery`. The registry's and logged models' searches, and the model
 * versions on leaderboard entries, are in registry-search.ts; the GenAI searches the MLflow UI makes, in genai-search.ts.
 */
import { invalidParameter, notFound } from "../domain/errors.js";
import { parseOrderBy, parseRunFilter } from "../domain/filter/index.js";
import { experimentKeysetTerms, parseExperimentFilter, parseExperimentOrderBy } from "../domain/filter/experiment-search.js";
import type { RunSearchQuery, Store, ViewType } from "../store/types.js";
import { ViewType as PbViewType } from "../../gen/ts/logbook/v1/experiment.js";
import type { SearchServiceService } from "../../gen/ts/logbook/v1/search_service.js";
import { createExperimentDataSearch } from "./experiment-data-search.js";
import { queryTraceMetrics, searchEvaluationDatasets, searchTraces } from "./genai-search.js";
import { keysetPage } from "./keyset-page.js";
import { compareRuns } from "./compare-runs.js";
import { type LeaderboardScopes, leaderboardEntries, leaderboardQuery } from "./leaderboard.js";
import type { WatchHub } from "./watch/watch-hub.js";
import { createWatchLeaderboardMethod } from "./watch-leaderboard.js";
import { searchLoggedModels, searchModelVersions, searchRegisteredModels } from "./registry-search.js";
import type { CallContext, ServiceImplementation } from "./rpc.js";
import { maxResultsOf } from "./search-limits.js";
import type { IdScope, ResourceType } from "../domain/permission.js";
import type { AccessControl } from "./auth/access-control.js";
import { experimentToProto, metricToProto, missing, runToProto } from "./tracking-convert.js";

export interface SearchDeps {
  store: Store;
  /** The process's live watches (WatchLeaderboard). */
  watch: WatchHub;
  /** With `--auth basic`: what each caller may read, put inside every search's query. */
  auth?: { access: Pick<AccessControl, "scope"> };
}

/** MLflow's SEARCH_MAX_RESULTS_DEFAULT and SEARCH_MAX_RESULTS_THRESHOLD. */
export const SEARCH_RUNS_DEFAULT = 1000;
export const SEARCH_RUNS_MAX = 50_000;
/** The analysis service's defaults (reference/service-endpoints.md). */
export const SEED_SEARCH_DEFAULT = 100;
/** MLflow's GetMetricHistoryBulkInterval limits (MAX_RUNS_GET_METRIC_HISTORY_BULK, MAX_RESULTS_PER_RUN, MAX_RESULTS_GET_METRIC_HISTORY). */
export const BULK_INTERVAL_MAX_RUNS = 100;
export const BULK_INTERVAL_MAX_RESULTS = 2500;
const BULK_INTERVAL_MAX_POINTS_PER_RUN = 25_000;
/** Runs read from the store per batch by streams. */
const STREAM_BATCH = 100;

export function viewTypeFromProto(v: PbViewType, field: string): ViewType {
  switch (v) {
    case PbViewType.VIEW_TYPE_UNSPECIFIED:
    case PbViewType.VIEW_TYPE_ACTIVE_ONLY:
      return "ACTIVE_ONLY";
    case PbViewType.VIEW_TYPE_DELETED_ONLY:
      return "DELETED_ONLY";
    case PbViewType.VIEW_TYPE_ALL:
      return "ALL";
    default:
      throw invalidParameter(`Invalid value ${v} for parameter '${field}' supplied.`);
  }
}

/** First index of sorted `xs` whose value is >= x (bisect_left), or > x when `right` (bisect_right). */
function bisect(xs: number[], x: number, right: boolean): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (right ? xs[mid]! <= x : xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * MLflow's step sampling (AbstractStore.get_metric_history_bulk_interval, mlflow/store/tracking/abstract_store.py;
 * handlers.py's older `_get_sampled_steps_from_steps` compared the index with the count instead of the end): of
 * the sorted distinct `allSteps` within [start, end], all when at most `maxResults`, else the ones at indexes
 * start + floor(i * count / maxResults) for i < maxResults, and the last.
 */
export function sampleSteps(start: number, end: number, maxResults: number, allSteps: number[]): Set<number> {
  const startIdx = bisect(allSteps, start, false);
  const endIdx = bisect(allSteps, end, true);
  if (endIdx - startIdx <= maxResults) return new Set(allSteps.slice(startIdx, endIdx));
  const count = endIdx - startIdx;
  const interval = count / maxResults;
  const sampled = new Set<number>();
  for (let i = 0; i < maxResults; i++) {
    const idx = startIdx + Math.trunc(i * interval);
    if (idx < endIdx) sampled.add(allSteps[idx]!);
  }
  sampled.add(allSteps[endIdx - 1]!);
  return sampled;
}

function runQuery(experimentIds: string[], filter: string, orderBy: string[], viewType: ViewType): RunSearchQuery {
  return { experimentIds, filter: parseRunFilter(filter), order: parseOrderBy(orderBy), viewType };
}

export function createSearchService(deps: SearchDeps): ServiceImplementation<typeof SearchServiceService> {
  const { store } = deps;
  /** The experiments (or registered models) the caller may read, as the store's `readable` condition. */
  const readable = (ctx: CallContext, type: ResourceType): { readable?: IdScope } => {
    const scope = deps.auth?.access.scope(ctx, type);
    return scope ? { readable: scope } : {};
  };
  /** A leaderboard's scopes: its runs' experiments and its versions' registered models. */
  const leaderboardScopes = (ctx: CallContext): LeaderboardScopes => {
    const experiments = deps.auth?.access.scope(ctx, "experiment");
    const registeredModels = deps.auth?.access.scope(ctx, "registered_model");
    return { ...(experiments ? { readable: experiments } : {}), ...(registeredModels ? { readableModels: registeredModels } : {}) };
  };

  /** Experiment ids from names; an unknown name is RESOURCE_DOES_NOT_EXIST as in GetExperimentByName. */
  async function experimentIdsByName(names: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const name of names) {
      const experiment = await store.getExperimentByName(name);
      if (!experiment) throw notFound(`Could not find experiment with name '${name}'`);
      ids.push(experiment.experimentId);
    }
    return ids;
  }

  return {
    ...createExperimentDataSearch(store),

    async searchRuns(req, ctx) {
      const maxResults = maxResultsOf(req.maxResults, SEARCH_RUNS_DEFAULT, SEARCH_RUNS_MAX);
      const query = runQuery(req.experimentIds, req.filter, req.orderBy, viewTypeFromProto(req.runViewType, "run_view_type"));
      // MLflow searches the experiments given, so none finds nothing (the store reads an empty list as "every").
      if (query.experimentIds.length === 0) return { runs: [], nextPageToken: "" };
      const page = await store.searchRuns({ ...query, ...readable(ctx, "experiment") }, { maxResults, ...(req.pageToken ? { pageToken: req.pageToken } : {}) });
      return { runs: page.runs.map(runToProto), nextPageToken: page.nextPageToken };
    },

    async searchExperiments(req, ctx) {
      const maxResults = maxResultsOf(req.maxResults, SEARCH_RUNS_DEFAULT, SEARCH_RUNS_MAX);
      const query = { filter: parseExperimentFilter(req.filter), order: parseExperimentOrderBy(req.orderBy), viewType: viewTypeFromProto(req.viewType, "view_type") };
      // The scope is not part of the page token's search: a grant changed between pages does not void the token.
      const page = await keysetPage(query, experimentKeysetTerms(query.order), { maxResults, pageToken: req.pageToken }, (p) =>
        store.searchExperiments({ ...query, ...readable(ctx, "experiment") }, p),
      );
      return { experiments: page.items.map(experimentToProto), nextPageToken: page.nextPageToken };
    },

    async *streamSearchRuns(req, ctx) {
      const query = runQuery(req.experimentIds, req.filter, req.orderBy, viewTypeFromProto(req.runViewType, "run_view_type"));
      for await (const run of store.streamRuns({ ...query, ...readable(ctx, "experiment") }, { batchSize: STREAM_BATCH })) {
        if (ctx.signal.aborted) return;
        yield { run: runToProto(run) };
      }
    },

    async searchExperimentRuns(req, ctx) {
      if (!req.experimentName) throw invalidParameter("Missing value for required parameter 'experiment_name'.");
      const maxResults = maxResultsOf(req.maxResults, SEED_SEARCH_DEFAULT, SEARCH_RUNS_MAX);
      const experiment = await store.getExperimentByName(req.experimentName);
      if (!experiment) throw notFound(`Could not find experiment with name '${req.experimentName}'`);
      const query = runQuery([experiment.experimentId], req.filter, req.orderBy, viewTypeFromProto(req.runViewType, "run_view_type"));
      const page = await store.searchRuns({ ...query, ...readable(ctx, "experiment") }, { maxResults, ...(req.pageToken ? { pageToken: req.pageToken } : {}) });
      return { experiment: experimentToProto(experiment), runs: page.runs.map(runToProto), nextPageToken: page.nextPageToken };
    },

    async queryRuns(req, ctx) {
      if (req.experimentIds.length > 0 && req.experimentNames.length > 0) {
        throw invalidParameter("Give either 'experiment_ids' or 'experiment_names', not both.");
      }
      const maxResults = maxResultsOf(req.maxResults, SEED_SEARCH_DEFAULT, SEARCH_RUNS_MAX);
      const viewType = viewTypeFromProto(req.runViewType, "run_view_type");
      // Parse before any lookup, so a bad filter is a 400 whatever the names.
      const query = runQuery(req.experimentIds, req.filterString, req.orderBy, viewType);
      if (req.experimentNames.length > 0) query.experimentIds = await experimentIdsByName(req.experimentNames);
      const page = await store.searchRuns({ ...query, ...readable(ctx, "experiment") }, { maxResults, ...(req.pageToken ? { pageToken: req.pageToken } : {}) });
      return { runs: page.runs.map(runToProto), nextPageToken: page.nextPageToken };
    },

    searchRegisteredModels: (req, ctx) => searchRegisteredModels(store, req, readable(ctx, "registered_model")),
    searchModelVersions: (req, ctx) => searchModelVersions(store, req, readable(ctx, "registered_model")),
    searchTraces,
    queryTraceMetrics,
    searchEvaluationDatasets,
    searchLoggedModels: (req, ctx) => searchLoggedModels(store, req, readable(ctx, "experiment")),

    async getMetricHistoryBulkInterval(req) {
      // MLflow's checks, in its order (get_metric_history_bulk_interval_handler), then its messages.
      if (req.runIds.length === 0) throw missing("run_ids");
      if (req.runIds.length > BULK_INTERVAL_MAX_RUNS) {
        throw invalidParameter(
          `GetMetricHistoryBulkInterval request must specify at most ${BULK_INTERVAL_MAX_RUNS} run_ids. Received ${req.runIds.length} run_ids.`,
        );
      }
      if (!req.metricKey) throw missing("metric_key");
      const maxResults = req.maxResults ?? BULK_INTERVAL_MAX_RESULTS;
      if (maxResults < 1 || maxResults > BULK_INTERVAL_MAX_RESULTS) {
        throw invalidParameter(`max_results must be between 1 and ${BULK_INTERVAL_MAX_RESULTS}.`);
      }
      let start = req.startStep === undefined ? undefined : Number(req.startStep);
      let end = req.endStep === undefined ? undefined : Number(req.endStep);
      if (start !== undefined && end !== undefined) {
        if (start > end) {
          throw invalidParameter(`end_step must be greater than start_step. Found start_step=${start} and end_step=${end}.`);
        }
      } else if (start !== undefined || end !== undefined) {
        throw invalidParameter("If either start step or end step are specified, both must be specified.");
      }
      // Whole histories, as MLflow reads them (per run), but in one store read for all the runs: the history layouts
      // of both stores are ordered by timestamp first, so a step window could not be read by range anyway.
      const byRun = await store.getMetricHistories(req.runIds, req.metricKey);
      const histories = req.runIds.map((runId) => byRun.get(runId) ?? []);
      const perRunSteps = histories.map((h) => h.map((m) => m.step));
      const minsAndMaxes = new Set<number>();
      for (const steps of perRunSteps) {
        if (steps.length === 0) continue;
        minsAndMaxes.add(steps.reduce((a, b) => Math.min(a, b)));
        minsAndMaxes.add(steps.reduce((a, b) => Math.max(a, b)));
      }
      const allSteps = [...new Set(perRunSteps.flat())].sort((a, b) => a - b);
      if (start === undefined || end === undefined) {
        start = 0;
        end = allSteps.length > 0 ? allSteps[allSteps.length - 1]! : 0;
      }
      const steps = sampleSteps(start, end, maxResults, allSteps);
      for (const s of minsAndMaxes) if (start <= s && s <= end) steps.add(s);
      const metrics = req.runIds.flatMap((runId, i) =>
        histories[i]!
          .filter((m) => steps.has(m.step))
          .sort((a, b) => a.step - b.step || a.timestamp - b.timestamp)
          .slice(0, BULK_INTERVAL_MAX_POINTS_PER_RUN)
          .map((m) => ({ ...metricToProto(m), runId })),
      );
      return { metrics };
    },

    async *leaderboard(req, ctx) {
      yield* leaderboardEntries(store, { ...leaderboardQuery(req), ...leaderboardScopes(ctx) }, ctx.signal);
    },
    watchLeaderboard: createWatchLeaderboardMethod({ watch: deps.watch, scopes: leaderboardScopes }),
    compareRuns: (req) => compareRuns(store, req),
  };
}
