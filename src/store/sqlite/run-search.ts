/**
 * Run search on SQLite: the filter compiled by filter-to-sql.ts, ordered and keyset-paged in SQL.
 *
 * The first order term splits the result into segments by rank — runs with a value, with NaN (metrics), without the
 * key — each its own query, so that within a segment the order is a plain index order: a metric's segment is driven
 * by `latest_metrics_by_key_value (key, is_nan, value)`, a param's or tag's by `(key, value)`, and the default order
 * (no terms) by `runs_by_experiment (experiment_id, start_time DESC, run_id)`, as are the NaN and missing segments (ordered by
 * the tie-break alone) when one experiment is searched. A page walks the index from the
 * token's position (`value <= last` bounds the range; the exact lexicographic condition follows) and stops after
 * `maxResults + 1` rows — no OFFSET, no sort of the whole match. Only ties of the first term are sorted (SQLite's
 * "TEMP B-TREE FOR RIGHT PART OF ORDER BY"). Further terms are correlated subqueries on primary keys.
 */
import type { Database } from "better-sqlite3";
import { type OrderByAttribute, type OrderTerm, RANK_MISSING, RANK_NAN, RANK_VALUE, type Rank } from "../../domain/filter/ast.js";
import { decodeRunPageToken, encodeRunPageToken } from "../../domain/filter/page-token.js";
import type { SortKey, SortValue } from "../../domain/filter/run-order.js";
import { withinScope } from "../../domain/permission.js";
import type { RunSearchPage, RunSearchQuery } from "../types.js";
import { type SqlFragment, filterToSql } from "./filter-to-sql.js";
import { type Column, after, createStatementCache } from "./keyset.js";
import { parseExperimentId } from "./mapping.js";
import type { RunReader } from "./run-reader.js";
import { scopeToSql } from "./scope-to-sql.js";

interface Segment {
  rank: Rank;
  from: string;
  where: SqlFragment[];
  /** The first term's value column, when this segment has values. */
  first?: Column;
  /** A redundant bound on `first` that lets the index range start at the token's value. */
  rangeOp?: "<=" | ">=";
}

const ATTRIBUTE_COLUMN = {
  run_id: "r.run_id",
  run_name: "r.name",
  status: "r.status",
  user_id: "r.user_id",
  artifact_uri: "r.artifact_uri",
  start_time: "r.start_time",
  end_time: "r.end_time",
  experiment_id: "r.experiment_id",
} as const;
const KV_TABLE = { param: "params", tag: "run_tags" } as const;
const KV_INDEX = { param: "params_by_key_value", tag: "run_tags_by_key_value" } as const;

/** (rank, value) expressions of a term after the first. */
function termColumns(t: OrderTerm): [SqlFragment, Column] {
  const descending = !t.ascending;
  if (t.type === "metric") {
    return [
      { sql: "coalesce((SELECT x.is_nan FROM latest_metrics x WHERE x.run_id = r.run_id AND x.key = ?), 2)", params: [t.key] },
      { sql: "(SELECT CASE WHEN x.is_nan = 0 THEN x.value END FROM latest_metrics x WHERE x.run_id = r.run_id AND x.key = ?)", params: [t.key], descending },
    ];
  }
  if (t.type === "param" || t.type === "tag") {
    const sub = `(SELECT x.value FROM ${KV_TABLE[t.type]} x WHERE x.run_id = r.run_id AND x.key = ?)`;
    return [{ sql: `CASE WHEN ${sub} IS NULL THEN 2 ELSE 0 END`, params: [t.key] }, { sql: sub, params: [t.key], descending }];
  }
  const column = ATTRIBUTE_COLUMN[t.key as OrderByAttribute];
  const rank = t.key === "end_time" ? "CASE WHEN r.end_time IS NULL THEN 2 ELSE 0 END" : "0";
  return [{ sql: rank, params: [] }, { sql: column, params: [], descending }];
}

