/**
 * The document layout and every index the queries need, created at init() (createIndex is idempotent: the same
 * name and keys again is a no-op, also when two servers start at once).
 *
 * Collections (document shapes in mapping.ts, encodings in value-encoding.ts):
 * - `counters`        `{_id: "experiment_id", seq}` — experiment ids by findOneAndUpdate + $inc + upsert.
 * - `experiments`     `_id` = experiment id string; `name`; `tags: [{k, v}]`; `rev` (CAS token for tags).
 * - `runs`            `_id` = run id; info fields; `params`/`tags: [{k, v}]` (keys are values, never field names,
 *                     so `.` and `$` in keys are harmless); `rev` (CAS token for params and tags);
 *                     `model_inputs: [id]`, `model_outputs: [{model_id, step}]`.
 * - `metric_history`  one document per point, never on the run (16 MB limit). `_id` = "<run>:<key>:<44 hex>"
 *                     (value-encoding.ts historyId): deterministic from (run, key, timestamp, step, value bits), so an
 *                     identical point is a duplicate key and stored once, and `_id` order is history order
 *                     (timestamp, step, value with NaN last); `rk` is the point's recency key (step first), the
 *                     same as latest_metrics' `rk`.
 * - `latest_metrics`  one document per (run, key), `_id` = "<run>:<key>": the latest point, value as `v`/`x`,
 *                     NaN flag `n`, value sort key `s`, recency key `rk`, and `experiment_id`.
 * - `run_inputs`      one document per (run, dataset name, digest), `_id` = "<run>:<name>:<digest>".
 * `_id` strings escape `%` and `:` in their parts, so "<run>:" prefixes never overlap: a run's documents in
 * latest_metrics and run_inputs, and a (run, key)'s history, are one `_id` range each.
 */
import type { IndexDescription } from "mongodb";
import type { Collections } from "./connection.js";

type Spec = { collection: keyof Collections } & IndexDescription & { name: string };

/**
 * Besides the `_id` indexes, which serve: getRun (latest_metrics and run_inputs by `_id` range of the run),
 * getMetricHistory and its keyset pages (metric_history `_id` range, sorted by `_id`) and every lookup by id.
 */
export const INDEXES: Spec[] = [
  // createExperiment/renameExperiment: a name is taken once, deleted experiments included (E11000 → RESOURCE_ALREADY_EXISTS);
  // getExperimentByName: findOne({name}).
  { collection: "experiments", key: { name: 1 }, name: "name_unique", unique: true },
  // setExperimentLifecycle: updateMany({experiment_id, lifecycle_stage}) cascades to the runs; later, run searches
  // within experiments in MLflow's default order (start_time DESC).
  { collection: "runs", key: { experiment_id: 1, start_time: -1 }, name: "experiment_start_time" },
  // Search on one metric (filter and order by its latest value): find({key, n: false, s: {…}}).sort({s: ±1}).limit(k)
  // is a walk of this index in either direction; NaN values (n: true) come after, as MLflow orders them.
  { collection: "latest", key: { key: 1, n: 1, s: 1 }, name: "key_nan_value" },
  // Latest-metric settling (latest-metrics.ts): the points of a key newer than its stored latest,
  // find({$or: [{run_id, key, rk: {$gt: stored rk}}, …]}), one index range per clause. History's `_id` is in
  // history order (timestamp first), so recency needs an index of its own.
  { collection: "history", key: { run_id: 1, key: 1, rk: 1 }, name: "run_key_recency" },
];

export async function ensureIndexes(collections: Collections): Promise<void> {
  for (const { collection, ...index } of INDEXES) {
    await collections[collection].createIndexes([index]);
  }
}
