/**
 * Permissions as MLflow 3.17.2's basic-auth app defines them (mlflow/server/auth/permissions.py and
 * requirements.py), without its workspaces and roles: a user's grants on experiments and registered models,
 * each on one resource or on all of them ("*"), folded the way MLflow folds them —
 *  - an explicit DENY on the resource (or on "*") always wins;
 *  - otherwise the highest positive grant, never below the server's default permission;
 *  - no grant: the default permission (`--auth-default-permission`, READ unless set).
 * Admins are not restricted by anything. Runs, logged models and artifacts follow their experiment; model versions
 * follow their registered model.
 */

/** MLflow's permission levels. NO_PERMISSIONS is not grantable; DENY is an explicit veto. */
export const PERMISSIONS = ["READ", "USE", "EDIT", "MANAGE", "NO_PERMISSIONS", "DENY"] as const;
export type PermissionName = (typeof PERMISSIONS)[number];

/** What may be granted on a resource (MLflow's RESOURCE_GRANTABLE_PERMISSIONS). */
export const GRANTABLE_PERMISSIONS: readonly PermissionName[] = ["READ", "USE", "EDIT", "MANAGE", "DENY"];

/** What `--auth-default-permission` may be. */
export const DEFAULT_PERMISSIONS: readonly PermissionName[] = ["READ", "USE", "EDIT", "MANAGE", "NO_PERMISSIONS"];

/** An operation's need, as MLflow's validators name them: read, use, update (EDIT), delete and manage (MANAGE). */
export type Action = "read" | "use" | "update" | "delete" | "manage";

const CAPABILITIES: Readonly<Record<PermissionName, readonly Action[]>> = {
  READ: ["read"],
  USE: ["read", "use"],
  EDIT: ["read", "use", "update"],
  MANAGE: ["read", "use", "update", "delete", "manage"],
  DENY: [],
  NO_PERMISSIONS: [],
};

/** MLflow's PERMISSION_PRIORITY: DENY below everything, so it can never win a max. */
const PRIORITY: Readonly<Record<PermissionName, number>> = { DENY: -1, NO_PERMISSIONS: 0, READ: 1, USE: 2, EDIT: 3, MANAGE: 4 };

export function allows(permission: PermissionName, action: Action): boolean {
  return CAPABILITIES[permission].includes(action);
}

export function isPermissionName(value: string): value is PermissionName {
  return (PERMISSIONS as readonly string[]).includes(value);
}

/** The kinds of resource a grant can name. */
export const RESOURCE_TYPES = ["experiment", "registered_model"] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export function isResourceType(value: string): value is ResourceType {
  return (RESOURCE_TYPES as readonly string[]).includes(value);
}

/** A grant's resource id meaning every resource of its type. */
export const ALL_RESOURCES = "*";

/** One stored grant: `permission` on `resourceId` (an experiment id, a registered model name, or "*"). */
export interface Grant {
  userId: number;
  resourceType: ResourceType;
  resourceId: string;
  permission: PermissionName;
}

/**
 * The permission that governs a resource, from the grants of one user that name it or "*" (MLflow's
 * fold_grants_for_key, then floor_positive_permission): DENY among them wins; otherwise the highest, floored at the
 * default; none at all → the default.
 */
export function effectivePermission(grants: readonly Grant[], resourceType: ResourceType, resourceId: string, defaultPermission: PermissionName): PermissionName {
  let best: PermissionName | undefined;
  for (const g of grants) {
    if (g.resourceType !== resourceType || (g.resourceId !== resourceId && g.resourceId !== ALL_RESOURCES)) continue;
    if (g.permission === "DENY") return "DENY";
    if (best === undefined || PRIORITY[g.permission] > PRIORITY[best]) best = g.permission;
  }
  if (best === undefined) return defaultPermission;
  return PRIORITY[best] >= PRIORITY[defaultPermission] ? best : defaultPermission;
}

/**
 * Which resources of a type a query may return, as one condition the store puts inside its query:
 * undefined = all of them; `{ only }` = exactly these ids (possibly none); `{ except }` = all but these.
 */
export type IdScope = { only: readonly string[] } | { except: readonly string[] };

/**
 * The resources of a type on which a user's permission allows `action`. Every grant that names one resource decides
 * that resource; the rest follow the wildcard grant (or the default permission when there is none), so the answer is
 * one id list whatever the number of resources.
 */
export function scopeFor(grants: readonly Grant[], resourceType: ResourceType, action: Action, defaultPermission: PermissionName): IdScope | undefined {
  const named = new Set<string>();
  for (const g of grants) if (g.resourceType === resourceType && g.resourceId !== ALL_RESOURCES) named.add(g.resourceId);
  // What a resource without a grant of its own gets: the wildcard grants, else the default.
  const wildcard = grants.filter((g) => g.resourceId === ALL_RESOURCES);
  const others = allows(effectivePermission(wildcard, resourceType, ALL_RESOURCES, defaultPermission), action);
  const differing = [...named].filter((id) => allows(effectivePermission(grants, resourceType, id, defaultPermission), action) !== others);
  if (others) return differing.length === 0 ? undefined : { except: differing.sort() };
  return { only: differing.sort() };
}

/**
 * The ids of a list that a scope lets through. A query that names its resources (a run search's experiment ids) takes
 * the caller's scope this way: the same query over a shorter list rather than one more condition, so the database
 * plans it as it would without auth. Ids compare as strings: ids are canonical ("7", never "07"), and one that is not
 * names nothing.
 */
export function withinScope(ids: readonly string[], scope: IdScope | undefined): readonly string[] {
  return scope ? ids.filter((id) => inScope(scope, id)) : ids;
}

/** Whether an id is inside a scope. */
export function inScope(scope: IdScope | undefined, id: string): boolean {
  if (!scope) return true;
  return "only" in scope ? scope.only.includes(id) : !scope.except.includes(id);
}
