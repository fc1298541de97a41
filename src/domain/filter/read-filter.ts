/**
 * The one reader of MLflow's comparison grammar, shared by every search (runs, experiments, registered models, model
 * versions, logged models): `<identifier> <comparator> <value>` joined by AND — no OR, no grouping. It reads the
 * structure (identifier, comparator, value as written) and nothing else; each search's grammar (its `FilterGrammar`)
 * then judges the identifier against its field whitelist, the comparator against the field's type and the value,
 * in MLflow's words for that search, and returns the clause in the one AST shape of ast.ts.
 */
import { invalidParameter } from "../errors.js";
import type { FilterClause } from "./ast.js";
import { type IdentPart, type Token, tokenize } from "./lexer.js";

/** Longest filter accepted (a guard for the parser, far above what a client writes). */
export const MAX_FILTER_LENGTH = 100_000;

/**
 * A value as written: a quoted string, a number, a parenthesised list (after IN / NOT IN), a bare word, or something
 * that is no value at all (a keyword, punctuation, a backticked identifier; `raw` is "" at the end of the filter).
 */
export type ValueToken =
  | { kind: "string"; value: string; raw: string; quote: "'" | '"' }
  | { kind: "number"; value: number; raw: string }
  | { kind: "list"; items: Token[]; raw: string }
  | { kind: "word"; raw: string }
  | { kind: "other"; raw: string };

export interface Comparison {
  parts: IdentPart[];
  /** The identifier as written. */
  identifier: string;
  /** Upper-cased for keywords: `=`, `!=`, `LIKE`, `ILIKE`, `IN`, `NOT IN`, `IS NULL`, `IS NOT NULL`, or an operator as written. */
  comparator: string;
  /** Absent for IS NULL / IS NOT NULL. */
  value?: ValueToken;
}

/** How a search's filters are read (what differs between MLflow's parsers at the structural level). */
export interface FilterSyntax {
  /** MLflow's "Invalid clause(s)" message for a fragment that is no comparison or AND. */
  invalidClause(fragment: string): Error;
  /** `IS NULL` / `IS NOT NULL` are comparators (runs, experiments). */
  nullTests: boolean;
  /** A comparator that is none of the above (default: invalidClause). */
  unknownComparator?(raw: string): Error;
  /**
   * A value that is no literal (a keyword such as `true`, punctuation, nothing) is a malformed clause (MLflow's
   * registry and logged-model parsers); otherwise it reaches the grammar as kind "word"/"other" to be judged there.
   */
  strictValues: boolean;
  /** Every comparison is read before any is judged (MLflow's registry parsers) rather than one by one. */
  readAllFirst: boolean;
}

/** One search's filter language: its syntax and how it turns a comparison into a clause (whitelist, types, messages). */
export interface FilterGrammar<C extends FilterClause> {
  syntax: FilterSyntax;
  clause(c: Comparison): C;
}

export const keyword = (t: Token | undefined, word: string) =>
  t?.kind === "ident" && t.parts.length === 1 && t.parts[0]!.quote === "" && t.parts[0]!.text.toUpperCase() === word;

/** Words sqlparse reads as keywords, so `x = true` is no comparison for MLflow. */
const KEYWORD_VALUES = new Set(["TRUE", "FALSE", "NULL", "AND", "OR", "NOT", "IN", "IS", "LIKE", "ILIKE"]);

/** The comparisons of a filter, each read when asked for. Empty or blank → none. */
export function* readComparisons(filter: string | undefined, syntax: FilterSyntax): Generator<Comparison> {
  if (filter === undefined || filter.trim() === "") return;
  if (filter.length > MAX_FILTER_LENGTH) {
    throw invalidParameter(`Invalid filter '${filter.slice(0, 100)}…'. Could not be parsed: longer than ${MAX_FILTER_LENGTH} characters.`);
  }
  const invalid = (fragment: string) => syntax.invalidClause(fragment || filter);
  const tokens = tokenize(filter, syntax.invalidClause);
  let pos = 0;

  const readComparator = (): string => {
    const t = tokens[pos++]!;
    if (t.kind === "op") return t.raw;
    for (const word of ["LIKE", "ILIKE", "IN"]) if (keyword(t, word)) return word;
    if (keyword(t, "NOT") && keyword(tokens[pos], "IN")) {
      pos++;
      return "NOT IN";
    }
    if (syntax.nullTests && keyword(t, "IS")) {
      if (keyword(tokens[pos], "NULL")) {
        pos++;
        return "IS NULL";
      }
      if (keyword(tokens[pos], "NOT") && keyword(tokens[pos + 1], "NULL")) {
        pos += 2;
        return "IS NOT NULL";
      }
    }
    throw syntax.unknownComparator ? syntax.unknownComparator(t.raw) : invalid(t.raw);
  };

  /** `( … )` with whatever is inside; the grammar judges the items (stringList). */
  const readList = (): ValueToken => {
    const open = tokens[pos++]!;
    if (open.kind !== "(") throw invalid(open.raw);
    const items: Token[] = [];
    for (;;) {
      const t = tokens[pos++]!;
      if (t.kind === "end") throw invalid("");
      if (t.kind === ")") break;
      items.push(t);
    }
    return { kind: "list", items, raw: `(${items.map((i) => i.raw).join("")})` };
  };

  const readValue = (): ValueToken => {
    const t = tokens[pos]!;
    if (t.kind === "(") return readList();
    pos++;
    if (t.kind === "string") return { kind: "string", value: t.value, raw: t.raw, quote: "'" };
    if (t.kind === "number") return { kind: "number", value: t.value, raw: t.raw };
    if (t.kind === "ident" && t.parts.length === 1 && t.parts[0]!.quote === '"') return { kind: "string", value: t.parts[0]!.text, raw: t.raw, quote: '"' };
    const bare = t.kind === "ident" && t.parts.every((p) => p.quote === "");
    if (syntax.strictValues) {
      if (bare && t.parts.length === 1 && !KEYWORD_VALUES.has(t.parts[0]!.text.toUpperCase())) return { kind: "word", raw: t.raw };
      throw invalid(t.raw);
    }
    if (t.kind === "end" || t.kind === ")" || t.kind === ",") pos--; // nothing was consumed as the value
    return bare ? { kind: "word", raw: t.raw } : { kind: "other", raw: t.kind === "end" ? "" : t.raw };
  };

  for (;;) {
    const ident = tokens[pos++]!;
    if (ident.kind !== "ident" || keyword(ident, "AND")) throw invalid(ident.raw);
    const comparator = readComparator();
    const comparison: Comparison = { parts: ident.parts, identifier: ident.raw, comparator };
    if (comparator === "IN" || comparator === "NOT IN") comparison.value = readList();
    else if (comparator !== "IS NULL" && comparator !== "IS NOT NULL") comparison.value = readValue();
    yield comparison;
    const next = tokens[pos]!;
    if (next.kind === "end") return;
    if (!keyword(next, "AND")) throw invalid(next.raw);
    pos++;
  }
}

