/**
 * MLflow's logged-model search (mlflow/utils/search_logged_model_utils.py and the SQL tracking store's
 * search_logged_models; SearchLoggedModelsUtils for the attribute set):
 * - filter: AND-ed comparisons on attributes (name, model_id, model_type, status, source_run_id — = != LIKE ILIKE IN
 *   NOT IN; creation_timestamp, last_updated_timestamp and their `_time` aliases — numeric), `metrics.<key>`
 *   (numeric: some logged point compares true, on one of the `datasets` when given), `params.<key>` and
 *   `tags.<key>` (string comparators). `datasets` without a metric clause keep models with a metric on one of them.
 * - order_by: structured `{field_name, ascending, dataset_name, dataset_digest}`, an attribute or `metrics.<key>`
 *   (the latest point — timestamp, then step — on the given dataset); missing values last in both directions; then
 *   `creation_timestamp DESC` unless ordered by it; then `model_id` for a total order.
 * - page tokens carry the search they continue (MLflow's SearchLoggedModelsPaginationToken, whose mismatch messages
 *   they keep) and the sort key of the last model returned (keyset pages; MLflow's carry an offset).
 * Stores filter, order and page in the database.
 */
import { invalidParameter } from "../errors.js";
import { invalidPageToken } from "../messages.js";
import type { NumericComparator, StringComparator } from "./ast.js";
import { type KeysetTerm, type SortKeyValues, encodeBody, sortKeyFromWire, sortKeyToWire, tokenBody } from "./keyset-token.js";
import { type Comparison, parseFilter, pyStrings, stringList, unquotedValue } from "./read-filter.js";

const STRING_ATTRIBUTES = ["name", "model_id", "model_type", "status", "source_run_id"] as const;
const NUMERIC_ATTRIBUTES = ["creation_timestamp", "last_updated_timestamp"] as const;
type StringAttribute = (typeof STRING_ATTRIBUTES)[number];
type NumericAttribute = (typeof NUMERIC_ATTRIBUTES)[number];
export type LoggedModelAttribute = StringAttribute | NumericAttribute;

const ALIASES: Record<string, LoggedModelAttribute> = { creation_time: "creation_timestamp", last_updated_time: "last_updated_timestamp" };
const VALID_ATTRIBUTES = [...STRING_ATTRIBUTES, "creation_timestamp", "creation_time", "last_updated_timestamp", "last_updated_time"];
const NUMERIC_OPS = ["<", "<=", ">", ">=", "=", "!="];
const STRING_OPS = ["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"];

type StringTest = { comparator: StringComparator; value: string } | { comparator: "IN" | "NOT IN"; values: string[] };

export type LoggedModelClause =
  | ({ type: "attribute"; key: StringAttribute } & StringTest)
  | { type: "attribute"; key: NumericAttribute; comparator: NumericComparator; value: number }
  | { type: "metric"; key: string; comparator: NumericComparator; value: number }
  | ({ type: "param" | "tag"; key: string } & StringTest);

export interface LoggedModelDataset {
  name: string;
  digest?: string;
}

export type LoggedModelOrderTerm =
  | { type: "attribute"; key: LoggedModelAttribute; ascending: boolean }
  | { type: "metric"; key: string; ascending: boolean; datasetName?: string; datasetDigest?: string };

/** What the wire's order_by entry holds. */
export interface LoggedModelOrderByInput {
  fieldName: string;
  ascending?: boolean | undefined;
  datasetName?: string | undefined;
  datasetDigest?: string | undefined;
}

const ENTITY_TYPES: Record<string, "attribute" | "metric" | "param" | "tag"> = {
  attributes: "attribute",
  attribute: "attribute",
  attr: "attribute",
  metrics: "metric",
  metric: "metric",
  params: "param",
  param: "param",
  parameters: "param",
  parameter: "param",
  tags: "tag",
  tag: "tag",
};
const PLURAL = { attribute: "attributes", metric: "metrics", param: "params", tag: "tags" } as const;

