/**
 * LogBatch and metric history on SQLite. A batch is one IMMEDIATE transaction of bulk inserts through
 * statements prepared once; no point is read before it is written:
 * - history: insert, ignoring a point whose full key (run, key, step, timestamp, value) is already there;
 * - a point with a model id: also a link of that model to it (logged_model_metrics), even when the run had the point;
 * - latest: one upsert per key of the batch that replaces the stored point only when the new one is
 *   later (row-value comparison in the same order as `compareMetricRecency`), so arrival order and
 *   concurrent writers cannot move it backwards.
 * History reads walk metric_history's primary key in MLflow's history order (timestamp, step, value with
 * NaN last) and page by keyset on it. They do not look the run up: an unknown run's history is empty.
 */
import type { Database } from "better-sqlite3";
import { type Metric, type Tag, compareMetricRecency } from "../../domain/entities.js";
import type { LogOrder } from "../../domain/log-order.js";
import { paramChanged } from "../../domain/messages.js";
import { batchItems } from "../../domain/run-change.js";
import type { MetricHistoryPage, RunStore } from "../types.js";
import { type MetricRow, metricToRow, rowToMetric } from "./mapping.js";
import { type HistoryCursor, decodeHistoryCursor, encodeHistoryCursor } from "./page-token.js";
import type { ChangeLog } from "./change-log.js";
import type { RunState } from "./run-state.js";
import type { Synchronous } from "./synchronous.js";

export type MetricStore = Synchronous<Pick<RunStore, "logBatch" | "getMetricHistory" | "getMetricHistories">>;

const POINT_COLUMNS = "run_id, key, step, timestamp, is_nan, value, is_negative_zero, model_id, dataset_name, dataset_digest";
const POINT_VALUES = "@run_id, @key, @step, @timestamp, @is_nan, @value, @is_negative_zero, @model_id, @dataset_name, @dataset_digest";
const METRIC_COLUMNS = "key, step, timestamp, is_nan, value, is_negative_zero, model_id, dataset_name, dataset_digest";
/** metric_history's primary key after (run_id, key): MLflow's history order. */
const HISTORY_ORDER = "timestamp, step, is_nan, value, is_negative_zero";

type PointRow = MetricRow & { run_id: string };

/** The latest point of each key within one batch, so the latest table gets one upsert per key; keys in first-seen order. */
function latestPerKey(metrics: Metric[]): Metric[] {
  const latest = new Map<string, Metric>();
  for (const m of metrics) {
    const current = latest.get(m.key);
    if (current === undefined || compareMetricRecency(m, current) > 0) latest.set(m.key, m);
  }
  return [...latest.values()];
}

