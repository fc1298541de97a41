/**
 * MLflow's run filter (`metrics.r2 > 0.5 and params.symbol = 'AAPL'`) → RunFilter. AND only; every failure is an
 * INVALID_PARAMETER_VALUE AppError with MLflow's wording where MLflow has one.
 */
import { invalidParameter } from "../errors.js";
import {
  NUMERIC_ATTRIBUTES,
  type NumericAttribute,
  type NumericComparator,
  type RunClause,
  type RunFilter,
  STRING_ATTRIBUTES,
  type StringAttribute,
  type StringComparator,
} from "./ast.js";
import { resolveIdentifier } from "./identifier.js";
import { type Token, tokenize } from "./lexer.js";

const NUMERIC_COMPARATORS: readonly string[] = ["=", "!=", ">", ">=", "<", "<="];
const PARAM_COMPARATORS: readonly string[] = ["=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"];
const STRING_ATTRIBUTE_COMPARATORS: readonly string[] = ["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"];
/** Longest filter accepted (a guard for the parser, far above what a client writes). */
export const MAX_FILTER_LENGTH = 100_000;

const setText = (xs: readonly string[]) => `{${xs.map((x) => `'${x}'`).join(", ")}}`;
const keyword = (t: Token | undefined, word: string) => t?.kind === "ident" && t.parts.length === 1 && t.parts[0]!.quote === "" && t.parts[0]!.text.toUpperCase() === word;

export function parseRunFilter(filter: string | undefined): RunFilter {
  if (filter === undefined || filter.trim() === "") return [];
  if (filter.length > MAX_FILTER_LENGTH) throw invalidParameter(`Invalid filter '${filter.slice(0, 100)}…'. Could not be parsed: longer than ${MAX_FILTER_LENGTH} characters.`);
  const tokens = tokenize(filter);
  let pos = 0;
  const peek = () => tokens[pos]!;
  const next = () => tokens[pos++]!;
  const clauses: RunClause[] = [];
  for (;;) {
    clauses.push(parseComparison());
    const t = peek();
    if (t.kind === "end") return clauses;
    if (keyword(t, "AND")) {
      pos++;
      continue;
    }
    throw invalidParameter(`Invalid clause(s) in filter string: '${t.raw}'`);
  }

  function parseComparison(): RunClause {
    const left = next();
    if (left.kind !== "ident" || keyword(left, "AND")) {
      throw invalidParameter(`Invalid clause(s) in filter string: '${left.raw || filter}'`);
    }
    const { type, key } = resolveIdentifier(left.parts, left.raw);
    const comparator = parseComparator();
    if (type === "dataset") throw invalidParameter("Filtering runs by datasets is not supported by Logbook yet.");
    if (type === "metric") {
      if (!NUMERIC_COMPARATORS.includes(comparator)) {
        throw invalidParameter(`Invalid comparator '${comparator}' not one of '${setText(NUMERIC_COMPARATORS)}`);
      }
      return { type, key, comparator: comparator as NumericComparator, value: numberValue(`Expected numeric value type for metric. Found`) };
    }
    if (type === "param" || type === "tag") {
      if (!PARAM_COMPARATORS.includes(comparator)) {
        throw invalidParameter(`Invalid comparator '${comparator}' not one of '${setText(PARAM_COMPARATORS)}'`);
      }
      if (comparator === "IS NULL" || comparator === "IS NOT NULL") return { type, key, comparator };
      return { type, key, comparator: comparator as StringComparator, value: stringValue(type === "param" ? "parameter" : "tag") };
    }
    if ((NUMERIC_ATTRIBUTES as readonly string[]).includes(key)) {
      if (!NUMERIC_COMPARATORS.includes(comparator)) {
        throw invalidParameter(`Invalid comparator '${comparator}' not one of '${setText(NUMERIC_COMPARATORS)}`);
      }
      const value = numberValue(`Expected numeric value type for numeric attribute: ${key}. Found`);
      return { type, key: key as NumericAttribute, comparator: comparator as NumericComparator, value };
    }
    if (!(STRING_ATTRIBUTES as readonly string[]).includes(key)) {
      throw invalidParameter(`Invalid attribute key '${key}' specified. Valid keys are '${[...STRING_ATTRIBUTES, ...NUMERIC_ATTRIBUTES, "created", "run name"].join("', '")}'`);
    }
    if (!STRING_ATTRIBUTE_COMPARATORS.includes(comparator)) {
      throw invalidParameter(`Invalid comparator '${comparator}' not one of '${setText(STRING_ATTRIBUTE_COMPARATORS)}'`);
    }
    if (comparator === "IN" || comparator === "NOT IN") {
      if (key !== "run_id") throw invalidParameter("Only the 'run_id' attribute supports comparison with a list of quoted string values.");
      return { type, key, comparator, values: listValue() };
    }
    if (peek().kind === "(") throw invalidParameter("Only the 'run_id' attribute supports comparison with a list of quoted string values.");
    return { type, key: key as StringAttribute, comparator: comparator as StringComparator, value: stringValue("attributes") };
  }

  function parseComparator(): string {
    const t = next();
    if (t.kind === "op") return t.raw;
    if (keyword(t, "LIKE")) return "LIKE";
    if (keyword(t, "ILIKE")) return "ILIKE";
    if (keyword(t, "IN")) return "IN";
    if (keyword(t, "NOT") && keyword(peek(), "IN")) {
      pos++;
      return "NOT IN";
    }
    if (keyword(t, "IS")) {
      if (keyword(peek(), "NULL")) {
        pos++;
        return "IS NULL";
      }
      if (keyword(peek(), "NOT") && keyword(tokens[pos + 1], "NULL")) {
        pos += 2;
        return "IS NOT NULL";
      }
    }
    throw invalidParameter(`Invalid comparison clause. Expected comparison found '${t.raw || "end of filter"}'`);
  }

  function numberValue(message: string): number {
    const t = next();
    if (t.kind !== "number") throw invalidParameter(`${message} ${t.raw || "nothing"}`);
    if (!Number.isFinite(t.value)) throw invalidParameter(`${message} ${t.raw}`);
    return t.value;
  }

  function stringValue(what: string): string {
    const t = next();
    if (t.kind === "string") return t.value;
    if (t.kind === "ident" && t.parts.length === 1 && t.parts[0]!.quote === '"') return t.parts[0]!.text;
    if (t.kind === "ident" && t.parts.every((p) => p.quote === "")) {
      throw invalidParameter(`Parameter value is either not quoted or unidentified quote types used for string value ${t.raw}. Use either single or double quotes.`);
    }
    throw invalidParameter(`Expected a quoted string value for ${what} (e.g. 'my-value'). Got value ${t.raw || "nothing"}`);
  }

  function listValue(): string[] {
    if (next().kind !== "(") throw invalidParameter("While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.");
    const values: string[] = [];
    for (;;) {
      const t = next();
      if (t.kind === "string") values.push(t.value);
      else if (t.kind === "ident" && t.parts.length === 1 && t.parts[0]!.quote === '"') values.push(t.parts[0]!.text);
      else throw invalidParameter("While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list.");
      const sep = next();
      if (sep.kind === ")") return values;
      if (sep.kind !== ",") throw invalidParameter("While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list.");
    }
  }
}
