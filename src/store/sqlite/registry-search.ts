/**
 * The registered-model and model-version searches on SQLite, filtered, ordered and keyset-paged in SQL (the
 * registered_models_by_last_updated and model_versions_by_* indexes serve the orders), and the versions of a set of
 * runs for leaderboards. Rows become whole entities through registry-reads.ts.
 */
import type { Database } from "better-sqlite3";
import { IS_PROMPT_TAG, type RegisteredModelClause } from "../../domain/filter/registered-model-search.js";
import type { ModelVersionClause } from "../../domain/filter/model-version-search.js";
import type { SearchStore, SearchPage } from "../types.js";
import { type SqlFragment, clauseTest, keyValueTest } from "./filter-to-sql.js";
import { type OrderColumn, createStatementCache, readKeysetPage } from "./keyset.js";
import { type ModelVersionRow, type RegisteredModelRow, VERSIONS_FROM, VERSION_COLUMNS, type RegistryReads } from "./registry-reads.js";
import { scopeToSql } from "./scope-to-sql.js";
import type { IdScope } from "../../domain/permission.js";
import type { Synchronous } from "./synchronous.js";

type RegistrySearch = Pick<Synchronous<SearchStore>, "searchRegisteredModels" | "searchModelVersions" | "modelVersionsOfRuns">;

const MODEL_COLUMN = { name: "r.name", last_updated_timestamp: "r.last_updated_time" } as const;
const VERSION_COLUMN = {
  name: "r.name",
  version_number: "v.version",
  creation_timestamp: "v.creation_time",
  last_updated_timestamp: "v.last_updated_time",
  run_id: "v.run_id",
  source_path: "v.source",
} as const;

const notPrompt = (table: string, owner: string): SqlFragment => ({
  sql: `NOT EXISTS (SELECT 1 FROM ${table} x WHERE ${owner} AND x.key = ? AND x.value = 'true')`,
  params: [IS_PROMPT_TAG],
});

function modelClause(c: RegisteredModelClause): SqlFragment {
  return c.type === "tag" ? keyValueTest("registered_model_tags", "x.model_key = r.model_key", c) : clauseTest(MODEL_COLUMN.name, c);
}

function versionClause(c: ModelVersionClause): SqlFragment {
  if (c.type === "tag") return keyValueTest("model_version_tags", "x.model_key = v.model_key AND x.version = v.version", c);
  const test = clauseTest(VERSION_COLUMN[c.key], c);
  // A version without a source run (run_id '') has no run id for any comparison to hold on, IN and NOT IN included.
  return c.key === "run_id" ? { sql: `v.run_id != '' AND ${test.sql}`, params: test.params } : test;
}

export function createRegistrySearch(db: Database, reads: RegistryReads): RegistrySearch {
  const prepare = createStatementCache(db);

  const searchModels = db.transaction((query: Parameters<RegistrySearch["searchRegisteredModels"]>[0], page: Parameters<RegistrySearch["searchRegisteredModels"]>[1]) => {
    const where = query.filter.clauses.map(modelClause);
    if (!query.filter.prompts) where.push(notPrompt("registered_model_tags", "x.model_key = r.model_key"));
    const readable = scopeToSql("r.name", query.readable);
    if (readable) where.push(readable);
    const order: OrderColumn[] = query.order.map((t) => ({ sql: MODEL_COLUMN[t.key], params: [], descending: !t.ascending }));
    const rows = readKeysetPage<RegisteredModelRow>(
      prepare,
      { select: "r.model_key, r.name, r.creation_time, r.last_updated_time, r.user_id, r.description", from: "registered_models r", where, order },
      page,
    );
    return { ...rows, items: rows.items.map(reads.model) };
  });

  const searchVersions = db.transaction((query: Parameters<RegistrySearch["searchModelVersions"]>[0], page: Parameters<RegistrySearch["searchModelVersions"]>[1]) => {
    const where = query.filter.clauses.map(versionClause);
    if (!query.filter.prompts) where.push(notPrompt("model_version_tags", "x.model_key = v.model_key AND x.version = v.version"));
    const readable = scopeToSql("r.name", query.readable);
    if (readable) where.push(readable);
    const order: OrderColumn[] = query.order.map((t) => ({ sql: VERSION_COLUMN[t.key], params: [], descending: !t.ascending }));
    const rows = readKeysetPage<ModelVersionRow>(prepare, { select: VERSION_COLUMNS, from: VERSIONS_FROM, where, order }, page);
    return { ...rows, items: rows.items.map(reads.version) };
  });

  // model_versions_by_run serves it.
  const selectOfRuns = db.prepare<[string], ModelVersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM ${VERSIONS_FROM} WHERE v.run_id IN (SELECT value FROM json_each(?))`,
  );
  const ofRuns = db.transaction((runIds: string[], readable?: IdScope) => {
    const scope = scopeToSql("r.name", readable);
    const rows = scope
      ? (prepare(`SELECT ${VERSION_COLUMNS} FROM ${VERSIONS_FROM} WHERE v.run_id IN (SELECT value FROM json_each(?)) AND ${scope.sql}`).all(JSON.stringify(runIds), ...scope.params) as ModelVersionRow[])
      : selectOfRuns.all(JSON.stringify(runIds));
    return rows.map(reads.version);
  });

  return {
    searchRegisteredModels: (query, page) => searchModels.deferred(query, page) as SearchPage<ReturnType<RegistryReads["model"]>>,
    searchModelVersions: (query, page) => searchVersions.deferred(query, page) as SearchPage<ReturnType<RegistryReads["version"]>>,
    modelVersionsOfRuns: (runIds, readable) => ofRuns.deferred(runIds, readable),
  };
}
