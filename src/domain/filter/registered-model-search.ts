/**
 * MLflow's registered-model search (SearchModelUtils and the SQL registry store, mlflow/utils/search_utils.py,
 * mlflow/store/model_registry/sqlalchemy_store.py): filter on `name` and `tags.<key>` with = != LIKE ILIKE; order by
 * name or last_updated_timestamp (alias `timestamp`) — what MLflow's SQL store accepts: `creation_timestamp` is
 * refused there, so here too — default and tie-break `name ASC`. Prompts (models tagged `mlflow.prompt.is_prompt = 'true'`) are left out unless the filter
 * asks for them, as MLflow does. Stores filter, order and page in the database.
 */
import { invalidParameter } from "../errors.js";
import type { StringComparator } from "./ast.js";
import { type Comparison, type FilterSyntax, type ValueToken, parseFilter, pyStrings, readOrderByEntry, splitIdentifier, unquotedValue } from "./read-filter.js";
import type { KeysetTerm } from "./keyset-token.js";

export type RegisteredModelClause =
  | { type: "attribute"; key: "name"; comparator: StringComparator; value: string }
  | { type: "tag"; key: string; comparator: StringComparator; value: string };

/** A parsed filter: clauses (all must hold) and whether prompts are what is searched. */
export interface RegisteredModelFilter {
  clauses: RegisteredModelClause[];
  prompts: boolean;
}

export interface RegisteredModelOrderTerm {
  key: "name" | "last_updated_timestamp";
  ascending: boolean;
}

/** The tag MLflow marks prompts with (they live in the registry as registered models). */
export const IS_PROMPT_TAG = "mlflow.prompt.is_prompt";

export const STRING_COMPARATORS: readonly string[] = ["=", "!=", "LIKE", "ILIKE"];
const ENTITY_TYPES = ["attribute", "tag", "tags"];

/** How MLflow's registry parsers read a filter: every comparison first, literal values only, no IS NULL. */
export const REGISTRY_SYNTAX: FilterSyntax = {
  invalidClause: (fragment) => invalidParameter(`Invalid clause(s) in filter string: ${fragment}`),
  nullTests: false,
  strictValues: true,
  readAllFirst: true,
};

/**
 * `<type>.<key>` of the registry grammars (SearchModelUtils._get_model_search_identifier): type attribute, tag or
 * tags, else the bare attribute; an attribute must be one of `validKeys`.
 */
export function registryIdentifier(c: Comparison, validKeys: readonly string[]): { type: "attribute" | "tag"; key: string } {
  const { head, key } = splitIdentifier(c.parts);
  if (head !== undefined && !ENTITY_TYPES.includes(head)) {
    throw invalidParameter(`Invalid entity type '${head}'. Valid entity types are ${pyStrings(ENTITY_TYPES, "(", ")")}`);
  }
  const type = head === "tag" || head === "tags" ? "tag" : "attribute";
  if (type === "attribute" && !validKeys.includes(key)) {
    throw invalidParameter(`Invalid attribute key '${key}' specified. Valid keys are '${pyStrings(validKeys)}'`);
  }
  return { type, key };
}

/** A tag's value: a quoted string (MLflow's SearchModelUtils._get_value for tags). */
export function tagValue(v: ValueToken | undefined): string {
  if (v?.kind === "string") return v.value;
  if (v?.kind === "word") throw unquotedValue(v.raw);
  throw invalidParameter(`Expected a quoted string value for tag (e.g. 'my-value'). Got value ${v?.raw ?? ""}`);
}

export function tagComparator(comparator: string): StringComparator {
  if (!STRING_COMPARATORS.includes(comparator)) throw invalidParameter(`Invalid comparator for tag: ${comparator}`);
  return comparator as StringComparator;
}

