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

const MIGRATIONS: readonly string[] = [
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
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the schema to SCHEMA_VERSION and makes sure the Default experiment exists. Idempotent. */
export function migrate(db: Database, now: number): void {
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
    ).run(Number(DEFAULT_EXPERIMENT_ID), DEFAULT_EXPERIMENT_NAME, experimentArtifactLocation(DEFAULT_EXPERIMENT_ID), now, now);
  }).immediate();
}
