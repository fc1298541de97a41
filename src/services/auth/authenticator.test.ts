import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sqliteBackend } from "../../../test/harness/sqlite-backend.js";
import { AppError, ErrorCode } from "../../domain/errors.js";
import type { Store } from "../../store/types.js";
import { newAccessToken } from "./access-token.js";
import { type Authenticator, createAuthenticator, parseAuthorization } from "./authenticator.js";
import { FREE_FAILURES, SignInThrottled, createFailureThrottle } from "./failure-throttle.js";
import { hashPassword, verifyPassword } from "./password-hash.js";

const basic = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof AppError)) throw new Error(`expected an AppError, got ${String(err)}`);
  return err.code;
}

describe("password hashes", () => {
  it("are scrypt with the parameters in the string, salted, and verify only the right password", async () => {
    const a = await hashPassword("correct horse battery");
    const b = await hashPassword("correct horse battery");
    expect(a).toMatch(/^scrypt\$15\$8\$3\$[\w-]{22}\$[\w-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse battery", a)).toBe(true);
    expect(await verifyPassword("correct horse batterY", a)).toBe(false);
    expect(await verifyPassword("correct horse battery", "plain")).toBe(false);
    expect(await verifyPassword("x", "scrypt$40$8$3$AAAA$AAAA")).toBe(false);
  });
});

describe("parseAuthorization", () => {
  it("reads Basic and Bearer, and a token given as the Basic password", () => {
    expect(parseAuthorization(basic("alice", "pa:ss word"))).toEqual({ kind: "password", username: "alice", password: "pa:ss word" });
    const { token, tokenId } = newAccessToken();
    expect(parseAuthorization(`Bearer ${token}`)).toMatchObject({ kind: "token", tokenId });
    expect(parseAuthorization(`bearer ${token}`)).toMatchObject({ kind: "token", tokenId });
    expect(parseAuthorization(basic("alice", token))).toMatchObject({ kind: "token", tokenId, username: "alice" });
  });

  it.each([undefined, "", "Basic", "Basic !!!", basic("", "x"), `Basic ${Buffer.from("nocolon").toString("base64")}`, "Bearer abc", "Digest x=1"])(
    "refuses %j as UNAUTHENTICATED",
    (header) => {
      expect(() => parseAuthorization(header)).toThrowError(expect.objectContaining({ code: ErrorCode.UNAUTHENTICATED }));
    },
  );
});

describe("failure throttle", () => {
  it("makes a pair wait after repeated failures, doubling, without touching other addresses; success resets", () => {
    let now = 0;
    const throttle = createFailureThrottle(() => now);
    for (let i = 0; i < FREE_FAILURES - 1; i++) {
      throttle.check("user:admin", "10.0.0.9");
      throttle.recordFailure("user:admin", "10.0.0.9");
    }
    throttle.check("user:admin", "10.0.0.9");
    throttle.recordFailure("user:admin", "10.0.0.9");
    expect(() => throttle.check("user:admin", "10.0.0.9")).toThrowError(SignInThrottled);
    expect(() => throttle.check("user:admin", "10.0.0.9")).toThrowError(expect.objectContaining({ retryAfterS: 1, code: ErrorCode.REQUEST_LIMIT_EXCEEDED }));
    throttle.check("user:admin", "127.0.0.1");
    throttle.check("user:bob", "10.0.0.9");
    now += 1000;
    throttle.check("user:admin", "10.0.0.9");
    throttle.recordFailure("user:admin", "10.0.0.9");
    expect(() => throttle.check("user:admin", "10.0.0.9")).toThrowError(expect.objectContaining({ retryAfterS: 2 }));
    now += 2000;
    throttle.recordSuccess("user:admin", "10.0.0.9");
    throttle.check("user:admin", "10.0.0.9");
    throttle.recordFailure("user:admin", "10.0.0.9");
    throttle.check("user:admin", "10.0.0.9");
  });
});

describe("authenticator (on a real SQLite store)", () => {
  let store: Store;
  let now: number;
  let reads: { getUser: number; getUserById: number; listGrants: number };
  let auth: Authenticator;

  beforeEach(async () => {
    store = await sqliteBackend.open();
    await store.init();
    now = 1_000_000;
    reads = { getUser: 0, getUserById: 0, listGrants: 0 };
    // The real store, with its reads counted.
    const counted: Store = Object.create(store) as Store;
    counted.getUser = (name) => (reads.getUser++, store.getUser(name));
    counted.getUserById = (id) => (reads.getUserById++, store.getUserById(id));
    counted.listGrants = (id) => (reads.listGrants++, store.listGrants(id));
    auth = createAuthenticator({ store: counted, clock: () => now, refreshMs: 5000 });
  });

  afterEach(async () => {
    await store.close();
  });

  async function addUser(username: string, password: string, isAdmin = false) {
    return store.createUser({ username, passwordHash: await hashPassword(password), isAdmin });
  }

  it("signs in with a password, then answers from its cache until the refresh interval", async () => {
    const alice = await addUser("alice", "alice-password-1", true);
    await store.addGrant({ userId: alice.id, resourceType: "experiment", resourceId: "3", permission: "DENY" }, "alice");
    const principal = await auth.authenticate(basic("alice", "alice-password-1"), "127.0.0.1");
    expect(principal).toEqual({
      userId: alice.id,
      username: "alice",
      isAdmin: true,
      method: "password",
      grants: [{ userId: alice.id, resourceType: "experiment", resourceId: "3", permission: "DENY" }],
    });
    await auth.authenticate(basic("alice", "alice-password-1"), "127.0.0.1");
    expect(reads).toEqual({ getUser: 1, getUserById: 0, listGrants: 1 });
    now += 5000;
    await auth.authenticate(basic("alice", "alice-password-1"), "127.0.0.1");
    expect(reads).toEqual({ getUser: 1, getUserById: 1, listGrants: 2 });
  });

  it("verifies concurrent first requests with the same credentials once", async () => {
    await addUser("alice", "alice-password-1");
    await Promise.all(Array.from({ length: 8 }, () => auth.authenticate(basic("alice", "alice-password-1"), "127.0.0.1")));
    expect(reads.getUser).toBe(1);
  });

  it("refuses wrong passwords and unknown users alike", async () => {
    await addUser("alice", "alice-password-1");
    expect(await codeOf(auth.authenticate(basic("alice", "wrong-password-1"), "127.0.0.1"))).toBe(ErrorCode.UNAUTHENTICATED);
    expect(await codeOf(auth.authenticate(basic("nobody", "alice-password-1"), "127.0.0.1"))).toBe(ErrorCode.UNAUTHENTICATED);
  });

  it("slows down repeated failures from one address while the right password still works from another", async () => {
    await addUser("admin", "admin-password-1", true);
    for (let i = 0; i < FREE_FAILURES; i++) {
      expect(await codeOf(auth.authenticate(basic("admin", `guess-number-${i}`), "203.0.113.7"))).toBe(ErrorCode.UNAUTHENTICATED);
    }
    const readsBefore = reads.getUser;
    expect(await codeOf(auth.authenticate(basic("admin", "admin-password-1"), "203.0.113.7"))).toBe(ErrorCode.REQUEST_LIMIT_EXCEEDED);
    // Refused without being checked.
    expect(reads.getUser).toBe(readsBefore);
    expect((await auth.authenticate(basic("admin", "admin-password-1"), "127.0.0.1")).username).toBe("admin");
  });

  it("applies a password change at the next refresh, and at once after invalidateUser", async () => {
    const bob = await addUser("bob", "bob-password-one");
    await auth.authenticate(basic("bob", "bob-password-one"), "127.0.0.1");
    await store.updateUser("bob", { passwordHash: await hashPassword("bob-password-two") });
    await auth.authenticate(basic("bob", "bob-password-one"), "127.0.0.1");
    now += 5000;
    expect(await codeOf(auth.authenticate(basic("bob", "bob-password-one"), "127.0.0.1"))).toBe(ErrorCode.UNAUTHENTICATED);
    expect((await auth.authenticate(basic("bob", "bob-password-two"), "127.0.0.1")).userId).toBe(bob.id);
    await store.updateUser("bob", { isAdmin: true });
    expect((await auth.authenticate(basic("bob", "bob-password-two"), "127.0.0.1")).isAdmin).toBe(false);
    auth.invalidateUser(bob.id);
    expect((await auth.authenticate(basic("bob", "bob-password-two"), "127.0.0.1")).isAdmin).toBe(true);
  });

  it("signs in with a token (Bearer, or as the Basic password of its owner) until it expires or is revoked", async () => {
    const carol = await addUser("carol", "carol-password-1");
    await addUser("dave", "dave-password-11");
    const t = newAccessToken();
    await store.createAccessToken({ tokenId: t.tokenId, userId: carol.id, name: "ci", secretHash: t.secretHash, createdAt: now, expiresAt: now + 60_000 });
    expect(await auth.authenticate(`Bearer ${t.token}`, "127.0.0.1")).toMatchObject({ username: "carol", method: "token" });
    expect(await auth.authenticate(basic("carol", t.token), "127.0.0.1")).toMatchObject({ username: "carol", method: "token" });
    expect(await codeOf(auth.authenticate(basic("dave", t.token), "127.0.0.1"))).toBe(ErrorCode.UNAUTHENTICATED);
    const forged = `${t.token.slice(0, -1)}${t.token.endsWith("A") ? "B" : "A"}`;
    expect(await codeOf(auth.authenticate(`Bearer ${forged}`, "127.0.0.1"))).toBe(ErrorCode.UNAUTHENTICATED);

    now += 60_000;
    expect(await codeOf(auth.authenticate(`Bearer ${t.token}`, "127.0.0.1"))).toBe(ErrorCode.UNAUTHENTICATED);

    const u = newAccessToken();
    await store.createAccessToken({ tokenId: u.tokenId, userId: carol.id, name: "laptop", secretHash: u.secretHash, createdAt: now });
    await auth.authenticate(`Bearer ${u.token}`, "127.0.0.1");
    await store.deleteAccessToken(carol.id, u.tokenId);
    now += 5000;
    expect(await codeOf(auth.authenticate(`Bearer ${u.token}`, "127.0.0.1"))).toBe(ErrorCode.UNAUTHENTICATED);
  });

  it("refuses a deleted user's cached credentials at the next refresh", async () => {
    await addUser("erin", "erin-password-1");
    await auth.authenticate(basic("erin", "erin-password-1"), "127.0.0.1");
    await store.deleteUser("erin");
    now += 5000;
    expect(await codeOf(auth.authenticate(basic("erin", "erin-password-1"), "127.0.0.1"))).toBe(ErrorCode.UNAUTHENTICATED);
  });
});
