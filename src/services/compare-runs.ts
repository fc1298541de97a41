/**
 * SearchService.CompareRuns: 2–100 runs side by side. One search reads the runs (whole, deleted ones too); params,
 * tags and latest metrics are laid out key by key; the histories of the chosen metrics are read one metric and one run
 * at a time, page by page, and downsampled on one step grid per metric (domain/downsample.ts), so memory stays bounded
 * by the response however long the histories are.
 */
import type { Metric, Run, Tag } from "../domain/entities.js";
import { invalidParameter, notFound } from "../domain/errors.js";
import { BucketSampler, StepSpan } from "../domain/downsample.js";
import { compareCodePoints } from "../domain/filter/run-order.js";
import * as v from "../domain/validation.js";
import type { Store } from "../store/types.js";
import {
  type CompareRunsHistory,
  type CompareRunsMetric,
  type CompareRunsRequest,
  type CompareRunsResponse,
  type CompareRunsValues,
  MetricDirection,
} from "../../gen/ts/logbook/v1/search_service.js";
import { runInfoToProto } from "./tracking-convert.js";

export const COMPARE_MIN_RUNS = 2;
export const COMPARE_MAX_RUNS = 100;
export const COMPARE_MAX_METRIC_KEYS = 20;
export const COMPARE_DEFAULT_POINTS = 500;
export const COMPARE_MAX_POINTS = 5000;
/** The most history points one response may carry (≈ 50 MB of JSON). */
export const COMPARE_MAX_TOTAL_POINTS = 1_000_000;

const byKey = (a: string, b: string) => compareCodePoints(a, b);

/** Params or tags across the runs: every key any run has, with the values of the runs that have it. */
function compareValues(runs: Run[], valuesOf: (run: Run) => Tag[]): CompareRunsValues[] {
  const byKeyValues = new Map<string, { runId: string; value: string }[]>();
  for (const run of runs) {
    for (const { key, value } of valuesOf(run)) {
      let values = byKeyValues.get(key);
      if (!values) byKeyValues.set(key, (values = []));
      values.push({ runId: run.info.runId, value });
    }
  }
  return [...byKeyValues.keys()].sort(byKey).map((key) => {
    const values = byKeyValues.get(key)!;
    return { key, values, differs: values.length < runs.length || values.some((x) => x.value !== values[0]!.value) };
  });
}

function compareMetrics(runs: Run[], directions: Map<string, MetricDirection>): CompareRunsMetric[] {
  const byKeyValues = new Map<string, { runId: string; value: number }[]>();
  for (const run of runs) {
    for (const { key, value } of run.data.metrics) {
      let values = byKeyValues.get(key);
      if (!values) byKeyValues.set(key, (values = []));
      values.push({ runId: run.info.runId, value });
    }
  }
  return [...byKeyValues.keys()].sort(byKey).map((key) => {
    const values = byKeyValues.get(key)!;
    const direction = directions.get(key) ?? MetricDirection.METRIC_DIRECTION_MAXIMIZE;
    const sign = direction === MetricDirection.METRIC_DIRECTION_MINIMIZE ? -1 : 1;
    let best: { runId: string; value: number } | undefined;
    for (const x of values) {
      if (Number.isNaN(x.value)) continue;
      if (best === undefined || sign * x.value > sign * best.value) best = x;
    }
    return { key, values, bestRunId: best?.runId ?? "", direction };
  });
}

function directionsOf(req: CompareRunsRequest): Map<string, MetricDirection> {
  const directions = new Map<string, MetricDirection>();
  for (const [key, direction] of Object.entries(req.directions)) {
    switch (direction) {
      case MetricDirection.METRIC_DIRECTION_UNSPECIFIED:
      case MetricDirection.METRIC_DIRECTION_MAXIMIZE:
        directions.set(key, MetricDirection.METRIC_DIRECTION_MAXIMIZE);
        break;
      case MetricDirection.METRIC_DIRECTION_MINIMIZE:
        directions.set(key, direction);
        break;
      default:
        throw invalidParameter(`Invalid value ${String(direction)} for parameter 'directions[${key}]' supplied: MAXIMIZE or MINIMIZE.`);
    }
  }
  return directions;
}

/** History points read per round trip. */
const HISTORY_PAGE = 10_000;
/** Points of one metric (over all the runs) kept from the first read; beyond, the histories are read a second time. */
const HELD_POINTS = 100_000;

