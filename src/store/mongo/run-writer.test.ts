/**
 * The two write paths of run-writer.ts against the run's MongoDB-wire server, each chosen explicitly: the
 * compare-and-set path (MongoDB's) retries when another write moved `rev` between its read and its update; the lease
 * path (FerretDB's) does not touch the run while someone else holds its lease. What only MongoDB can show — that its
 * conditional update is atomic under real concurrency — is the MongoDB run of the conformance suite's concurrent
 * cases (MONGODB_URI).
 */
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mongoTestUri } from "../../../test/harness/mongo.js";
import { createWireCounter } from "../../../test/harness/wire-count.js";
import type { Collections } from "./connection.js";
import { createLeases } from "./registry-lease.js";
import { newRunDoc } from "./run-document.js";
import { createRunWriter } from "./run-writer.js";
import type { ServerKind } from "./server-kind.js";

const MONGODB: ServerKind = { kind: "mongodb", version: "test", atomicUpdates: true, wildcardIndexes: false, changeStreams: false };
const FERRETDB: ServerKind = { kind: "ferretdb", version: "test", atomicUpdates: false, wildcardIndexes: false, changeStreams: false };

const wire = createWireCounter();
let client: MongoClient;
const connection = { collections: {} as Collections };

beforeAll(async () => {
  // One connection: operations go out in the order they are started (the pool's wait queue is first come, first
  // served), which is what lets the compare-and-set case put a write between the writer's read and its update.
  client = new MongoClient(mongoTestUri("run_writer"), { maxPoolSize: 1, monitorCommands: true });
  client.on("commandStarted", wire.listener);
  const db = client.db();
  connection.collections = { runs: db.collection("runs"), runLeases: db.collection("run_leases") } as Collections;
  await client.connect();
});

afterAll(async () => {
  await client?.close();
});

async function newRun(runId: string): Promise<void> {
  await connection.collections.runs.insertOne(newRunDoc({ runId, experimentId: "0", userId: "u", runName: "r", startTime: 1, tags: [] }, "mlflow-artifacts:/0"));
}

const writerFor = (kind: ServerKind) => createRunWriter(connection.collections, async () => kind, createLeases(connection.collections.runLeases, { waitMs: 60_000 }, "this run"));

describe("run writer", () => {
  it("compare-and-set: a write that lands between the read and the update makes it read again and recompute", async () => {
    await newRun("cas");
    const seen: (string | undefined)[] = [];
    const result = await writerFor(MONGODB).update("cas", { status: 1, run_name: 1 }, (doc) => {
      seen.push(doc.run_name);
      // Another server renames the run after our read, once.
      if (seen.length === 1) void connection.collections.runs.updateOne({ _id: "cas" }, { $set: { run_name: "theirs" }, $inc: { rev: 1 } });
      return { update: { $set: { status: "FINISHED" } }, result: doc.run_name };
    });
    // The racing update was sent before ours; the first compare-and-set fails on its rev and the second read sees it.
    expect(seen).toEqual(["r", "theirs"]);
    expect(result).toBe("theirs");
    expect(await connection.collections.runs.findOne({ _id: "cas" })).toMatchObject({ run_name: "theirs", status: "FINISHED", rev: 2 });
  });

  it("lease: waits while another server holds the run's lease, then writes", async () => {
    await newRun("leased");
    await connection.collections.runLeases.insertOne({ _id: "leased", owner: "another server", expires_at: Date.now() + 600_000 });
    wire.reset();
    const write = writerFor(FERRETDB).update("leased", { status: 1 }, () => ({ update: { $set: { status: "KILLED" } }, result: "done" }));
    // Until the lease goes, the writer only knocks on it (inserts refused, a look at the holder) and never reads the run.
    await expect.poll(() => wire.snapshot().byTarget["insert run_leases"] ?? 0, { timeout: 60_000, interval: 20 }).toBeGreaterThanOrEqual(3);
    expect(wire.snapshot().byTarget["find runs"]).toBeUndefined();
    expect(await connection.collections.runs.findOne({ _id: "leased" })).toMatchObject({ status: "RUNNING", rev: 0 });
    await connection.collections.runLeases.deleteOne({ _id: "leased" });
    expect(await write).toBe("done");
    expect(await connection.collections.runs.findOne({ _id: "leased" })).toMatchObject({ status: "KILLED", rev: 1 });
    expect(await connection.collections.runLeases.countDocuments({ _id: "leased" })).toBe(0);
  });

  it("answers RESOURCE_DOES_NOT_EXIST for an unknown run on both paths, writing nothing", async () => {
    for (const kind of [MONGODB, FERRETDB]) {
      await expect(writerFor(kind).update("nope", {}, () => ({ update: { $set: { status: "KILLED" } }, result: 1 }))).rejects.toMatchObject({
        code: "RESOURCE_DOES_NOT_EXIST",
        message: "Run with id=nope not found",
      });
      expect(await writerFor(kind).apply("nope", { $set: { status: "KILLED" } }, { status: 1 })).toBeUndefined();
    }
    expect(await connection.collections.runs.countDocuments({ _id: "nope" })).toBe(0);
  });
});
