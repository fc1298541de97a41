/**
 * Group commit on the embedded store: concurrent writers share transactions (fewer COMMITs than acknowledged
 * writes), a writer's error rolls back only its own work, a write is answered only once committed (another
 * connection sees it), and the durable `synchronous = FULL` is the default.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../../domain/errors.js";
import type { Metric } from "../../domain/entities.js";
import { createSqliteStore, type SqliteStore } from "./sqlite-store.js";

let dir: string;
let path: string;
const toClose: { close(): unknown }[] = [];

async function open(options: Parameters<typeof createSqliteStore>[0] extends infer O ? Partial<O> : never = {}): Promise<SqliteStore> {
  const store = createSqliteStore({ path, ...options });
  toClose.push(store);
  await store.init();
  return store;
}

const metric = (key: string, step: number): Metric => ({ key, value: step / 2, timestamp: 1000 + step, step });

async function newRun(store: SqliteStore, name: string): Promise<string> {
  const experimentId = await store.createExperiment({ name, tags: [], now: 1 });
  const runId = `${name}`.padEnd(32, "0");
  await store.createRun({ runId, experimentId, userId: "u", runName: name, startTime: 1, tags: [] });
  return runId;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "logbook-group-"));
  path = join(dir, "logbook.db");
});

afterEach(async () => {
  for (const c of toClose.splice(0).reverse()) await c.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("SQLite group commit", () => {
  it("commits 16 concurrent writers in fewer transactions than acknowledged writes, and keeps every write", async () => {
    const store = await open();
    const runIds = await Promise.all(Array.from({ length: 16 }, (_, i) => newRun(store, `run${i.toString(16)}`)));
    const before = { ...store.writeStats };
    await Promise.all(runIds.map((runId, i) => store.logBatch(runId, { metrics: [metric("loss", i)], params: [{ key: "w", value: String(i) }], tags: [] })));
    const acknowledged = store.writeStats.acknowledged - before.acknowledged;
    const commits = store.writeStats.commits - before.commits;
    expect(acknowledged).toBe(16);
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(commits).toBeLessThan(acknowledged);
    await store.close();

    const again = await open();
    for (const [i, runId] of runIds.entries()) {
      const run = await again.getRun(runId);
      expect(run.data.params).toEqual([{ key: "w", value: String(i) }]);
      expect((await again.getMetricHistory(runId, "loss", {})).metrics).toEqual([metric("loss", i)]);
    }
  });

  it("rolls back only the failing writer's work within a shared transaction", async () => {
    const store = await open();
    const runId = await newRun(store, "shared");
    await store.logBatch(runId, { metrics: [], params: [{ key: "fixed", value: "1" }], tags: [] });
    const before = { ...store.writeStats };
    const results = await Promise.allSettled([
      store.logBatch(runId, { metrics: [metric("a", 1)], params: [], tags: [] }),
      // A param changed: refused, and its metric and tag must not be written either.
      store.logBatch(runId, { metrics: [metric("b", 1)], params: [{ key: "fixed", value: "2" }], tags: [{ key: "t", value: "x" }] }),
      store.logBatch(runId, { metrics: [metric("c", 1)], params: [], tags: [] }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(AppError);
    expect(store.writeStats.commits - before.commits).toBe(1);
    expect(store.writeStats.failed - before.failed).toBe(1);
    const run = await store.getRun(runId);
    expect(run.data.metrics.map((m) => m.key).sort()).toEqual(["a", "c"]);
    expect(run.data.tags.find((t) => t.key === "t")).toBeUndefined();
    expect(run.data.params).toEqual([{ key: "fixed", value: "1" }]);
  });

  it("answers a write only once it is committed: another connection sees it at once", async () => {
    const store = await open();
    const runId = await newRun(store, "visible");
    const raw = new Database(path, { readonly: true });
    toClose.push(raw);
    const count = raw.prepare<[string], number>("SELECT count(*) FROM metric_history WHERE run_id = ?").pluck();
    const writes = Array.from({ length: 8 }, (_, i) => store.logBatch(runId, { metrics: [metric("m", i)], params: [], tags: [] }));
    expect(count.get(runId)).toBe(0); // queued, not yet committed, not yet answered
    const seen: number[] = [];
    await Promise.all(writes.map((w) => w.then(() => seen.push(count.get(runId) as number))));
    expect(seen.every((n) => n === 8)).toBe(true);
  });

  it("tells a group's change records after its COMMIT (another connection sees them), in seq order, none of a writer rolled back", async () => {
    const store = await open();
    const runId = await newRun(store, "changes");
    await store.logBatch(runId, { metrics: [], params: [{ key: "fixed", value: "1" }], tags: [] });
    const raw = new Database(path, { readonly: true });
    toClose.push(raw);
    const stored = raw.prepare<[number], number>("SELECT count(*) FROM run_changes WHERE seq = ?").pluck();
    const told: { seq: number; visible: boolean; key: string }[] = [];
    store.onChange((change) => {
      const item = change.items[0]!;
      told.push({ seq: change.seq, visible: stored.get(change.seq) === 1, key: item.kind === "metric" ? item.metric.key : item.kind });
    });
    const before = { ...store.writeStats };
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        // Writer 3 changes a param: refused, rolled back to its savepoint, no record told.
        store.logBatch(runId, { metrics: [metric(`k${i}`, i)], params: i === 3 ? [{ key: "fixed", value: "2" }] : [], tags: [] }),
      ),
    );
    expect(results.map((r) => r.status).filter((s) => s === "rejected")).toHaveLength(1);
    expect(store.writeStats.commits - before.commits).toBe(1);
    expect(told.map((t) => t.key)).toEqual(["k0", "k1", "k2", "k4", "k5", "k6", "k7"]);
    expect(told.every((t) => t.visible)).toBe(true);
    expect(told.every((t, i) => i === 0 || t.seq === told[i - 1]!.seq + 1)).toBe(true);
  });

  it("runs with synchronous = FULL by default, and as configured otherwise", async () => {
    expect((await open()).synchronous()).toBe("full");
    path = join(dir, "normal.db");
    expect((await open({ synchronous: "normal" })).synchronous()).toBe("normal");
  });

  it("commits writes still queued when the store closes", async () => {
    const store = await open();
    const runId = await newRun(store, "closing");
    const pending = store.logBatch(runId, { metrics: [metric("late", 1)], params: [], tags: [] });
    await store.close();
    await pending;
    const again = await open();
    expect((await again.getMetricHistory(runId, "late", {})).metrics).toHaveLength(1);
  });
});
