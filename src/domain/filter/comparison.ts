/**
 * The shape the registry and logged-model filters share: comparisons `<identifier> <comparator> <value>` joined by
 * AND (no OR, no grouping). Each entity's parser (registered-model-search.ts, model-version-search.ts,
 * logged-model-search.ts) then judges identifiers, comparators and values with MLflow's rules and messages for it.
 */
import { invalidParameter } from "../errors.js";
import type { IdentPart } from "./lexer.js";
import { type Token, tokenize } from "./lexer.js";
import { MAX_FILTER_LENGTH } from "./parse-filter.js";

/** A value as written: a quoted string, a number, a parenthesised list, or a bare word (which MLflow rejects). */
export type ValueToken =
  | { kind: "string"; value: string; raw: string; quote: "'" | '"' }
  | { kind: "number"; value: number; raw: string }
  | { kind: "list"; items: Token[]; raw: string }
  | { kind: "word"; raw: string };

export interface Comparison {
  parts: IdentPart[];
  /** The identifier as written. */
  identifier: string;
  /** Upper-cased for keywords: `=`, `!=`, `LIKE`, `ILIKE`, `IN`, `NOT IN`, … */
  comparator: string;
  value: ValueToken;
}

const keyword = (t: Token | undefined, word: string) =>
  t?.kind === "ident" && t.parts.length === 1 && t.parts[0]!.quote === "" && t.parts[0]!.text.toUpperCase() === word;

/** Words sqlparse reads as keywords, so `x = true` is no comparison for MLflow either. */
const KEYWORD_VALUES = new Set(["TRUE", "FALSE", "NULL", "AND", "OR", "NOT", "IN", "IS", "LIKE", "ILIKE"]);

/**
 * Splits a filter into comparisons. Anything that is not a comparison or AND → `invalidClause(fragment)`.
 * Empty or blank → no comparisons.
 */
export function readComparisons(filter: string | undefined, invalidClause: (fragment: string) => Error): Comparison[] {
  if (filter === undefined || filter.trim() === "") return [];
  if (filter.length > MAX_FILTER_LENGTH) {
    throw invalidParameter(`Invalid filter '${filter.slice(0, 100)}…'. Could not be parsed: longer than ${MAX_FILTER_LENGTH} characters.`);
  }
  const tokens = tokenize(filter, invalidClause);
  let pos = 0;
  const comparisons: Comparison[] = [];
  for (;;) {
    const ident = tokens[pos++]!;
    if (ident.kind !== "ident" || keyword(ident, "AND")) throw invalidClause(ident.raw || filter);
    const comparator = readComparator();
    const value = comparator === "IN" || comparator === "NOT IN" ? readList() : readValue();
    comparisons.push({ parts: ident.parts, identifier: ident.raw, comparator, value });
    const next = tokens[pos]!;
    if (next.kind === "end") return comparisons;
    if (!keyword(next, "AND")) throw invalidClause(next.raw);
    pos++;
  }

  function readComparator(): string {
    const t = tokens[pos++]!;
    if (t.kind === "op") return t.raw;
    for (const word of ["LIKE", "ILIKE", "IN"]) if (keyword(t, word)) return word;
    if (keyword(t, "NOT") && keyword(tokens[pos], "IN")) {
      pos++;
      return "NOT IN";
    }
    throw invalidClause(t.raw || filter!);
  }

  function readValue(): ValueToken {
    const t = tokens[pos++]!;
    if (t.kind === "string") return { kind: "string", value: t.value, raw: t.raw, quote: "'" };
    if (t.kind === "number") return { kind: "number", value: t.value, raw: t.raw };
    if (t.kind === "(") {
      pos--;
      return readList();
    }
    if (t.kind === "ident" && t.parts.length === 1) {
      const part = t.parts[0]!;
      if (part.quote === '"') return { kind: "string", value: part.text, raw: t.raw, quote: '"' };
      if (part.quote === "" && !KEYWORD_VALUES.has(part.text.toUpperCase())) return { kind: "word", raw: t.raw };
    }
    throw invalidClause(t.raw || filter!);
  }

  /** `( … )` with whatever is inside; each parser judges the items. */
  function readList(): ValueToken {
    const open = tokens[pos++]!;
    if (open.kind !== "(") throw invalidClause(open.raw || filter!);
    const items: Token[] = [];
    for (;;) {
      const t = tokens[pos++]!;
      if (t.kind === "end") throw invalidClause(filter!);
      if (t.kind === ")") break;
      items.push(t);
    }
    return { kind: "list", items, raw: `(${items.map((i) => i.raw).join("")})` };
  }
}

/**
 * MLflow's reading of an IN list (SearchUtils._parse_run_ids): single-quoted strings separated by commas, in its
 * messages for an empty, ill-formed or mistyped list.
 */
export function stringList(value: Extract<ValueToken, { kind: "list" }>): string[] {
  const { items } = value;
  if (items.length === 0) {
    throw invalidParameter("While parsing a list in the query, expected a non-empty list of string values, but got empty list");
  }
  if (items.some((t) => t.kind !== "string" && t.kind !== ",")) {
    throw invalidParameter(
      `While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: ${value.raw}`,
    );
  }
  const values: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const t = items[i]!;
    const expectString = i % 2 === 0;
    if (expectString !== (t.kind === "string") || (i === items.length - 1 && !expectString)) {
      throw invalidParameter("While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.");
    }
    if (t.kind === "string") values.push(t.value);
  }
  return values;
}

/** A registry identifier split as MLflow's SearchModelUtils does: a bare attribute, or `<type>.<key>`. */
export function splitIdentifier(parts: IdentPart[]): { head?: string; key: string } {
  if (parts.length === 1) return { key: parts[0]!.text };
  const rest = parts.slice(1);
  return { head: parts[0]!.text, key: rest.length === 1 ? rest[0]!.text : rest.map((p) => p.text).join(".") };
}

/** MLflow's "Parameter value is either not quoted…" for a bare word where a string was expected. */
export const unquotedValue = (raw: string) =>
  invalidParameter(`Parameter value is either not quoted or unidentified quote types used for string value ${raw}. Use either single or double quotes.`);

/** Python's repr of a str tuple/set, as MLflow's messages print them. */
export const pyStrings = (xs: readonly string[], open = "{", close = "}") => `${open}${xs.map((x) => `'${x}'`).join(", ")}${close}`;

/**
 * One registry `order_by` entry, `<identifier> [ASC|DESC]` (MLflow's SearchUtils._parse_order_by_string): its
 * identifier parts and direction (ASC by default).
 */
export function readOrderByEntry(entry: string): { parts: IdentPart[]; ascending: boolean } {
  const unparsable = () => invalidParameter(`Invalid order_by clause '${entry}'. Could not be parsed.`);
  const [ident, dir, end] = tokenize(entry, unparsable);
  if (ident?.kind !== "ident") throw unparsable();
  if (dir?.kind === "end") return { parts: ident.parts, ascending: true };
  if (dir?.kind !== "ident" || dir.parts.length !== 1 || end?.kind !== "end") throw unparsable();
  const word = dir.parts[0]!.text.toLowerCase();
  if (dir.parts[0]!.quote !== "" || (word !== "asc" && word !== "desc")) {
    throw invalidParameter(`Invalid ordering key in order_by clause '${entry}'.`);
  }
  return { parts: ident.parts, ascending: word === "asc" };
}
