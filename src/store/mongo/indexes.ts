/**
 * The document layout and every index the queries need, created at init() (createIndex is idempotent: the same
 * name and keys again is a no-op, also when two servers start at once). docs/mongodb.md lists each query shape with
 * the index that serves it; a test holds that list and this one together.
 *
 * Collections (document shapes in mapping.ts, encodings in value-encoding.ts):
 * - `counters`        `{_id: "experiment_id", seq}` — experiment ids by findOneAndUpdate + $inc + upsert;
 *                     `{_id: "layout", seq}` — the document layout version (layout.ts).
 * - `experiments`     `_id` = experiment id string; `num` (the id as a number, for ordering); `name`;
 *                     `tags: {<key>: value}` (key-fields.ts: one field per key, keys percent-encoded); `rev` (CAS token
 *                     for tags).
 * - `runs`            one document per run with everything GetRun returns (run-document.ts): info; `params`, `tags`
 *                     and `metrics` (latest values) as objects keyed by the encoded key, each entry with its
 *                     first-logged order `o`; `metric_asc`/`metric_desc` (order keys for metric-ordered searches);
 *                     `inputs` (datasets), `model_inputs`, `model_outputs`; `rev` (bumped by every update), `seq`.
 * - `run_leases`      `{_id: <run id>, owner, expires_at}`: on FerretDB only, the per-run lock of run-writer.ts.
 * - `metric_history`  one document per point, never on the run (16 MB limit). `_id` = "<run>:<key>:<44 hex>"
 *                     (value-encoding.ts historyId): deterministic from (run, key, timestamp, step, value bits), so an
 *                     identical point is a duplicate key and stored once, and `_id` order is history order
 *                     (timestamp, step, value with NaN last). `_id` strings escape `%` and `:` in their parts, so the
 *                     points of one (run, key) are one `_id` range.
 *
 * The model registry and logged models (registry-mapping.ts). FerretDB v1.24 updates a document by reading it and
 * writing all of it back, with no isolation (even compare-and-set updates can lose writes), so nothing here relies
 * on an atomic update: the only atomic write both servers offer is an insert against a unique key.
 * - `registered_models` `_id` = an immutable internal id ("rm-" + 32 hex), so nothing refers to the name but the
 *                     versions' copy of it; `name` unique by index; description, user, times; `tags: {<key>: value}`;
 *                     `aliases: [{alias, version}]`; `renaming` while a rename copies the name onto the versions.
 * - `model_versions`  `_id` = "<model internal id>:<version>"; `model` (internal id), `name` (the model's, for
 *                     searches), `version` (int), the version's fields and `tags: {<key>: value}`; `deleted`: a deleted
 *                     version is a tombstone
 *                     `{_id, model, version, deleted: true}` that keeps its `_id`, so its number is never taken again;
 *                     tombstones are invisible to every read and to counts. A number is taken by inserting its `_id`:
 *                     the highest stored number plus one, and the next on a duplicate key.
 * - `registry_leases` `{_id: <model id>, owner, expires_at}`: the per-model lock (registry-lease.ts). Every update of
 *                     a registered model and its versions, or of a logged model, runs holding it.
 * - `logged_models`   `_id` = the model id ("m-" + 32 hex); experiment, name, times, status, artifact URI;
 *                     `tags`/`params: {<key>: value}`; `has_model_type`/`has_source_run_id`; `deleted` flag (deleted
 *                     ones are invisible). Linked metrics: below; `metrics` and `datasets`
 *                     summarise them for searches (logged-model-metrics.ts).
 * - `logged_model_metrics` one document per (logged model, metric point) link, `_id` = "<model>:<history _id>"
 *                     (value-encoding.ts modelMetricId): a link is stored once, and a point can link several models;
 *                     the point's fields as the re-logging call sent them, `model_id`.
 *
 * Users, grants and access tokens (auth-store.ts; used with `--auth basic`):
 * - `users`           `_id` = the integer user id (counter `{_id: "user_id", seq}`, as experiment ids); `username`
 *                     unique by index; `password_hash` (scrypt, self-describing); `is_admin`.
 * - `grants`          `{user_id, resource_type, resource_id, permission}`, one per (user, type, resource id) by a
 *                     unique index; `resource_id` is an experiment id, a registered model name, or "*".
 * - `access_tokens`   `_id` = the token id; `user_id`, `name`, `secret_hash` (SHA-256 of the secret), times.
 */