function segmentsFor(first: OrderTerm | undefined): Segment[] {
  if (first === undefined) {
    return [{ rank: RANK_VALUE, from: "runs r", where: [] }];
  }
  const descending = !first.ascending;
  const rangeOp = descending ? "<=" : ">=";
  if (first.type === "metric") {
    const from = "latest_metrics o INDEXED BY latest_metrics_by_key_value CROSS JOIN runs r ON r.run_id = o.run_id";
    return [
      { rank: RANK_VALUE, from, where: [{ sql: "o.key = ? AND o.is_nan = 0", params: [first.key] }], first: { sql: "o.value", params: [], descending }, rangeOp },
      // NaN values are ordered by the tie-break alone: walk the runs in that order (runs_by_experiment) and test each.
      { rank: RANK_NAN, from: "runs r", where: [{ sql: "EXISTS (SELECT 1 FROM latest_metrics x WHERE x.run_id = r.run_id AND x.key = ? AND x.is_nan = 1)", params: [first.key] }] },
      { rank: RANK_MISSING, from: "runs r", where: [{ sql: "NOT EXISTS (SELECT 1 FROM latest_metrics x WHERE x.run_id = r.run_id AND x.key = ?)", params: [first.key] }] },
    ];
  }
  if (first.type === "param" || first.type === "tag") {
    const from = `${KV_TABLE[first.type]} o INDEXED BY ${KV_INDEX[first.type]} CROSS JOIN runs r ON r.run_id = o.run_id`;
    return [
      { rank: RANK_VALUE, from, where: [{ sql: "o.key = ?", params: [first.key] }], first: { sql: "o.value", params: [], descending }, rangeOp },
      { rank: RANK_MISSING, from: "runs r", where: [{ sql: `NOT EXISTS (SELECT 1 FROM ${KV_TABLE[first.type]} x WHERE x.run_id = r.run_id AND x.key = ?)`, params: [first.key] }] },
    ];
  }
  const column: Column = { sql: ATTRIBUTE_COLUMN[first.key as OrderByAttribute], params: [], descending };
  if (first.key === "end_time") {
    return [
      { rank: RANK_VALUE, from: "runs r", where: [{ sql: "r.end_time IS NOT NULL", params: [] }], first: column, rangeOp },
      { rank: RANK_MISSING, from: "runs r", where: [{ sql: "r.end_time IS NULL", params: [] }] },
    ];
  }
  return [{ rank: RANK_VALUE, from: "runs r", where: [], first: column, rangeOp }];
}

interface Row {
  run_id: string;
  start_time: number;
  [column: string]: unknown;
}

export interface RunSearch {
  searchRuns(query: RunSearchQuery, page: { maxResults: number; pageToken?: string }): RunSearchPage;
  /** One page of run ids and the token after them; `rowsRead` counts the rows the queries returned. */
  searchRunIds(query: RunSearchQuery, page: { maxResults: number; pageToken?: string }): { runIds: string[]; nextPageToken: string; rowsRead: number };
  /** The SQL and parameters of each segment query of a page (for EXPLAIN QUERY PLAN in tests). */
  explain(query: RunSearchQuery, page: { maxResults: number; pageToken?: string }): SqlFragment[];
}