function resolve(c: Comparison): { type: "attribute" | "metric" | "param" | "tag"; key: string } {
  if (c.parts.length === 1) {
    const written = c.parts[0]!.text;
    if (!VALID_ATTRIBUTES.includes(written)) {
      throw invalidParameter(`Invalid attribute key '${written}' specified. Valid keys are '${pyStrings(VALID_ATTRIBUTES)}'`);
    }
    return { type: "attribute", key: ALIASES[written] ?? written };
  }
  const [head, ...rest] = c.parts;
  const type = ENTITY_TYPES[head!.text];
  if (type === undefined) {
    throw invalidParameter(`Invalid entity type: '${head!.text}'. Expected one of ['attributes', 'metrics', 'params', 'tags'].`);
  }
  const key = rest.length === 1 ? rest[0]!.text : rest.map((p) => p.text).join(".");
  if (type === "attribute") return resolve({ ...c, parts: [{ text: key, quote: "" }] });
  return { type, key };
}

function loggedModelClause(c: Comparison): LoggedModelClause {
  const { type, key } = resolve(c);
  const entity = `${PLURAL[type]}.${key}`;
  const numeric = type === "metric" || (NUMERIC_ATTRIBUTES as readonly string[]).includes(key);
  const ops = numeric ? NUMERIC_OPS : STRING_OPS;
  if (!ops.includes(c.comparator)) {
    throw invalidParameter(`Invalid comparison operator for ${entity}: '${c.comparator}'. Expected one of ${pyStrings(ops, "(", ")")}.`);
  }
  const v = c.value!;
  if (numeric) {
    if (v.kind !== "number" || !Number.isFinite(v.value)) {
      throw invalidParameter(`Expected numeric value type for ${type === "metric" ? "metric" : `numeric attribute: ${key}`}. Found ${v.raw}`);
    }
    return { type, key, comparator: c.comparator as NumericComparator, value: v.value } as LoggedModelClause;
  }
  if (c.comparator === "IN" || c.comparator === "NOT IN") {
    return { type, key, comparator: c.comparator, values: stringList(v as Extract<typeof v, { kind: "list" }>) } as LoggedModelClause;
  }
  if (v.kind === "word") throw unquotedValue(v.raw);
  if (v.kind !== "string") throw invalidParameter(`Expected a quoted string value for ${entity} (e.g. 'my-value'). Got value ${v.raw}`);
  return { type, key, comparator: c.comparator, value: v.value } as LoggedModelClause;
}

export function parseLoggedModelFilter(filter: string | undefined): LoggedModelClause[] {
  const invalidClause = () =>
    invalidParameter(
      `Invalid filter string: '${filter}'. Expected a list of comparisons separated by 'AND' (e.g. 'metrics.loss > 0.1 AND params.lr = 0.01').`,
    );
  return parseFilter(filter, { syntax: { invalidClause, nullTests: false, strictValues: true, readAllFirst: true }, clause: loggedModelClause });
}

/** The `datasets` of a search: each needs a name (MLflow's message otherwise). */
export function parseLoggedModelDatasets(datasets: readonly { datasetName: string; datasetDigest?: string | undefined }[]): LoggedModelDataset[] {
  return datasets.map((d) => {
    if (!d.datasetName) throw invalidParameter("`dataset_name` in the `datasets` clause must be specified.");
    return { name: d.datasetName, ...(d.datasetDigest !== undefined ? { digest: d.datasetDigest } : {}) };
  });
}

