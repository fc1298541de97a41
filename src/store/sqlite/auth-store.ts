/** Users, grants and access tokens on SQLite (migration 5). Grants and tokens go with their user (ON DELETE CASCADE). */
import type { Database } from "better-sqlite3";
import { AppError, ErrorCode, notFound } from "../../domain/errors.js";
import type { Grant, PermissionName, ResourceType } from "../../domain/permission.js";
import { accessTokenNotFound, grantExists, grantNotFound, userExists, userNotFound } from "../../domain/auth-validation.js";
import type { AccessTokenRecord, AuthStore, UserRecord } from "../types.js";
import { isUniqueViolation } from "./errors.js";
import type { Synchronous } from "./synchronous.js";

interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  is_admin: number;
}

interface GrantRow {
  user_id: number;
  resource_type: ResourceType;
  resource_id: string;
  permission: PermissionName;
}

interface TokenRow {
  token_id: string;
  user_id: number;
  name: string;
  secret_hash: string;
  created_at: number;
  expires_at: number | null;
}

const toUser = (row: UserRow): UserRecord => ({ id: row.id, username: row.username, passwordHash: row.password_hash, isAdmin: row.is_admin === 1 });
const toGrant = (row: GrantRow): Grant => ({ userId: row.user_id, resourceType: row.resource_type, resourceId: row.resource_id, permission: row.permission });
const toToken = (row: TokenRow): AccessTokenRecord => ({
  tokenId: row.token_id,
  userId: row.user_id,
  name: row.name,
  secretHash: row.secret_hash,
  createdAt: row.created_at,
  ...(row.expires_at === null ? {} : { expiresAt: row.expires_at }),
});

const USER_COLUMNS = "id, username, password_hash, is_admin";
const GRANT_COLUMNS = "user_id, resource_type, resource_id, permission";
const TOKEN_COLUMNS = "token_id, user_id, name, secret_hash, created_at, expires_at";

