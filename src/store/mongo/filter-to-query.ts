/**
 * Compiles the run filter AST (src/domain/filter) into a MongoDB query document on `runs`: the part FerretDB v1.24
 * and MongoDB both evaluate (equalities, `$in`, numeric ranges, `$elemMatch` on the `[{k, v}]` arrays). Every user
 * value sits under `$eq`/`$in`/a range operator as a plain string or number, so a value such as `{"$ne": 1}` or
 * `$where` is a literal string, never an operator; keys are values (`k`), never field names.
 *
 * It is a pre-filter: run-search.ts checks each candidate against the whole filter (run-order.ts) afterwards, which
 * is where metrics (their own collection, no `$lookup` on FerretDB), `!=`, LIKE and ILIKE and IS NULL are decided.
 */
import type { Document, Filter } from "mongodb";
import type { NumericComparator, RunClause, RunFilter } from "../../domain/filter/ast.js";
import type { RunDoc } from "./mapping.js";

const RANGE: Record<Exclude<NumericComparator, "!=">, string> = { "=": "$eq", ">": "$gt", ">=": "$gte", "<": "$lt", "<=": "$lte" };
const STRING_FIELD = { run_id: "_id", run_name: "run_name", status: "status", user_id: "user_id", artifact_uri: "artifact_uri" } as const;

function clauseToQuery(c: RunClause): Document | undefined {
  switch (c.type) {
    case "metric":
      return undefined;
    case "param":
    case "tag": {
      const field = c.type === "param" ? "params" : "tags";
      // FerretDB's $elemMatch takes no field conditions and it matches no whole {k, v} element, so the key and the
      // value are tested on any elements (a superset: the check after the query ties them to one element).
      if (c.comparator === "=") return { [`${field}.k`]: { $eq: c.key }, [`${field}.v`]: { $eq: c.value } };
      // Every other comparator but IS NULL needs the key present: still a useful pre-filter.
      if (c.comparator !== "IS NULL") return { [`${field}.k`]: { $eq: c.key } };
      return undefined;
    }
    case "attribute": {
      if (c.comparator === "IN") return { _id: { $in: [...c.values] } };
      if (c.comparator === "NOT IN") return { _id: { $nin: [...c.values] } };
      if (c.key === "start_time" || c.key === "end_time") {
        if (c.comparator === "!=") return { [c.key]: { $exists: true } };
        return { [c.key]: { [RANGE[c.comparator as Exclude<NumericComparator, "!=">]]: c.value } };
      }
      if (c.comparator === "=") return { [STRING_FIELD[c.key]]: { $eq: c.value } };
      return undefined;
    }
  }
}

export function filterToQuery(base: Document[], filter: RunFilter): Filter<RunDoc> {
  const parts = [...base, ...filter.map(clauseToQuery).filter((d): d is Document => d !== undefined)];
  if (parts.length === 0) return {};
  return (parts.length === 1 ? parts[0] : { $and: parts }) as Filter<RunDoc>;
}
