/**
 * The registered-model and model-version searches on MongoDB: one `find` per page, filtered, sorted and keyset-paged
 * by the server (search-query.ts), plus the reads that make the page whole in a constant number of queries —
 * registered models: the latest version per stage (two queries, registry-reads.ts wholeModels); model versions: their
 * models' names and aliases (one). Versions carry their model's name (kept by renames), so they filter and sort by
 * it in the one query. Prompts are left out by `tags.mlflow.prompt.is_prompt != 'true'`.
 */
import type { Document } from "mongodb";
import { IS_PROMPT_TAG, type RegisteredModelClause, type RegisteredModelOrderTerm } from "../../domain/filter/registered-model-search.js";
import type { ModelVersionClause, ModelVersionOrderTerm } from "../../domain/filter/model-version-search.js";
import type { SearchStore } from "../types.js";
import type { Collections } from "./connection.js";
import { keyPath } from "./key-fields.js";
import type { RegistryReads } from "./registry-reads.js";
import type { LiveVersionDoc } from "./registry-mapping.js";
import { scopeFilter } from "./scope-filter.js";
import { type SortColumn, allOf, fieldClause, findPage } from "./search-query.js";

const MODEL_FIELD: Record<RegisteredModelOrderTerm["key"], string> = { name: "name", last_updated_timestamp: "last_updated_timestamp" };
const VERSION_FIELD: Record<ModelVersionOrderTerm["key"] | "run_id" | "source_path", string> = {
  name: "name",
  version_number: "version",
  creation_timestamp: "creation_timestamp",
  last_updated_timestamp: "last_updated_timestamp",
  run_id: "run_id",
  source_path: "source",
};
const NOT_PROMPT: Document = { [keyPath("tags", IS_PROMPT_TAG)]: { $ne: "true" } };

function modelClause(c: RegisteredModelClause): Document {
  return fieldClause(c.type === "tag" ? keyPath("tags", c.key) : MODEL_FIELD.name, c);
}

function versionClause(c: ModelVersionClause): Document {
  if (c.type === "tag") return fieldClause(keyPath("tags", c.key), c);
  const test = fieldClause(VERSION_FIELD[c.key], c);
  // A version without a source run (run_id "") has no run id for any comparison to hold on, IN and NOT IN included.
  return c.key === "run_id" ? allOf([{ run_id: { $ne: "" } }, test]) : test;
}

type RegistrySearch = Pick<SearchStore, "searchRegisteredModels" | "searchModelVersions" | "modelVersionsOfRuns">;

export function createRegistrySearch(c: Collections, reads: RegistryReads): RegistrySearch {
  return {
    async searchRegisteredModels(query, page) {
      const readable = scopeFilter("name", query.readable);
      const filter = allOf([...query.filter.clauses.map(modelClause), ...(query.filter.prompts ? [] : [NOT_PROMPT]), ...(readable ? [readable] : [])]);
      const columns: SortColumn[] = query.order.map((t) => ({ field: MODEL_FIELD[t.key], descending: !t.ascending }));
      const { docs, next } = await findPage(c.registeredModels, filter, columns, page);
      const items = await reads.wholeModels(docs);
      return next ? { items, next } : { items };
    },

    async searchModelVersions(query, page) {
      const readable = scopeFilter("name", query.readable);
      const filter = allOf([
        { deleted: false },
        ...query.filter.clauses.map(versionClause),
        ...(query.filter.prompts ? [] : [NOT_PROMPT]),
        ...(readable ? [readable] : []),
      ]);
      const columns: SortColumn[] = query.order.map((t) => ({ field: VERSION_FIELD[t.key], descending: !t.ascending }));
      const { docs, next } = await findPage(c.modelVersions, filter, columns, page);
      const items = await reads.withOwners(docs as LiveVersionDoc[]);
      return next ? { items, next } : { items };
    },

    // Index run_id; then the versions' models in one more query.
    modelVersionsOfRuns: (runIds, readable) =>
      runIds.length === 0 ? Promise.resolve([]) : reads.versions({ run_id: { $in: [...runIds] }, ...scopeFilter("name", readable) }),
  };
}
