/**
 * The run-search case table of the store conformance suite (contract.test.ts): a small fixed set of runs and, per
 * case, a filter / order_by / view type with the expected run ids in the expected order. The expectations are
 * written by hand from MLflow's rules (reference/mlflow-rest-api.md §6) and also checked against the in-memory
 * reference (src/domain/filter/run-order.ts) in search-cases.test.ts.
 */
import type { Metric, Tag } from "../domain/entities.js";
import type { ViewType } from "./types.js";

export interface SearchFixtureRun {
  id: string;
  startTime: number;
  metrics: Record<string, number>;
  params: Record<string, string>;
  tags: Record<string, string>;
  deleted?: boolean;
  endTime?: number;
}

/** Run ids sort a < b < … (tie-break after start_time DESC). */
export const SEARCH_FIXTURE: SearchFixtureRun[] = [
  { id: "a", startTime: 1000, metrics: { acc: 0.9, "m.dot key": 1, loss: Number.NaN }, params: { symbol: "AAPL", "p with space": "x" }, tags: { team: "Alpha", "t.dot": "v" } },
  { id: "b", startTime: 2000, metrics: { acc: 0.5, "m.dot key": 2 }, params: { symbol: "AAPL" }, tags: { team: "alpha_1" } },
  { id: "c", startTime: 3000, metrics: { acc: Number.NaN }, params: { symbol: "MSFT" }, tags: {} },
  { id: "d", startTime: 2000, metrics: {}, params: { symbol: "A%PL" }, tags: { team: "beta" } },
  { id: "e", startTime: 1000, metrics: { acc: 0.9 }, params: {}, tags: { team: "ALPHA" } },
  { id: "f", startTime: 4000, metrics: { acc: 1 }, params: { symbol: "AAPL" }, tags: { team: "Alpha" }, deleted: true },
  { id: "g", startTime: 500, metrics: { acc: Number.NEGATIVE_INFINITY }, params: { symbol: "aapl" }, tags: { team: "gamma" }, endTime: 900 },
];

export interface SearchCase {
  filter?: string;
  orderBy?: string[];
  viewType?: ViewType;
  expected: string[];
}

export const SEARCH_CASES: SearchCase[] = [
  { expected: ["c", "b", "d", "a", "e", "g"] },
  { viewType: "DELETED_ONLY", expected: ["f"] },
  { viewType: "ALL", filter: "metrics.acc >= 0.9", expected: ["f", "a", "e"] },
  { filter: "metrics.acc > 0.5", expected: ["a", "e"] },
  { filter: "metric.acc >= 0.5", expected: ["b", "a", "e"] },
  { filter: "metrics.acc != 0.9", expected: ["c", "b", "g"] },
  { filter: "metrics.acc < 0", expected: ["g"] },
  { filter: "metrics.acc = 0.9", expected: ["a", "e"] },
  { filter: 'metrics."m.dot key" = 2', expected: ["b"] },
  { filter: "metrics.`m.dot key` <= 1", expected: ["a"] },
  { filter: "metrics.missing > 0", expected: [] },
  { filter: "params.symbol = 'AAPL'", expected: ["b", "a"] },
  { filter: 'parameters.symbol = "AAPL"', expected: ["b", "a"] },
  { filter: "params.symbol != 'AAPL'", expected: ["c", "d", "g"] },
  { filter: "params.symbol LIKE 'A%'", expected: ["b", "d", "a"] },
  { filter: "params.symbol LIKE 'A_PL'", expected: ["b", "d", "a"] },
  { filter: "params.symbol ILIKE 'a%pl'", expected: ["b", "d", "a", "g"] },
  { filter: "params.symbol LIKE '%'", expected: ["c", "b", "d", "a", "g"] },
  { filter: "params.`p with space` = 'x'", expected: ["a"] },
  { filter: "params.symbol IS NULL", expected: ["e"] },
  { filter: "params.symbol IS NOT NULL", expected: ["c", "b", "d", "a", "g"] },
  { filter: "tags.team IS NULL", expected: ["c"] },
  { filter: "tags.team is not null", expected: ["b", "d", "a", "e", "g"] },
  { filter: "tags.team ILIKE 'alpha%'", expected: ["b", "a", "e"] },
  { filter: "tags.team LIKE 'alpha%'", expected: ["b"] },
  { filter: "tags.team LIKE 'alpha__'", expected: ["b"] },
  { filter: "tags.team LIKE 'alpha_'", expected: [] },
  { filter: "tags.team != 'Alpha'", expected: ["b", "d", "e", "g"] },
  { filter: 'tags."t.dot" = \'v\'', expected: ["a"] },
  { filter: "attributes.run_id IN ('a', 'c', 'f')", expected: ["c", "a"] },
  { filter: "run_id NOT IN ('a','c')", expected: ["b", "d", "e", "g"] },
  { filter: "attributes.start_time >= 2000", expected: ["c", "b", "d"] },
  { filter: "created < 1000", expected: ["g"] },
  { filter: "attributes.end_time > 0", expected: ["g"] },
  { filter: "attributes.status = 'FINISHED'", expected: ["g"] },
  { filter: "run_name LIKE 'name-_'", expected: ["c", "b", "d", "a", "e", "g"] },
  { filter: "params.symbol = 'AAPL' and metrics.acc > 0.6", expected: ["a"] },
  { filter: "params.symbol = 'AAPL' AND tags.team ILIKE 'ALPHA%' AND metrics.acc < 1", expected: ["b", "a"] },
  // Operators and quotes inside values are literals.
  { filter: "params.symbol = '$ne'", expected: [] },
  { filter: "params.symbol = 'x'' OR 1=1 --'", expected: [] },
  { filter: "tags.team = '{\"$ne\": null}'", expected: [] },
  { orderBy: ["metrics.acc DESC"], expected: ["a", "e", "b", "g", "c", "d"] },
  { orderBy: ["metrics.acc ASC"], expected: ["g", "b", "a", "e", "c", "d"] },
  { orderBy: ["metrics.acc"], filter: "params.symbol = 'AAPL'", expected: ["b", "a"] },
  { orderBy: ["params.symbol ASC"], expected: ["d", "b", "a", "c", "g", "e"] },
  { orderBy: ["params.symbol DESC"], expected: ["g", "c", "b", "a", "d", "e"] },
  { orderBy: ["tags.team ASC", "metrics.acc DESC"], expected: ["e", "a", "b", "d", "g", "c"] },
  { orderBy: ["attributes.end_time DESC"], expected: ["g", "c", "b", "d", "a", "e"] },
  { orderBy: ["metrics.loss DESC", "metrics.acc ASC"], expected: ["a", "g", "b", "e", "c", "d"] },
  { orderBy: ["start_time ASC"], expected: ["g", "a", "e", "b", "d", "c"] },
  { orderBy: ["attributes.run_name DESC"], expected: ["g", "e", "d", "c", "b", "a"] },
  { orderBy: ["params.symbol ASC", "tags.team DESC"], viewType: "ALL", expected: ["d", "b", "f", "a", "c", "g", "e"] },
];

export function fixtureBatch(run: SearchFixtureRun): { metrics: Metric[]; params: Tag[]; tags: Tag[] } {
  return {
    metrics: Object.entries(run.metrics).map(([key, value]) => ({ key, value, timestamp: run.startTime, step: 0 })),
    params: Object.entries(run.params).map(([key, value]) => ({ key, value })),
    tags: Object.entries(run.tags).map(([key, value]) => ({ key, value })),
  };
}
