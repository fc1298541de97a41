/**
 * AuthService: MLflow 3.17.2's basic-auth API (users and per-user grants, mlflow/server/auth/__init__.py's handlers,
 * with their messages) and Logbook's personal access tokens. Who may call which method is the permission table's
 * business (permission-rules.ts): these functions do what is left once the call is allowed — the rules that depend on
 * the caller (a user changing their own password must give the current one; nobody deletes themselves; the last
 * admin stays one) and the scoping of token calls to the caller's own tokens.
 */
import { AppError, ErrorCode, invalidParameter, notFound } from "../../domain/errors.js";
import {
  accessTokenNotFound,
  userNotFound,
  validateGrantPermission,
  validatePassword,
  validateResourceId,
  validateResourceType,
  validateTokenName,
  validateUsername,
} from "../../domain/auth-validation.js";
import { allows } from "../../domain/permission.js";
import type { Grant, PermissionName } from "../../domain/permission.js";
import { requireField } from "../../domain/validation.js";
import type { AccessTokenRecord, Store, UserRecord } from "../../store/types.js";
import type { AccessToken, AuthServiceService, User, UserPermission } from "../../../gen/ts/logbook/v1/auth_service.js";
import type { CallContext, ServiceImplementation } from "../rpc.js";
import { newAccessToken } from "./access-token.js";
import type { Authenticator } from "./authenticator.js";
import { hashPassword, verifyPassword } from "./password-hash.js";
import { type Principal, permissionOf, principalOf } from "./principal.js";

/** A user may hold at most this many access tokens. */
export const MAX_TOKENS_PER_USER = 100;

export interface AuthDeps {
  store: Store;
  authenticator: Authenticator;
  /** `--auth-default-permission`. */
  defaultPermission: PermissionName;
  clock?: () => number;
}

const userToProto = (u: UserRecord): User => ({ id: BigInt(u.id), username: u.username, isAdmin: u.isAdmin });

/** A grant as one of MLflow's role-permission rows: every user's grants sit in their implicit `__user_<id>__` role. */
const grantToProto = (g: Grant): UserPermission => ({
  roleId: BigInt(g.userId),
  roleName: `__user_${g.userId}__`,
  workspace: "default",
  resourceType: g.resourceType,
  resourcePattern: g.resourceId,
  permission: g.permission,
});

const tokenToProto = (t: AccessTokenRecord, username: string): AccessToken => ({
  tokenId: t.tokenId,
  name: t.name,
  createdAt: BigInt(t.createdAt),
  ...(t.expiresAt === undefined ? {} : { expiresAt: BigInt(t.expiresAt) }),
  username,
});

/** The caller; the guard (guard-services.ts) lets no call without one reach these functions. */
function callerOf(ctx: CallContext): Principal {
  const principal = principalOf(ctx);
  if (!principal) throw new AppError(ErrorCode.UNAUTHENTICATED, "You are not authenticated.");
  return principal;
}

