/**
 * Run search on the run documents: the filter (filter-to-query.ts), the order and the keyset of a page token all go
 * to the database, which returns whole runs in order — a page is one or two queries whatever its size or the number
 * of matches, a stream one cursor (or two) read in batches, and nothing is sorted or held here. The order's plan:
 *
 * - No order_by (MLflow's default: start_time DESC, run_id): one find sorted by {start_time: -1, _id: 1}, served by
 *   index experiment_lifecycle_start (or lifecycle_start across every experiment).
 * - One metric (`metrics.x DESC`, the leaderboard's order): the runs having the metric, sorted by its order key
 *   (`metric_desc.x` / `metric_asc.x`, value-encoding.ts metricOrderKey: value, NaN, then the tie-break in one string)
 *   — one ascending walk of the wildcard index metric_desc / metric_asc on MongoDB, a page token being `key > last`;
 *   then the runs without it in the default order (`metrics.x` absent).
 * - Anything else (a param, tag or attribute first, several terms): one aggregation that adds each term's rank —
 *   value, then NaN, then missing, in both directions — as the BSON type name of the field (`$type`: "object" or
 *   "missing", "string" or "missing", "double" or "missing"), then sorts by ranks, values and the tie-break. MongoDB
 *   sorts the matches itself (top-k for a page, spilling to disk for a large stream); no index can serve a sort on
 *   several dynamic keys.
 *
 * Page tokens are the domain's (src/domain/filter/page-token.ts): the last run's sort key, turned back into each
 * plan's keyset condition.
 */
import type { AggregationCursor, Document, FindCursor, Sort } from "mongodb";
import type { Run } from "../../domain/entities.js";
import { invalidParameter } from "../../domain/errors.js";
import { type OrderTerm, RANK_MISSING, RANK_NAN, RANK_VALUE } from "../../domain/filter/ast.js";
import { decodeRunPageToken, encodeRunPageToken } from "../../domain/filter/page-token.js";
import { type SortKey, searchableRun, sortKeyOf } from "../../domain/filter/run-order.js";
import type { RunSearchPage, RunSearchQuery } from "../types.js";
import type { Collections } from "./connection.js";
import { filterToQuery } from "./filter-to-query.js";
import { RUN_PROJECTION, type StoredRun, metricOrderPath, metricPath, paramPath, runFromDoc, tagPath } from "./run-document.js";
import type { ServerKind } from "./server-kind.js";
import { metricOrderKey, valueSortKey } from "./value-encoding.js";
import { scopeFilter } from "./scope-filter.js";
import { withinScope } from "../../domain/permission.js";

/** MongoDB's limit on the keys of one sort (a metric term takes 3, a param or tag 2, an attribute 1 or 2, the tie-break 2). */
const MAX_SORT_KEYS = 32;

/** MLflow's default order and every order's tie-break. */
const DEFAULT_SORT: Sort = { start_time: -1, _id: 1 };

export type Read =
  | { kind: "find"; filter: Document; sort: Sort; hint?: string }
  /** `head` ends with the $sort; a page's $limit goes between it and `tail`. */
  | { kind: "aggregate"; head: Document[]; tail: Document[] };

export interface RunSearch {
  searchRuns(query: RunSearchQuery, page: { maxResults: number; pageToken?: string }): Promise<RunSearchPage>;
  streamRuns(query: RunSearchQuery, options?: { batchSize?: number; onRead?: (rows: number) => void }): AsyncGenerator<Run>;
}

/**
 * Experiments and lifecycle stage: the equality prefix of the runs' indexes (ALL is both stages, still a prefix), and
 * what the caller may read: a search naming its experiments keeps only the readable ones in that list (the same
 * query as without auth); one over every experiment gets `experiment_id` `$in`/`$nin` the scope's ids.
 */
function baseConditions(query: RunSearchQuery): Document[] {
  const base: Document[] = [];
  if (query.experimentIds.length > 0) base.push({ experiment_id: { $in: [...withinScope(query.experimentIds, query.readable)] } });
  else {
    const readable = scopeFilter("experiment_id", query.readable);
    if (readable) base.push(readable);
  }
  const stages = query.viewType === "ALL" ? ["active", "deleted"] : [query.viewType === "ACTIVE_ONLY" ? "active" : "deleted"];
  base.push({ lifecycle_stage: stages.length === 1 ? stages[0] : { $in: stages } });
  return base;
}

