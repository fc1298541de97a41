/** What only the SQLite store has: the file's settings, schema versioning, locking and query plans. */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppError, ErrorCode } from "../../domain/errors.js";
import type { Store } from "../types.js";
import { MIGRATIONS, SCHEMA_VERSION } from "./schema.js";
import { createSqliteStore } from "./sqlite-store.js";

let dir: string;
let path: string;
const toClose: { close(): unknown }[] = [];

function openStore(busyTimeoutMs?: number): Store {
  const store = createSqliteStore({ path, busyTimeoutMs });
  toClose.push(store);
  return store;
}

function openRaw(): Database.Database {
  const db = new Database(path);
  toClose.push(db);
  return db;
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(() => new Error("expected a rejection"), (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "logbook-sqlite-"));
  path = join(dir, "nested", "logbook.db");
});

afterEach(async () => {
  for (const c of toClose.splice(0).reverse()) await c.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("SQLite store", () => {
  it("creates the file in WAL mode at the current schema version and reopens it", async () => {
    const store = openStore();
    expect(store.status).toEqual({ kind: "sqlite", location: path });
    await store.init();
    const id = await store.createExperiment({ name: "kept", tags: [], now: 1 });
    await store.close();

    const raw = openRaw();
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(raw.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);

    const again = openStore();
    await again.init();
    expect((await again.getExperiment(id)).name).toBe("kept");
  });

  it("refuses a database written by a newer schema", async () => {
    mkdirSync(dirname(path));
    const raw = openRaw();
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    const err = await rejection(openStore().init());
    expect(err.code).toBe(ErrorCode.INTERNAL_ERROR);
    expect(String((err.cause as Error).message)).toContain(`schema version ${SCHEMA_VERSION + 1}`);
  });

  it("carries the model links of a database from before logged_model_metrics over to it", async () => {
    const store = openStore();
    await store.init();
    const run = await store.createRun({ runId: "b".repeat(32), experimentId: "0", userId: "u", runName: "r", startTime: 1, tags: [] });
    const model = await store.createLoggedModel({ modelId: `m-${"c".repeat(32)}`, experimentId: "0", name: "m", params: [], tags: [], now: 1 });
    const linked = { key: "acc", value: 0.5, timestamp: 2, step: 1, modelId: model.modelId, datasetName: "eval", datasetDigest: "d" };
    await store.logBatch(run.info.runId, { metrics: [linked, { key: "acc", value: 0.1, timestamp: 1, step: 0 }], params: [], tags: [] });
    await store.close();
    // The last schema before the links had a table of their own: they were the history points carrying a model id.
    // Back to it: the tables of that migration and of every later one go (they are made again on opening).
    const linksAt = MIGRATIONS.findIndex((sql) => sql.includes("CREATE TABLE logged_model_metrics"));
    const later = MIGRATIONS.slice(linksAt).flatMap((sql) => [...sql.matchAll(/CREATE TABLE (\w+)/g)].map((m) => m[1]!));
    const raw = openRaw();
    raw.exec(`${later.map((table) => `DROP TABLE ${table};`).join("\n")}
      CREATE INDEX metric_history_by_model ON metric_history
        (model_id, timestamp, step, is_nan, value, is_negative_zero, run_id, key) WHERE model_id IS NOT NULL;`);
    raw.pragma(`user_version = ${linksAt}`);
    raw.close();

    const again = openStore();
    await again.init();
    expect((await again.getLoggedModel(model.modelId)).metrics).toEqual([{ ...linked, runId: run.info.runId }]);
  });

  it("answers TEMPORARILY_UNAVAILABLE before init, and without the driver's text while another writer holds the lock", async () => {
    const store = openStore(50);
    expect((await rejection(store.getExperiment("0"))).code).toBe(ErrorCode.TEMPORARILY_UNAVAILABLE);
    await store.init();
    const run = await store.createRun({ runId: "a".repeat(32), experimentId: "0", userId: "u", runName: "r", startTime: 1, tags: [] });
    const other = openRaw();
    other.exec("BEGIN IMMEDIATE");
    const batch = { metrics: [{ key: "m", value: 1, timestamp: 1, step: 0 }], params: [], tags: [] };
    const err = await rejection(store.logBatch(run.info.runId, batch));
    expect(err.code).toBe(ErrorCode.TEMPORARILY_UNAVAILABLE);
    expect(err.cause).toBeInstanceOf(Database.SqliteError);
    expect((err.cause as InstanceType<typeof Database.SqliteError>).code).toBe("SQLITE_BUSY");
    expect(err.message).toBe("The SQLite database is unavailable");
    // Readers are not blocked by a writer in WAL mode.
    expect((await store.getRun(run.info.runId)).data.metrics).toEqual([]);
    other.exec("COMMIT");
    await store.logBatch(run.info.runId, batch);
    expect((await store.getRun(run.info.runId)).data.metrics).toEqual(batch.metrics);
  });

  it("serves history, metric ordering, param/tag, linked-metric and model-version lookups from indexes", async () => {
    await openStore().init();
    const raw = openRaw();
    const plan = (sql: string) =>
      (raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array.from(sql.matchAll(/\?/g), () => 0)) as { detail: string }[]).map((r) => r.detail).join(" | ");
    const cases: [string, RegExp][] = [
      [
        "SELECT * FROM metric_history WHERE run_id = ? AND key = ? AND (timestamp, step, is_nan, value, is_negative_zero) > (?, ?, ?, ?, ?) ORDER BY timestamp, step, is_nan, value, is_negative_zero",
        /^SEARCH metric_history USING PRIMARY KEY \(run_id=\? AND key=\? AND \(timestamp,step,is_nan,value,is_negative_zero\)>\(\?,\?,\?,\?,\?\)\)$/,
      ],
      // The first page: the same key walk, and no sort of its own (no "USE TEMP B-TREE FOR ORDER BY").
      [
        "SELECT * FROM metric_history WHERE run_id = ? AND key = ? ORDER BY timestamp, step, is_nan, value, is_negative_zero LIMIT ?",
        /^SEARCH metric_history USING PRIMARY KEY \(run_id=\? AND key=\?\)$/,
      ],
      ["SELECT run_id FROM latest_metrics WHERE key = ? ORDER BY is_nan, value", /^SEARCH latest_metrics USING COVERING INDEX latest_metrics_by_key_value \(key=\?\)$/],
      ["SELECT run_id FROM latest_metrics WHERE key = ? AND is_nan = 0 ORDER BY value DESC", /USING COVERING INDEX latest_metrics_by_key_value \(key=\? AND is_nan=\?\)$/],
      ["SELECT run_id FROM params WHERE key = ? AND value = ?", /USING COVERING INDEX params_by_key_value/],
      ["SELECT run_id FROM run_tags WHERE key = ? AND value > ?", /USING COVERING INDEX run_tags_by_key_value/],
      ["SELECT experiment_id FROM experiment_tags WHERE key = ? AND value = ?", /USING COVERING INDEX experiment_tags_by_key_value/],
      // A logged model's linked metrics, in history order with no sort of their own.
      [
        "SELECT run_id, key FROM logged_model_metrics WHERE model_id = ? ORDER BY timestamp, step, is_nan, value, is_negative_zero, run_id, key",
        /^SEARCH logged_model_metrics USING PRIMARY KEY \(model_id=\?\)$/,
      ],
      ["SELECT version FROM model_versions WHERE run_id IN (SELECT value FROM json_each(?))", /USING COVERING INDEX model_versions_by_run \(run_id=\?\)/],
      ["SELECT version FROM model_versions WHERE model_id = ?", /USING COVERING INDEX model_versions_by_logged_model \(model_id=\?\)/],
      [
        "SELECT max(version) FROM model_versions WHERE model_key = ? AND current_stage = ?",
        /USING COVERING INDEX model_versions_by_stage \(model_key=\? AND current_stage=\?\)/,
      ],
    ];
    for (const [sql, expected] of cases) expect(plan(sql), sql).toMatch(expected);
  });
});
