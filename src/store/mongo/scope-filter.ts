/** The "readable by the caller" condition of a query (domain/permission.ts IdScope) as one MongoDB filter document. */
import type { Document } from "mongodb";
import type { IdScope } from "../../domain/permission.js";

/** `{field: {$in: ids}}` or `{field: {$nin: ids}}`; undefined when the scope restricts nothing. */
export function scopeFilter(field: string, scope: IdScope | undefined): Document | undefined {
  if (!scope) return undefined;
  if ("only" in scope) return { [field]: { $in: [...scope.only] } };
  return scope.except.length === 0 ? undefined : { [field]: { $nin: [...scope.except] } };
}
