/**
 * Keyset pages in SQL: `ORDER BY` a total order, the rows strictly after the previous page's last sort key, `LIMIT`
 * one more than the page to know whether another follows. No OFFSET, no count. Shared by the run search and the
 * experiment, registry and logged-model searches.
 */
import type { Database, Statement } from "better-sqlite3";
import type { SortKeyValues } from "../../domain/filter/keyset-token.js";
import type { KeysetPage, SearchPage } from "../types.js";
import type { SqlFragment } from "./filter-to-sql.js";

/** An expression of the ORDER BY with its bound parameters. */
export interface Column extends SqlFragment {
  descending: boolean;
}

/** An order term: an expression that may be NULL (no value: sorted last in both directions) when `nullable`. */
export interface OrderColumn extends Column {
  nullable?: boolean;
}

/** `(c0, c1, …)` strictly after `values` in the columns' directions (NULL-safe equality on the way). */
export function after(columns: Column[], values: unknown[]): SqlFragment {
  const parts: string[] = [];
  const params: unknown[] = [];
  const eqs: string[] = [];
  const eqParams: unknown[] = [];
  columns.forEach((c, i) => {
    parts.push(`(${[...eqs, `${c.sql} ${c.descending ? "<" : ">"} ?`].join(" AND ")})`);
    params.push(...eqParams, ...c.params, values[i]);
    eqs.push(`${c.sql} IS ?`);
    eqParams.push(...c.params, values[i]);
  });
  return { sql: `(${parts.join(" OR ")})`, params };
}

/** Prepared statements by SQL text (queries are built per search shape), at most a few hundred kept. */
export function createStatementCache(db: Database): (sql: string) => Statement {
  const statements = new Map<string, Statement>();
  return (sql) => {
    let s = statements.get(sql);
    if (!s) {
      if (statements.size > 500) statements.clear();
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
}

export interface KeysetQuery {
  /** Columns of the items (the sort key is selected after them as k0, k1, …). */
  select: string;
  from: string;
  where: SqlFragment[];
  order: OrderColumn[];
}

/**
 * One page of `query`: the item rows and, when more follow, the sort key of the last. A nullable term sorts as
 * (value IS NULL, value), so a missing value comes after every value whatever the direction.
 */
export function readKeysetPage<Row>(prepare: (sql: string) => Statement, query: KeysetQuery, page: KeysetPage): SearchPage<Row> {
  const columns: Column[] = query.order.flatMap((c): Column[] =>
    c.nullable ? [{ sql: `(${c.sql} IS NULL)`, params: c.params, descending: false }, c] : [c],
  );
  const where = [...query.where];
  if (page.after) {
    const values = query.order.flatMap((c, i) => (c.nullable ? [page.after![i] === null ? 1 : 0, page.after![i]] : [page.after![i]]));
    const first = query.order[0]!;
    // A redundant bound on the first term lets an index range start at the previous page's last value.
    if (!first.nullable) where.push({ sql: `${first.sql} ${first.descending ? "<=" : ">="} ?`, params: [...first.params, page.after[0]] });
    where.push(after(columns, values));
  }
  const keys = query.order.map((c, i) => `${c.sql} AS k${i}`);
  const sql =
    `SELECT ${query.select}, ${keys.join(", ")} FROM ${query.from}` +
    (where.length > 0 ? ` WHERE ${where.map((w) => `(${w.sql})`).join(" AND ")}` : "") +
    ` ORDER BY ${columns.map((c) => `${c.sql} ${c.descending ? "DESC" : "ASC"}`).join(", ")} LIMIT ?`;
  const params = [
    ...query.order.flatMap((c) => c.params),
    ...where.flatMap((w) => w.params),
    ...columns.flatMap((c) => c.params),
    page.maxResults + 1,
  ];
  const rows = prepare(sql).all(...params) as (Row & Record<string, unknown>)[];
  if (rows.length <= page.maxResults) return { items: rows };
  rows.length = page.maxResults;
  const last = rows[rows.length - 1]!;
  const next: SortKeyValues = query.order.map((_, i) => last[`k${i}`] as string | number | null);
  return { items: rows, next };
}