export function createAuthStore(db: Database): Synchronous<AuthStore> {
  const insertUser = db.prepare<[{ username: string; hash: string; admin: number }], UserRow>(
    `INSERT INTO users (username, password_hash, is_admin) VALUES (@username, @hash, @admin) RETURNING ${USER_COLUMNS}`,
  );
  const selectUser = db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE username = ?`);
  const selectUserById = db.prepare<[number], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`);
  const selectUsers = db.prepare<[], UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY id`);
  const updateUser = db.prepare<[{ username: string; hash: string | null; admin: number | null }], UserRow>(
    `UPDATE users SET password_hash = coalesce(@hash, password_hash), is_admin = coalesce(@admin, is_admin)
     WHERE username = @username RETURNING ${USER_COLUMNS}`,
  );
  const deleteUser = db.prepare<[string]>("DELETE FROM users WHERE username = ?");

  const insertGrant = db.prepare<[GrantRow]>(
    `INSERT INTO grants (${GRANT_COLUMNS}) VALUES (@user_id, @resource_type, @resource_id, @permission)`,
  );
  const upsertGrant = db.prepare<[GrantRow]>(
    `INSERT INTO grants (${GRANT_COLUMNS}) VALUES (@user_id, @resource_type, @resource_id, @permission)
     ON CONFLICT (user_id, resource_type, resource_id) DO UPDATE SET permission = excluded.permission`,
  );
  const deleteGrant = db.prepare<[number, string, string]>("DELETE FROM grants WHERE user_id = ? AND resource_type = ? AND resource_id = ?");
  const selectGrants = db.prepare<[number], GrantRow>(`SELECT ${GRANT_COLUMNS} FROM grants WHERE user_id = ? ORDER BY resource_type, resource_id`);
  const deleteGrantsOn = db.prepare<[string, string]>("DELETE FROM grants WHERE resource_type = ? AND resource_id = ?");
  // A user with a grant on both names keeps the one on the old name (it is the one that followed the model).
  const dropShadowedGrants = db.prepare<[{ type: string; from: string; to: string }]>(
    `DELETE FROM grants WHERE resource_type = @type AND resource_id = @to
       AND user_id IN (SELECT user_id FROM grants WHERE resource_type = @type AND resource_id = @from)`,
  );
  const moveGrants = db.prepare<[{ type: string; from: string; to: string }]>(
    "UPDATE grants SET resource_id = @to WHERE resource_type = @type AND resource_id = @from",
  );

  const insertToken = db.prepare<[TokenRow]>(
    `INSERT INTO access_tokens (${TOKEN_COLUMNS}) VALUES (@token_id, @user_id, @name, @secret_hash, @created_at, @expires_at)`,
  );
  const selectToken = db.prepare<[string], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM access_tokens WHERE token_id = ?`);
  const selectTokens = db.prepare<[number], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM access_tokens WHERE user_id = ? ORDER BY created_at, token_id`);
  const deleteToken = db.prepare<[string, number]>("DELETE FROM access_tokens WHERE token_id = ? AND user_id = ?");

  const rowOfGrant = (g: Grant): GrantRow => ({ user_id: g.userId, resource_type: g.resourceType, resource_id: g.resourceId, permission: g.permission });
  const renameGrants = db.transaction((params: { type: string; from: string; to: string }) => {
    dropShadowedGrants.run(params);
    moveGrants.run(params);
  });

  return {
    createUser({ username, passwordHash, isAdmin }) {
      try {
        return toUser(insertUser.get({ username, hash: passwordHash, admin: isAdmin ? 1 : 0 })!);
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError(ErrorCode.RESOURCE_ALREADY_EXISTS, userExists(username), { cause: err });
        throw err;
      }
    },

    getUser(username) {
      const row = selectUser.get(username);
      return row === undefined ? null : toUser(row);
    },

    getUserById(id) {
      const row = selectUserById.get(id);
      return row === undefined ? null : toUser(row);
    },

    listUsers: () => selectUsers.all().map(toUser),

    updateUser(username, update) {
      const row = updateUser.get({
        username,
        hash: update.passwordHash ?? null,
        admin: update.isAdmin === undefined ? null : update.isAdmin ? 1 : 0,
      });
      if (row === undefined) throw notFound(userNotFound(username));
      return toUser(row);
    },

    deleteUser(username) {
      if (deleteUser.run(username).changes === 0) throw notFound(userNotFound(username));
    },

    addGrant(grant, username) {
      try {
        insertGrant.run(rowOfGrant(grant));
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new AppError(ErrorCode.RESOURCE_ALREADY_EXISTS, grantExists(username, grant.resourceType, grant.resourceId), { cause: err });
        }
        throw err;
      }
    },

    putGrant(grant) {
      upsertGrant.run(rowOfGrant(grant));
    },

    removeGrant(grant, username) {
      if (deleteGrant.run(grant.userId, grant.resourceType, grant.resourceId).changes === 0) {
        throw notFound(grantNotFound(username, grant.resourceType, grant.resourceId));
      }
    },

    listGrants: (userId) => selectGrants.all(userId).map(toGrant),

    removeGrantsOn(resourceType, resourceId) {
      deleteGrantsOn.run(resourceType, resourceId);
    },

    renameGrantsOn(resourceType, resourceId, newResourceId) {
      if (resourceId !== newResourceId) renameGrants.immediate({ type: resourceType, from: resourceId, to: newResourceId });
    },

    createAccessToken(token) {
      try {
        insertToken.run({
          token_id: token.tokenId,
          user_id: token.userId,
          name: token.name,
          secret_hash: token.secretHash,
          created_at: token.createdAt,
          expires_at: token.expiresAt ?? null,
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError(ErrorCode.RESOURCE_ALREADY_EXISTS, `Access token ${token.tokenId} already exists`, { cause: err });
        throw err;
      }
    },

    getAccessToken(tokenId) {
      const row = selectToken.get(tokenId);
      return row === undefined ? null : toToken(row);
    },

    listAccessTokens: (userId) => selectTokens.all(userId).map(toToken),

    deleteAccessToken(userId, tokenId) {
      if (deleteToken.run(tokenId, userId).changes === 0) throw notFound(accessTokenNotFound(tokenId));
    },
  };
}
