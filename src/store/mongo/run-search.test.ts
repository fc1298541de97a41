/**
 * The shapes of the queries a run search sends, checked without a server: what lets MongoDB serve them from the
 * indexes of indexes.ts (an equality prefix on experiment and lifecycle stage; a metric order as a walk of one field;
 * keyset bounds instead of skips). FerretDB runs the same queries in the conformance suite, where their results are
 * checked; it cannot show how MongoDB would plan them.
 */
import { describe, expect, it } from "vitest";
import { RANK_MISSING, RANK_NAN, RANK_VALUE } from "../../domain/filter/ast.js";
import { parseOrderBy, parseRunFilter } from "../../domain/filter/index.js";
import type { SortKey } from "../../domain/filter/run-order.js";
import type { RunSearchQuery } from "../types.js";
import { type Read, searchPlan } from "./run-search.js";
import { metricOrderKey } from "./value-encoding.js";

const query = (c: { experiments?: string[]; filter?: string; orderBy?: string[]; viewType?: RunSearchQuery["viewType"] }): RunSearchQuery => ({
  experimentIds: c.experiments ?? ["1", "2"],
  filter: parseRunFilter(c.filter ?? ""),
  order: parseOrderBy(c.orderBy ?? []),
  viewType: c.viewType ?? "ACTIVE_ONLY",
});

const find = (read: Read | undefined) => {
  if (read?.kind !== "find") throw new Error(`expected a find, got ${JSON.stringify(read)}`);
  return read;
};

/** The conditions of a filter document, AND-ed or alone. */
const parts = (filter: Record<string, unknown>) => (filter.$and as Record<string, unknown>[] | undefined) ?? [filter];

describe("run search plans", () => {
  it("default order: one find on the (experiment, lifecycle, start_time, _id) prefix, keyset pages bounded on start_time", () => {
    const [read, ...rest] = searchPlan(query({ filter: "params.symbol = 'AAPL'" }), undefined);
    expect(rest).toEqual([]);
    expect(find(read).sort).toEqual({ start_time: -1, _id: 1 });
    expect(parts(find(read).filter).slice(0, 2)).toEqual([{ experiment_id: { $in: ["1", "2"] } }, { lifecycle_stage: "active" }]);
    const after: SortKey = { terms: [], startTime: 500, runId: "r7" };
    const [next] = searchPlan(query({}), after);
    expect(parts(find(next).filter)).toContainEqual({ start_time: { $lte: 500 }, $or: [{ start_time: { $lt: 500 } }, { _id: { $gt: "r7" } }] });
  });

  it("every experiment and both stages keep an equality prefix (index lifecycle_start)", () => {
    const [read] = searchPlan(query({ experiments: [], viewType: "ALL" }), undefined);
    expect(find(read).filter).toEqual({ lifecycle_stage: { $in: ["active", "deleted"] } });
  });

  it("one metric: a walk of its order key alone (values, NaN, tie-break in one field), then the runs without it", () => {
    const q = query({ filter: "params.symbol = 'AAPL' and metrics.r2 > 0.5", orderBy: ["metrics.`sharpe.ratio` DESC"] });
    const [values, missing, ...rest] = searchPlan(q, undefined);
    expect(rest).toEqual([]);
    expect(find(values).sort).toEqual({ "metric_desc.sharpe%2Eratio": 1 });
    expect(find(values).hint).toBe("metric_desc");
    expect(parts(find(values).filter)).toContainEqual({ "metric_desc.sharpe%2Eratio": { $gte: "" } });
    expect(find(missing).sort).toEqual({ start_time: -1, _id: 1 });
    expect(parts(find(missing).filter)).toContainEqual({ "metrics.sharpe%2Eratio": { $exists: false } });

    const at = (rank: 0 | 1 | 2, value: number | null): SortKey => ({ terms: [[rank, value]], startTime: 9, runId: "r" });
    const [fromValue] = searchPlan(q, at(RANK_VALUE, 1.5));
    expect(parts(find(fromValue).filter)).toContainEqual({ "metric_desc.sharpe%2Eratio": { $gt: metricOrderKey(false, 1.5, 9, "r") } });
    const [fromNaN] = searchPlan(q, at(RANK_NAN, null));
    expect(parts(find(fromNaN).filter)).toContainEqual({ "metric_desc.sharpe%2Eratio": { $gt: metricOrderKey(false, Number.NaN, 9, "r") } });
    const fromMissing = searchPlan(q, at(RANK_MISSING, null));
    expect(fromMissing).toHaveLength(1);
    expect(parts(find(fromMissing[0]).filter)).toContainEqual({ start_time: { $lte: 9 }, $or: [{ start_time: { $lt: 9 } }, { _id: { $gt: "r" } }] });
  });

  it("other orders: one aggregation that ranks each term by its BSON type and sorts in the database", () => {
    const [read, ...rest] = searchPlan(query({ orderBy: ["params.window DESC", "metrics.r2 ASC", "attributes.end_time ASC"] }), undefined);
    expect(rest).toEqual([]);
    if (read?.kind !== "aggregate") throw new Error("expected an aggregation");
    const [match, addFields, sort] = read.head;
    expect(parts(match!.$match).slice(0, 2)).toEqual([{ experiment_id: { $in: ["1", "2"] } }, { lifecycle_stage: "active" }]);
    expect(addFields).toEqual({
      $addFields: { _r0: { $type: "$params.window" }, _r1: { $type: "$metrics.r2" }, _n1: { $type: "$metrics.r2.s" }, _r2: { $type: "$end_time" } },
    });
    expect(Object.entries(sort!.$sort)).toEqual([
      ["_r0", -1], ["params.window.v", -1], ["_r1", -1], ["_n1", -1], ["metrics.r2.s", 1], ["_r2", 1], ["end_time", 1], ["start_time", -1], ["_id", 1],
    ]);
    expect(read.tail).toEqual([{ $project: expect.objectContaining({ metric_asc: 0, metric_desc: 0, _r0: 0, _r1: 0, _n1: 0, _r2: 0 }) }]);
  });

  it("refuses an order needing more sort keys than MongoDB takes (32), before sending anything", () => {
    const terms = Array.from({ length: 11 }, (_, i) => `metrics.m${i} DESC`);
    expect(() => searchPlan(query({ orderBy: terms }), undefined)).toThrow(/need 35 sort keys, and MongoDB sorts on at most 32/);
    expect(searchPlan(query({ orderBy: terms.slice(1) }), undefined)).toHaveLength(1);
  });
});