export function createAuthService(deps: AuthDeps): ServiceImplementation<typeof AuthServiceService> {
  const { store, authenticator } = deps;
  const now = deps.clock ?? Date.now;

  async function requireUser(username: string): Promise<UserRecord> {
    requireField(username, "username");
    const user = await store.getUser(username);
    if (!user) throw notFound(userNotFound(username));
    return user;
  }

  /** Refuses to leave the server without an admin. */
  async function keepAnAdmin(losing: UserRecord): Promise<void> {
    if (!losing.isAdmin) return;
    const admins = (await store.listUsers()).filter((u) => u.isAdmin && u.id !== losing.id);
    if (admins.length === 0) throw invalidParameter(`User ${losing.username} is the last admin: make another user an admin first.`);
  }

  return {
    async createUser(req) {
      if (!req.username || !req.password) throw invalidParameter("Username and password cannot be empty.");
      validateUsername(req.username);
      validatePassword(req.password);
      const user = await store.createUser({ username: req.username, passwordHash: await hashPassword(req.password), isAdmin: false });
      return { user: userToProto(user) };
    },

    async getUser(req) {
      return { user: userToProto(await requireUser(req.username)) };
    },

    async updateUserPassword(req, ctx) {
      const caller = callerOf(ctx);
      const user = await requireUser(req.username);
      requireField(req.password, "password");
      if (caller.userId === user.id) {
        // Self-service re-asserts the current password, so a hijacked session cannot silently rotate it (MLflow).
        if (!req.currentPassword) throw invalidParameter("Current password is required when changing your own password.");
        if (!(await verifyPassword(req.currentPassword, user.passwordHash))) throw invalidParameter("Current password does not match.");
        if (req.password === req.currentPassword) throw invalidParameter("New password must differ from the current password.");
      }
      validatePassword(req.password);
      await store.updateUser(user.username, { passwordHash: await hashPassword(req.password) });
      authenticator.invalidateUser(user.id);
      return {};
    },

    async updateUserAdmin(req) {
      const user = await requireUser(req.username);
      if (req.isAdmin === undefined) throw invalidParameter("Missing value for required parameter 'is_admin'. See the API docs for more information about request parameters.");
      if (!req.isAdmin) await keepAnAdmin(user);
      await store.updateUser(user.username, { isAdmin: req.isAdmin });
      authenticator.invalidateUser(user.id);
      return {};
    },

    async deleteUser(req, ctx) {
      const user = await requireUser(req.username);
      if (user.id === callerOf(ctx).userId) {
        throw new AppError(ErrorCode.BAD_REQUEST, "Users cannot delete their own account. Ask another admin to delete this user instead.");
      }
      await keepAnAdmin(user);
      await store.deleteUser(user.username);
      authenticator.invalidateUser(user.id);
      return {};
    },

    async listUsers() {
      return { users: (await store.listUsers()).map(userToProto) };
    },

    async getCurrentUser(_req, ctx) {
      const caller = callerOf(ctx);
      const user = await store.getUserById(caller.userId);
      if (!user) throw notFound(userNotFound(caller.username));
      return { user: userToProto(user), isBasicAuth: caller.method === "password" };
    },

    async grantUserPermission(req) {
      const resourceType = validateResourceType(req.resourceType);
      const resourceId = validateResourceId(req.resourceId);
      const permission = validateGrantPermission(req.permission, resourceType);
      const user = await requireUser(req.username);
      await store.addGrant({ userId: user.id, resourceType, resourceId, permission }, user.username);
      authenticator.invalidateUser(user.id);
      return {};
    },

    async revokeUserPermission(req) {
      const resourceType = validateResourceType(req.resourceType);
      const resourceId = validateResourceId(req.resourceId);
      const user = await requireUser(req.username);
      await store.removeGrant({ userId: user.id, resourceType, resourceId }, user.username);
      authenticator.invalidateUser(user.id);
      return {};
    },

    async getUserPermission(req) {
      const resourceType = validateResourceType(req.resourceType);
      const resourceId = validateResourceId(req.resourceId);
      const user = await requireUser(req.username);
      const target: Principal = { userId: user.id, username: user.username, isAdmin: user.isAdmin, method: "password", grants: await store.listGrants(user.id) };
      const permission = permissionOf(target, resourceType, resourceId, deps.defaultPermission);
      // As MLflow: `allowed` is the regular access tier (USE), not READ.
      return { allowed: allows(permission, "use"), permission };
    },

    async listUserPermissions(req) {
      const user = await requireUser(req.username);
      return { isAdmin: user.isAdmin, permissions: (await store.listGrants(user.id)).map(grantToProto) };
    },

    async listCurrentUserPermissions(_req, ctx) {
      const caller = callerOf(ctx);
      const user = await store.getUserById(caller.userId);
      if (!user) throw notFound(userNotFound(caller.username));
      return { isAdmin: user.isAdmin, permissions: (await store.listGrants(user.id)).map(grantToProto) };
    },

    async createAccessToken(req, ctx) {
      const caller = callerOf(ctx);
      validateTokenName(req.name);
      const createdAt = now();
      if (req.expiresAt !== undefined && Number(req.expiresAt) <= createdAt) throw invalidParameter("expires_at must be in the future.");
      if ((await store.listAccessTokens(caller.userId)).length >= MAX_TOKENS_PER_USER) {
        throw invalidParameter(`A user may hold at most ${MAX_TOKENS_PER_USER} access tokens: revoke one first.`);
      }
      const token = newAccessToken();
      const expiresAt = req.expiresAt === undefined ? undefined : Number(req.expiresAt);
      await store.createAccessToken({
        tokenId: token.tokenId,
        userId: caller.userId,
        name: req.name.trim(),
        secretHash: token.secretHash,
        createdAt,
        ...(expiresAt === undefined ? {} : { expiresAt }),
      });
      return { tokenId: token.tokenId, token: token.token, ...(req.expiresAt === undefined ? {} : { expiresAt: req.expiresAt }) };
    },

    async listAccessTokens(req, ctx) {
      const caller = callerOf(ctx);
      const owner = req.username && req.username !== caller.username ? await requireUser(req.username) : { id: caller.userId, username: caller.username };
      return { tokens: (await store.listAccessTokens(owner.id)).map((t) => tokenToProto(t, owner.username)) };
    },

    async revokeAccessToken(req, ctx) {
      const caller = callerOf(ctx);
      requireField(req.tokenId, "token_id");
      let ownerId = caller.userId;
      if (caller.isAdmin) {
        const token = await store.getAccessToken(req.tokenId);
        if (!token) throw notFound(accessTokenNotFound(req.tokenId));
        ownerId = token.userId;
      }
      await store.deleteAccessToken(ownerId, req.tokenId);
      authenticator.invalidateUser(ownerId);
      return {};
    },
  };
}

/**
 * The first admin, from LOGBOOK_ADMIN_USERNAME and LOGBOOK_ADMIN_PASSWORD(_FILE): created when no user has that name
 * (an existing user is left as it is: its password is never reset from the environment).
 * @returns whether it was created.
 */
export async function ensureAdmin(store: Store, username: string, password: string): Promise<boolean> {
  validateUsername(username);
  validatePassword(password);
  if (await store.getUser(username)) return false;
  try {
    await store.createUser({ username, passwordHash: await hashPassword(password), isAdmin: true });
    return true;
  } catch (err) {
    // Another server created it at the same moment.
    if (err instanceof AppError && err.code === ErrorCode.RESOURCE_ALREADY_EXISTS) return false;
    throw err;
  }
}
