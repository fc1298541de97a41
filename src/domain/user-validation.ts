/**
 * Users, passwords and access tokens: MLflow 3.17.2's rules (mlflow/utils/validation.py `_validate_username`,
 * `_validate_password`; the basic-auth handlers' messages), plus the limits MLflow leaves to its database.
 */
import { invalidParameter } from "./errors.js";

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
  if (name.trim() === "") throw invalidParameter("Missing value for required parameter 'name'.");
  if (name.length > MAX_TOKEN_NAME_LENGTH) throw invalidParameter(`Token name is longer than ${MAX_TOKEN_NAME_LENGTH} characters.`);
}

export const userNotFound = (username: string) => `User with username=${username} not found`;
export const userExists = (username: string) => `User (username=${username}) already exists.`;
export const grantExists = (username: string, resourceType: string, resourceId: string) =>
  `Permission for user=${username} on resource_type=${resourceType}, resource_id=${resourceId} already exists.`;
export const grantNotFound = (username: string, resourceType: string, resourceId: string) =>
  `Permission for user=${username} on resource_type=${resourceType}, resource_id=${resourceId} not found.`;
export const accessTokenNotFound = (tokenId: string) => `Access token ${tokenId} not found`;
