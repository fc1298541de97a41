/**
 * MLflow's experiment filter and order (reference/mlflow-rest-api.md §6): attributes `name` (= != LIKE ILIKE),
 * `creation_time` and `last_update_time` (numeric comparators), `tags.<key>` (= != LIKE ILIKE IS NULL IS NOT NULL);
 * order by name, experiment_id, creation_time, last_update_time — default `creation_time DESC`, tie-break
 * `experiment_id DESC`. Experiments are few: stores list them and this module filters and sorts in memory.
 */
import type { Experiment } from "../entities.js";
import { invalidParameter } from "../errors.js";
import type { NumericComparator, StringComparator } from "./ast.js";
import { holds } from "./holds.js";
import { tokenize } from "./lexer.js";
import { compareCodePoints } from "./run-order.js";

export type ExperimentClause =
  | { type: "attribute"; key: "name"; comparator: StringComparator; value: string }
  | { type: "attribute"; key: "creation_time" | "last_update_time"; comparator: NumericComparator; value: number }
  | { type: "tag"; key: string; comparator: StringComparator; value: string }
  | { type: "tag"; key: string; comparator: "IS NULL" | "IS NOT NULL" };

export interface ExperimentOrderTerm {
  key: "name" | "experiment_id" | "creation_time" | "last_update_time";
  ascending: boolean;
}

const NUMERIC = ["=", "!=", ">", ">=", "<", "<="];
const STRING = ["=", "!=", "LIKE", "ILIKE"];
const ORDER_KEYS = ["name", "experiment_id", "creation_time", "last_update_time"] as const;

const word = (t: { kind: string; parts?: { text: string; quote: string }[] } | undefined, w: string) =>
  t?.kind === "ident" && t.parts!.length === 1 && t.parts![0]!.quote === "" && t.parts![0]!.text.toUpperCase() === w;

export function parseExperimentFilter(filter: string | undefined): ExperimentClause[] {
  if (!filter || filter.trim() === "") return [];
  const tokens = tokenize(filter);
  let pos = 0;
  const clauses: ExperimentClause[] = [];
  for (;;) {
    const ident = tokens[pos++]!;
    if (ident.kind !== "ident" || word(ident, "AND")) throw invalidParameter(`Invalid clause(s) in filter string: '${ident.raw || filter}'`);
    let type: "attribute" | "tag";
    let key: string;
    if (ident.parts.length === 1) {
      type = "attribute";
      key = ident.parts[0]!.text;
    } else {
      const head = ident.parts[0]!.text;
      if (["tag", "tags"].includes(head)) type = "tag";
      else if (["attribute", "attributes", "attr"].includes(head)) type = "attribute";
      else throw invalidParameter(`Invalid entity type '${head}'. Valid values are ['tag', 'attribute']`);
      key = ident.parts.length === 2 ? ident.parts[1]!.text : ident.parts.slice(1).map((p) => p.text).join(".");
    }
    let comparator: string;
    const op = tokens[pos++]!;
    if (op.kind === "op") comparator = op.raw;
    else if (word(op, "LIKE") || word(op, "ILIKE")) comparator = op.raw.toUpperCase();
    else if (word(op, "IS") && word(tokens[pos], "NULL")) {
      comparator = "IS NULL";
      pos++;
    } else if (word(op, "IS") && word(tokens[pos], "NOT") && word(tokens[pos + 1], "NULL")) {
      comparator = "IS NOT NULL";
      pos += 2;
    } else throw invalidParameter(`Invalid comparison clause. Expected comparison found '${op.raw || "end of filter"}'`);
    const value = () => {
      const t = tokens[pos++]!;
      if (t.kind === "string") return t.value;
      if (t.kind === "ident" && t.parts.length === 1 && t.parts[0]!.quote === '"') return t.parts[0]!.text;
      throw invalidParameter(`Expected a quoted string value for ${type === "tag" ? "tag" : "attributes"} (e.g. 'my-value'). Got value ${t.raw || "nothing"}`);
    };
    if (type === "tag") {
      if (comparator === "IS NULL" || comparator === "IS NOT NULL") clauses.push({ type, key, comparator });
      else if (STRING.includes(comparator)) clauses.push({ type, key, comparator: comparator as StringComparator, value: value() });
      else throw invalidParameter(`Invalid comparator '${comparator}' not one of '{${STRING.map((c) => `'${c}'`).join(", ")}}'`);
    } else if (key === "name") {
      if (!STRING.includes(comparator)) throw invalidParameter(`Invalid comparator '${comparator}' not one of '{${STRING.map((c) => `'${c}'`).join(", ")}}'`);
      clauses.push({ type, key, comparator: comparator as StringComparator, value: value() });
    } else if (key === "creation_time" || key === "last_update_time") {
      if (!NUMERIC.includes(comparator)) throw invalidParameter(`Invalid comparator '${comparator}' not one of '{${NUMERIC.map((c) => `'${c}'`).join(", ")}}'`);
      const t = tokens[pos++]!;
      if (t.kind !== "number" || !Number.isFinite(t.value)) throw invalidParameter(`Expected numeric value type for numeric attribute: ${key}. Found ${t.raw || "nothing"}`);
      clauses.push({ type, key, comparator: comparator as NumericComparator, value: t.value });
    } else {
      throw invalidParameter(`Invalid attribute key '${key}' specified. Valid keys are '['name', 'creation_time', 'last_update_time']'`);
    }
    const next = tokens[pos]!;
    if (next.kind === "end") return clauses;
    if (!word(next, "AND")) throw invalidParameter(`Invalid clause(s) in filter string: '${next.raw}'`);
    pos++;
  }
}

export function parseExperimentOrderBy(entries: readonly string[]): ExperimentOrderTerm[] {
  const terms: ExperimentOrderTerm[] = [];
  for (const entry of entries) {
    const m = /^\s*(?:(?:attributes?|attr)\.)?`?([a-z_]+)`?(?:\s+(ASC|DESC))?\s*$/i.exec(entry);
    if (!m) throw invalidParameter(`Invalid order_by clause '${entry}'. Could not be parsed.`);
    const key = m[1]!;
    if (!(ORDER_KEYS as readonly string[]).includes(key)) throw invalidParameter(`Invalid order by key '${key}' specified. Valid keys are ${JSON.stringify(ORDER_KEYS)}`);
    if (terms.some((t) => t.key === key)) throw invalidParameter(`\`order_by\` contains duplicate fields: ['${entry}']`);
    terms.push({ key: key as ExperimentOrderTerm["key"], ascending: (m[2] ?? "ASC").toUpperCase() === "ASC" });
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
