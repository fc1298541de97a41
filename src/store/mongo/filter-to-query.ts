/**
 * Compiles the run filter AST (src/domain/filter) into one MongoDB query document on the run documents
 * (run-document.ts), evaluated entirely by the database — MongoDB and FerretDB alike — with the semantics of
 * src/domain/filter/run-order.ts (the conformance suite holds both stores to them). Every user value sits under
 * `$eq`/`$ne`/`$in`/a range operator as a plain string or number, or is a regular expression this file builds with
 * every special character escaped; keys become field names only through key-fields.ts (no `.` or leading `$` survives),
 * so no input can become an operator or a path.
 *
 * - Metrics compare on `metric_asc.<key>`, the ascending order key (value-encoding.ts metricOrderKey): the value's
 *   16-hex part is a range, so `metrics.r2 > 0.5` is an index range on MongoDB (index metric_asc); -0 equals 0; NaN
 *   ("n…", above every number) fails every comparison but `!=`; a run without the metric fails all of them.
 * - Params and tags compare on `params.<key>.v` / `tags.<key>.v`; IS NULL is the entry's absence.
 * - LIKE/ILIKE are anchored `$regex`es (like.ts likeToRegexSource); ILIKE folds ASCII case only.
 */
import type { Document } from "mongodb";
import type { NumericComparator, RunClause, RunFilter, StringComparator } from "../../domain/filter/ast.js";
import { likeToRegexSource } from "../../domain/filter/like.js";
import { metricOrderPath, paramPath, tagPath } from "./run-document.js";
import { METRIC_ORDER_NAN, metricValueBounds } from "./value-encoding.js";

const STRING_FIELD = { run_id: "_id", run_name: "run_name", status: "status", user_id: "user_id", artifact_uri: "artifact_uri" } as const;
const RANGE: Record<Exclude<NumericComparator, "!=">, string> = { "=": "$eq", ">": "$gt", ">=": "$gte", "<": "$lt", "<=": "$lte" };
/** Matches no document (`_id` is never an array). */
const NOTHING: Document = { _id: { $in: [] } };

/** A string comparison of `field` (which every document has, or whose absence fails the clause). */
function stringCondition(comparator: StringComparator, value: string, mayBeMissing: boolean): Document {
  switch (comparator) {
    case "=":
      return { $eq: value };
    case "!=":
      return mayBeMissing ? { $exists: true, $ne: value } : { $ne: value };
    case "LIKE":
      return { $regex: likeToRegexSource(value, false) };
    case "ILIKE":
      return { $regex: likeToRegexSource(value, true) };
  }
}

/** `metrics.<key> <comparator> value` as a condition on the key's ascending order key. */
function metricCondition(comparator: NumericComparator, value: number): Document | null {
  if (Number.isNaN(value)) return comparator === "!=" ? { $exists: true } : null;
  const { low, high } = metricValueBounds(value);
  switch (comparator) {
    case "=":
      return { $gte: low, $lt: high };
    case "!=":
      return { $exists: true, $not: { $gte: low, $lt: high } };
    case ">":
      return { $gte: high, $lt: METRIC_ORDER_NAN };
    case ">=":
      return { $gte: low, $lt: METRIC_ORDER_NAN };
    case "<":
      return { $lt: low };
    case "<=":
      return { $lt: high };
  }
}

export function clauseToQuery(c: RunClause): Document {
  switch (c.type) {
    case "metric": {
      const condition = metricCondition(c.comparator, c.value);
      return condition === null ? NOTHING : { [metricOrderPath(c.key, true)]: condition };
    }
    case "param":
    case "tag": {
      const entry = c.type === "param" ? paramPath(c.key) : tagPath(c.key);
      if (c.comparator === "IS NULL") return { [entry]: { $exists: false } };
      if (c.comparator === "IS NOT NULL") return { [entry]: { $exists: true } };
      const { comparator, value } = c as { comparator: StringComparator; value: string };
      return { [`${entry}.v`]: stringCondition(comparator, value, true) };
    }
    case "attribute": {
      if (c.comparator === "IN") return { _id: { $in: [...c.values] } };
      if (c.comparator === "NOT IN") return { _id: { $nin: [...c.values] } };
      if (c.key === "start_time" || c.key === "end_time") {
        if (c.comparator === "!=") return { [c.key]: { $exists: true, $ne: c.value } };
        return { [c.key]: { [RANGE[c.comparator]]: c.value } };
      }
      const { comparator, value } = c as { comparator: StringComparator; value: string };
      return { [STRING_FIELD[c.key]]: stringCondition(comparator, value, false) };
    }
  }
}

/** `base` (experiments, lifecycle, keyset bounds) and every clause of `filter`, AND-ed. */
export function filterToQuery(base: Document[], filter: RunFilter): Document {
  const parts = [...base, ...filter.map(clauseToQuery)];
  if (parts.length === 0) return {};
  return parts.length === 1 ? parts[0]! : { $and: parts };
}