/** A filter as a search's clauses (all must hold). */
export function parseFilter<C extends FilterClause>(filter: string | undefined, grammar: FilterGrammar<C>): C[] {
  const comparisons = readComparisons(filter, grammar.syntax);
  if (grammar.syntax.readAllFirst) return [...comparisons].map((c) => grammar.clause(c));
  const clauses: C[] = [];
  for (const c of comparisons) clauses.push(grammar.clause(c));
  return clauses;
}

/**
 * MLflow's reading of an IN list (SearchUtils._parse_run_ids): quoted strings separated by commas, in its messages for
 * an empty, ill-formed or mistyped list.
 */
export function stringList(value: Extract<ValueToken, { kind: "list" }>): string[] {
  const { items } = value;
  if (items.length === 0) {
    throw invalidParameter("While parsing a list in the query, expected a non-empty list of string values, but got empty list");
  }
  const quoted = (t: Token) => t.kind === "string" || (t.kind === "ident" && t.parts.length === 1 && t.parts[0]!.quote === '"');
  if (items.some((t) => !quoted(t) && t.kind !== ",")) {
    throw invalidParameter(
      `While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: ${value.raw}`,
    );
  }
  const values: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const t = items[i]!;
    const expectString = i % 2 === 0;
    if (expectString !== quoted(t) || (i === items.length - 1 && !expectString)) {
      throw invalidParameter("While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.");
    }
    if (t.kind === "string") values.push(t.value);
    else if (t.kind === "ident") values.push(t.parts[0]!.text);
  }
  return values;
}

/** A finite number, or `message` followed by the value as written ("nothing" at the end of the filter). */
export function numberValue(v: ValueToken | undefined, message: string): number {
  if (v?.kind === "number" && Number.isFinite(v.value)) return v.value;
  throw invalidParameter(`${message} ${v?.raw || "nothing"}`);
}

/** MLflow's "Parameter value is either not quoted…" for a bare word where a string was expected. */
export const unquotedValue = (raw: string) =>
  invalidParameter(`Parameter value is either not quoted or unidentified quote types used for string value ${raw}. Use either single or double quotes.`);

/** A registry identifier split as MLflow's SearchModelUtils does: a bare attribute, or `<type>.<key>`. */
export function splitIdentifier(parts: IdentPart[]): { head?: string; key: string } {
  if (parts.length === 1) return { key: parts[0]!.text };
  const rest = parts.slice(1);
  return { head: parts[0]!.text, key: rest.length === 1 ? rest[0]!.text : rest.map((p) => p.text).join(".") };
}

/** Python's repr of a str tuple/set, as MLflow's messages print them. */
export const pyStrings = (xs: readonly string[], open = "{", close = "}") => `${open}${xs.map((x) => `'${x}'`).join(", ")}${close}`;

/**
 * One `order_by` entry, `<identifier> [ASC|DESC]` (MLflow's SearchUtils._parse_order_by_string): its identifier and
 * direction (ASC by default). A direction word that is neither → `badDirection(entry)` (default: could not be parsed).
 */
export function readOrderByEntry(entry: string, badDirection?: (entry: string) => Error): { parts: IdentPart[]; identifier: string; ascending: boolean } {
  const unparsable = () => invalidParameter(`Invalid order_by clause '${entry}'. Could not be parsed.`);
  const [ident, dir, end] = tokenize(entry, unparsable);
  if (ident?.kind !== "ident") throw unparsable();
  if (dir?.kind === "end") return { parts: ident.parts, identifier: ident.raw, ascending: true };
  if (dir?.kind !== "ident" || dir.parts.length !== 1 || end?.kind !== "end") throw unparsable();
  const word = dir.parts[0]!.text.toLowerCase();
  if (dir.parts[0]!.quote !== "" || (word !== "asc" && word !== "desc")) throw (badDirection ?? unparsable)(entry);
  return { parts: ident.parts, identifier: ident.raw, ascending: word === "asc" };
}
