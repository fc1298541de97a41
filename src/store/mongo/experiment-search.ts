/** The experiment search on MongoDB: one `find` per page, filtered, sorted and keyset-paged by the server (search-query.ts). */
import type { Document } from "mongodb";
import type { ExperimentClause, ExperimentOrderTerm } from "../../domain/filter/experiment-search.js";
import type { SearchStore } from "../types.js";
import type { Collections } from "./connection.js";
import { keyPath } from "./key-fields.js";
import { experimentFromDoc } from "./mapping.js";
import { scopeFilter } from "./scope-filter.js";
import { type SortColumn, allOf, fieldClause, findPage } from "./search-query.js";

/** experiment_id sorts by `num`, the id as a number. */
const FIELD: Record<ExperimentOrderTerm["key"], string> = {
  name: "name",
  experiment_id: "num",
  creation_time: "creation_time",
  last_update_time: "last_update_time",
};
const STAGES = { ACTIVE_ONLY: ["active"], DELETED_ONLY: ["deleted"], ALL: ["active", "deleted"] } as const;

const clauseFilter = (c: ExperimentClause): Document => fieldClause(c.type === "tag" ? keyPath("tags", c.key) : FIELD[c.key], c);

export function createExperimentSearch(c: Collections): Pick<SearchStore, "searchExperiments"> {
  return {
    async searchExperiments(query, page) {
      const readable = scopeFilter("_id", query.readable);
      const filter = allOf([{ lifecycle_stage: { $in: [...STAGES[query.viewType]] } }, ...query.filter.map(clauseFilter), ...(readable ? [readable] : [])]);
      const columns: SortColumn[] = query.order.map((t) => ({ field: FIELD[t.key], descending: !t.ascending }));
      const { docs, next } = await findPage(c.experiments, filter, columns, page);
      const items = docs.map(experimentFromDoc);
      return next ? { items, next } : { items };
    },
  };
}