import type { IndexDescription } from "mongodb";
import type { Collections } from "./connection.js";
import type { ServerKind } from "./server-kind.js";

/** `mongodbOnly`: an index FerretDB v1.24 cannot create (wildcard, partial); on FerretDB the query runs unindexed. */
type Spec = { collection: keyof Collections; mongodbOnly?: true } & IndexDescription & { name: string };

/**
 * Besides the `_id` indexes, which serve: getRun and the writes of one run (runs `_id`), metric history reads and
 * their keyset pages and the bulk-interval read (metric_history `_id` ranges, sorted by `_id`), every lookup by id.
 */
export const INDEXES: Spec[] = [
  // createExperiment/renameExperiment: a name is taken once, deleted experiments included (E11000 → RESOURCE_ALREADY_EXISTS);
  // getExperimentByName: findOne({name}).
  { collection: "experiments", key: { name: 1 }, name: "name_unique", unique: true },
  // The experiment search: find({lifecycle_stage, …}).sort({creation_time: -1, num: -1}) by default, or by
  // last_update_time or the id (num), each then num; by name: name_unique.
  { collection: "experiments", key: { creation_time: -1, num: -1 }, name: "creation_time_num" },
  { collection: "experiments", key: { last_update_time: -1, num: -1 }, name: "last_update_time_num" },
  { collection: "experiments", key: { num: -1 }, name: "num" },
  // MongoDB only — a search's condition on one tag (`tags.<key>`; keys are field names, key-fields.ts): a wildcard
  // index serves a condition on any key. The same on registered models and model versions.
  { collection: "experiments", key: { "tags.$**": 1 }, name: "tags_wildcard", mongodbOnly: true },
  // Run searches within experiments in MLflow's default order (and the runs without the ordering metric):
  // find({experiment_id: {$in}, lifecycle_stage, …}).sort({start_time: -1, _id: 1}) — one merge-sorted scan per
  // (experiment, stage); the lifecycle cascade: updateMany({experiment_id, lifecycle_stage}).
  { collection: "runs", key: { experiment_id: 1, lifecycle_stage: 1, start_time: -1, _id: 1 }, name: "experiment_lifecycle_start" },
  // The same across every experiment (no experiment ids given: streams, leaderboards, seed queries).
  { collection: "runs", key: { lifecycle_stage: 1, start_time: -1, _id: 1 }, name: "lifecycle_start" },
  // Searches ordered by one metric: find({"metric_desc.<key>": {$gt: last}, …}).sort({"metric_desc.<key>": 1}) walks
  // the index from the page token (value, NaN, then start_time DESC and run_id in one key, so nothing is sorted);
  // metric filters are ranges on metric_asc.<key>.
  { collection: "runs", key: { "metric_asc.$**": 1 }, name: "metric_asc", mongodbOnly: true },
  { collection: "runs", key: { "metric_desc.$**": 1 }, name: "metric_desc", mongodbOnly: true },
  // A logged model's linked metrics: find({model_id: {$in: ids}}).
  { collection: "modelMetrics", key: { model_id: 1 }, name: "model_id" },
  // MongoDB only — a logged-model search's `metrics.<key> = v`: distinct("model_id", {key, v}) over the links.
  { collection: "modelMetrics", key: { key: 1, v: 1, model_id: 1 }, name: "key_value_model", mongodbOnly: true },
  // createRegisteredModel/renameRegisteredModel: a name is taken once (duplicate → RESOURCE_ALREADY_EXISTS);
  // every registry call resolves the name: findOne({name}).
  { collection: "registeredModels", key: { name: 1 }, name: "name_unique", unique: true },
  // The registered-model search: filter on name (an anchored LIKE is a range of name_unique) or tags, order by name
  // (name_unique) or by last_updated_timestamp, then name: find(…).sort({last_updated_timestamp: ±1, name: ±1}).
  { collection: "registeredModels", key: { last_updated_timestamp: -1, name: 1 }, name: "last_updated_name" },
  // A rename cut short by a crash, finished at init(): find({renaming: true}). Sparse: only such models are in it.
  { collection: "registeredModels", key: { renaming: 1 }, name: "renaming", sparse: true },
  { collection: "registeredModels", key: { "tags.$**": 1 }, name: "tags_wildcard", mongodbOnly: true },
  // The model-version search (live versions, deleted: false): by default sort({last_updated_timestamp: -1, name: 1,
  // version: -1}); name filters and orders (name, version); creation_timestamp orders.
  { collection: "modelVersions", key: { deleted: 1, last_updated_timestamp: -1, name: 1, version: -1 }, name: "search_last_updated" },
  { collection: "modelVersions", key: { deleted: 1, name: 1, version: -1 }, name: "search_name" },
  { collection: "modelVersions", key: { deleted: 1, creation_timestamp: -1, name: 1, version: -1 }, name: "search_created" },
  // A model's versions (newest first) and its highest number (tombstones included) for the next one:
  // find({model}).sort({version: -1}).limit(1); deleteMany({model}) when the model goes.
  { collection: "modelVersions", key: { model: 1, version: -1 }, name: "model_version" },
  // Leaderboards and searches narrowed by source runs: find({run_id: {$in}}).
  { collection: "modelVersions", key: { run_id: 1 }, name: "run_id" },
  // A logged model's registrations: find({model_id: {$in}}). Sparse: versions made from a logged model only.
  { collection: "modelVersions", key: { model_id: 1 }, name: "model_id", sparse: true },
  { collection: "modelVersions", key: { "tags.$**": 1 }, name: "tags_wildcard", mongodbOnly: true },
  // The logged-model search of some experiments: find({experiment_id: {$in}, deleted: false, …}) in the default
  // order sort({creation_timestamp_ms: -1, _id: 1}), walked from here for one experiment; other orders sort the
  // experiments' matches (top-k).
  { collection: "loggedModels", key: { experiment_id: 1, deleted: 1, creation_timestamp_ms: -1, _id: 1 }, name: "experiment_created" },
  // MongoDB only — the logged-model search's conditions on a tag, a param, a linked-metric summary or a dataset flag
  // (`tags.<key>`, `params.<key>`, `metrics.<key>.<scope>.hi`, `datasets.n.<name>`…), whatever the key.
  {
    collection: "loggedModels",
    key: { "$**": 1 },
    name: "search_wildcard",
    wildcardProjection: { tags: 1, params: 1, metrics: 1, datasets: 1 },
    mongodbOnly: true,
  },
  // Resuming a watch: one run's change records after a seq, and the experiments' ones (r: null), by seq.
  // (Polls and bounds walk `_id`: the seq.)
  { collection: "changes", key: { r: 1, _id: 1 }, name: "run_seq" },
  // createUser: a name is taken once (E11000 → RESOURCE_ALREADY_EXISTS); sign-in and every users/* call: findOne({username}).
  { collection: "users", key: { username: 1 }, name: "username_unique", unique: true },
  // addGrant: one grant per (user, type, resource id); a user's grants, loaded at sign-in: find({user_id}).sort(…).
  { collection: "grants", key: { user_id: 1, resource_type: 1, resource_id: 1 }, name: "user_resource_unique", unique: true },
  // A deleted or renamed registered model's grants: deleteMany/updateMany({resource_type, resource_id}).
  { collection: "grants", key: { resource_type: 1, resource_id: 1 }, name: "resource" },
  // A user's tokens, oldest first: find({user_id}).sort({created_at: 1, _id: 1}); deleteMany({user_id}).
  { collection: "accessTokens", key: { user_id: 1, created_at: 1, _id: 1 }, name: "user_created" },
];

/** Indexes an earlier layout created that nothing uses any more (layout.ts). */
const RETIRED: { collection: keyof Collections; name: string }[] = [
  { collection: "loggedModels", name: "experiment_id" },
  // Before the run-document layout: runs by (experiment_id, start_time), and history by recency for latest-metric settling.
  { collection: "runs", name: "experiment_start_time" },
  { collection: "history", name: "run_key_recency" },
];

/** The indexes init() creates on this server. */
export const indexesFor = (server: Pick<ServerKind, "wildcardIndexes">): Spec[] => INDEXES.filter((i) => server.wildcardIndexes || !i.mongodbOnly);

export async function ensureIndexes(collections: Collections, server: ServerKind): Promise<void> {
  for (const { collection, mongodbOnly, ...index } of indexesFor(server)) {
    void mongodbOnly; // ours, not the server's
    await collections[collection].createIndexes([index]);
  }
  for (const { collection, name } of RETIRED) {
    await collections[collection].dropIndex(name).catch((err: unknown) => {
      // Already gone, or never made: IndexNotFound (27) or NamespaceNotFound (26), on both servers.
      const code = (err as { code?: unknown }).code;
      if (code !== 26 && code !== 27) throw err;
    });
  }
}
