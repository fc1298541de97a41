/**
 * The pieces the experiment, registry and logged-model searches are built from on MongoDB: filter clauses as field
 * conditions, LIKE/ILIKE as anchored regular expressions, and keyset pages — `find(filter + "after the last sort
 * key").sort(order).limit(n + 1)`, one round trip, served by an index on MongoDB (indexes.ts). Every user value is an
 * operand of `$eq`/`$in`/a range operator or escaped into a regular expression: never an operator, a field name or
 * code. Everything here also runs on FerretDB v1.24 (plain field paths, `$or`/`$and`, `$exists`, `$regex`).
 */
import type { Collection, Document, Filter, FindOptions, Sort } from "mongodb";
import type { FilterClause, NumericComparator } from "../../domain/filter/ast.js";
import type { SortKeyValues } from "../../domain/filter/keyset-token.js";
import { likeToRegexSource } from "../../domain/filter/like.js";
import type { KeysetPage } from "../types.js";

const RANGE: Record<Exclude<NumericComparator, "=" | "!=">, string> = { ">": "$gt", ">=": "$gte", "<": "$lt", "<=": "$lte" };

/**
 * A clause on one field. A document without the field fails every comparison (`!=` and NOT IN included) but IS NULL:
 * MLflow's NULL semantics for optional attributes, tags and params.
 */
export function fieldClause(field: string, c: FilterClause): Document {
  switch (c.comparator) {
    case "IS NULL":
      return { [field]: { $exists: false } };
    case "IS NOT NULL":
      return { [field]: { $exists: true } };
    case "IN":
      return { [field]: { $in: [...c.values] } };
    case "NOT IN":
      return { [field]: { $exists: true, $nin: [...c.values] } };
    case "LIKE":
    case "ILIKE":
      return { [field]: { $regex: likeToRegexSource(c.value, c.comparator === "ILIKE") } };
    case "=":
      return { [field]: { $eq: (c as { value: string | number }).value } };
    case "!=":
      return { [field]: { $exists: true, $ne: (c as { value: string | number }).value } };
    default:
      return { [field]: { [RANGE[c.comparator]]: c.value } };
  }
}

/**
 * For reads that take every match (a page's versions, owners, linked points): all of it in the first reply, up to
 * MongoDB's 16 MB message limit, instead of the driver's default first batch of 101 followed by getMores.
 */
export const WHOLE_READ = { batchSize: 100_000 } as const;

export const allOf = (parts: Document[]): Document => (parts.length === 0 ? {} : parts.length === 1 ? parts[0]! : { $and: parts });

/** One order term on MongoDB. */
export interface SortColumn {
  /** The dotted path of the value. */
  field: string;
  descending: boolean;
  /**
   * For a term that may have no value: a field that is 1 when the value exists (absent otherwise), sorted first in
   * descending order, so a missing value comes after every value in both directions.
   */
  presence?: string;
  /** The stored value of a sort-key value (default: itself), and back. */
  toStored?: (value: string | number) => unknown;
  fromStored?: (stored: unknown) => string | number;
}

export function sortOf(columns: readonly SortColumn[]): Sort {
  const sort: Record<string, 1 | -1> = {};
  for (const c of columns) {
    if (c.presence) sort[c.presence] = -1;
    sort[c.field] = c.descending ? -1 : 1;
  }
  return sort;
}

/** The documents strictly after the sort key `values` in the columns' order: `(c0 after) or (c0 = and c1 after) or …`. */
export function afterFilter(columns: readonly SortColumn[], values: SortKeyValues): Document {
  const branches: Document[] = [];
  const equal: Document[] = [];
  columns.forEach((c, i) => {
    const value = values[i] ?? null;
    const stored = value === null ? null : c.toStored ? c.toStored(value) : value;
    const op = c.descending ? "$lt" : "$gt";
    if (value === null) {
      // Nothing sorts after a missing value in its own term; equal means missing too.
      equal.push({ [c.presence!]: { $ne: 1 } });
      return;
    }
    const after: Document = c.presence
      ? { $or: [{ [c.presence]: 1, [c.field]: { [op]: stored } }, { [c.presence]: { $ne: 1 } }] }
      : { [c.field]: { [op]: stored } };
    branches.push(allOf([...equal, after]));
    equal.push({ [c.field]: { $eq: stored } });
  });
  return branches.length === 1 ? branches[0]! : { $or: branches };
}

function valueAt(doc: Document, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split(".")) value = value === null || typeof value !== "object" ? undefined : (value as Document)[part];
  return value;
}

/** The sort key of a document. */
export function sortKeyOf(doc: Document, columns: readonly SortColumn[]): SortKeyValues {
  return columns.map((c) => {
    if (c.presence && valueAt(doc, c.presence) !== 1) return null;
    const stored = valueAt(doc, c.field);
    return c.fromStored ? c.fromStored(stored) : (stored as string | number);
  });
}

/** One keyset page of `filter` in `columns` order: one `find` of at most `maxResults + 1` documents. */
export async function findPage<T extends Document>(
  collection: Collection<T>,
  filter: Document,
  columns: readonly SortColumn[],
  page: KeysetPage,
  options: FindOptions = {},
): Promise<{ docs: T[]; next?: SortKeyValues }> {
  const query = page.after ? allOf([filter, afterFilter(columns, page.after)]) : filter;
  // The whole page in the first reply (up to the 16 MB message limit): no getMore.
  const docs = (await collection
    .find(query as Filter<T>, { batchSize: page.maxResults + 1, ...options })
    .sort(sortOf(columns))
    .limit(page.maxResults + 1)
    .toArray()) as T[];
  if (docs.length <= page.maxResults) return { docs };
  docs.length = page.maxResults;
  return { docs, next: sortKeyOf(docs[docs.length - 1]!, columns) };
}
