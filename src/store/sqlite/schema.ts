/**
 * The SQLite schema as an ordered list of migrations. `PRAGMA user_version` records how many have been
 * applied; `migrate` applies the missing ones in one IMMEDIATE transaction, so concurrent start-ups
 * (several processes on one file) serialise on the write lock and the later ones find nothing to do.
 *
 * Metric values: SQLite stores NaN as NULL and folds -0 into 0, so a value is three columns —
 * `value REAL NOT NULL` (0 for NaN, as MLflow's SQL store does), `is_nan` and `is_negative_zero`.
 * `value` stays NOT NULL because NULLs never collide in a unique key: a NULL NaN would defeat the
 * "identical points are stored once" rule. Queries on values must test `is_nan` first.
 */
import type { Database } from "better-sqlite3";
import { DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME, experimentArtifactLocation } from "../../domain/entities.js";

export const MIGRATIONS: readonly string[] = [
  // 1: experiments, runs, params, tags, metric history and latest metrics, run inputs and outputs.
  `
  CREATE TABLE experiments (
    -- AUTOINCREMENT: ids of removed rows are never handed out again.
    experiment_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT NOT NULL UNIQUE,
    artifact_location TEXT NOT NULL,
    lifecycle_stage   TEXT NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
    creation_time     INTEGER NOT NULL,
    last_update_time  INTEGER NOT NULL
  );

  CREATE TABLE experiment_tags (
    experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (experiment_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX experiment_tags_by_key_value ON experiment_tags (key, value);

  CREATE TABLE runs (
    run_id          TEXT PRIMARY KEY,
    experiment_id   INTEGER NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    status          TEXT NOT NULL,
    start_time      INTEGER NOT NULL,
    end_time        INTEGER,
    artifact_uri    TEXT NOT NULL,
    lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
    deleted_time    INTEGER
  );
  -- Search's default order within experiments (start_time DESC, then run_id); also the cascade's lookup.
  CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time DESC, run_id);

  CREATE TABLE params (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX params_by_key_value ON params (key, value);

  CREATE TABLE run_tags (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX run_tags_by_key_value ON run_tags (key, value);

  -- Every point once: the key covers (run, key, step, timestamp, value). It doubles as the history
  -- query's index, so its column order is MLflow's history order (timestamp, step, value with NaN last).
  CREATE TABLE metric_history (
    run_id           TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    key              TEXT NOT NULL,
    step             INTEGER NOT NULL,
    timestamp        INTEGER NOT NULL,
    is_nan           INTEGER NOT NULL CHECK (is_nan IN (0, 1)),
    value            REAL NOT NULL,
    is_negative_zero INTEGER NOT NULL CHECK (is_negative_zero IN (0, 1)),
    model_id         TEXT,
    dataset_name     TEXT,
    dataset_digest   TEXT,
    PRIMARY KEY (run_id, key, timestamp, step, is_nan, value, is_negative_zero)
  ) WITHOUT ROWID;

  -- The latest point per (run, key), kept by an upsert that only moves forward in recency.
  CREATE TABLE latest_metrics (
    run_id           TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    key              TEXT NOT NULL,
    step             INTEGER NOT NULL,
    timestamp        INTEGER NOT NULL,
    is_nan           INTEGER NOT NULL CHECK (is_nan IN (0, 1)),
    value            REAL NOT NULL,
    is_negative_zero INTEGER NOT NULL CHECK (is_negative_zero IN (0, 1)),
    model_id         TEXT,
    dataset_name     TEXT,
    dataset_digest   TEXT,
    PRIMARY KEY (run_id, key)
  ) WITHOUT ROWID;
  -- Search: filter and ORDER BY one metric from the index (is_nan first puts NaN after every number).
  CREATE INDEX latest_metrics_by_key_value ON latest_metrics (key, is_nan, value);

  CREATE TABLE run_dataset_inputs (
    input_id    INTEGER PRIMARY KEY,
    run_id      TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    digest      TEXT NOT NULL,
    source_type TEXT NOT NULL,
    source      TEXT NOT NULL,
    schema      TEXT,
    profile     TEXT,
    UNIQUE (run_id, name, digest)
  );

  CREATE TABLE run_dataset_input_tags (
    input_id INTEGER NOT NULL REFERENCES run_dataset_inputs (input_id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (input_id, key)
  ) WITHOUT ROWID;

  CREATE TABLE run_model_inputs (
    run_id   TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    model_id TEXT NOT NULL,
    UNIQUE (run_id, model_id)
  );

  CREATE TABLE run_model_outputs (
    run_id   TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    model_id TEXT NOT NULL,
    step     INTEGER NOT NULL,
    UNIQUE (run_id, model_id, step)
  );
  `,
  // 2: the model registry (registered models, versions, tags, aliases) and MLflow 3 logged models.
  `
  -- model_key is the rows' link, so a rename changes one row. Models are hard-deleted with all they own.
  CREATE TABLE registered_models (
    model_key         INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL,
    user_id           TEXT NOT NULL,
    description       TEXT NOT NULL,
    -- The highest version number ever handed out: versions are deleted for good, their numbers never reused.
    last_version      INTEGER NOT NULL DEFAULT 0
  );

  CREATE TABLE registered_model_tags (
    model_key INTEGER NOT NULL REFERENCES registered_models (model_key) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (model_key, key)
  ) WITHOUT ROWID;

  CREATE TABLE model_versions (
    model_key         INTEGER NOT NULL REFERENCES registered_models (model_key) ON DELETE CASCADE,
    version           INTEGER NOT NULL,
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL,
    user_id           TEXT NOT NULL,
    current_stage     TEXT NOT NULL CHECK (current_stage IN ('None', 'Staging', 'Production', 'Archived')),
    description       TEXT NOT NULL,
    source            TEXT NOT NULL,
    run_id            TEXT NOT NULL,
    run_link          TEXT NOT NULL,
    status            TEXT NOT NULL,
    status_message    TEXT,
    model_id          TEXT,
    storage_location  TEXT,
    PRIMARY KEY (model_key, version)
  ) WITHOUT ROWID;
  -- Latest version per stage, and archive-on-promote.
  CREATE INDEX model_versions_by_stage ON model_versions (model_key, current_stage, version);
  -- Versions of a source run (searches, leaderboards) and a logged model's registrations.
  CREATE INDEX model_versions_by_run ON model_versions (run_id);
  CREATE INDEX model_versions_by_logged_model ON model_versions (model_id) WHERE model_id IS NOT NULL;

  CREATE TABLE model_version_tags (
    model_key INTEGER NOT NULL,
    version   INTEGER NOT NULL,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (model_key, version, key),
    FOREIGN KEY (model_key, version) REFERENCES model_versions (model_key, version) ON DELETE CASCADE
  ) WITHOUT ROWID;

  -- An alias goes with the version it points at.
  CREATE TABLE registered_model_aliases (
    model_key INTEGER NOT NULL,
    alias     TEXT NOT NULL,
    version   INTEGER NOT NULL,
    PRIMARY KEY (model_key, alias),
    FOREIGN KEY (model_key, version) REFERENCES model_versions (model_key, version) ON DELETE CASCADE
  ) WITHOUT ROWID;
  CREATE INDEX registered_model_aliases_by_version ON registered_model_aliases (model_key, version);

  -- Deleted logged models stay as rows (lifecycle_stage 'deleted', as in MLflow) but are gone for every read.
  CREATE TABLE logged_models (
    model_id          TEXT PRIMARY KEY,
    experiment_id     INTEGER NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL,
    artifact_uri      TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('PENDING', 'READY', 'UPLOAD_FAILED')),
    status_message    TEXT,
    creator_id        TEXT,
    model_type        TEXT,
    source_run_id     TEXT,
    lifecycle_stage   TEXT NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted'))
  );
  CREATE INDEX logged_models_by_experiment ON logged_models (experiment_id, lifecycle_stage);

  CREATE TABLE logged_model_tags (
    model_id TEXT NOT NULL REFERENCES logged_models (model_id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
  ) WITHOUT ROWID;

  CREATE TABLE logged_model_params (
    model_id TEXT NOT NULL REFERENCES logged_models (model_id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
  ) WITHOUT ROWID;

  -- A logged model's linked metrics, read in history order straight from the index.
  CREATE INDEX metric_history_by_model ON metric_history
    (model_id, timestamp, step, is_nan, value, is_negative_zero, run_id, key) WHERE model_id IS NOT NULL;
  `,
  // 3: the default orders of the experiment, registry and logged-model searches, walked from an index (keyset pages).
  // Each index costs its entity's writes ~0.1 ms; the other orders sort their matches instead (these entities are few
  // next to runs).
  `
  -- Experiments by creation_time DESC, then experiment_id (the default order).
  CREATE INDEX experiments_by_creation_time ON experiments (creation_time, experiment_id);
  -- Registered models by last_updated_timestamp (then name): the name order has the name's own index.
  CREATE INDEX registered_models_by_last_updated ON registered_models (last_updated_time, name);
  -- Model versions by last_updated_timestamp DESC (the default).
  CREATE INDEX model_versions_by_last_updated ON model_versions (last_updated_time);
  -- A search of one experiment's logged models walks this in the default order (creation_timestamp DESC, model_id).
  DROP INDEX logged_models_by_experiment;
  CREATE INDEX logged_models_by_experiment ON logged_models (experiment_id, lifecycle_stage, creation_time DESC, model_id);
  `,
  // 4: the order a run's params, tags and metrics were first logged in (domain/log-order.ts); rows from before it
  // have none and come first, by key.
  `
  ALTER TABLE params ADD COLUMN seq INTEGER;
  ALTER TABLE run_tags ADD COLUMN seq INTEGER;
  ALTER TABLE latest_metrics ADD COLUMN seq INTEGER;
  `,
  // 5: a logged model's metrics as links of their own, as MLflow keeps them (logged_model_metrics): a point re-logged
  // with a model id links it although the run already has that point, and one point can link several models.
  // The links made so far were the history points carrying a model id.
  `
  CREATE TABLE logged_model_metrics (
    model_id         TEXT NOT NULL,
    timestamp        INTEGER NOT NULL,
    step             INTEGER NOT NULL,
    is_nan           INTEGER NOT NULL CHECK (is_nan IN (0, 1)),
    value            REAL NOT NULL,
    is_negative_zero INTEGER NOT NULL CHECK (is_negative_zero IN (0, 1)),
    run_id           TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    key              TEXT NOT NULL,
    dataset_name     TEXT,
    dataset_digest   TEXT,
    -- A model's links in history order (then run, key): getLoggedModel reads them with no sort of its own.
    PRIMARY KEY (model_id, timestamp, step, is_nan, value, is_negative_zero, run_id, key)
  ) WITHOUT ROWID;
  INSERT INTO logged_model_metrics
    SELECT model_id, timestamp, step, is_nan, value, is_negative_zero, run_id, key, dataset_name, dataset_digest
    FROM metric_history WHERE model_id IS NOT NULL;
  DROP INDEX metric_history_by_model;
  `,
  // 6: the change log of run writes that live watches read (change-log.ts). AUTOINCREMENT: a seq is never handed out
  // twice, also after pruning, so a watcher's resume point never names another record.
  `
  CREATE TABLE run_changes (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    -- NULL for a change of a whole experiment's runs.
    run_id        TEXT,
    experiment_id INTEGER NOT NULL,
    -- Commit time (ms), for retention.
    at            INTEGER NOT NULL,
    -- The record's items as JSON (domain/run-change.ts encodeChangeItems).
    items         TEXT NOT NULL
  );
  -- A resume reads one run's records (and the experiments' ones, run_id IS NULL) after a seq.
  CREATE INDEX run_changes_by_run ON run_changes (run_id, seq);
  `,
  // 7: users, their grants and personal access tokens (--auth basic). A grant's resource_id is an experiment id or a
  // registered model name as text, or '*'; the index serves "whose grants name this resource" (delete, rename).
  `
  CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE grants (
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    permission    TEXT NOT NULL,
    PRIMARY KEY (user_id, resource_type, resource_id)
  ) WITHOUT ROWID;
  CREATE INDEX grants_by_resource ON grants (resource_type, resource_id);
  CREATE TABLE access_tokens (
    token_id    TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER
  ) WITHOUT ROWID;
  CREATE INDEX access_tokens_by_user ON access_tokens (user_id, created_at);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the schema to SCHEMA_VERSION and makes sure the Default experiment exists. Idempotent. */
export function migrate(db: Database, now: number, defaultArtifactRoot?: string): void {
  db.transaction(() => {
    const current = db.pragma("user_version", { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new Error(`The database has schema version ${current}; this Logbook knows versions up to ${SCHEMA_VERSION}`);
    }
    for (const sql of MIGRATIONS.slice(current)) db.exec(sql);
    // Only integers reach this pragma, which takes no bound parameters.
    if (current !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.prepare(
      `INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
       VALUES (?, ?, ?, 'active', ?, ?)
       ON CONFLICT DO NOTHING`,
    ).run(Number(DEFAULT_EXPERIMENT_ID), DEFAULT_EXPERIMENT_NAME, experimentArtifactLocation(DEFAULT_EXPERIMENT_ID, defaultArtifactRoot), now, now);
  }).immediate();
}
