/**
 * MongoDB-specific behaviour of the registry and logged models that the conformance suites cannot see: the stored
 * layout (internal ids, tombstones), the per-model leases (a crashed holder's lease is taken over, a live one is
 * waited for), and writes from two servers that FerretDB's non-atomic updates would lose without the leases.
 * Against the run's MongoDB-wire server (MONGODB_URI, else FerretDB).
 */
import { randomBytes } from "node:crypto";
import { type Db, MongoClient } from "mongodb";
import { afterEach, describe, expect, it } from "vitest";
import { mongoTestUri } from "../../../test/harness/mongo.js";
import { AppError, ErrorCode } from "../../domain/errors.js";
import { parseModelVersionFilter, parseModelVersionOrderBy } from "../../domain/filter/model-version-search.js";
import type { NewModelVersion, Store } from "../types.js";
import { type MongoStoreOptions, createMongoStore } from "./mongo-store.js";

const NOW = 1_700_000_000_000;

const stores: Store[] = [];
const clients: MongoClient[] = [];

afterEach(async () => {
  await Promise.all([...stores.splice(0).map((s) => s.close()), ...clients.splice(0).map((c) => c.close())]);
});

async function open(uri: string, options: Partial<MongoStoreOptions> = {}): Promise<Store> {
  const store = createMongoStore({ uri, ...options });
  stores.push(store);
  await store.init();
  return store;
}

/** A plain driver connection to look at (and tamper with) what the store wrote. */
function raw(uri: string): Db {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  clients.push(client);
  return client.db();
}

const newVersion = (name: string, fields: Partial<NewModelVersion> = {}): NewModelVersion => ({
  name,
  source: "mlflow-artifacts:/0/abc/artifacts/model",
  runId: "",
  runLink: "",
  description: "",
  userId: "ada",
  tags: [],
  now: NOW,
  ...fields,
});

const createModel = (store: Store, name: string) => store.createRegisteredModel({ name, description: "", userId: "ada", tags: [], now: NOW });

