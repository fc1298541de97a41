/**
 * Users, passwords, grants and access tokens: MLflow 3.17.2's rules (mlflow/utils/validation.py `_validate_username`,
 * `_validate_password`; the basic-auth handlers' messages), plus the limits MLflow leaves to its database.
 */
import { invalidParameter } from "./errors.js";
import { GRANTABLE_PERMISSIONS, PERMISSIONS, type PermissionName, RESOURCE_TYPES, type ResourceType, isPermissionName, isResourceType } from "./permission.js";
import { requireField } from "./validation.js";

/** MLflow's users table keeps 255 characters. */
export const MAX_USERNAME_LENGTH = 255;
/** MLflow's minimum. */
export const MIN_PASSWORD_LENGTH = 12;
/** Bounds the work a password costs the key-derivation function. */
export const MAX_PASSWORD_LENGTH = 1024;
export const MAX_TOKEN_NAME_LENGTH = 250;

/**
 * A username a user can sign in with: HTTP Basic credentials are `username:password`, so a colon would make the
 * account unusable, and control characters cannot be typed into a client.
 */
export function validateUsername(username: string): void {
  if (username === "") throw invalidParameter("Username cannot be empty.");
  if (username.length > MAX_USERNAME_LENGTH) throw invalidParameter(`Username is longer than ${MAX_USERNAME_LENGTH} characters.`);
  if (/[:\u0000-\u001f\u007f]/.test(username)) throw invalidParameter("Username must not contain ':' or control characters.");
}

export function validatePassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw invalidParameter(`Password must be at least ${MIN_PASSWORD_LENGTH} characters.`);
  if (password.length > MAX_PASSWORD_LENGTH) throw invalidParameter(`Password must be at most ${MAX_PASSWORD_LENGTH} characters.`);
}

export function validateTokenName(name: string): void {
  requireField(name.trim(), "name");
  if (name.length > MAX_TOKEN_NAME_LENGTH) throw invalidParameter(`Token name is longer than ${MAX_TOKEN_NAME_LENGTH} characters.`);
}

export const userNotFound = (username: string) => `User with username=${username} not found`;
export const userExists = (username: string) => `User (username=${username}) already exists.`;
export const grantExists = (username: string, resourceType: string, resourceId: string) =>
  `Permission for user=${username} on resource_type=${resourceType}, resource_id=${resourceId} already exists.`;
export const grantNotFound = (username: string, resourceType: string, resourceId: string) =>
  `Permission for user=${username} on resource_type=${resourceType}, resource_id=${resourceId} not found.`;
export const accessTokenNotFound = (tokenId: string) => `Access token ${tokenId} not found`;

/** Python's repr of a tuple of strings, as MLflow's messages print the valid values. */
const pythonTuple = (values: readonly string[]) => `(${values.map((v) => `'${v}'`).join(", ")})`;

/** MLflow's `_validate_resource_type`, over the types Logbook grants on. */
export function validateResourceType(resourceType: string): ResourceType {
  requireField(resourceType, "resource_type");
  if (!isResourceType(resourceType)) {
    throw invalidParameter(`Invalid resource type '${resourceType}'. Valid resource types are: ${pythonTuple(RESOURCE_TYPES)}`);
  }
  return resourceType;
}

/** MLflow's `_validate_permission_for_resource_type`: a known level, and one that can be granted (not NO_PERMISSIONS). */
export function validateGrantPermission(permission: string, resourceType: ResourceType): PermissionName {
  requireField(permission, "permission");
  if (!isPermissionName(permission)) {
    throw invalidParameter(`Invalid permission '${permission}'. Valid permissions are: ${pythonTuple(PERMISSIONS)}`);
  }
  if (!GRANTABLE_PERMISSIONS.includes(permission)) {
    throw invalidParameter(
      `Invalid permission '${permission}' for resource_type='${resourceType}'. Resource-level grants accept only: ${pythonTuple([...GRANTABLE_PERMISSIONS].sort())}.`,
    );
  }
  return permission;
}

/** A grant's resource: an experiment id (or "*"), a registered model name (or "*"). */
export const MAX_RESOURCE_ID_LENGTH = 1000;
export function validateResourceId(resourceId: string): string {
  requireField(resourceId, "resource_id");
  if (resourceId.length > MAX_RESOURCE_ID_LENGTH) throw invalidParameter(`resource_id is longer than ${MAX_RESOURCE_ID_LENGTH} characters.`);
  return resourceId;
}
