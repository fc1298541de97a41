/**
 * MLflow's model-version search (SearchModelVersionUtils and the SQL registry store): filter on `name`, `run_id`
 * (both also IN / NOT IN a list, as MLflow 3.17.2's server accepts), `source_path` (the version's source),
 * `version_number` (numeric) and `tags.<key>`; string comparators = != LIKE ILIKE. Order by name, version_number, creation_timestamp,
 * last_updated_timestamp; none given → `last_updated_timestamp DESC`; tie-break `name ASC`, `version DESC`. Prompt
 * versions are left out unless asked for, as for registered models. Stores filter, order and page in the database.
 */
import { invalidParameter } from "../errors.js";
import type { NumericComparator, StringComparator } from "./ast.js";
import { type Comparison, parseFilter, pyStrings, readOrderByEntry, splitIdentifier, stringList, unquotedValue } from "./read-filter.js";
import {
  REGISTRY_SYNTAX,
  STRING_COMPARATORS,
  badRegistryDirection,
  queriesPrompts,
  registryIdentifier,
  tagComparator,
  tagValue,
  withoutPromptClauses,
} from "./registered-model-search.js";
import type { KeysetTerm } from "./keyset-token.js";

export type ModelVersionClause =
  | { type: "attribute"; key: "name" | "run_id" | "source_path"; comparator: StringComparator; value: string }
  | { type: "attribute"; key: "name" | "run_id"; comparator: "IN" | "NOT IN"; values: string[] }
  | { type: "attribute"; key: "version_number"; comparator: NumericComparator; value: number }
  | { type: "tag"; key: string; comparator: StringComparator; value: string };

export interface ModelVersionFilter {
  clauses: ModelVersionClause[];
  prompts: boolean;
}

export interface ModelVersionOrderTerm {
  key: "name" | "version_number" | "creation_timestamp" | "last_updated_timestamp";
  ascending: boolean;
}

const SEARCH_KEYS = ["name", "version_number", "run_id", "source_path"] as const;
const NUMERIC_ATTRIBUTES = ["version_number", "creation_timestamp", "last_updated_timestamp"];
const NUMERIC_COMPARATORS: readonly string[] = ["=", "!=", ">", ">=", "<", "<="];
const ORDER_KEYS = ["name", "version_number", "creation_timestamp", "last_updated_timestamp"] as const;

const LIST_KEYS = ["name", "run_id"];
const onlyListKeys = () => invalidParameter("Only the 'name' and 'run_id' attributes support comparison with a list of quoted string values.");

function modelVersionClause(c: Comparison): ModelVersionClause {
  const { type, key } = registryIdentifier(c, SEARCH_KEYS);
  if (type === "tag") {
    const value = tagValue(c.value);
    return { type, key, comparator: tagComparator(c.comparator), value };
  }
  const v = c.value!;
  if (v.kind === "word") throw unquotedValue(v.raw);
  if (v.kind === "list" && !LIST_KEYS.includes(key)) throw onlyListKeys();
  if (v.kind === "number" && !NUMERIC_ATTRIBUTES.includes(key)) {
    throw invalidParameter(`Only the '${pyStrings(NUMERIC_ATTRIBUTES)}' attributes support comparison with numeric values.`);
  }
  if (key === "version_number") {
    if (!NUMERIC_COMPARATORS.includes(c.comparator)) throw invalidParameter(`Invalid comparator for attribute ${key}: ${c.comparator}`);
    // A quoted number compares as the number, as the SQL column's integer affinity makes it.
    const n = v.kind === "number" ? v.value : v.kind === "string" && v.value.trim() !== "" ? Number(v.value) : Number.NaN;
    if (!Number.isFinite(n)) throw invalidParameter(`Expected numeric value type for numeric attribute: ${key}. Found ${v.raw}`);
    return { type, key, comparator: c.comparator as NumericComparator, value: n };
  }
  const isList = c.comparator === "IN" || c.comparator === "NOT IN";
  if (!STRING_COMPARATORS.includes(c.comparator) && !(isList && LIST_KEYS.includes(key))) {
    throw invalidParameter(`Invalid comparator for attribute: ${c.comparator}`);
  }
  if (isList) return { type, key: key as "name" | "run_id", comparator: c.comparator as "IN" | "NOT IN", values: stringList(v as Extract<typeof v, { kind: "list" }>) };
  if (v.kind !== "string") throw onlyListKeys();
  return { type, key: key as "name" | "run_id" | "source_path", comparator: c.comparator as StringComparator, value: v.value };
}

export function parseModelVersionFilter(filter: string | undefined): ModelVersionFilter {
  const clauses = parseFilter(filter, { syntax: REGISTRY_SYNTAX, clause: modelVersionClause });
  const prompts = queriesPrompts(clauses);
  return { clauses: withoutPromptClauses(clauses, prompts), prompts };
}

export function parseModelVersionOrderBy(entries: readonly string[]): ModelVersionOrderTerm[] {
  const terms: ModelVersionOrderTerm[] = [];
  for (const entry of entries) {
    const { parts, ascending } = readOrderByEntry(entry, badRegistryDirection);
    const { head, key } = splitIdentifier(parts);
    if (head !== undefined && !["attribute", "tag", "tags"].includes(head)) {
      throw invalidParameter(`Invalid entity type '${head}'. Valid entity types are ('attribute', 'tag', 'tags')`);
    }
    const isTag = head === "tag" || head === "tags";
    if (!isTag && !(ORDER_KEYS as readonly string[]).includes(key)) {
      throw invalidParameter(`Invalid attribute key '${key}' specified. Valid keys are '${pyStrings(ORDER_KEYS)}'`);
    }
    if (isTag) throw invalidParameter(`Invalid order by key '${key}' specified. Valid keys are ${pyStrings(ORDER_KEYS)}`);
    if (terms.some((t) => t.key === key)) throw invalidParameter(`\`order_by\` contains duplicate fields: ${pyStrings(entries, "[", "]")}`);
    terms.push({ key: key as ModelVersionOrderTerm["key"], ascending });
  }
  if (terms.length === 0) terms.push({ key: "last_updated_timestamp", ascending: false });
  if (!terms.some((t) => t.key === "name")) terms.push({ key: "name", ascending: true });
  if (!terms.some((t) => t.key === "version_number")) terms.push({ key: "version_number", ascending: false });
  return terms;
}

/** What the sort key of a model-version search holds, term by term. */
export const modelVersionKeysetTerms = (order: readonly ModelVersionOrderTerm[]): KeysetTerm[] =>
  order.map((t) => ({ kind: t.key === "name" ? "string" : "number" }));
