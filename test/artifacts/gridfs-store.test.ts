/**
 * The GridFS artifact store at shutdown: a download the consumer left early still has its cursor open; closing
 * the store must finish that cursor first, so nothing fails afterwards on a closed client with no listener
 * (an uncaught exception that would take the server down). Likewise an upload whose chunk insert is under way
 * while its source waits (a slow client) when the store closes.
 */
import { afterEach, describe, expect, it } from "vitest";
import { GridFsArtifactStore } from "../../src/artifacts/gridfs-store.js";
import { content, MiB } from "../harness/artifacts.js";
import { mongoTestUri } from "../harness/mongo.js";

async function* once(data: Buffer): AsyncIterable<Uint8Array> {
  yield data;
}

describe("GridFS artifact store", () => {
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => void uncaught.push(err);
  afterEach(() => void process.off("uncaughtException", onUncaught));

  it("closes with downloads abandoned mid-file and raises nothing afterwards", async () => {
    process.on("uncaughtException", onUncaught);
    const store = new GridFsArtifactStore({ uri: mongoTestUri("gridfs_close"), bucket: "artifacts" });
    const size = 3 * MiB;
    expect(await store.write("a/big.bin", once(content(size)))).toBe(size);
    const abandoned = [];
    for (let i = 0; i < 4; i++) {
      const { stream } = await store.read("a/big.bin");
      for await (const chunk of stream) {
        expect((chunk as Buffer).length).toBeGreaterThan(0);
        break; // the consumer leaves: the iterator destroys the stream, whose cursor close is still under way
      }
      abandoned.push(stream);
    }
    await store.close();
    expect(store.counters.openReads).toBe(0);
    expect(abandoned.every((s) => s.destroyed)).toBe(true);
    // Give anything still pending on the closed client a chance to surface.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(uncaught).toEqual([]);
  });

  it("closes during an upload whose source is waiting, fails that upload, and raises nothing afterwards", async () => {
    process.on("uncaughtException", onUncaught);
    const store = new GridFsArtifactStore({ uri: mongoTestUri("gridfs_close_up"), bucket: "artifacts" });
    let resume!: () => void;
    const waiting = new Promise<void>((resolve) => (resume = resolve));
    let sent!: () => void;
    const allSent = new Promise<void>((resolve) => (sent = resolve));
    async function* slowClient(): AsyncIterable<Uint8Array> {
      // Small pieces are buffered without backpressure; the one that completes a GridFS chunk starts its insert.
      for (let i = 0; i < 2 * 128; i++) yield content(8 * 1024);
      sent();
      await waiting;
      throw new Error("client went away");
    }
    const upload = store.write("b/slow.bin", slowClient()).then(() => "stored", (err: Error) => err.message);
    await allSent;
    const order: string[] = [];
    const closing = store.close().then(() => void order.push("closed"));
    // close() waits for the upload: it cannot finish while the source still holds the upload open.
    await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 300))]);
    order.push("source failed");
    resume();
    expect(await upload).toBe("client went away");
    await closing;
    expect(order).toEqual(["source failed", "closed"]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(uncaught).toEqual([]);
  });
});
