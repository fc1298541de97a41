/**
 * MLflow's experiment filter and order (reference/mlflow-rest-api.md §6): attributes `name` (= != LIKE ILIKE),
 * `creation_time` and `last_update_time` (numeric comparators), `tags.<key>` (= != LIKE ILIKE IS NULL IS NOT NULL);
 * order by name, experiment_id, creation_time, last_update_time — default `creation_time DESC`, tie-break
 * `experiment_id DESC` (appended, so every order is total). Stores filter, order and page in the database.
 */
import { invalidParameter } from "../errors.js";
import type { NullComparator, NumericComparator, StringComparator } from "./ast.js";
import type { KeysetTerm } from "./keyset-token.js";
import { RUN_SYNTAX } from "./parse-filter.js";
import { type Comparison, type FilterGrammar, type ValueToken, numberValue, parseFilter, readOrderByEntry } from "./read-filter.js";

export type ExperimentClause =
  | { type: "attribute"; key: "name"; comparator: StringComparator; value: string }
  | { type: "attribute"; key: "creation_time" | "last_update_time"; comparator: NumericComparator; value: number }
  | { type: "tag"; key: string; comparator: StringComparator; value: string }
  | { type: "tag"; key: string; comparator: NullComparator };

export interface ExperimentOrderTerm {
  key: "name" | "experiment_id" | "creation_time" | "last_update_time";
  ascending: boolean;
}

const NUMERIC = ["=", "!=", ">", ">=", "<", "<="];
const STRING = ["=", "!=", "LIKE", "ILIKE"];
const ORDER_KEYS = ["name", "experiment_id", "creation_time", "last_update_time"] as const;
const TAG_HEADS = ["tag", "tags"];
const ATTRIBUTE_HEADS = ["attribute", "attributes", "attr"];

const invalidComparator = (comparator: string, allowed: string[]) =>
  invalidParameter(`Invalid comparator '${comparator}' not one of '{${allowed.map((c) => `'${c}'`).join(", ")}}'`);

function stringValue(v: ValueToken | undefined, what: "tag" | "attributes"): string {
  if (v?.kind === "string") return v.value;
  throw invalidParameter(`Expected a quoted string value for ${what} (e.g. 'my-value'). Got value ${v?.raw || "nothing"}`);
}

function experimentClause({ parts, comparator, value }: Comparison): ExperimentClause {
  let type: "attribute" | "tag" = "attribute";
  let key = parts[0]!.text;
  if (parts.length > 1) {
    const head = parts[0]!.text;
    if (TAG_HEADS.includes(head)) type = "tag";
    else if (!ATTRIBUTE_HEADS.includes(head)) throw invalidParameter(`Invalid entity type '${head}'. Valid values are ['tag', 'attribute']`);
    key = parts.length === 2 ? parts[1]!.text : parts.slice(1).map((p) => p.text).join(".");
  }
  if (type === "tag") {
    if (comparator === "IS NULL" || comparator === "IS NOT NULL") return { type, key, comparator };
    if (!STRING.includes(comparator)) throw invalidComparator(comparator, STRING);
    return { type, key, comparator: comparator as StringComparator, value: stringValue(value, "tag") };
  }
  if (key === "name") {
    if (!STRING.includes(comparator)) throw invalidComparator(comparator, STRING);
    return { type, key, comparator: comparator as StringComparator, value: stringValue(value, "attributes") };
  }
  if (key === "creation_time" || key === "last_update_time") {
    if (!NUMERIC.includes(comparator)) throw invalidComparator(comparator, NUMERIC);
    return { type, key, comparator: comparator as NumericComparator, value: numberValue(value, `Expected numeric value type for numeric attribute: ${key}. Found`) };
  }
  throw invalidParameter(`Invalid attribute key '${key}' specified. Valid keys are '['name', 'creation_time', 'last_update_time']'`);
}

const EXPERIMENT_GRAMMAR: FilterGrammar<ExperimentClause> = { syntax: RUN_SYNTAX, clause: experimentClause };

export function parseExperimentFilter(filter: string | undefined): ExperimentClause[] {
  return parseFilter(filter, EXPERIMENT_GRAMMAR);
}

export function parseExperimentOrderBy(entries: readonly string[]): ExperimentOrderTerm[] {
  const terms: ExperimentOrderTerm[] = [];
  for (const entry of entries) {
    const { parts, ascending } = readOrderByEntry(entry);
    if (parts.length > 2 || (parts.length === 2 && !ATTRIBUTE_HEADS.includes(parts[0]!.text))) {
      throw invalidParameter(`Invalid order_by clause '${entry}'. Could not be parsed.`);
    }
    const key = parts[parts.length - 1]!.text;
    if (!(ORDER_KEYS as readonly string[]).includes(key)) throw invalidParameter(`Invalid order by key '${key}' specified. Valid keys are ${JSON.stringify(ORDER_KEYS)}`);
    if (terms.some((t) => t.key === key)) throw invalidParameter(`\`order_by\` contains duplicate fields: ['${entry}']`);
    terms.push({ key: key as ExperimentOrderTerm["key"], ascending });
  }
  if (terms.length === 0) terms.push({ key: "creation_time", ascending: false });
  if (!terms.some((t) => t.key === "experiment_id")) terms.push({ key: "experiment_id", ascending: false });
  return terms;
}

/** What the sort key of an experiment search holds, term by term (experiment ids sort as numbers). */
export const experimentKeysetTerms = (order: readonly ExperimentOrderTerm[]): KeysetTerm[] =>
  order.map((t) => ({ kind: t.key === "name" ? "string" : "number" }));

