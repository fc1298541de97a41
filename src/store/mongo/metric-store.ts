/**
 * Metric history: insert-only, one insertMany (ordered: false) per batch, each point under its deterministic
 * `_id` (value-encoding.ts historyId) with duplicate-key errors ignored — an identical point is stored once,
 * different points of one step are all kept. Reads are `_id` ranges in `_id` order, which is MLflow's history
 * order (timestamp, step, value with NaN last), paged by keyset; they do not look the run up (an unknown run's
 * history is empty, as in MLflow). The latest value per key follows in latest-metrics.ts. A point carrying a model id
 * is also a link of that model to it (logged_model_metrics, the same insert-once rule), whether or not the run had it.
 */
import type { Collection, OptionalUnlessRequiredId } from "mongodb";
import type { Metric } from "../../domain/entities.js";
import type { LogOrder } from "../../domain/log-order.js";
import type { MetricHistoryPage } from "../types.js";
import type { Collections } from "./connection.js";
import { isDuplicateKeyError } from "./errors.js";
import { METRIC_PROJECTION, type LatestMetrics } from "./latest-metrics.js";
import { type HistoryDoc, type LatestMetricDoc, type ModelMetricDoc, historyDocOf, latestDocOf, metricFromDoc, modelMetricDocOf } from "./mapping.js";
import { decodeHistoryCursor, encodeHistoryCursor } from "./page-token.js";
import { HISTORY_SUFFIX_END, historyPosition, historyPrefix, valueSortKey } from "./value-encoding.js";

/**
 * Writes a batch of points to one run: history first, then the latest value of each key. Each key's candidate carries
 * the ordinal of its first appearance in the batch (`o`), kept by the latest document the first time it is stored.
 */
export async function writeMetrics(
  c: Collections,
  latestMetrics: LatestMetrics,
  runId: string,
  experimentId: string,
  metrics: Metric[],
  logOrder: LogOrder,
): Promise<void> {
  if (metrics.length === 0) return;
  const history = new Map<string, HistoryDoc>();
  const links = new Map<string, ModelMetricDoc>();
  const latest = new Map<string, LatestMetricDoc>();
  let o = logOrder(metrics.length);
  for (const m of metrics) {
    const point = historyDocOf(runId, m);
    if (!history.has(point._id)) history.set(point._id, point);
    if (m.modelId !== undefined) {
      const link = modelMetricDocOf(runId, { ...m, modelId: m.modelId });
      if (!links.has(link._id)) links.set(link._id, link);
    }
    const candidate = latestDocOf(runId, experimentId, m);
    const best = latest.get(candidate._id);
    if (!best) latest.set(candidate._id, { ...candidate, o: o++ });
    else if (candidate.rk > best.rk) latest.set(candidate._id, { ...candidate, o: best.o! });
  }
  // Points and links already stored (logged before, or sent twice) are duplicate keys.
  await Promise.all([insertOnce(c.history, [...history.values()]), insertOnce(c.modelMetrics, [...links.values()])]);
  await latestMetrics.settle(runId, experimentId, [...latest.values()]);
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

async function insertOnce<T extends { _id: string }>(collection: Collection<T>, docs: T[]): Promise<void> {
  if (docs.length === 0) return;
  try {
    await collection.insertMany(docs as OptionalUnlessRequiredId<T>[], { ordered: false });
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
  }
}

/** One page of a metric's history, in `_id` (= timestamp, step, value, NaN last) order; empty for an unknown run. */
export async function readMetricHistory(
  c: Collections,
  runId: string,
  key: string,
  page: { maxResults?: number; pageToken?: string },
): Promise<MetricHistoryPage> {
  const prefix = historyPrefix(runId, key);
  let after = prefix;
  if (page.pageToken) {
    const cursor = decodeHistoryCursor(page.pageToken);
    after = prefix + historyPosition(cursor.timestamp, cursor.step, cursor.value);
  }
  const query = c.history.find({ _id: { $gt: after, $lt: prefix + HISTORY_SUFFIX_END } }, { projection: METRIC_PROJECTION }).sort({ _id: 1 });
  if (page.maxResults !== undefined) query.limit(page.maxResults + 1);
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