/** After `key` in the default order; the redundant `start_time <=` bounds the index range. */
const afterInDefaultOrder = (key: SortKey): Document => ({
  start_time: { $lte: key.startTime },
  $or: [{ start_time: { $lt: key.startTime } }, { _id: { $gt: key.runId } }],
});

/** The runs having the metric by its order key, then the runs without it. */
function metricPlan(query: RunSearchQuery, base: Document[], term: OrderTerm, after: SortKey | undefined): Read[] {
  const field = metricOrderPath(term.key, term.ascending);
  const reads: Read[] = [];
  const [rank, value] = after?.terms[0] ?? [RANK_VALUE, null];
  if (!after || rank !== RANK_MISSING) {
    const bound = after ? { $gt: metricOrderKey(term.ascending, rank === RANK_NAN ? Number.NaN : (value as number), after.startTime, after.runId) } : { $gte: "" };
    reads.push({ kind: "find", filter: filterToQuery([...base, { [field]: bound }], query.filter), sort: { [field]: 1 }, hint: term.ascending ? "metric_asc" : "metric_desc" });
  }
  const missing = [...base, { [metricPath(term.key)]: { $exists: false } }];
  if (after && rank === RANK_MISSING) missing.push(afterInDefaultOrder(after));
  reads.push({ kind: "find", filter: filterToQuery(missing, query.filter), sort: DEFAULT_SORT });
  return reads;
}

/** One sort column of the generic plan: a field (stored, or a rank added by $type), its direction, its keyset value. */
interface Column {
  field: string;
  direction: 1 | -1;
  /** The $type expression of a rank column. */
  type?: string;
  /** The value at a page token's position; undefined when the run there has none (its rank says so). */
  value?: unknown;
}

const ATTRIBUTE_FIELD: Record<string, string> = {
  run_id: "_id",
  run_name: "run_name",
  status: "status",
  user_id: "user_id",
  artifact_uri: "artifact_uri",
  start_time: "start_time",
  end_time: "end_time",
  experiment_id: "experiment_number",
};

/**
 * The columns of one order term. Ranks sort value < NaN < missing through BSON type names: "object" > "missing" and
 * "string" > "missing" (descending), "double" < "missing" (ascending).
 */
function termColumns(t: OrderTerm, i: number, at: [number, unknown] | undefined): Column[] {
  const direction = t.ascending ? 1 : -1;
  const [rank, value] = at ?? [RANK_VALUE, undefined];
  const has = at !== undefined;
  if (t.type === "metric") {
    const path = metricPath(t.key);
    return [
      { field: `_r${i}`, direction: -1, type: `$${path}`, value: has ? (rank === RANK_MISSING ? "missing" : "object") : undefined },
      { field: `_n${i}`, direction: -1, type: `$${path}.s`, value: has ? (rank === RANK_VALUE ? "string" : "missing") : undefined },
      { field: `${path}.s`, direction, value: has && rank === RANK_VALUE ? valueSortKey(value as number) : undefined },
    ];
  }
  if (t.type === "param" || t.type === "tag") {
    const path = t.type === "param" ? paramPath(t.key) : tagPath(t.key);
    return [
      { field: `_r${i}`, direction: -1, type: `$${path}`, value: has ? (rank === RANK_VALUE ? "object" : "missing") : undefined },
      { field: `${path}.v`, direction, value: has && rank === RANK_VALUE ? value : undefined },
    ];
  }
  const field = ATTRIBUTE_FIELD[t.key]!;
  if (t.key === "end_time") {
    return [
      { field: `_r${i}`, direction: 1, type: "$end_time", value: has ? (rank === RANK_VALUE ? "double" : "missing") : undefined },
      { field, direction, value: has && rank === RANK_VALUE ? value : undefined },
    ];
  }
  return [{ field, direction, value }];
}

