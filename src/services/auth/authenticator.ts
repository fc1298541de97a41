/**
 * Credentials → Principal, for both transports: `Authorization: Basic <base64 user:password>` (what MLflow clients
 * send from MLFLOW_TRACKING_USERNAME/PASSWORD; the password may also be one of the user's access tokens) or
 * `Authorization: Bearer <token>` (MLFLOW_TRACKING_TOKEN). gRPC callers send the same value as `authorization`
 * metadata.
 *
 * A verification cache keeps a request from paying the KDF each time: an entry, keyed by an HMAC of the header under
 * a per-process key (no credential is kept in memory in the clear), holds the principal and is refreshed from the
 * store once it is older than `refreshMs` — the user, their grants and the token are read again, and a changed
 * password hash means the password is verified again. So a change made through another Logbook process (a new
 * password, a revoked token or grant, a deleted user) takes effect within `refreshMs`; through this one, at once.
 * Concurrent requests with the same new credentials share one verification. Failures are slowed down per (account,
 * client address) (failure-throttle.ts). Nothing here logs a credential.
 */
import { createHmac, randomBytes } from "node:crypto";
import { AppError, ErrorCode } from "../../domain/errors.js";
import type { AuthStore, UserRecord } from "../../store/types.js";
import { parseAccessToken, secretMatches } from "./access-token.js";
import { type FailureThrottle, createFailureThrottle } from "./failure-throttle.js";
import { decoyHash, verifyPassword } from "./password-hash.js";
import type { Principal } from "./principal.js";

export const DEFAULT_REFRESH_MS = 5000;
const MAX_ENTRIES = 10_000;

export const unauthenticated = (message = "You are not authenticated: send HTTP Basic credentials or a Bearer access token.") =>
  new AppError(ErrorCode.UNAUTHENTICATED, message);

type Credentials = { kind: "password"; username: string; password: string } | { kind: "token"; tokenId: string; secret: string; username?: string };

/** Reads an Authorization header value. @throws UNAUTHENTICATED when it is missing or not one of the two schemes. */
export function parseAuthorization(header: string | undefined): Credentials {
  if (header === undefined || header === "") throw unauthenticated();
  const space = header.indexOf(" ");
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  const value = space === -1 ? "" : header.slice(space + 1).trim();
  if (scheme === "bearer") {
    const token = parseAccessToken(value);
    if (!token) throw unauthenticated("The Bearer token is not a Logbook access token.");
    return { kind: "token", ...token };
  }
  if (scheme === "basic") {
    const decoded = /^[A-Za-z0-9+/]*={0,2}$/.test(value) ? Buffer.from(value, "base64").toString("utf8") : "";
    const colon = decoded.indexOf(":");
    if (colon <= 0) throw unauthenticated("Malformed HTTP Basic credentials.");
    const username = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const token = parseAccessToken(password);
    return token ? { kind: "token", ...token, username } : { kind: "password", username, password };
  }
  throw unauthenticated("Unsupported authorization scheme: use Basic or Bearer.");
}

interface Entry {
  principal: Principal;
  /** The stored password hash the password was verified against (password sign-ins). */
  passwordHash?: string;
  tokenId?: string;
  expiresAt?: number;
  loadedAt: number;
}

export interface Authenticator {
  /**
   * @param clientAddress the caller's IP address, for the failure throttle.
   * @throws UNAUTHENTICATED for missing or wrong credentials; REQUEST_LIMIT_EXCEEDED (SignInThrottled) while the
   * (account, address) pair must wait after repeated failures.
   */
  authenticate(authorization: string | undefined, clientAddress: string): Promise<Principal>;
  /** Makes every cached sign-in of a user be checked again (after a change to their password, admin flag, grants or tokens). */
  invalidateUser(userId: number): void;
  /** Makes every cached sign-in be checked again (grants changed under many users: a registered model renamed or deleted). */
  invalidateAll(): void;
}

/** What both transports' edges call: credentials (an `Authorization` value) and the client's address → the caller. */
export type Authenticate = Authenticator["authenticate"];