async function internalId(db: Db, name: string): Promise<string> {
  const doc = await db.collection<{ _id: string; name: string }>("registered_models").findOne({ name });
  if (!doc) throw new Error(`no registered model ${name}`);
  return doc._id;
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe("MongoDB registry: stored layout", () => {
  it("refers to a registered model by an internal id; versions carry a copy of its name that renames keep", async () => {
    const uri = mongoTestUri("registry_layout");
    const store = await open(uri);
    const db = raw(uri);
    await createModel(store, "before");
    await store.createModelVersion(newVersion("before"));
    const id = await internalId(db, "before");
    expect(id).toMatch(/^rm-[0-9a-f]{32}$/);
    const versions = db.collection<{ _id: string }>("model_versions");
    expect(await versions.findOne({ _id: `${id}:1` })).toMatchObject({ model: id, name: "before", version: 1, deleted: false });

    await store.renameRegisteredModel("before", "after", NOW + 1);
    expect(await internalId(db, "after")).toBe(id);
    expect((await store.getModelVersion("after", 1)).name).toBe("after");
    expect(await versions.findOne({ _id: `${id}:1` })).toMatchObject({ name: "after", last_updated_timestamp: NOW + 1 });
    expect(await db.collection<{ _id: string }>("registered_models").findOne({ _id: id })).not.toHaveProperty("renaming");
  });

  it("finishes a rename cut short between the model and its versions, at the next write or the next start", async () => {
    const uri = mongoTestUri("registry_rename_crash");
    const store = await open(uri);
    const db = raw(uri);
    const models = db.collection<{ _id: string }>("registered_models");
    const versions = db.collection<{ _id: string }>("model_versions");
    const byName = (name: string) => ({ filter: parseModelVersionFilter(`name = '${name}'`), order: parseModelVersionOrderBy([]) });
    for (const [name, write] of [
      ["a", () => store.setRegisteredModelTag("a2", { key: "k", value: "v" })],
      ["b", () => open(uri)],
    ] as const) {
      await createModel(store, name);
      await store.createModelVersion(newVersion(name));
      const id = await internalId(db, name);
      // What a crash right after the rename's first write leaves: the model renamed and marked, the versions not.
      await models.updateOne({ _id: id }, { $set: { name: `${name}2`, last_updated_timestamp: NOW + 7, renaming: true } });
      expect((await store.searchModelVersions(byName(`${name}2`), { maxResults: 5 })).items).toEqual([]);
      await write();
      expect((await store.searchModelVersions(byName(`${name}2`), { maxResults: 5 })).items.map((v) => [v.name, v.lastUpdatedTimestamp])).toEqual([[`${name}2`, NOW + 7]]);
      expect(await versions.countDocuments({ name })).toBe(0);
      expect(await models.findOne({ _id: id })).not.toHaveProperty("renaming");
    }
  });

  it("keeps a deleted version as a bare tombstone: its number stays taken, reads and counts skip it, the model's deletion removes it", async () => {
    const uri = mongoTestUri("registry_tombstone");
    const store = await open(uri);
    const db = raw(uri);
    await createModel(store, "m");
    for (let i = 0; i < 3; i++) await store.createModelVersion(newVersion("m", { tags: [{ key: "k", value: "v" }], description: "d" }));
    const id = await internalId(db, "m");
    await store.deleteModelVersion("m", 3, NOW);

    const versions = db.collection<{ _id: string }>("model_versions");
    expect(await versions.findOne({ _id: `${id}:3` })).toEqual({ _id: `${id}:3`, model: id, version: 3, deleted: true });
    const search = { filter: parseModelVersionFilter(""), order: parseModelVersionOrderBy(["version_number"]) };
    expect((await store.searchModelVersions(search, { maxResults: 10 })).items.map((v) => v.version)).toEqual([1, 2]);
    expect((await store.counts()).modelVersions).toBe(2);
    expect((await store.createModelVersion(newVersion("m"))).version).toBe(4);

    await store.deleteRegisteredModel("m");
    expect(await versions.countDocuments({})).toBe(0);
  });
});

describe("MongoDB registry: leases", () => {
  it("takes over the lease of a holder that crashed (past its expiry) and releases its own", async () => {
    const uri = mongoTestUri("registry_lease_expired");
    const store = await open(uri);
    const db = raw(uri);
    await createModel(store, "m");
    await store.createModelVersion(newVersion("m"));
    const id = await internalId(db, "m");
    const leases = db.collection<{ _id: string; owner: string; expires_at: number }>("registry_leases");
    await leases.insertOne({ _id: id, owner: "crashed", expires_at: Date.now() - 1 });

    await store.transitionModelVersionStage("m", 1, "Production", true, NOW);
    expect((await store.getModelVersion("m", 1)).currentStage).toBe("Production");
    expect(await leases.countDocuments({})).toBe(0);
  });

  it("waits for a live lease until it expires, and gives up with TEMPORARILY_UNAVAILABLE when told to wait less", async () => {
    const uri = mongoTestUri("registry_lease_live");
    const db = raw(uri);
    const impatient = await open(uri, { leases: { waitMs: 300 } });
    const patient = await open(uri);
    await createModel(patient, "m");
    const id = await internalId(db, "m");
    const leases = db.collection<{ _id: string; owner: string; expires_at: number }>("registry_leases");
    await leases.insertOne({ _id: id, owner: "slow server", expires_at: Date.now() + 1500 });

    const err = await rejection(impatient.setRegisteredModelTag("m", { key: "k", value: "impatient" }));
    expect(err.code).toBe(ErrorCode.TEMPORARILY_UNAVAILABLE);
    expect((await patient.getRegisteredModel("m")).tags).toEqual([]);

    const started = Date.now();
    await patient.setRegisteredModelTag("m", { key: "k", value: "patient" });
    expect(Date.now() - started).toBeGreaterThan(500);
    expect((await patient.getRegisteredModel("m")).tags).toEqual([{ key: "k", value: "patient" }]);
  });

  it("numbers versions exactly 1..N even when every lease is lost at once (the _id insert is the arbiter)", async () => {
    const uri = mongoTestUri("registry_lease_lost");
    // A TTL of 1 ms: every lease has expired by the time another server looks, so nothing is mutually excluded.
    const [a, b] = [await open(uri, { leases: { ttlMs: 1 } }), await open(uri, { leases: { ttlMs: 1 } })];
    await createModel(a, "m");
    const created = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).createModelVersion(newVersion("m"))));
    expect(created.map((v) => v.version).sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });
});

describe("MongoDB registry: writes from two servers", () => {
  it("loses no registered-model or version tag written concurrently", async () => {
    const uri = mongoTestUri("registry_tags_race");
    const [a, b] = [await open(uri), await open(uri)];
    await createModel(a, "m");
    await a.createModelVersion(newVersion("m"));
    const keys = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, "0")}`);
    await Promise.all(
      keys.flatMap((key, i) => {
        const server = i % 2 === 0 ? a : b;
        return [server.setRegisteredModelTag("m", { key, value: key }), server.setModelVersionTag("m", 1, { key, value: key })];
      }),
    );
    const sortedKeys = (tags: { key: string }[]) => tags.map((t) => t.key).sort();
    expect(sortedKeys((await a.getRegisteredModel("m")).tags)).toEqual(keys);
    expect(sortedKeys((await b.getModelVersion("m", 1)).tags)).toEqual(keys);
  });

  it("loses no logged-model tag or param written concurrently", async () => {
    const uri = mongoTestUri("logged_model_race");
    const [a, b] = [await open(uri), await open(uri)];
    const modelId = `m-${randomBytes(16).toString("hex")}`;
    await a.createLoggedModel({ modelId, experimentId: "0", name: "model", params: [], tags: [], now: NOW });
    const keys = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, "0")}`);
    await Promise.all(
      keys.flatMap((key, i) => {
        const server = i % 2 === 0 ? a : b;
        return [
          server.setLoggedModelTags(modelId, [{ key, value: key }], NOW),
          server.logLoggedModelParams(modelId, [{ key, value: key }], NOW),
          server.finalizeLoggedModel(modelId, "READY", NOW),
        ];
      }),
    );
    const model = await b.getLoggedModel(modelId);
    expect(model.tags.map((t) => t.key).sort()).toEqual(keys);
    expect(model.params.map((p) => p.key).sort()).toEqual(keys);
    expect(model.status).toBe("READY");
  });
});
