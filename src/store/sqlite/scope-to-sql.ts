/**
 * The "readable by the caller" condition of a query (domain/permission.ts IdScope) as one SQL fragment: the ids go in
 * as one JSON parameter (`json_each`), so a scope of any size is one bound value and never spliced into the SQL.
 */
import type { IdScope } from "../../domain/permission.js";
import type { SqlFragment } from "./filter-to-sql.js";
import { parseExperimentId } from "./mapping.js";

/**
 * @param column the column holding the id (`r.experiment_id`, `r.name`, …)
 * @param numeric the column holds experiment ids as integers: ids that are not one are left out (they name nothing)
 * @returns undefined when the scope restricts nothing
 */
export function scopeToSql(column: string, scope: IdScope | undefined, numeric = false): SqlFragment | undefined {
  if (!scope) return undefined;
  const ids = "only" in scope ? scope.only : scope.except;
  const values = numeric ? ids.map(parseExperimentId).filter((id) => id !== undefined) : ids;
  if ("only" in scope) {
    return values.length === 0 ? { sql: "0", params: [] } : { sql: `${column} IN (SELECT value FROM json_each(?))`, params: [JSON.stringify(values)] };
  }
  return values.length === 0 ? undefined : { sql: `${column} NOT IN (SELECT value FROM json_each(?))`, params: [JSON.stringify(values)] };
}
