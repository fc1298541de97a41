/**
 * The typed AST of MLflow's filter and order-by languages. Every search's filter (runs, experiments, registered
 * models, model versions, logged models) is read by read-filter.ts into clauses of the one shape `FilterClause`,
 * each search narrowing it to its own fields (`RunClause` below, and the `*Clause` types of the other searches);
 * each store compiles them into its own query with bound values only.
 */

export type NumericComparator = "=" | "!=" | ">" | ">=" | "<" | "<=";
export type StringComparator = "=" | "!=" | "LIKE" | "ILIKE";
export type ListComparator = "IN" | "NOT IN";
export type NullComparator = "IS NULL" | "IS NOT NULL";

/**
 * One AND-ed comparison: `<type>.<key> <comparator> <value>`. A number, a string, a list of strings (IN, NOT IN) or
 * nothing (IS NULL, IS NOT NULL), by comparator.
 */
export type FilterClause<T extends string = string, K extends string = string> =
  | { type: T; key: K; comparator: NumericComparator; value: number }
  | { type: T; key: K; comparator: StringComparator; value: string }
  | { type: T; key: K; comparator: ListComparator; values: string[] }
  | { type: T; key: K; comparator: NullComparator };

/** Run attributes compared as strings. */
export const STRING_ATTRIBUTES = ["run_id", "run_name", "status", "user_id", "artifact_uri"] as const;
export type StringAttribute = (typeof STRING_ATTRIBUTES)[number];
/** Run attributes compared as numbers (`created` is an alias of start_time). */
export const NUMERIC_ATTRIBUTES = ["start_time", "end_time"] as const;
export type NumericAttribute = (typeof NUMERIC_ATTRIBUTES)[number];
/** Attributes a search can be ordered by. */
export const ORDER_BY_ATTRIBUTES = [...STRING_ATTRIBUTES, ...NUMERIC_ATTRIBUTES, "experiment_id"] as const;
export type OrderByAttribute = (typeof ORDER_BY_ATTRIBUTES)[number];

/** One AND-ed comparison of a run filter. A run lacking the key fails every clause but `IS NULL`. */
export type RunClause =
  | { type: "metric"; key: string; comparator: NumericComparator; value: number }
  | { type: "param" | "tag"; key: string; comparator: StringComparator; value: string }
  | { type: "param" | "tag"; key: string; comparator: NullComparator }
  | { type: "attribute"; key: StringAttribute; comparator: StringComparator; value: string }
  | { type: "attribute"; key: "run_id"; comparator: ListComparator; values: string[] }
  | { type: "attribute"; key: NumericAttribute; comparator: NumericComparator; value: number };

/** A parsed filter: every clause must hold. Empty matches every run. */
export type RunFilter = RunClause[];

export type OrderTerm =
  | { type: "metric" | "param" | "tag"; key: string; ascending: boolean }
  | { type: "attribute"; key: OrderByAttribute; ascending: boolean };

/** Where a run's value of one order term falls: a value, NaN (metrics only), or no value. Both directions put NaN and missing last. */
export const RANK_VALUE = 0;
export const RANK_NAN = 1;
export const RANK_MISSING = 2;
export type Rank = typeof RANK_VALUE | typeof RANK_NAN | typeof RANK_MISSING;