export interface AuthenticatorOptions {
  store: AuthStore;
  clock?: () => number;
  refreshMs?: number;
  throttle?: FailureThrottle;
}

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { store } = options;
  const clock = options.clock ?? Date.now;
  const refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
  const throttle = options.throttle ?? createFailureThrottle(clock);
  const cacheKey = randomBytes(32);
  const cache = new Map<string, Entry>();
  const pending = new Map<string, Promise<Entry | undefined>>();

  const principalOf = async (user: UserRecord, method: Principal["method"]): Promise<Principal> => ({
    userId: user.id,
    username: user.username,
    isAdmin: user.isAdmin,
    method,
    grants: await store.listGrants(user.id),
  });

  /** Checks the credentials against the store; undefined when they are wrong. */
  async function verify(credentials: Credentials): Promise<Entry | undefined> {
    const now = clock();
    if (credentials.kind === "password") {
      const user = await store.getUser(credentials.username);
      // An unknown user costs a verification too, so that timing does not tell which usernames exist.
      const ok = await verifyPassword(credentials.password, user?.passwordHash ?? (await decoyHash()));
      if (!user || !ok) return undefined;
      return { principal: await principalOf(user, "password"), passwordHash: user.passwordHash, loadedAt: now };
    }
    const token = await store.getAccessToken(credentials.tokenId);
    if (!token || !secretMatches(credentials.secret, token.secretHash) || (token.expiresAt !== undefined && token.expiresAt <= now)) return undefined;
    const user = await store.getUserById(token.userId);
    if (!user || (credentials.username !== undefined && credentials.username !== user.username)) return undefined;
    return { principal: await principalOf(user, "token"), tokenId: token.tokenId, ...(token.expiresAt === undefined ? {} : { expiresAt: token.expiresAt }), loadedAt: now };
  }

  /** Brings a stale entry up to date; undefined when its credentials no longer hold. */
  async function refresh(entry: Entry, credentials: Credentials): Promise<Entry | undefined> {
    const user = await store.getUserById(entry.principal.userId);
    if (!user) return undefined;
    if (entry.tokenId !== undefined) {
      const token = await store.getAccessToken(entry.tokenId);
      if (!token || token.userId !== user.id) return undefined;
    } else if (user.passwordHash !== entry.passwordHash) {
      return verify(credentials);
    }
    return { ...entry, principal: await principalOf(user, entry.principal.method), loadedAt: clock() };
  }

  function remember(key: string, entry: Entry): void {
    cache.delete(key);
    cache.set(key, entry);
    if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  }

  return {
    async authenticate(authorization, clientAddress) {
      const credentials = parseAuthorization(authorization);
      const key = createHmac("sha256", cacheKey).update(authorization!).digest("base64url");
      const now = clock();
      const cached = cache.get(key);
      if (cached && now - cached.loadedAt < refreshMs && (cached.expiresAt === undefined || cached.expiresAt > now)) return cached.principal;

      const account = credentials.kind === "password" ? `user:${credentials.username}` : `token:${credentials.tokenId}`;
      throttle.check(account, clientAddress);
      let work = pending.get(key);
      if (!work) {
        work = (cached ? refresh(cached, credentials) : verify(credentials)).finally(() => pending.delete(key));
        pending.set(key, work);
      }
      const entry = await work;
      if (!entry || (entry.expiresAt !== undefined && entry.expiresAt <= clock())) {
        cache.delete(key);
        throttle.recordFailure(account, clientAddress);
        throw unauthenticated("Invalid credentials.");
      }
      throttle.recordSuccess(account, clientAddress);
      remember(key, entry);
      return entry.principal;
    },

    // Stale entries are refreshed from the store on their next use (no KDF unless the password changed).
    invalidateUser(userId) {
      for (const entry of cache.values()) if (entry.principal.userId === userId) entry.loadedAt = -Infinity;
    },

    invalidateAll() {
      for (const entry of cache.values()) entry.loadedAt = -Infinity;
    },
  };
}
