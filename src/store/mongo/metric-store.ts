/**
 * Metric history: insert-only, one insertMany (ordered: false) per batch, each point under its deterministic
 * `_id` (value-encoding.ts historyId) with duplicate-key errors ignored — an identical point is stored once,
 * different points of one step are all kept. Reads are `_id` ranges in `_id` order, which is MLflow's history
 * order (timestamp, step, value with NaN last), paged by keyset, one round trip per page; they do not look the run up
 * (an unknown run's history is empty, as in MLflow). The latest value per key lives on the run document
 * (run-batch.ts), so writing history never reads it. A point carrying a model id is also a link of that model to it
 * (logged_model_metrics, the same insert-once rule), whether or not the run had it.
 */
import type { Collection, MongoBulkWriteError, OptionalUnlessRequiredId } from "mongodb";
import type { Metric } from "../../domain/entities.js";
import type { MetricHistoryPage } from "../types.js";
import type { Collections } from "./connection.js";
import { isDuplicateKeyError } from "./errors.js";
import { type HistoryDoc, METRIC_PROJECTION, type ModelMetricDoc, historyDocOf, metricFromDoc, modelMetricDocOf } from "./mapping.js";
import { decodeHistoryCursor, encodeHistoryCursor } from "./page-token.js";
import { HISTORY_SUFFIX_END, historyPosition, historyPrefix, valueSortKey } from "./value-encoding.js";

/** Points per round trip when a whole history is read (about 100 bytes each). */
const HISTORY_BATCH = 10_000;

/**
 * Inserts a batch of points of one run, and the links of the points carrying a model id (one more insert, at the same
 * time); points and links already stored (logged before, or twice in the batch) are kept once.
 */
/**
 * Inserts a batch's points (and model links) once each. Returns the points stored now, in batch order: not those
 * stored before, nor a repeat of one earlier in the batch (the change log records only what changed).
 */
export async function insertHistory(c: Collections, runId: string, metrics: Metric[]): Promise<Metric[]> {
  if (metrics.length === 0) return [];
  const history = new Map<string, { doc: HistoryDoc; metric: Metric }>();
  const links = new Map<string, ModelMetricDoc>();
  for (const m of metrics) {
    const point = historyDocOf(runId, m);
    if (!history.has(point._id)) history.set(point._id, { doc: point, metric: m });
    if (m.modelId !== undefined) {
      const link = modelMetricDocOf(runId, { ...m, modelId: m.modelId });
      if (!links.has(link._id)) links.set(link._id, link);
    }
  }
  const points = [...history.values()];
  const [stored] = await Promise.all([insertOnce(c.history, points.map((p) => p.doc)), insertOnce(c.modelMetrics, [...links.values()])]);
  return points.filter((_, i) => !stored.duplicates.has(i)).map((p) => p.metric);
}

/** Marks (in `counters`) a database whose model links made before logged_model_metrics have been carried over. */
const LINKS_CARRIED_OVER = "logged_model_metrics_carried_over";

/**
 * Before logged_model_metrics, a model's links were the history points carrying its id: copies those links once per
 * database (idempotent inserts, so concurrent start-ups are harmless), then marks the database done.
 */
export async function carryOverModelLinks(c: Collections): Promise<void> {
  if (await c.counters.findOne({ _id: LINKS_CARRIED_OVER })) return;
  const points = c.history.find({ model_id: { $exists: true } }).batchSize(1000);
  let batch: ModelMetricDoc[] = [];
  for await (const point of points) {
    const metric = metricFromDoc(point);
    batch.push(modelMetricDocOf(point.run_id, { ...metric, modelId: metric.modelId as string }));
    if (batch.length === 1000) {
      await insertOnce(c.modelMetrics, batch);
      batch = [];
    }
  }
  await insertOnce(c.modelMetrics, batch);
  await insertOnce(c.counters, [{ _id: LINKS_CARRIED_OVER, seq: 1 }]);
}

/** Inserts what is not stored yet; `duplicates`: the indexes of the documents that were (duplicate `_id`s). */
async function insertOnce<T extends { _id: string }>(collection: Collection<T>, docs: T[]): Promise<{ duplicates: Set<number> }> {
  if (docs.length === 0) return { duplicates: new Set() };
  try {
    await collection.insertMany(docs as OptionalUnlessRequiredId<T>[], { ordered: false });
    return { duplicates: new Set() };
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
    const errors = (err as MongoBulkWriteError).writeErrors;
    return { duplicates: new Set((Array.isArray(errors) ? errors : [errors]).map((e) => e.index)) };
  }
}

/** The `_id` range of one (run, key)'s points. */
const historyRange = (runId: string, key: string) => {
  const prefix = historyPrefix(runId, key);
  return { $gt: prefix, $lt: prefix + HISTORY_SUFFIX_END };
};

// Every read names the run too (`run_id` equality): redundant with the `_id` range, but it lets a cluster that
// shards metric_history by run_id send each read to one shard.

/** One page of a metric's history, in `_id` (= timestamp, step, value, NaN last) order; empty for an unknown run. */
export async function readMetricHistory(
  c: Collections,
  runId: string,
  key: string,
  page: { maxResults?: number; pageToken?: string },
): Promise<MetricHistoryPage> {
  const range = historyRange(runId, key);
  if (page.pageToken) {
    const cursor = decodeHistoryCursor(page.pageToken);
    range.$gt = historyPrefix(runId, key) + historyPosition(cursor.timestamp, cursor.step, cursor.value);
  }
  const query = c.history.find({ run_id: runId, _id: range }, { projection: METRIC_PROJECTION }).sort({ _id: 1 });
  // One more than asked tells whether a next page exists; one more again lets the server close the cursor in its
  // first answer (a full batch leaves it open for an empty getMore).
  if (page.maxResults !== undefined) query.limit(page.maxResults + 1).batchSize(page.maxResults + 2);
  else query.batchSize(HISTORY_BATCH);
  const metrics = (await query.toArray()).map(metricFromDoc);
  if (page.maxResults === undefined || metrics.length <= page.maxResults) return { metrics, nextPageToken: "" };
  metrics.length = page.maxResults;
  const last = metrics[metrics.length - 1];
  if (!last) return { metrics, nextPageToken: "" };
  return {
    metrics,
    nextPageToken: encodeHistoryCursor({ timestamp: last.timestamp, step: last.step, value: valueSortKey(last.value) }),
  };
}

/** Every point of one metric of each run, in history order per run, in one query (one `_id` range per run). */
export async function readMetricHistories(c: Collections, runIds: string[], key: string): Promise<Map<string, Metric[]>> {
  const histories = new Map<string, Metric[]>(runIds.map((id) => [id, []]));
  if (runIds.length === 0) return histories;
  const ranges = [...histories.keys()].map((runId) => ({ run_id: runId, _id: historyRange(runId, key) }));
  const cursor = c.history
    .find(ranges.length === 1 ? ranges[0]! : { $or: ranges }, { projection: { ...METRIC_PROJECTION, run_id: 1 } })
    .sort({ _id: 1 })
    .batchSize(HISTORY_BATCH);
  for await (const doc of cursor) histories.get(doc.run_id)?.push(metricFromDoc(doc));
  return histories;
}
