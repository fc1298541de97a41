/**
 * Run search on MongoDB within FerretDB v1.24's subset. Candidates come from `runs` through a cursor with the
 * pushed-down pre-filter (filter-to-query.ts) and a bounded batch size; for each batch, the latest values of the
 * metric keys the search uses are read from `latest_metrics` by `_id` (`<run>:<key>` — the only filter FerretDB
 * pushes down to its storage), and each candidate is checked against the whole filter and given its sort key by
 * src/domain/filter/run-order.ts, the same rules the SQLite store compiles to SQL.
 *
 * Default order (no order_by): the cursor is sorted by (start_time DESC, _id) with the keyset of the page token in the
 * query, served by the index experiment_start_time on MongoDB, and stops as soon as a page is full — a stream
 * holds one batch at a time. With order_by terms the sort happens here, over the sort keys of every match (FerretDB
 * sorts in memory anyway, reference/ferretdb.md); pages are still keyset-based (only runs after the token's sort key
 * are kept), never skips. On MongoDB, a first page ordered by one metric could instead walk `latest_metrics`'
 * index key_nan_value ({key, n, s}) best first and check each run — a production optimisation not done here.
 */
import type { Document, FindCursor } from "mongodb";
import type { Run } from "../../domain/entities.js";
import { decodeRunPageToken, encodeRunPageToken } from "../../domain/filter/page-token.js";
import { type SearchableRun, type SortKey, compareSortKeys, matchesFilter, sortKeyOf } from "../../domain/filter/run-order.js";
import type { RunSearchPage, RunSearchQuery } from "../types.js";
import type { Collections } from "./connection.js";
import { filterToQuery } from "./filter-to-query.js";
import type { KeyValueDoc, RunDoc } from "./mapping.js";
import { decodeValue, latestMetricId } from "./value-encoding.js";

const CANDIDATE_PROJECTION = {
  experiment_id: 1,
  user_id: 1,
  run_name: 1,
  status: 1,
  start_time: 1,
  end_time: 1,
  artifact_uri: 1,
  lifecycle_stage: 1,
  params: 1,
  tags: 1,
} as const;

const toMap = (items: KeyValueDoc[] | undefined) => new Map((items ?? []).map((p) => [p.k, p.v]));

export interface RunSearch {
  searchRuns(query: RunSearchQuery, page: { maxResults: number; pageToken?: string }): Promise<RunSearchPage>;
  streamRuns(query: RunSearchQuery, options?: { batchSize?: number; onRead?: (rows: number) => void }): AsyncGenerator<Run>;
}

export function createRunSearch(c: Collections, getRun: (runId: string) => Promise<Run>): RunSearch {
  function candidateCursor(query: RunSearchQuery, after: SortKey | undefined, batchSize: number): FindCursor<RunDoc> {
    const base: Document[] = [];
    if (query.experimentIds.length > 0) base.push({ experiment_id: { $in: [...query.experimentIds] } });
    if (query.viewType !== "ALL") base.push({ lifecycle_stage: { $eq: query.viewType === "ACTIVE_ONLY" ? "active" : "deleted" } });
    if (after && query.order.length === 0) {
      base.push({ $or: [{ start_time: { $lt: after.startTime } }, { start_time: { $eq: after.startTime }, _id: { $gt: after.runId } }] });
    }
    const cursor = c.runs.find(filterToQuery(base, query.filter), { projection: CANDIDATE_PROJECTION, batchSize });
    return query.order.length === 0 ? cursor.sort({ start_time: -1, _id: 1 }) : cursor;
  }

  /** The batch's candidates with the metric values the search uses, as run-order.ts wants them. */
  async function searchable(docs: RunDoc[], metricKeys: string[]): Promise<SearchableRun[]> {
    const metrics = new Map<string, Map<string, number>>();
    if (metricKeys.length > 0 && docs.length > 0) {
      const ids = docs.flatMap((d) => metricKeys.map((k) => latestMetricId(d._id, k)));
      const latest = await c.latest.find({ _id: { $in: ids } }, { projection: { run_id: 1, key: 1, v: 1, x: 1 } }).toArray();
      for (const m of latest) {
        const value = decodeValue(m);
        if (value === undefined) continue;
        let map = metrics.get(m.run_id);
        if (!map) metrics.set(m.run_id, (map = new Map()));
        map.set(m.key, value);
      }
    }
    return docs.map((d) => {
      const run: SearchableRun = {
        runId: d._id,
        experimentId: d.experiment_id,
        runName: d.run_name,
        userId: d.user_id,
        status: d.status,
        startTime: d.start_time,
        artifactUri: d.artifact_uri,
        lifecycleStage: d.lifecycle_stage,
        metrics: metrics.get(d._id) ?? new Map(),
        params: toMap(d.params),
        tags: toMap(d.tags),
      };
      if (typeof d.end_time === "number") run.endTime = d.end_time;
      return run;
    });
  }

  const metricKeysOf = (query: RunSearchQuery) => [
    ...new Set([...query.filter.flatMap((cl) => (cl.type === "metric" ? [cl.key] : [])), ...query.order.flatMap((t) => (t.type === "metric" ? [t.key] : []))]),
  ];

  /**
   * Matching runs after `after` in order, `limit` at most (all when undefined). Default order: read as the cursor
   * goes and stop when full. Otherwise every candidate is read and its sort key kept.
   */
  async function* matches(query: RunSearchQuery, after: SortKey | undefined, batchSize: number, onRead?: (rows: number) => void): AsyncGenerator<SortKey> {
    const metricKeys = metricKeysOf(query);
    const cursor = candidateCursor(query, after, batchSize);
    try {
      const sorted: SortKey[] = [];
      let batch: RunDoc[] = [];
      const flush = async function* () {
        onRead?.(batch.length);
        const runs = await searchable(batch, metricKeys);
        batch = [];
        for (const run of runs) {
          if (!matchesFilter(run, query.filter)) continue;
          const key = sortKeyOf(run, query.order);
          if (query.order.length === 0) yield key;
          else if (!after || compareSortKeys(key, after, query.order) > 0) sorted.push(key);
        }
      };
      for await (const doc of cursor) {
        batch.push(doc);
        if (batch.length >= batchSize) yield* flush();
      }
      if (batch.length > 0) yield* flush();
      if (query.order.length > 0) {
        sorted.sort((a, b) => compareSortKeys(a, b, query.order));
        yield* sorted;
      }
    } finally {
      await cursor.close();
    }
  }

  return {
    async searchRuns(query, page) {
      const after = page.pageToken ? decodeRunPageToken(page.pageToken, query.order) : undefined;
      const keys: SortKey[] = [];
      const batchSize = Math.min(Math.max(page.maxResults + 1, 100), 1000);
      for await (const key of matches(query, after, batchSize)) {
        keys.push(key);
        if (keys.length > page.maxResults) break;
      }
      let nextPageToken = "";
      if (keys.length > page.maxResults) {
        keys.length = page.maxResults;
        nextPageToken = encodeRunPageToken(keys[keys.length - 1]!, query.order);
      }
      const runs: Run[] = [];
      for (const key of keys) runs.push(await getRun(key.runId));
      return { runs, nextPageToken };
    },

    async *streamRuns(query, options = {}) {
      for await (const key of matches(query, undefined, options.batchSize ?? 100, options.onRead)) {
        let run: Run;
        try {
          run = await getRun(key.runId);
        } catch {
          continue; // Removed meanwhile: no longer part of the stream.
        }
        yield run;
      }
    },
  };
}
