/**
 * MLflow's run filter (`metrics.r2 > 0.5 and params.symbol = 'AAPL'`) → RunFilter: the run grammar on the one reader
 * (read-filter.ts). Every failure is an INVALID_PARAMETER_VALUE AppError with MLflow's wording where MLflow has one.
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
import { type Comparison, type FilterGrammar, type FilterSyntax, type ValueToken, numberValue, parseFilter, stringList, unquotedValue } from "./read-filter.js";

export { MAX_FILTER_LENGTH } from "./read-filter.js";

const NUMERIC_COMPARATORS: readonly string[] = ["=", "!=", ">", ">=", "<", "<="];
const PARAM_COMPARATORS: readonly string[] = ["=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"];
const STRING_ATTRIBUTE_COMPARATORS: readonly string[] = ["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"];

const setText = (xs: readonly string[]) => `{${xs.map((x) => `'${x}'`).join(", ")}}`;
const onlyRunIdLists = () => invalidParameter("Only the 'run_id' attribute supports comparison with a list of quoted string values.");

/** A quoted string (single or double quotes), in MLflow's words otherwise. */
function stringValue(v: ValueToken | undefined, what: string): string {
  if (v?.kind === "string") return v.value;
  if (v?.kind === "word") throw unquotedValue(v.raw);
  throw invalidParameter(`Expected a quoted string value for ${what} (e.g. 'my-value'). Got value ${v?.raw || "nothing"}`);
}

function checkComparator(comparator: string, allowed: readonly string[], closingQuote = "'"): void {
  if (!allowed.includes(comparator)) throw invalidParameter(`Invalid comparator '${comparator}' not one of '${setText(allowed)}${closingQuote}`);
}

function runClause({ parts, identifier, comparator, value }: Comparison): RunClause {
  const { type, key } = resolveIdentifier(parts, identifier);
  if (type === "dataset") throw invalidParameter("Filtering runs by datasets is not supported by Logbook yet.");
  if (type === "metric") {
    checkComparator(comparator, NUMERIC_COMPARATORS, ""); // MLflow's message lacks the closing quote here
    return { type, key, comparator: comparator as NumericComparator, value: numberValue(value, "Expected numeric value type for metric. Found") };
  }
  if (type === "param" || type === "tag") {
    checkComparator(comparator, PARAM_COMPARATORS);
    if (comparator === "IS NULL" || comparator === "IS NOT NULL") return { type, key, comparator };
    return { type, key, comparator: comparator as StringComparator, value: stringValue(value, type === "param" ? "parameter" : "tag") };
  }
  if ((NUMERIC_ATTRIBUTES as readonly string[]).includes(key)) {
    checkComparator(comparator, NUMERIC_COMPARATORS, "");
    const number = numberValue(value, `Expected numeric value type for numeric attribute: ${key}. Found`);
    return { type, key: key as NumericAttribute, comparator: comparator as NumericComparator, value: number };
  }
  if (!(STRING_ATTRIBUTES as readonly string[]).includes(key)) {
    throw invalidParameter(`Invalid attribute key '${key}' specified. Valid keys are '${[...STRING_ATTRIBUTES, ...NUMERIC_ATTRIBUTES, "created", "run name"].join("', '")}'`);
  }
  checkComparator(comparator, STRING_ATTRIBUTE_COMPARATORS);
  if (comparator === "IN" || comparator === "NOT IN") {
    if (key !== "run_id" || value?.kind !== "list") throw onlyRunIdLists();
    return { type, key, comparator, values: stringList(value) };
  }
  if (value?.kind === "list") throw onlyRunIdLists();
  return { type, key: key as StringAttribute, comparator: comparator as StringComparator, value: stringValue(value, "attributes") };
}

/** How MLflow's run and experiment parsers read a filter: one comparison at a time, IS [NOT] NULL, their messages. */
export const RUN_SYNTAX: FilterSyntax = {
  invalidClause: (fragment) => invalidParameter(`Invalid clause(s) in filter string: '${fragment}'`),
  nullTests: true,
  unknownComparator: (raw) => invalidParameter(`Invalid comparison clause. Expected comparison found '${raw || "end of filter"}'`),
  strictValues: false,
  readAllFirst: false,
};

const RUN_GRAMMAR: FilterGrammar<RunClause> = { syntax: RUN_SYNTAX, clause: runClause };

export function parseRunFilter(filter: string | undefined): RunFilter {
  return parseFilter(filter, RUN_GRAMMAR);
}