/** One run's history of `key`, page by page. */
async function* historyPages(store: Store, runId: string, key: string): AsyncGenerator<Metric[]> {
  let pageToken: string | undefined;
  do {
    const page = await store.getMetricHistory(runId, key, { maxResults: HISTORY_PAGE, ...(pageToken ? { pageToken } : {}) });
    yield page.metrics;
    pageToken = page.nextPageToken;
  } while (pageToken);
}

/**
 * The runs' histories of `key` on one grid, in memory bounded by the buckets whatever the histories' length: a first
 * read finds the steps (and keeps the points while they are few: then it is the only read), a second one buckets
 * them page by page.
 */
async function compareHistories(store: Store, runIds: string[], key: string, maxPoints: number): Promise<CompareRunsHistory[]> {
  const span = new StepSpan(maxPoints);
  let held: Metric[][] | undefined = runIds.map(() => []);
  let heldCount = 0;
  for (const [i, runId] of runIds.entries()) {
    for await (const page of historyPages(store, runId, key)) {
      span.add(page);
      if (held === undefined) continue;
      heldCount += page.length;
      if (heldCount > HELD_POINTS) held = undefined;
      else held[i]!.push(...page);
    }
  }
  const grid = span.grid();
  const histories: CompareRunsHistory[] = [];
  for (const [i, runId] of runIds.entries()) {
    const sampler = new BucketSampler(grid);
    if (held !== undefined) sampler.add(held[i]!);
    else for await (const page of historyPages(store, runId, key)) sampler.add(page);
    const points = sampler.points();
    if (points.length > 0) histories.push({ key, runId, points: points.map((p) => ({ step: BigInt(p.step), value: p.value, min: p.min, max: p.max })) });
  }
  return histories;
}

export async function compareRuns(store: Store, req: CompareRunsRequest): Promise<CompareRunsResponse> {
  const runIds = req.runIds;
  if (runIds.length < COMPARE_MIN_RUNS || runIds.length > COMPARE_MAX_RUNS) {
    throw invalidParameter(`CompareRuns needs ${COMPARE_MIN_RUNS} to ${COMPARE_MAX_RUNS} run_ids; got ${runIds.length}.`);
  }
  for (const runId of runIds) v.validateRunId(runId);
  const duplicate = runIds.find((id, i) => runIds.indexOf(id) !== i);
  if (duplicate !== undefined) throw invalidParameter(`Run ${duplicate} is named twice in 'run_ids'.`);
  const metricKeys = [...new Set(req.metricKeys)];
  if (metricKeys.length > COMPARE_MAX_METRIC_KEYS) {
    throw invalidParameter(`CompareRuns returns the histories of at most ${COMPARE_MAX_METRIC_KEYS} metric_keys; got ${metricKeys.length}.`);
  }
  if (metricKeys.some((k) => k === "")) throw invalidParameter("Invalid value '' for parameter 'metric_keys' supplied: a metric key.");
  const maxPoints = req.maxPoints ?? COMPARE_DEFAULT_POINTS;
  if (!Number.isInteger(maxPoints) || maxPoints < 1 || maxPoints > COMPARE_MAX_POINTS) {
    throw invalidParameter(`Invalid value ${maxPoints} for parameter 'max_points' supplied. It must be at most ${COMPARE_MAX_POINTS} and at least 1.`);
  }
  const total = runIds.length * metricKeys.length * maxPoints;
  if (total > COMPARE_MAX_TOTAL_POINTS) {
    throw invalidParameter(
      `CompareRuns returns at most ${COMPARE_MAX_TOTAL_POINTS} history points (run_ids × metric_keys × max_points); ` +
        `${runIds.length} × ${metricKeys.length} × ${maxPoints} = ${total}: ask for fewer runs, metric keys or points.`,
    );
  }
  const directions = directionsOf(req);

  const page = await store.searchRuns(
    { experimentIds: [], filter: [{ type: "attribute", key: "run_id", comparator: "IN", values: runIds }], order: [], viewType: "ALL" },
    { maxResults: runIds.length },
  );
  const found = new Map(page.runs.map((run) => [run.info.runId, run]));
  const unknown = runIds.filter((id) => !found.has(id));
  if (unknown.length > 0) throw notFound(`Run${unknown.length > 1 ? "s" : ""} not found: ${unknown.join(", ")}`);
  const runs = runIds.map((id) => found.get(id)!);

  const histories: CompareRunsHistory[] = [];
  for (const key of metricKeys) histories.push(...(await compareHistories(store, runIds, key, maxPoints)));

  return {
    runs: runs.map((run) => runInfoToProto(run.info)),
    params: compareValues(runs, (run) => run.data.params),
    metrics: compareMetrics(runs, directions),
    tags: compareValues(runs, (run) => run.data.tags),
    histories,
  };
}