export function createMetricStore(db: Database, runState: RunState, logOrder: LogOrder, changes: ChangeLog): MetricStore {
  const insertParam = db.prepare<[string, string, string, number]>(
    "INSERT INTO params (run_id, key, value, seq) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, key) DO NOTHING",
  );
  const selectParam = db.prepare<[string, string], string>("SELECT value FROM params WHERE run_id = ? AND key = ?").pluck();
  // seq is the key's first-logged position: an update keeps it.
  const upsertTag = db.prepare<[string, string, string, number]>(
    `INSERT INTO run_tags (run_id, key, value, seq) VALUES (?, ?, ?, ?)
     ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`,
  );
  const insertPoint = db.prepare<[PointRow]>(
    `INSERT INTO metric_history (${POINT_COLUMNS}) VALUES (${POINT_VALUES})
     ON CONFLICT (run_id, key, ${HISTORY_ORDER}) DO NOTHING`,
  );
  // A logged model's link to a point (logged_model_metrics): made once per model, whoever stored the point first.
  const insertModelLink = db.prepare<[PointRow]>(
    `INSERT INTO logged_model_metrics (model_id, ${HISTORY_ORDER}, run_id, key, dataset_name, dataset_digest)
     VALUES (@model_id, @timestamp, @step, @is_nan, @value, @is_negative_zero, @run_id, @key, @dataset_name, @dataset_digest)
     ON CONFLICT DO NOTHING`,
  );
  // A NaN counts as lower than every number at the same step and timestamp, hence `1 - is_nan`.
  const upsertLatest = db.prepare<[PointRow & { seq: number }]>(
    `INSERT INTO latest_metrics (${POINT_COLUMNS}, seq) VALUES (${POINT_VALUES}, @seq)
     ON CONFLICT (run_id, key) DO UPDATE SET
       step = excluded.step, timestamp = excluded.timestamp, is_nan = excluded.is_nan, value = excluded.value,
       is_negative_zero = excluded.is_negative_zero, model_id = excluded.model_id,
       dataset_name = excluded.dataset_name, dataset_digest = excluded.dataset_digest
     WHERE (excluded.step, excluded.timestamp, 1 - excluded.is_nan, excluded.value)
         > (latest_metrics.step, latest_metrics.timestamp, 1 - latest_metrics.is_nan, latest_metrics.value)`,
  );
  // Both history queries walk metric_history's primary key; a negative LIMIT means no limit.
  const selectHistory = db.prepare<[{ run_id: string; key: string; limit: number }], MetricRow>(
    `SELECT ${METRIC_COLUMNS} FROM metric_history
     WHERE run_id = @run_id AND key = @key
     ORDER BY ${HISTORY_ORDER} LIMIT @limit`,
  );
  const selectHistoryAfter = db.prepare<[HistoryCursor & { run_id: string; key: string; limit: number }], MetricRow>(
    `SELECT ${METRIC_COLUMNS} FROM metric_history
     WHERE run_id = @run_id AND key = @key
       AND (${HISTORY_ORDER}) > (@timestamp, @step, @is_nan, @value, @is_negative_zero)
     ORDER BY ${HISTORY_ORDER} LIMIT @limit`,
  );

  const selectHistories = db.prepare<[{ run_ids: string; key: string }], PointRow>(
    `SELECT run_id, ${METRIC_COLUMNS} FROM metric_history
     WHERE run_id IN (SELECT value FROM json_each(@run_ids)) AND key = @key
     ORDER BY run_id, ${HISTORY_ORDER}`,
  );

  const writeBatch = db.transaction((runId: string, batch: { metrics: Metric[]; params: Tag[]; tags: Tag[] }) => {
    const experimentId = runState.requireActiveRun(runId);
    // Params first: a changed value throws before anything else is written, and the rollback
    // undoes the params of this batch already inserted.
    let seq = logOrder(batch.params.length + batch.tags.length + batch.metrics.length);
    // The change record holds what changed: params logged now (not a repeat of the same value), every tag, and the
    // points stored now (not a repeat of a stored one).
    const newParams: Tag[] = [];
    for (const param of batch.params) {
      if (insertParam.run(runId, param.key, param.value, seq++).changes === 0) {
        const logged = selectParam.get(runId, param.key) as string;
        if (logged !== param.value) throw paramChanged(runId, param.key, logged, param.value);
      } else newParams.push(param);
    }
    for (const tag of batch.tags) upsertTag.run(runId, tag.key, tag.value, seq++);
    const newPoints: Metric[] = [];
    for (const metric of batch.metrics) {
      const row = metricToRow(runId, metric);
      if (insertPoint.run(row).changes > 0) newPoints.push(metric);
      if (row.model_id !== null) insertModelLink.run(row);
    }
    for (const metric of latestPerKey(batch.metrics)) upsertLatest.run({ ...metricToRow(runId, metric), seq: seq++ });
    const items = batchItems({ params: newParams, tags: batch.tags, metrics: newPoints });
    if (items.length > 0) changes.append({ runId, experimentId, items });
  });

  // One statement, no check that the run exists: an unknown run has an empty history, as in MLflow.
  const readHistory = (runId: string, key: string, page: { maxResults?: number; pageToken?: string }): MetricHistoryPage => {
    const cursor = page.pageToken ? decodeHistoryCursor(page.pageToken) : undefined;
    // One row more than asked tells whether another page follows, so the last page has no token.
    const limit = page.maxResults === undefined ? -1 : page.maxResults + 1;
    const rows = cursor
      ? selectHistoryAfter.all({ run_id: runId, key, limit, ...cursor })
      : selectHistory.all({ run_id: runId, key, limit });
    let nextPageToken = "";
    if (page.maxResults !== undefined && rows.length > page.maxResults) {
      rows.length = page.maxResults;
      const last = rows[rows.length - 1];
      if (last !== undefined) nextPageToken = encodeHistoryCursor(last);
    }
    return { metrics: rows.map(rowToMetric), nextPageToken };
  };

  return {
    logBatch: (runId, batch) => writeBatch.immediate(runId, batch),
    getMetricHistory: readHistory,
    getMetricHistories(runIds, key) {
      const histories = new Map<string, Metric[]>(runIds.map((id) => [id, []]));
      if (runIds.length === 0) return histories;
      for (const row of selectHistories.all({ run_ids: JSON.stringify(runIds), key })) histories.get(row.run_id)?.push(rowToMetric(row));
      return histories;
    },
  };
}