/** Whether a search asks for prompts (MLflow's _is_querying_prompt): `tags.mlflow.prompt.is_prompt = 'true'` or `!= 'false'`. */
export function queriesPrompts(clauses: readonly { type: string; key: string; comparator: string; value?: unknown }[]): boolean {
  const c = clauses.find((x) => x.type === "tag" && x.key === IS_PROMPT_TAG);
  if (!c || typeof c.value !== "string") return false;
  const v = c.value.toLowerCase();
  return (c.comparator === "=" && v === "true") || (c.comparator === "!=" && v === "false");
}

/**
 * Drops the prompt-tag clauses of a search that is not for prompts: MLflow replaces them with "not a prompt", which
 * the caller applies to every search.
 */
export function withoutPromptClauses<C extends { type: string; key: string }>(clauses: C[], prompts: boolean): C[] {
  return prompts ? clauses : clauses.filter((c) => !(c.type === "tag" && c.key === IS_PROMPT_TAG));
}


function registeredModelClause(c: Comparison): RegisteredModelClause {
  const { type, key } = registryIdentifier(c, ["name"]);
  if (type === "tag") {
    const value = tagValue(c.value);
    return { type, key, comparator: tagComparator(c.comparator), value };
  }
  const v = c.value;
  if (v?.kind === "word") throw unquotedValue(v.raw);
  if (v?.kind === "list") throw invalidParameter("Only the 'run_id' attribute supports comparison with a list of quoted string values.");
  if (v?.kind === "number") {
    throw invalidParameter(`Expected a quoted string value or a list of quoted string values for attributes. Got value ${v.raw}`);
  }
  if (!STRING_COMPARATORS.includes(c.comparator) || v?.kind !== "string") throw invalidParameter(`Invalid comparator for attribute: ${c.comparator}`);
  return { type: "attribute", key: "name", comparator: c.comparator as StringComparator, value: v.value };
}

export function parseRegisteredModelFilter(filter: string | undefined): RegisteredModelFilter {
  const clauses = parseFilter(filter, { syntax: REGISTRY_SYNTAX, clause: registeredModelClause });
  const prompts = queriesPrompts(clauses);
  return { clauses: withoutPromptClauses(clauses, prompts), prompts };
}

const ORDER_KEYS = ["name", "last_updated_timestamp"] as const;

/** MLflow's registry message for a direction that is neither ASC nor DESC. */
export const badRegistryDirection = (entry: string) => invalidParameter(`Invalid ordering key in order_by clause '${entry}'.`);

export function parseRegisteredModelOrderBy(entries: readonly string[]): RegisteredModelOrderTerm[] {
  const terms: RegisteredModelOrderTerm[] = [];
  for (const entry of entries) {
    const { parts, ascending } = readOrderByEntry(entry, badRegistryDirection);
    const { head, key: written } = splitIdentifier(parts);
    if (head !== undefined && !ENTITY_TYPES.includes(head)) {
      throw invalidParameter(`Invalid entity type '${head}'. Valid entity types are ${pyStrings(ENTITY_TYPES, "(", ")")}`);
    }
    const key = written === "timestamp" && head === undefined ? "last_updated_timestamp" : written;
    if (head === "tag" || head === "tags") throw invalidParameter("Invalid order_by entity: tag");
    if (!(ORDER_KEYS as readonly string[]).includes(key)) {
      // MLflow's SQL registry store's words, missing space included.
      throw invalidParameter(`Invalid order by key '${written}' specified.Valid keys are '${pyStrings(["name", "timestamp"])}'`);
    }
    if (terms.some((t) => t.key === key)) throw invalidParameter(`\`order_by\` contains duplicate fields: ${pyStrings(entries, "[", "]")}`);
    terms.push({ key: key as RegisteredModelOrderTerm["key"], ascending });
  }
  if (!terms.some((t) => t.key === "name")) terms.push({ key: "name", ascending: true });
  return terms;
}

/** What the sort key of a registered-model search holds, term by term. */
export const registeredModelKeysetTerms = (order: readonly RegisteredModelOrderTerm[]): KeysetTerm[] =>
  order.map((t) => ({ kind: t.key === "name" ? "string" : "number" }));
