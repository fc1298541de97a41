/**
 * The authenticated caller, as both transports hand it to the services: who they are, whether they are an admin,
 * and their grants (loaded with the credentials, refreshed every few seconds), so that a permission check costs no
 * store round trip.
 */
import { type Action, type Grant, type IdScope, type PermissionName, type ResourceType, effectivePermission, scopeFor } from "../../domain/permission.js";
import { type CallValues, createCallValueKey } from "../call-values.js";
import type { CallContext } from "../rpc.js";

export interface Principal {
  userId: number;
  username: string;
  isAdmin: boolean;
  /** How the caller signed in: a password (HTTP Basic) or a personal access token. */
  method: "password" | "token";
  grants: readonly Grant[];
}

/** What the principal may do on one resource; admins MANAGE everything. */
export function permissionOf(principal: Principal, resourceType: ResourceType, resourceId: string, defaultPermission: PermissionName): PermissionName {
  return principal.isAdmin ? "MANAGE" : effectivePermission(principal.grants, resourceType, resourceId, defaultPermission);
}

/** Which resources of a type a search may return to the principal (undefined: no restriction). */
export function scopeOf(principal: Principal | undefined, resourceType: ResourceType, action: Action, defaultPermission: PermissionName): IdScope | undefined {
  if (!principal || principal.isAdmin) return undefined;
  return scopeFor(principal.grants, resourceType, action, defaultPermission);
}

/** Where the edge's authentication step puts the caller (both transports); unset with `--auth none`. */
export const PRINCIPAL = createCallValueKey<Principal | undefined>("principal", undefined);

/** The caller of a call, if it was authenticated. */
export const principalOf = (ctx: Pick<CallContext, "values">): Principal | undefined => ctx.values.get(PRINCIPAL);

/** What a call's log lines say about its caller: the username (never a credential); nothing with `--auth none`. */
export function callerLogFields(values: CallValues): { user?: string } {
  const principal = values.get(PRINCIPAL);
  return principal ? { user: principal.username } : {};
}
