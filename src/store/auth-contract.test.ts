/**
 * Users, grants and access tokens: the AuthStore conformance suite (src/store/types.ts is the contract), the same
 * cases against every backend, each on a fresh database per test.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mongoBackend } from "../../test/harness/mongo-backend.js";
import { sqliteBackend } from "../../test/harness/sqlite-backend.js";
import { AppError, ErrorCode } from "../domain/errors.js";
import type { Grant } from "../domain/permission.js";
import { accessTokenNotFound, grantExists, grantNotFound, userExists, userNotFound } from "../domain/auth-validation.js";
import type { Store } from "./types.js";

interface StoreBackend {
  name: string;
  open(): Promise<Store>;
  openSameDatabase(store: Store): Promise<Store>;
}

const backends: StoreBackend[] = [sqliteBackend, mongoBackend];

async function expectError(promise: Promise<unknown>, code: ErrorCode, message: string): Promise<void> {
  const err = await promise.then(
    () => new Error(`expected ${code}, but the call succeeded`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect({ code: (err as AppError).code, message: (err as AppError).message }).toEqual({ code, message });
}

describe.each(backends)("Auth contract: $name", (backend) => {
  const opened: Store[] = [];
  let store: Store;

  beforeEach(async () => {
    store = await backend.open();
    opened.push(store);
    await store.init();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  const newUser = (username: string, isAdmin = false) => store.createUser({ username, passwordHash: `hash-of-${username}`, isAdmin });

  it("creates users with increasing integer ids, finds them by name and id, lists them by id", async () => {
    const alice = await newUser("alice", true);
    const bob = await newUser("bob");
    expect(alice).toEqual({ id: alice.id, username: "alice", passwordHash: "hash-of-alice", isAdmin: true });
    expect(Number.isSafeInteger(alice.id) && bob.id > alice.id).toBe(true);
    expect(await store.getUser("bob")).toEqual(bob);
    expect(await store.getUserById(alice.id)).toEqual(alice);
    expect(await store.getUser("carol")).toBeNull();
    expect(await store.getUser("Alice")).toBeNull();
    expect(await store.getUserById(999_999)).toBeNull();
    expect(await store.listUsers()).toEqual([alice, bob]);
  });

  it("takes a username once, also when two servers create it at the same moment", async () => {
    await newUser("alice");
    await expectError(newUser("alice"), ErrorCode.RESOURCE_ALREADY_EXISTS, userExists("alice"));
    const other = await backend.openSameDatabase(store);
    opened.push(other);
    await other.init();
    const results = await Promise.allSettled([
      store.createUser({ username: "dave", passwordHash: "h1", isAdmin: false }),
      other.createUser({ username: "dave", passwordHash: "h2", isAdmin: false }),
      store.createUser({ username: "erin", passwordHash: "h3", isAdmin: false }),
      other.createUser({ username: "frank", passwordHash: "h4", isAdmin: false }),
    ]);
    // Exactly one of the two "dave"s.
    expect(results.slice(0, 2).map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(results.slice(2).map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    const loser = results.slice(0, 2).find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect((loser.reason as AppError).code).toBe(ErrorCode.RESOURCE_ALREADY_EXISTS);
    const ids = (await store.listUsers()).map((u) => u.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("updates a password hash and the admin flag, each on its own", async () => {
    const bob = await newUser("bob");
    expect(await store.updateUser("bob", { passwordHash: "new-hash" })).toEqual({ ...bob, passwordHash: "new-hash" });
    expect(await store.updateUser("bob", { isAdmin: true })).toEqual({ ...bob, passwordHash: "new-hash", isAdmin: true });
    expect(await store.getUser("bob")).toEqual({ ...bob, passwordHash: "new-hash", isAdmin: true });
    await expectError(store.updateUser("nobody", { isAdmin: true }), ErrorCode.RESOURCE_DOES_NOT_EXIST, userNotFound("nobody"));
  });

  it("adds a grant once per (user, type, resource); putGrant replaces; removeGrant removes", async () => {
    const bob = await newUser("bob");
    const grant: Grant = { userId: bob.id, resourceType: "experiment", resourceId: "7", permission: "READ" };
    await store.addGrant(grant, "bob");
    await expectError(store.addGrant({ ...grant, permission: "EDIT" }, "bob"), ErrorCode.RESOURCE_ALREADY_EXISTS, grantExists("bob", "experiment", "7"));
    await store.addGrant({ ...grant, resourceType: "registered_model", resourceId: "7", permission: "DENY" }, "bob");
    await store.addGrant({ ...grant, resourceId: "*", permission: "USE" }, "bob");
    await store.putGrant({ ...grant, permission: "MANAGE" });
    await store.putGrant({ userId: bob.id, resourceType: "experiment", resourceId: "8", permission: "EDIT" });
    expect(await store.listGrants(bob.id)).toEqual([
      { userId: bob.id, resourceType: "experiment", resourceId: "*", permission: "USE" },
      { userId: bob.id, resourceType: "experiment", resourceId: "7", permission: "MANAGE" },
      { userId: bob.id, resourceType: "experiment", resourceId: "8", permission: "EDIT" },
      { userId: bob.id, resourceType: "registered_model", resourceId: "7", permission: "DENY" },
    ]);
    await store.removeGrant({ userId: bob.id, resourceType: "experiment", resourceId: "7" }, "bob");
    await expectError(
      store.removeGrant({ userId: bob.id, resourceType: "experiment", resourceId: "7" }, "bob"),
      ErrorCode.RESOURCE_DOES_NOT_EXIST,
      grantNotFound("bob", "experiment", "7"),
    );
    expect((await store.listGrants(bob.id)).map((g) => g.resourceId)).toEqual(["*", "8", "7"]);
  });

  it("removes and renames every user's grants on one resource, keeping the old name's grant over the new one's", async () => {
    const bob = await newUser("bob");
    const carol = await newUser("carol");
    const g = (userId: number, resourceId: string, permission: Grant["permission"]): Grant => ({ userId, resourceType: "registered_model", resourceId, permission });
    await store.addGrant(g(bob.id, "model-a", "MANAGE"), "bob");
    await store.addGrant(g(carol.id, "model-a", "READ"), "carol");
    await store.addGrant(g(carol.id, "model-b", "DENY"), "carol");
    await store.addGrant({ ...g(bob.id, "model-a", "EDIT"), resourceType: "experiment" }, "bob");

    await store.renameGrantsOn("registered_model", "model-a", "model-b");
    expect(await store.listGrants(bob.id)).toEqual([{ ...g(bob.id, "model-a", "EDIT"), resourceType: "experiment" }, g(bob.id, "model-b", "MANAGE")]);
    expect(await store.listGrants(carol.id)).toEqual([g(carol.id, "model-b", "READ")]);

    await store.removeGrantsOn("registered_model", "model-b");
    expect(await store.listGrants(bob.id)).toEqual([{ ...g(bob.id, "model-a", "EDIT"), resourceType: "experiment" }]);
    expect(await store.listGrants(carol.id)).toEqual([]);
  });

  it("keeps tokens per user, oldest first, and deletes only the owner's", async () => {
    const bob = await newUser("bob");
    const carol = await newUser("carol");
    const t1 = { tokenId: "a1b2c3d4e5f60718", userId: bob.id, name: "ci", secretHash: "s1", createdAt: 2000 };
    const t2 = { tokenId: "0011223344556677", userId: bob.id, name: "laptop", secretHash: "s2", createdAt: 1000, expiresAt: 9000 };
    await store.createAccessToken(t1);
    await store.createAccessToken(t2);
    await expectError(store.createAccessToken({ ...t1, userId: carol.id }), ErrorCode.RESOURCE_ALREADY_EXISTS, `Access token ${t1.tokenId} already exists`);
    expect(await store.getAccessToken(t1.tokenId)).toEqual(t1);
    expect(await store.getAccessToken("ffffffffffffffff")).toBeNull();
    expect(await store.listAccessTokens(bob.id)).toEqual([t2, t1]);
    expect(await store.listAccessTokens(carol.id)).toEqual([]);
    await expectError(store.deleteAccessToken(carol.id, t1.tokenId), ErrorCode.RESOURCE_DOES_NOT_EXIST, accessTokenNotFound(t1.tokenId));
    await store.deleteAccessToken(bob.id, t1.tokenId);
    expect(await store.getAccessToken(t1.tokenId)).toBeNull();
  });

  it("deletes a user with their grants and tokens; the id is not reused", async () => {
    const bob = await newUser("bob");
    await store.addGrant({ userId: bob.id, resourceType: "experiment", resourceId: "1", permission: "EDIT" }, "bob");
    await store.createAccessToken({ tokenId: "1111222233334444", userId: bob.id, name: "ci", secretHash: "s", createdAt: 1 });
    await store.deleteUser("bob");
    expect(await store.getUser("bob")).toBeNull();
    expect(await store.listGrants(bob.id)).toEqual([]);
    expect(await store.getAccessToken("1111222233334444")).toBeNull();
    await expectError(store.deleteUser("bob"), ErrorCode.RESOURCE_DOES_NOT_EXIST, userNotFound("bob"));
    const again = await newUser("bob");
    expect(again.id).toBeGreaterThan(bob.id);
    expect(await store.listGrants(again.id)).toEqual([]);
  });
});
