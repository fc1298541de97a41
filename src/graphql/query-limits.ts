/**
 * MLflow's GraphQL query-safety limits (mlflow/server/graphql/graphql_no_batching.py), checked on the parsed
 * document before it is validated or executed: selection sets nest at most 10 deep, at most 1,000 fields are selected
 * in all, and the root fields and the aliases of any one selection set are capped (10 each by default). Fragment
 * spreads and inline fragments count where they are spread, so fields and aliases cannot hide in sibling fragments;
 * a fragment spread again inside itself is not followed twice at the same level. Messages are MLflow's.
 */
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type SelectionSetNode,
} from "graphql";

export const MAX_DEPTH = 10;
export const MAX_SELECTIONS = 1000;
/** MLflow's defaults of MLFLOW_SERVER_GRAPHQL_MAX_ROOT_FIELDS and MLFLOW_SERVER_GRAPHQL_MAX_ALIASES. */
export const DEFAULT_MAX_ROOT_FIELDS = 10;
export const DEFAULT_MAX_ALIASES = 10;

export interface QueryLimits {
  maxRootFields: number;
  maxAliases: number;
}

/** The fields of one selection set with those of the fragments spread in it, and how many of them are aliased. */
function fieldsAt(set: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, visited: ReadonlySet<string>) {
  const fields: FieldNode[] = [];
  let aliases = 0;
  const seen = new Set(visited);
  const pending = [...set.selections];
  for (let selection = pending.shift(); selection; selection = pending.shift()) {
    if (selection.kind === Kind.FIELD) {
      fields.push(selection);
      if (selection.alias) aliases++;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      pending.push(...selection.selectionSet.selections);
    } else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      if (fragment) pending.push(...fragment.selectionSet.selections);
    }
  }
  return { fields, aliases };
}

/**
 * The first limit `document` breaks, as the GraphQL error MLflow answers with (the message names the Logbook setting
 * that raises a configurable limit); undefined when it keeps them all.
 */
export function checkQueryLimits(document: DocumentNode, limits: QueryLimits): GraphQLError | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  let rootFields = 0;
  let maxAliases = 0;
  let selections = 0;
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const stack: [SelectionSetNode, number, ReadonlySet<string>][] = [[definition.selectionSet, 1, new Set()]];
    for (let top = stack.pop(); top; top = stack.pop()) {
      const [set, depth, visited] = top;
      if (depth > MAX_DEPTH) return new GraphQLError(`Query exceeds maximum depth of ${MAX_DEPTH}`);
      const { fields, aliases } = fieldsAt(set, fragments, visited);
      for (const field of fields) {
        if (depth === 1) rootFields++;
        if (field.selectionSet) stack.push([field.selectionSet, depth + 1, visited]);
        if (++selections > MAX_SELECTIONS) return new GraphQLError(`Query exceeds maximum total selections of ${MAX_SELECTIONS}`);
      }
      maxAliases = Math.max(maxAliases, aliases);
    }
  }
  const exceeded = (what: string, limit: number, got: number, variable: string) =>
    new GraphQLError(
      `GraphQL queries should have at most ${limit} ${what}, got ${got} ${what}. To increase the limit, set the ${variable} environment variable.`,
    );
  if (rootFields > limits.maxRootFields) return exceeded("root fields", limits.maxRootFields, rootFields, "LOGBOOK_GRAPHQL_MAX_ROOT_FIELDS");
  if (maxAliases > limits.maxAliases) return exceeded("aliases", limits.maxAliases, maxAliases, "LOGBOOK_GRAPHQL_MAX_ALIASES");
  return undefined;
}
