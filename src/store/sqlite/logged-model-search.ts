/**
 * The logged-model search on SQLite, filtered, ordered and keyset-paged in SQL. Linked metrics are the model's links
 * (logged_model_metrics, keyed by model id first): a metric clause is an EXISTS over them, a metric
 * order term the model's latest point of the key (on the term's dataset) as a correlated subquery.
 */
import type { Database } from "better-sqlite3";
import type { NumericComparator } from "../../domain/filter/ast.js";
import type { LoggedModelClause, LoggedModelDataset, LoggedModelOrderTerm } from "../../domain/filter/logged-model-search.js";
import type { SearchStore } from "../types.js";
import { type SqlFragment, clauseTest, keyValueTest, numericTest } from "./filter-to-sql.js";
import { type OrderColumn, createStatementCache, readKeysetPage } from "./keyset.js";
import { createLoggedModelReader, type LoggedModelRow, MODEL_COLUMNS } from "./logged-model-store.js";
import { parseExperimentId } from "./mapping.js";
import { withinScope } from "../../domain/permission.js";
import type { Synchronous } from "./synchronous.js";

/**
 * `status` sorts by its rank (PENDING, READY, UPLOAD_FAILED), which is also the column's alphabetical order
 * (a test holds LOGGED_MODEL_STATUSES to that).
 */
const COLUMN = {
  name: "m.name",
  model_id: "m.model_id",
  model_type: "m.model_type",
  status: "m.status",
  source_run_id: "m.source_run_id",
  creation_timestamp: "m.creation_time",
  last_updated_timestamp: "m.last_updated_time",
} as const;
const OPTIONAL = new Set(["model_type", "source_run_id"]);
const KV_TABLE = { param: "logged_model_params", tag: "logged_model_tags" } as const;

/** The points of `h` on one of the datasets (a digest narrows its name). */
function onDatasets(datasets: readonly { name?: string; digest?: string | undefined }[]): SqlFragment {
  const parts = datasets.map((d) => (d.digest === undefined ? "h.dataset_name = ?" : "(h.dataset_name = ? AND h.dataset_digest = ?)"));
  return { sql: `(${parts.join(" OR ")})`, params: datasets.flatMap((d) => (d.digest === undefined ? [d.name] : [d.name, d.digest])) };
}

function clauseToSql(c: LoggedModelClause, datasets: readonly LoggedModelDataset[]): SqlFragment {
  if (c.type === "param" || c.type === "tag") return keyValueTest(KV_TABLE[c.type], "x.model_id = m.model_id", c);
  if (c.type === "attribute") return clauseTest(COLUMN[c.key], c);
  // Some linked point of the key compares true; NaN only `!=`.
  const value = numericTest("h.value", c.comparator as NumericComparator, (c as { value: number }).value);
  const test = c.comparator === "!=" ? `(h.is_nan = 1 OR ${value.sql})` : `h.is_nan = 0 AND ${value.sql}`;
  const scope = datasets.length > 0 ? onDatasets(datasets) : { sql: "1", params: [] };
  return {
    sql: `EXISTS (SELECT 1 FROM logged_model_metrics h WHERE h.model_id = m.model_id AND h.key = ? AND ${scope.sql} AND ${test})`,
    params: [c.key, ...scope.params, ...value.params],
  };
}

function orderColumn(t: LoggedModelOrderTerm): OrderColumn {
  if (t.type === "attribute") return { sql: COLUMN[t.key], params: [], descending: !t.ascending, nullable: OPTIONAL.has(t.key) };
  const scope = t.datasetName === undefined ? { sql: "1", params: [] } : onDatasets([{ name: t.datasetName, digest: t.datasetDigest }]);
  // The latest point: highest timestamp, then step, then the smallest run id, then the smallest value; NaN is no value.
  return {
    sql: `(SELECT CASE WHEN h.is_nan = 0 THEN h.value END FROM logged_model_metrics h
       WHERE h.model_id = m.model_id AND h.key = ? AND ${scope.sql}
       ORDER BY h.timestamp DESC, h.step DESC, h.run_id, h.is_nan, h.value, h.is_negative_zero LIMIT 1)`,
    params: [t.key, ...scope.params],
    descending: !t.ascending,
    nullable: true,
  };
}

export function createLoggedModelSearch(db: Database): Pick<Synchronous<SearchStore>, "searchLoggedModels"> {
  const prepare = createStatementCache(db);
  const whole = createLoggedModelReader(db);

  const search = db.transaction((query: Parameters<Synchronous<SearchStore>["searchLoggedModels"]>[0], page: Parameters<Synchronous<SearchStore>["searchLoggedModels"]>[1]) => {
    // The caller's scope as a shorter list of experiments (no condition added).
    const experimentIds = withinScope(query.experimentIds, query.readable)
      .map(parseExperimentId)
      .filter((id) => id !== undefined);
    const where: SqlFragment[] = [
      { sql: "m.experiment_id IN (SELECT value FROM json_each(?)) AND m.lifecycle_stage = 'active'", params: [JSON.stringify(experimentIds)] },
      ...query.filter.map((c) => clauseToSql(c, query.datasets)),
    ];
    if (query.datasets.length > 0 && !query.filter.some((c) => c.type === "metric")) {
      const scope = onDatasets(query.datasets);
      where.push({ sql: `EXISTS (SELECT 1 FROM logged_model_metrics h WHERE h.model_id = m.model_id AND ${scope.sql})`, params: scope.params });
    }
    const rows = readKeysetPage<LoggedModelRow>(
      prepare,
      { select: MODEL_COLUMNS.replace(/(\w+)/g, "m.$1"), from: "logged_models m", where, order: query.order.map(orderColumn) },
      page,
    );
    return { ...rows, items: rows.items.map(whole) };
  });

  return { searchLoggedModels: (query, page) => search.deferred(query, page) };
}