export function parseLoggedModelOrderBy(entries: readonly LoggedModelOrderByInput[]): LoggedModelOrderTerm[] {
  const terms: LoggedModelOrderTerm[] = entries.map((e): LoggedModelOrderTerm => {
    const field = e.fieldName.trim();
    if (!field) throw invalidParameter("`field_name` in the `order_by` clause must be specified.");
    if (e.datasetDigest && !e.datasetName) {
      throw invalidParameter("`dataset_digest` can only be specified if `dataset_name` is also specified.");
    }
    const ascending = e.ascending ?? true;
    const dot = field.indexOf(".");
    if (dot < 0) {
      if (!VALID_ATTRIBUTES.includes(field)) throw invalidParameter(`Invalid order by field name: ${e.fieldName}.`);
      return { type: "attribute", key: ALIASES[field] ?? (field as LoggedModelAttribute), ascending };
    }
    const [entity, key] = [field.slice(0, dot), field.slice(dot + 1).replace(/^`(.*)`$/s, "$1")];
    if (entity !== "metrics" || key === "") {
      throw invalidParameter(`Invalid order by field name: ${e.fieldName}. Only metrics are supported.`);
    }
    return {
      type: "metric",
      key,
      ascending,
      ...(e.datasetName ? { datasetName: e.datasetName } : {}),
      ...(e.datasetDigest ? { datasetDigest: e.datasetDigest } : {}),
    };
  });
  if (!terms.some((t) => t.type === "attribute" && t.key === "creation_timestamp")) {
    terms.push({ type: "attribute", key: "creation_timestamp", ascending: false });
  }
  if (!terms.some((t) => t.type === "attribute" && t.key === "model_id")) terms.push({ type: "attribute", key: "model_id", ascending: true });
  return terms;
}

/** Attributes that a model may lack (NULL in MLflow): no comparison holds for them, and they sort last. */
export const OPTIONAL_ATTRIBUTES: readonly LoggedModelAttribute[] = ["model_type", "source_run_id"];

/** What the sort key of a logged-model search holds, term by term: a missing attribute or metric is null. */
export const loggedModelKeysetTerms = (order: readonly LoggedModelOrderTerm[]): KeysetTerm[] =>
  order.map((t) =>
    t.type === "metric"
      ? { kind: "number", nullable: true }
      : { kind: (NUMERIC_ATTRIBUTES as readonly string[]).includes(t.key) ? "number" : "string", nullable: OPTIONAL_ATTRIBUTES.includes(t.key) },
  );

/** What a logged-model page token continues: the search as the client wrote it (its sort key follows). */
export interface LoggedModelSearchKey {
  experimentIds: string[];
  filter: string;
  orderBy: LoggedModelOrderByInput[];
}

const orderByWire = (o: LoggedModelOrderByInput[]) =>
  o.map((e) => ({ field_name: e.fieldName, ascending: e.ascending ?? true, dataset_name: e.datasetName ?? null, dataset_digest: e.datasetDigest ?? null }));

export function encodeLoggedModelPageToken(key: LoggedModelSearchKey, after: SortKeyValues): string {
  return encodeBody({ experiment_ids: key.experimentIds, filter_string: key.filter, order_by: orderByWire(key.orderBy), after: sortKeyToWire(after) });
}

/** The sort key of a token issued for this very search; MLflow's messages when the search differs. */
export function decodeLoggedModelPageToken(token: string, key: LoggedModelSearchKey, terms: readonly KeysetTerm[]): SortKeyValues {
  const body = tokenBody(token);
  if (!Array.isArray(body.after)) throw invalidPageToken();
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (!same(body.experiment_ids, key.experimentIds)) {
    throw invalidParameter(
      `Experiment IDs in the page token do not match the requested experiment IDs. Expected: ${JSON.stringify(key.experimentIds)}. Found: ${JSON.stringify(body.experiment_ids)}`,
    );
  }
  if (!same(body.filter_string, key.filter)) {
    throw invalidParameter(
      `Filter string in the page token does not match the requested filter string. Expected: ${key.filter}. Found: ${String(body.filter_string)}`,
    );
  }
  if (!same(body.order_by, orderByWire(key.orderBy))) {
    throw invalidParameter(
      `Order by in the page token does not match the requested order by. Expected: ${JSON.stringify(orderByWire(key.orderBy))}. Found: ${JSON.stringify(body.order_by)}`,
    );
  }
  return sortKeyFromWire(body.after, terms);
}
