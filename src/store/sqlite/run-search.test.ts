/** SQLite run search: the query plans of the benchmark search (reference: issue "Search service", Performance). */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseOrderBy, parseRunFilter } from "../../domain/filter/index.js";
import type { RunSearchQuery, Store } from "../types.js";
import { createRunSearch } from "./run-search.js";
import { createSqliteStore } from "./sqlite-store.js";

let dir: string;
let store: Store;
let db: Database.Database;
let experimentId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "logbook-search-plan-"));
  store = createSqliteStore({ path: join(dir, "logbook.db") });
  await store.init();
  experimentId = await store.createExperiment({ name: "bench", tags: [], now: 1 });
  for (let i = 0; i < 300; i++) {
    const runId = `run${String(i).padStart(4, "0")}`;
    await store.createRun({ runId, experimentId, userId: "u", runName: runId, startTime: 1000 + (i % 7), tags: [] });
    await store.logBatch(runId, {
      params: [{ key: "symbol", value: i % 3 === 0 ? "X" : "Y" }],
      tags: [{ key: "symbol", value: "X" }],
      metrics: [
        { key: "r2", value: (i % 10) / 10, timestamp: 1, step: 0 },
        { key: "sharpe_ratio", value: i % 11 === 0 ? Number.NaN : (i % 13) / 4, timestamp: 1, step: 0 },
      ],
    });
  }
  db = new Database(join(dir, "logbook.db"), { readonly: true });
});

afterAll(async () => {
  db?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

function planOf(query: RunSearchQuery, pageToken?: string): string[] {
  const search = createRunSearch(db, () => {
    throw new Error("not needed");
  });
  return search.explain(query, { maxResults: 10, pageToken }).map(({ sql, params }) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join("\n"),
  );
}

function expectIndexed(plan: string) {
  // Every table access is a SEARCH through an index (or a covering index scan), never a bare table scan or a full sort.
  for (const line of plan.split("\n")) {
    if (/^SCAN /.test(line)) expect(line).toMatch(/USING (COVERING )?INDEX/);
  }
  expect(plan).not.toContain("USE TEMP B-TREE FOR ORDER BY");
}

describe("SQLite run search plans", () => {
  const query = (): RunSearchQuery => ({
    experimentIds: [experimentId],
    filter: parseRunFilter("params.symbol = 'X' and metrics.r2 > 0.5"),
    order: parseOrderBy(["metrics.sharpe_ratio DESC"]),
    viewType: "ACTIVE_ONLY",
  });

  it("serves the benchmark's first page from the latest_metrics index", () => {
    const [first] = planOf(query());
    expect(first).toContain("latest_metrics_by_key_value");
    expectIndexed(first!);
  });

  it("serves page 10 by keyset from the same index", async () => {
    let pageToken: string | undefined;
    const seen: string[] = [];
    for (let page = 1; page < 10; page++) {
      const result = await store.searchRuns(query(), { maxResults: 3, pageToken });
      seen.push(...result.runs.map((r) => r.info.runId));
      pageToken = result.nextPageToken;
      expect(pageToken).not.toBe("");
    }
    expect(new Set(seen).size).toBe(seen.length);
    const plans = planOf(query(), pageToken);
    expect(plans[0]).toContain("latest_metrics_by_key_value (key=? AND is_nan=? AND value<?)");
    for (const plan of plans) expectIndexed(plan);
  });

  it("serves the default order from runs_by_experiment", () => {
    const plans = planOf({ ...query(), order: [] });
    expect(plans[0]).toContain("runs_by_experiment");
    for (const plan of plans) expectIndexed(plan);
  });

});
