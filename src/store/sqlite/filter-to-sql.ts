/**
 * Compiles filter clauses (src/domain/filter) to SQL: the run filter over `runs r`, and the column and key-value tests
 * every other search's SQL is made of. Every value is a bound parameter; the SQL text comes only from constants
 * (column names are chosen from closed tables, never from input).
 *
 * Metric clauses test `latest_metrics` through its primary key (run_id, key); NaN (`is_nan = 1`) fails every
 * comparison but `!=`. Param/tag clauses use their primary keys (run_id, key). LIKE is case-sensitive through GLOB
 * (likeToGlob); ILIKE is SQLite's LIKE, which folds ASCII case.
 */
import type { FilterClause, ListComparator, NumericComparator, RunClause, RunFilter, StringComparator } from "../../domain/filter/ast.js";
import { likeToGlob } from "../../domain/filter/like.js";

export interface SqlFragment {
  sql: string;
  params: unknown[];
}

const STRING_COLUMN = { run_id: "r.run_id", run_name: "r.name", status: "r.status", user_id: "r.user_id", artifact_uri: "r.artifact_uri" } as const;
const KV_TABLE = { param: "params", tag: "run_tags" } as const;

const NUMERIC_SQL: Record<NumericComparator, string> = { "=": "=", "!=": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<=" };

/** `<column> <op> ?` for a string comparator, with the bound value. */
export function stringTest(column: string, comparator: StringComparator, value: string): SqlFragment {
  switch (comparator) {
    case "=":
      return { sql: `${column} = ?`, params: [value] };
    case "!=":
      return { sql: `${column} != ?`, params: [value] };
    case "LIKE":
      return { sql: `${column} GLOB ?`, params: [likeToGlob(value)] };
    default:
      return { sql: `${column} LIKE ?`, params: [value] };
  }
}

export const numericTest = (column: string, comparator: NumericComparator, value: number): SqlFragment => ({
  sql: `${column} ${NUMERIC_SQL[comparator]} ?`,
  params: [value],
});

/** IN / NOT IN a list (a NULL column satisfies neither, as MLflow's SQL stores answer). */
export function listTest(column: string, comparator: ListComparator, values: readonly string[]): SqlFragment {
  if (values.length === 0) return { sql: comparator === "IN" ? "0" : `${column} IS NOT NULL`, params: [] };
  return { sql: `${column} ${comparator} (${values.map(() => "?").join(", ")})`, params: [...values] };
}

/** Any clause of the filter AST on one column. */
export function clauseTest(column: string, c: FilterClause): SqlFragment {
  if (c.comparator === "IS NULL") return { sql: `${column} IS NULL`, params: [] };
  if (c.comparator === "IS NOT NULL") return { sql: `${column} IS NOT NULL`, params: [] };
  if (c.comparator === "IN" || c.comparator === "NOT IN") return listTest(column, c.comparator, c.values);
  const { value } = c as { value: string | number };
  if (typeof value === "number") return numericTest(column, c.comparator as NumericComparator, value);
  return stringTest(column, c.comparator as StringComparator, value);
}

/**
 * A clause on a key-value table (tags, params) of the row `owner` joins to (`x.<column> = <outer column>`): the key
 * must be there for every comparison but IS NULL. Served by the table's primary key (owner, key).
 */
export function keyValueTest(table: string, owner: string, c: FilterClause): SqlFragment {
  const lookup = `SELECT 1 FROM ${table} x WHERE ${owner} AND x.key = ?`;
  if (c.comparator === "IS NULL") return { sql: `NOT EXISTS (${lookup})`, params: [c.key] };
  if (c.comparator === "IS NOT NULL") return { sql: `EXISTS (${lookup})`, params: [c.key] };
  const test = clauseTest("x.value", c);
  return { sql: `EXISTS (${lookup} AND ${test.sql})`, params: [c.key, ...test.params] };
}

function clauseToSql(c: RunClause): SqlFragment {
  switch (c.type) {
    case "metric": {
      const test =
        c.comparator === "!=" ? `(m.is_nan = 1 OR m.value != ?)` : `m.is_nan = 0 AND m.value ${NUMERIC_SQL[c.comparator]} ?`;
      return { sql: `EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_id = r.run_id AND m.key = ? AND ${test})`, params: [c.key, c.value] };
    }
    case "param":
    case "tag":
      return keyValueTest(KV_TABLE[c.type], "x.run_id = r.run_id", c);
    case "attribute":
      if (c.comparator === "IN" || c.comparator === "NOT IN") return listTest("r.run_id", c.comparator, c.values);
      if (c.key === "start_time" || c.key === "end_time") return numericTest(`r.${c.key}`, c.comparator as NumericComparator, c.value as number);
      return stringTest(STRING_COLUMN[c.key], c.comparator as StringComparator, (c as { value: string }).value);
  }
}

export function filterToSql(filter: RunFilter): SqlFragment[] {
  return filter.map(clauseToSql);
}
