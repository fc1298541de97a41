/**
 * Users, grants and access tokens in MongoDB (layout in indexes.ts). User ids come from a counter document as
 * experiment ids do, with the users' unique `_id` as the arbiter; a username and a (user, resource type, resource id)
 * grant are taken once by unique indexes, so concurrent creations end with one winner on FerretDB too (its inserts
 * against a unique key are atomic; its updates are not, and nothing here needs them to be).
 */
import type { Filter } from "mongodb";
import { AppError, ErrorCode, notFound } from "../../domain/errors.js";
import type { Grant } from "../../domain/permission.js";
import { accessTokenNotFound, grantExists, grantNotFound, userExists, userNotFound } from "../../domain/auth-validation.js";
import type { AccessTokenRecord, AuthStore, UserRecord } from "../types.js";
import type { Collections } from "./connection.js";
import { contended, isDuplicateKeyError, mayBeDuplicateKeyOnUpdate } from "./errors.js";
import type { AccessTokenDoc, GrantDoc, UserDoc } from "./mapping.js";

const USER_COUNTER = "user_id";
const MAX_ID_ATTEMPTS = 100;

const toUser = (doc: UserDoc): UserRecord => ({ id: doc._id, username: doc.username, passwordHash: doc.password_hash, isAdmin: doc.is_admin });
const toGrant = (doc: GrantDoc): Grant => ({ userId: doc.user_id, resourceType: doc.resource_type, resourceId: doc.resource_id, permission: doc.permission });
const toToken = (doc: AccessTokenDoc): AccessTokenRecord => ({
  tokenId: doc._id,
  userId: doc.user_id,
  name: doc.name,
  secretHash: doc.secret_hash,
  createdAt: doc.created_at,
  ...(doc.expires_at === undefined ? {} : { expiresAt: doc.expires_at }),
});

export function createAuthStore(c: Collections): AuthStore {
  const { users, grants, accessTokens } = c;

  async function nextUserId(): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      try {
        const doc = await c.counters.findOneAndUpdate({ _id: USER_COUNTER }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: "after" });
        if (doc && Number.isSafeInteger(doc.seq)) return doc.seq;
        throw AppError.from(new Error("user id counter returned no document"));
      } catch (err) {
        // Two first-ever allocations raced to create the counter: the loser retries and increments it.
        if (!isDuplicateKeyError(err) || attempt >= 3) throw err;
      }
    }
  }

  const grantKey = (g: Omit<Grant, "permission">): Filter<GrantDoc> => ({ user_id: g.userId, resource_type: g.resourceType, resource_id: g.resourceId });

  return {
    async createUser({ username, passwordHash, isAdmin }) {
      for (let attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt++) {
        const doc: UserDoc = { _id: await nextUserId(), username, password_hash: passwordHash, is_admin: isAdmin };
        try {
          await users.insertOne(doc);
          return toUser(doc);
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
          // Which unique key? The name, unless the id was taken (a counter that lost increments): then retry.
          if (await users.findOne({ username }, { projection: { _id: 1 } })) {
            throw new AppError(ErrorCode.RESOURCE_ALREADY_EXISTS, userExists(username), { cause: err });
          }
        }
      }
      throw contended("the user id counter");
    },

    async getUser(username) {
      const doc = await users.findOne({ username });
      return doc ? toUser(doc) : null;
    },

    async getUserById(id) {
      const doc = await users.findOne({ _id: id });
      return doc ? toUser(doc) : null;
    },

    listUsers: async () => (await users.find({}).sort({ _id: 1 }).toArray()).map(toUser),

    async updateUser(username, update) {
      const set: Partial<UserDoc> = {};
      if (update.passwordHash !== undefined) set.password_hash = update.passwordHash;
      if (update.isAdmin !== undefined) set.is_admin = update.isAdmin;
      const doc = await users.findOneAndUpdate({ username }, { $set: set }, { returnDocument: "after" });
      if (!doc) throw notFound(userNotFound(username));
      return toUser(doc);
    },

    async deleteUser(username) {
      const doc = await users.findOne({ username }, { projection: { _id: 1 } });
      if (!doc) throw notFound(userNotFound(username));
      // Tokens first: nothing can sign in as the user while the rest goes.
      await accessTokens.deleteMany({ user_id: doc._id });
      await users.deleteOne({ _id: doc._id });
      await grants.deleteMany({ user_id: doc._id });
    },

    async addGrant(grant, username) {
      try {
        await grants.insertOne({ user_id: grant.userId, resource_type: grant.resourceType, resource_id: grant.resourceId, permission: grant.permission });
      } catch (err) {
        if (isDuplicateKeyError(err)) {
          throw new AppError(ErrorCode.RESOURCE_ALREADY_EXISTS, grantExists(username, grant.resourceType, grant.resourceId), { cause: err });
        }
        throw err;
      }
    },

    async putGrant(grant) {
      await grants.updateOne(grantKey(grant), { $set: { permission: grant.permission } }, { upsert: true });
    },

    async removeGrant(grant, username) {
      const { deletedCount } = await grants.deleteOne(grantKey(grant));
      if (deletedCount === 0) throw notFound(grantNotFound(username, grant.resourceType, grant.resourceId));
    },

    listGrants: async (userId) =>
      (await grants.find({ user_id: userId }, { projection: { _id: 0 } }).sort({ resource_type: 1, resource_id: 1 }).toArray()).map(toGrant),

    async removeGrantsOn(resourceType, resourceId) {
      await grants.deleteMany({ resource_type: resourceType, resource_id: resourceId });
    },

    async renameGrantsOn(resourceType, resourceId, newResourceId) {
      if (resourceId === newResourceId) return;
      const holders = await grants.distinct("user_id", { resource_type: resourceType, resource_id: resourceId });
      if (holders.length === 0) return;
      // A user with a grant on both names keeps the one on the old name (it is the one that followed the model).
      await grants.deleteMany({ resource_type: resourceType, resource_id: newResourceId, user_id: { $in: holders } });
      try {
        await grants.updateMany({ resource_type: resourceType, resource_id: resourceId }, { $set: { resource_id: newResourceId } });
      } catch (err) {
        // A grant on the new name written meanwhile: the rename keeps it, and the old name's grant goes.
        if (!mayBeDuplicateKeyOnUpdate(err)) throw err;
        await grants.deleteMany({ resource_type: resourceType, resource_id: resourceId });
      }
    },

    async createAccessToken(token) {
      try {
        await accessTokens.insertOne({
          _id: token.tokenId,
          user_id: token.userId,
          name: token.name,
          secret_hash: token.secretHash,
          created_at: token.createdAt,
          ...(token.expiresAt === undefined ? {} : { expires_at: token.expiresAt }),
        });
      } catch (err) {
        if (isDuplicateKeyError(err)) throw new AppError(ErrorCode.RESOURCE_ALREADY_EXISTS, `Access token ${token.tokenId} already exists`, { cause: err });
        throw err;
      }
    },

    async getAccessToken(tokenId) {
      const doc = await accessTokens.findOne({ _id: tokenId });
      return doc ? toToken(doc) : null;
    },

    listAccessTokens: async (userId) => (await accessTokens.find({ user_id: userId }).sort({ created_at: 1, _id: 1 }).toArray()).map(toToken),

    async deleteAccessToken(userId, tokenId) {
      const { deletedCount } = await accessTokens.deleteOne({ _id: tokenId, user_id: userId });
      if (deletedCount === 0) throw notFound(accessTokenNotFound(tokenId));
    },
  };
}
