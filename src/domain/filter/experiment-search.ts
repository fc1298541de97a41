/**
 * MLflow's experiment filter and order (reference/mlflow-rest-api.md §6): attributes `name` (= != LIKE ILIKE),
 * `creation_time` and `last_update_time` (numeric comparators), `tags.<key>` (= != LIKE ILIKE IS NULL IS NOT NULL);
 * order by name, experiment_id, creation_time, last_update_time — default `creation_time DESC`, tie-break
 * `experiment_id DESC`. Experiments are few: stores list them and this module filters and sorts in memory.
 */
import type { Experiment } from "../entities.js";
import { invalidParameter } from "../errors.js";
import type { NullComparator, NumericComparator, StringComparator } from "./ast.js";
import { holds } from "./holds.js";
import { type Comparison, type FilterGrammar, type ValueToken, numberValue, parseFilter, readOrderByEntry } from "./read-filter.js";
import { compareCodePoints } from "./run-order.js";

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

const EXPERIMENT_GRAMMAR: FilterGrammar<ExperimentClause> = {
  syntax: {
    invalidClause: (fragment) => invalidParameter(`Invalid clause(s) in filter string: '${fragment}'`),
    nullTests: true,
    unknownComparator: (raw) => invalidParameter(`Invalid comparison clause. Expected comparison found '${raw || "end of filter"}'`),
    strictValues: false,
    readAllFirst: false,
  },
  clause: experimentClause,
};

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
  return terms.length > 0 ? terms : [{ key: "creation_time", ascending: false }];
}

export function matchesExperiment(e: Experiment, filter: ExperimentClause[]): boolean {
  return filter.every((c) => {
    if (c.type === "tag") {
      const v = e.tags.find((t) => t.key === c.key)?.value;
      if (c.comparator === "IS NULL") return v === undefined;
      if (c.comparator === "IS NOT NULL") return v !== undefined;
      return v !== undefined && holds(v, c.comparator, (c as { value: string }).value);
    }
    const v = c.key === "name" ? e.name : c.key === "creation_time" ? e.creationTime : e.lastUpdateTime;
    return holds(v, c.comparator, c.value);
  });
}

export function compareExperiments(a: Experiment, b: Experiment, order: ExperimentOrderTerm[]): number {
  for (const t of order) {
    let c: number;
    if (t.key === "name") c = compareCodePoints(a.name, b.name);
    else if (t.key === "experiment_id") c = Number(a.experimentId) - Number(b.experimentId);
    else if (t.key === "creation_time") c = a.creationTime - b.creationTime;
    else c = a.lastUpdateTime - b.lastUpdateTime;
    if (c !== 0) return t.ascending ? c : -c;
  }
  return Number(b.experimentId) - Number(a.experimentId);
}

/** Offset page tokens as MLflow's (`{"offset": N}`), base64url; anything else → "Invalid page token". */
export function decodeExperimentPageToken(token: string | undefined): number {
  if (!token) return 0;
  try {
    const body = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { offset?: unknown };
    if (Number.isSafeInteger(body.offset) && (body.offset as number) >= 0 && encodeExperimentPageToken(body.offset as number) === token) return body.offset as number;
  } catch {
    // fall through
  }
  throw invalidParameter("Invalid page token");
}

export const encodeExperimentPageToken = (offset: number) => Buffer.from(JSON.stringify({ offset }), "utf8").toString("base64url");
