/**
 * Compiles the run filter AST (src/domain/filter) to SQL over `runs r`: every value is a bound parameter, the SQL
 * text comes only from this file's constants (column names are chosen from a closed table, never from input).
 *
 * Metric clauses test `latest_metrics` through its primary key (run_id, key); NaN (`is_nan = 1`) fails every
 * comparison but `!=`. Param/tag clauses use their primary keys (run_id, key). LIKE is case-sensitive through GLOB
 * (likeToGlob); ILIKE is SQLite's LIKE, which folds ASCII case.
 */
import type { NumericComparator, RunClause, RunFilter } from "../../domain/filter/ast.js";
import { likeToGlob } from "../../domain/filter/like.js";

export interface SqlFragment {
  sql: string;
  params: unknown[];
}

const NUMERIC_SQL: Record<NumericComparator, string> = { "=": "=", "!=": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<=" };

const STRING_COLUMN = { run_id: "r.run_id", run_name: "r.name", status: "r.status", user_id: "r.user_id", artifact_uri: "r.artifact_uri" } as const;
const KV_TABLE = { param: "params", tag: "run_tags" } as const;

/** `<column> <op> ?` for a string comparator, with the bound value. */
function stringTest(column: string, comparator: "=" | "!=" | "LIKE" | "ILIKE", value: string): SqlFragment {
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

function clauseToSql(c: RunClause): SqlFragment {
  switch (c.type) {
    case "metric": {
      const test =
        c.comparator === "!=" ? `(m.is_nan = 1 OR m.value != ?)` : `m.is_nan = 0 AND m.value ${NUMERIC_SQL[c.comparator]} ?`;
      return { sql: `EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_id = r.run_id AND m.key = ? AND ${test})`, params: [c.key, c.value] };
    }
    case "param":
    case "tag": {
      const table = KV_TABLE[c.type];
      if (c.comparator === "IS NULL") return { sql: `NOT EXISTS (SELECT 1 FROM ${table} p WHERE p.run_id = r.run_id AND p.key = ?)`, params: [c.key] };
      if (c.comparator === "IS NOT NULL") return { sql: `EXISTS (SELECT 1 FROM ${table} p WHERE p.run_id = r.run_id AND p.key = ?)`, params: [c.key] };
      const test = stringTest("p.value", c.comparator, (c as { value: string }).value);
      return { sql: `EXISTS (SELECT 1 FROM ${table} p WHERE p.run_id = r.run_id AND p.key = ? AND ${test.sql})`, params: [c.key, ...test.params] };
    }
    case "attribute": {
      if (c.comparator === "IN" || c.comparator === "NOT IN") {
        if (c.values.length === 0) return { sql: c.comparator === "IN" ? "0" : "1", params: [] };
        return { sql: `r.run_id ${c.comparator} (${c.values.map(() => "?").join(", ")})`, params: [...c.values] };
      }
      if (c.key === "start_time" || c.key === "end_time") {
        return { sql: `r.${c.key} ${NUMERIC_SQL[c.comparator as NumericComparator]} ?`, params: [c.value] };
      }
      return stringTest(STRING_COLUMN[c.key], c.comparator as "=" | "!=" | "LIKE" | "ILIKE", (c as { value: string }).value);
    }
  }
}

export function filterToSql(filter: RunFilter): SqlFragment[] {
  return filter.map(clauseToSql);
}