export function createRunSearch(db: Database, readRuns: RunReader): RunSearch {
  const prepare = createStatementCache(db);

  /** The queries of a page, segment by segment from the token's, each with its limit applied by the caller. */
  function plan(query: RunSearchQuery, pageToken: string | undefined): { segment: Segment; sql: string; params: unknown[] }[] | null {
    const order = query.order;
    const key: SortKey | undefined = pageToken ? decodeRunPageToken(pageToken, order) : undefined;
    const base: SqlFragment[] = [];
    if (query.experimentIds.length > 0) {
      // The caller's scope as a shorter list of experiments (no condition added), when the search names them.
      const ids = withinScope(query.experimentIds, query.readable)
        .map(parseExperimentId)
        .filter((x): x is number => x !== undefined);
      if (ids.length === 0) return null;
      // One experiment: an equality, so runs_by_experiment serves the default order too. Several: one bound JSON
      // array rather than a placeholder per id, so any number of them fits (SQLite caps bound parameters at 32,766).
      base.push(
        ids.length === 1
          ? { sql: "r.experiment_id = ?", params: ids }
          : { sql: "r.experiment_id IN (SELECT value FROM json_each(?))", params: [JSON.stringify(ids)] },
      );
    } else {
      const readable = scopeToSql("r.experiment_id", query.readable, true);
      if (readable) base.push(readable);
    }
    if (query.viewType !== "ALL") base.push({ sql: "r.lifecycle_stage = ?", params: [query.viewType === "ACTIVE_ONLY" ? "active" : "deleted"] });
    base.push(...filterToSql(query.filter));

    const rest = order.slice(1).map(termColumns);
    const restColumns: Column[] = rest.flatMap(([rank, value]) => [{ ...rank, descending: false }, value]);
    const tieBreak: Column[] = [
      { sql: "r.start_time", params: [], descending: true },
      { sql: "r.run_id", params: [], descending: false },
    ];
    const segments = segmentsFor(order[0]);
    const startRank = key ? key.terms[0]?.[0] ?? RANK_VALUE : RANK_VALUE;
    const queries: { segment: Segment; sql: string; params: unknown[] }[] = [];
    for (const segment of segments) {
      if (segment.rank < startRank) continue;
      const columns = [...(segment.first ? [segment.first] : []), ...restColumns, ...tieBreak];
      const where = [...segment.where, ...base];
      if (key && segment.rank === startRank) {
        const values: unknown[] = [];
        if (segment.first) values.push(key.terms[0]![1]);
        for (const [rank, value] of key.terms.slice(1)) values.push(rank, value);
        values.push(key.startTime, key.runId);
        if (segment.first && segment.rangeOp) where.push({ sql: `${segment.first.sql} ${segment.rangeOp} ?`, params: [values[0]] });
        else if (!segment.first && order.length === 0) where.push({ sql: "r.start_time <= ?", params: [key.startTime] });
        where.push(after(columns, values));
      }
      const select = ["r.run_id AS run_id", "r.start_time AS start_time"];
      const selectParams: unknown[] = [];
      if (segment.first) select.push(`${segment.first.sql} AS v0`);
      restColumns.forEach((c, i) => {
        select.push(`${c.sql} AS c${i}`);
        selectParams.push(...c.params);
      });
      const orderBy = columns.map((c) => `${c.sql} ${c.descending ? "DESC" : "ASC"}`).join(", ");
      const orderParams = columns.flatMap((c) => c.params);
      const sql = `SELECT ${select.join(", ")} FROM ${segment.from} WHERE ${where.map((w) => w.sql).join(" AND ")} ORDER BY ${orderBy} LIMIT ?`;
      queries.push({ segment, sql, params: [...selectParams, ...where.flatMap((w) => w.params), ...orderParams] });
    }
    return queries;
  }

  function sortKeyOf(segment: Segment, row: Row, order: OrderTerm[]): SortKey {
    const terms: [Rank, SortValue][] = [];
    if (order.length > 0) terms.push([segment.rank, segment.first ? (row.v0 as SortValue) : null]);
    for (let i = 1; i < order.length; i++) {
      const rank = row[`c${2 * (i - 1)}`] as Rank;
      terms.push([rank, rank === RANK_VALUE ? (row[`c${2 * (i - 1) + 1}`] as SortValue) : null]);
    }
    return { terms, startTime: row.start_time, runId: row.run_id };
  }

  function searchRunIds(query: RunSearchQuery, page: { maxResults: number; pageToken?: string }) {
    const queries = plan(query, page.pageToken);
    const found: { segment: Segment; row: Row }[] = [];
    let rowsRead = 0;
    for (const q of queries ?? []) {
      const want = page.maxResults + 1 - found.length;
      if (want <= 0) break;
      const rows = prepare(q.sql).all(...q.params, want) as Row[];
      rowsRead += rows.length;
      for (const row of rows) found.push({ segment: q.segment, row });
    }
    let nextPageToken = "";
    if (found.length > page.maxResults) {
      found.length = page.maxResults;
      const last = found[found.length - 1]!;
      nextPageToken = encodeRunPageToken(sortKeyOf(last.segment, last.row, query.order), query.order);
    }
    return { runIds: found.map((f) => f.row.run_id), nextPageToken, rowsRead };
  }

  // One read transaction: the page's runs are one consistent snapshot.
  const readPage = db.transaction(readRuns);

  return {
    searchRunIds,
    searchRuns(query, page) {
      const { runIds, nextPageToken } = searchRunIds(query, page);
      return { runs: readPage(runIds), nextPageToken };
    },
    explain(query, page) {
      return (plan(query, page.pageToken) ?? []).map((q) => ({ sql: q.sql, params: [...q.params, page.maxResults + 1] }));
    },
  };
}