/** Sorts and pages by ranks, values and the tie-break in the database. */
function genericPlan(query: RunSearchQuery, base: Document[], after: SortKey | undefined): Read {
  const columns: Column[] = [];
  const seen = new Set<string>();
  const add = (c: Column) => {
    // A field sorted again later is already equal there: only its first place counts.
    if (seen.has(c.field)) return;
    seen.add(c.field);
    columns.push(c);
  };
  query.order.forEach((t, i) => termColumns(t, i, after?.terms[i]).forEach(add));
  add({ field: "start_time", direction: -1, value: after?.startTime });
  add({ field: "_id", direction: 1, value: after?.runId });

  if (columns.length > MAX_SORT_KEYS) {
    throw invalidParameter(`order_by has too many terms for the MongoDB store: they need ${columns.length} sort keys, and MongoDB sorts on at most ${MAX_SORT_KEYS}.`);
  }
  const ranks = columns.filter((c) => c.type !== undefined);
  const head: Document[] = [{ $match: filterToQuery(base, query.filter) }];
  if (ranks.length > 0) head.push({ $addFields: Object.fromEntries(ranks.map((c) => [c.field, { $type: c.type }])) });
  if (after) {
    const keyed = columns.filter((c) => c.value !== undefined);
    head.push({
      $match: {
        $or: keyed.map((c, i) => ({
          $and: [...keyed.slice(0, i).map((e) => ({ [e.field]: { $eq: e.value } })), { [c.field]: { [c.direction === 1 ? "$gt" : "$lt"]: c.value } }],
        })),
      },
    });
  }
  head.push({ $sort: Object.fromEntries(columns.map((c) => [c.field, c.direction])) });
  return { kind: "aggregate", head, tail: [{ $project: { ...RUN_PROJECTION, ...Object.fromEntries(ranks.map((c) => [c.field, 0])) } }] };
}

/** The reads of a search from `after` on, in order (exported for tests of their shapes). */
export function searchPlan(query: RunSearchQuery, after: SortKey | undefined): Read[] {
  const base = baseConditions(query);
  if (query.order.length === 0) {
    return [{ kind: "find", filter: filterToQuery(after ? [...base, afterInDefaultOrder(after)] : base, query.filter), sort: DEFAULT_SORT }];
  }
  const [first] = query.order;
  if (query.order.length === 1 && first!.type === "metric") return metricPlan(query, base, first!, after);
  return [genericPlan(query, base, after)];
}

export function createRunSearch(c: Collections, server: () => Promise<ServerKind>): RunSearch {
  function open(read: Read, options: { limit?: number; batchSize: number; hint?: boolean }): FindCursor<StoredRun> | AggregationCursor<StoredRun> {
    if (read.kind === "find") {
      const cursor = c.runs.find(read.filter, { projection: RUN_PROJECTION, batchSize: options.batchSize }).sort(read.sort);
      if (options.limit !== undefined) cursor.limit(options.limit);
      if (options.hint && read.hint) cursor.hint(read.hint);
      return cursor as unknown as FindCursor<StoredRun>;
    }
    const limit = options.limit === undefined ? [] : [{ $limit: options.limit }];
    return c.runs.aggregate<StoredRun>([...read.head, ...limit, ...read.tail], { batchSize: options.batchSize, allowDiskUse: true });
  }

  return {
    async searchRuns(query, page) {
      const after = page.pageToken ? decodeRunPageToken(page.pageToken, query.order) : undefined;
      // One more than asked tells whether a next page exists.
      const want = page.maxResults + 1;
      const docs: StoredRun[] = [];
      for (const read of searchPlan(query, after)) {
        const need = want - docs.length;
        if (need <= 0) break;
        // A batch one larger than the limit lets the server close the cursor in its first answer.
        docs.push(...(await open(read, { limit: need, batchSize: need + 1 }).toArray()));
      }
      const runs = docs.slice(0, page.maxResults).map(runFromDoc);
      const last = runs[runs.length - 1];
      const nextPageToken = docs.length > page.maxResults && last ? encodeRunPageToken(sortKeyOf(searchableRun(last), query.order), query.order) : "";
      return { runs, nextPageToken };
    },

    async *streamRuns(query, options = {}) {
      const batchSize = options.batchSize ?? 100;
      // A stream walks the order's index even when another would be more selective: flat memory on the server too.
      const hint = (await server()).wildcardIndexes;
      for (const read of searchPlan(query, undefined)) {
        const cursor = open(read, { batchSize, hint });
        try {
          while (await cursor.hasNext()) {
            const docs = cursor.readBufferedDocuments();
            options.onRead?.(docs.length);
            for (const doc of docs) yield runFromDoc(doc);
          }
        } finally {
          await cursor.close();
        }
      }
    },
  };
}
