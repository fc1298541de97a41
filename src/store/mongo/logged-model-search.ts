/**
 * The logged-model search on MongoDB: one `find` on `logged_models` per page, filtered, sorted and keyset-paged by
 * the server (search-query.ts), then the page whole in two more queries (linked metrics, registrations). Metric
 * clauses and orders read the linked-metric summaries each model document carries (logged-model-metrics.ts):
 * `> v` is "the highest value > v", `< v` "the lowest < v", `!= v` "a NaN, or a lowest or highest other than v" — the
 * same "some linked point compares true" MLflow answers. `= v` cannot be answered from a summary, so it is one more
 * query: the ids of the models with such a point (`distinct` on logged_model_metrics).
 */
import type { Document, Filter } from "mongodb";
import type { LoggedModelClause, LoggedModelDataset, LoggedModelOrderTerm } from "../../domain/filter/logged-model-search.js";
import type { SearchStore } from "../types.js";
import type { Collections } from "./connection.js";
import { encodeFieldKey, keyPath } from "./key-fields.js";
import type { ModelMetricDoc } from "./mapping.js";
import { metricSortKey } from "./logged-model-metrics.js";
import { wholeLoggedModels } from "./logged-model-store.js";
import { type SortColumn, allOf, fieldClause, findPage } from "./search-query.js";
import { withinScope } from "../../domain/permission.js";
import { valueFromSortKey } from "./value-encoding.js";

const FIELD = {
  name: "name",
  model_id: "_id",
  model_type: "model_type",
  status: "status",
  source_run_id: "source_run_id",
  creation_timestamp: "creation_timestamp_ms",
  last_updated_timestamp: "last_updated_timestamp_ms",
} as const;
/** Optional attributes sort after their presence flag (models without them last). */
const PRESENCE: Partial<Record<keyof typeof FIELD, string>> = { model_type: "has_model_type", source_run_id: "has_source_run_id" };

/** The path of a key's summary in one scope: every dataset, a dataset name, or a name and digest. */
function scopePath(key: string, dataset?: { name: string; digest?: string | undefined }): string {
  const base = `metrics.${encodeFieldKey(key)}`;
  if (dataset === undefined) return `${base}.a`;
  if (dataset.digest === undefined) return `${base}.n.${encodeFieldKey(dataset.name)}`;
  return `${base}.d.${encodeFieldKey(dataset.name)}.${encodeFieldKey(dataset.digest)}`;
}

const scopesOf = (key: string, datasets: readonly LoggedModelDataset[]) =>
  datasets.length === 0 ? [scopePath(key)] : datasets.map((d) => scopePath(key, d));

const anyOf = (parts: Document[]) => (parts.length === 1 ? parts[0]! : { $or: parts });

/** Some linked point of the key in one of the scopes compares true (for every comparator but `=`). */
function metricFilter(c: Extract<LoggedModelClause, { type: "metric" }>, datasets: readonly LoggedModelDataset[]): Document {
  const v = metricSortKey(c.value);
  return anyOf(
    scopesOf(c.key, datasets).map((s): Document => {
      switch (c.comparator) {
        case ">":
          return { [`${s}.hi`]: { $gt: v } };
        case ">=":
          return { [`${s}.hi`]: { $gte: v } };
        case "<":
          return { [`${s}.lo`]: { $lt: v } };
        case "<=":
          return { [`${s}.lo`]: { $lte: v } };
        default: // "!="
          return { $or: [{ [`${s}.nan`]: true }, { [`${s}.lo`]: { $exists: true, $ne: v } }, { [`${s}.hi`]: { $exists: true, $ne: v } }] };
      }
    }),
  );
}

/** The linked points on one of the datasets (a digest narrows its name). */
const onDatasets = (datasets: readonly LoggedModelDataset[]): Document[] =>
  datasets.length === 0
    ? []
    : [anyOf(datasets.map((d) => (d.digest === undefined ? { dataset_name: d.name } : { dataset_name: d.name, dataset_digest: d.digest })))];

function orderColumn(t: LoggedModelOrderTerm): SortColumn {
  if (t.type === "attribute") {
    const presence = PRESENCE[t.key];
    return { field: FIELD[t.key], descending: !t.ascending, ...(presence ? { presence } : {}) };
  }
  const scope = scopePath(t.key, t.datasetName === undefined ? undefined : { name: t.datasetName, digest: t.datasetDigest });
  return {
    field: `${scope}.v`,
    presence: `${scope}.p`,
    descending: !t.ascending,
    toStored: (value) => metricSortKey(value as number),
    fromStored: (stored) => valueFromSortKey(stored as string),
  };
}

export function createLoggedModelSearch(c: Collections): Pick<SearchStore, "searchLoggedModels"> {
  return {
    async searchLoggedModels(query, page) {
      // The caller's scope as a shorter list of experiments (no condition added).
      const parts: Document[] = [{ experiment_id: { $in: [...withinScope(query.experimentIds, query.readable)] }, deleted: false }];
      for (const clause of query.filter) {
        if (clause.type === "metric" && clause.comparator === "=") {
          // One query per `=` clause: the models with a point of that value (-0 stored as 0 matches 0).
          const filter = allOf([{ key: clause.key, v: clause.value }, ...onDatasets(query.datasets)]);
          const ids = await c.modelMetrics.distinct("model_id", filter as Filter<ModelMetricDoc>);
          parts.push({ _id: { $in: ids.filter((id): id is string => typeof id === "string") } });
        } else if (clause.type === "metric") parts.push(metricFilter(clause, query.datasets));
        else if (clause.type === "attribute") parts.push(fieldClause(FIELD[clause.key], clause));
        else parts.push(fieldClause(keyPath(clause.type === "param" ? "params" : "tags", clause.key), clause));
      }
      if (query.datasets.length > 0 && !query.filter.some((cl) => cl.type === "metric")) {
        parts.push(anyOf(query.datasets.map((d) => ({ [d.digest === undefined ? `datasets.n.${encodeFieldKey(d.name)}` : `datasets.d.${encodeFieldKey(d.name)}.${encodeFieldKey(d.digest)}`]: 1 }))));
      }
      const { docs, next } = await findPage(c.loggedModels, allOf(parts), query.order.map(orderColumn), page);
      const items = await wholeLoggedModels(c, docs);
      return next ? { items, next } : { items };
    },
  };
}
