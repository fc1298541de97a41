/** The experiment search on SQLite: filtered, ordered and keyset-paged in SQL; the page's tags in one more statement. */
import type { Database } from "better-sqlite3";
import type { Experiment, Tag } from "../../domain/entities.js";
import type { ExperimentClause, ExperimentOrderTerm } from "../../domain/filter/experiment-search.js";
import type { SearchStore } from "../types.js";
import { type SqlFragment, clauseTest, keyValueTest } from "./filter-to-sql.js";
import { type OrderColumn, createStatementCache, readKeysetPage } from "./keyset.js";
import { type ExperimentRow, rowToExperiment } from "./mapping.js";
import { scopeToSql } from "./scope-to-sql.js";
import type { Synchronous } from "./synchronous.js";

const COLUMN: Record<ExperimentOrderTerm["key"], string> = {
  name: "e.name",
  experiment_id: "e.experiment_id",
  creation_time: "e.creation_time",
  last_update_time: "e.last_update_time",
};

const STAGES = { ACTIVE_ONLY: ["active"], DELETED_ONLY: ["deleted"], ALL: ["active", "deleted"] } as const;

function clauseToSql(c: ExperimentClause): SqlFragment {
  if (c.type === "tag") return keyValueTest("experiment_tags", "x.experiment_id = e.experiment_id", c);
  return clauseTest(COLUMN[c.key], c);
}

export function createExperimentSearch(db: Database): Pick<Synchronous<SearchStore>, "searchExperiments"> {
  const prepare = createStatementCache(db);
  const selectTags = db.prepare<[string], Tag & { experiment_id: number }>(
    "SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id IN (SELECT value FROM json_each(?)) ORDER BY key",
  );

  const search = db.transaction((query: Parameters<Synchronous<SearchStore>["searchExperiments"]>[0], page: Parameters<Synchronous<SearchStore>["searchExperiments"]>[1]) => {
    const stages = STAGES[query.viewType];
    const where: SqlFragment[] = [
      { sql: `e.lifecycle_stage IN (${stages.map(() => "?").join(", ")})`, params: [...stages] },
      ...query.filter.map(clauseToSql),
    ];
    const readable = scopeToSql("e.experiment_id", query.readable, true);
    if (readable) where.push(readable);
    const order: OrderColumn[] = query.order.map((t) => ({ sql: COLUMN[t.key], params: [], descending: !t.ascending }));
    const { items, next } = readKeysetPage<ExperimentRow>(
      prepare,
      { select: "e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time, e.last_update_time", from: "experiments e", where, order },
      page,
    );
    const tags = new Map<number, Tag[]>();
    for (const t of selectTags.all(JSON.stringify(items.map((r) => r.experiment_id)))) {
      const list = tags.get(t.experiment_id) ?? [];
      list.push({ key: t.key, value: t.value });
      tags.set(t.experiment_id, list);
    }
    const experiments: Experiment[] = items.map((r) => rowToExperiment(r, tags.get(r.experiment_id) ?? []));
    return next ? { items: experiments, next } : { items: experiments };
  });

  return { searchExperiments: (query, page) => search.deferred(query, page) };
}
