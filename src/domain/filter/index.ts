/** MLflow's run search language: parse once into an AST; stores compile it. */
export * from "./ast.js";
export { parseRunFilter } from "./parse-filter.js";
export { parseOrderBy } from "./parse-order-by.js";
export { decodeRunPageToken, encodeRunPageToken } from "./page-token.js";
export { type SearchableRun, type SortKey, type SortValue, compareSortKeys, matchesFilter, sortKeyOf, compareCodePoints } from "./run-order.js";
export { like, ilike, likeToGlob } from "./like.js";
