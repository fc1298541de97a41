/**
 * Downloads stream with backpressure on the embedded store: a 200 MiB file goes to a client that
 * pauses after the first chunk, and the bytes read from disk — counted at the source, by the file
 * store's read counter (fs ReadStream data), not by the server's own report — stop growing far below
 * the file size; when the client resumes, every byte arrives intact, and when it cancels instead, the
 * file is closed. Over gRPC and over HTTP.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { get, type IncomingMessage } from "node:http";
import { join } from "node:path";
import type { ClientReadableStream } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { DownloadArtifactResponse } from "../../gen/ts/logbook/v1/artifact_service.js";
import { DOWNLOAD_CHUNK_BYTES } from "../../src/services/artifact-service.js";
import { content, MiB, sha256, startDownload } from "../harness/artifacts.js";
import { startTestLogbook, type TestLogbook } from "../harness/logbook.js";

const SIZE = 200 * MiB;
/** Far below the file: a stream's 64 KiB queue plus HTTP/2 windows and the kernel's socket buffers fit well under it. */
const BOUND = 16 * MiB;

/**
 * The counter's value once it has stopped moving: sampled until it is unchanged for 10 samples in a
 * row. What the test asserts is the value (bytes), not a duration.
 */
async function plateau(read: () => number): Promise<number> {
  let last = -1;
  let still = 0;
  for (let i = 0; i < 400; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const now = read();
    still = now === last ? still + 1 : 0;
    last = now;
    if (still >= 10) return now;
  }
  throw new Error(`the read counter never stopped moving (at ${last} bytes)`);
}

describe("DownloadArtifact backpressure on the embedded store", () => {
  let lb: TestLogbook;
  let runId: string;
  let digest: string;
  const counters = () => lb.logbook.artifacts.counters;

  beforeAll(async () => {
    lb = await startTestLogbook("sqlite", { label: "backpressure" });
    const experimentId = (await lb.tracking.createExperiment({ name: "bp", artifactLocation: "", tags: [] })).experimentId;
    runId = (await lb.tracking.createRun({ experimentId, userId: "u", runName: "r", tags: [] })).run!.info!.runId;
    // The file is put in place directly (uploads are covered elsewhere); this suite is about reading.
    const dir = join(lb.dataDir, "artifacts", experimentId, runId, "artifacts");
    mkdirSync(dir, { recursive: true });
    const data = content(SIZE);
    digest = sha256(data);
    writeFileSync(join(dir, "big.bin"), data);
  });
  afterAll(async () => {
    await lb?.close();
  });

  const firstChunkThenPause = (call: ClientReadableStream<DownloadArtifactResponse>) =>
    new Promise<Buffer>((resolve, reject) => {
      call.once("error", reject);
      // Pause once data flows (a stream paused before its first read buffers without limit).
      call.once("data", (m: DownloadArtifactResponse) => {
        call.pause();
        resolve(m.chunk);
      });
    });

  it("gRPC: a paused client holds the reads at the source; resuming delivers every byte", async () => {
    const start = counters().bytesRead;
    const call = startDownload(lb.tracking.raw, { runId, path: "big.bin" });
    const chunks = [await firstChunkThenPause(call)];
    const held = (await plateau(() => counters().bytesRead)) - start;
    expect(held).toBeGreaterThanOrEqual(DOWNLOAD_CHUNK_BYTES);
    expect(held).toBeLessThan(BOUND);
    expect(counters().openReads).toBe(1);

    const ended = new Promise<void>((resolve, reject) => call.on("end", resolve).on("error", reject));
    call.on("data", (m: DownloadArtifactResponse) => chunks.push(m.chunk));
    call.resume();
    await ended;
    const data = Buffer.concat(chunks);
    expect(data.length).toBe(SIZE);
    expect(sha256(data)).toBe(digest);
    expect(counters().bytesRead - start).toBe(SIZE);
    await vi.waitFor(() => expect(counters().openReads).toBe(0));
  });

  it("gRPC: cancelling a paused download closes the file and reading stops", async () => {
    const start = counters().bytesRead;
    const call = startDownload(lb.tracking.raw, { runId, path: "big.bin" });
    call.on("error", () => undefined); // CANCELLED, expected
    await firstChunkThenPause(call);
    const held = (await plateau(() => counters().bytesRead)) - start;
    expect(held).toBeLessThan(BOUND);
    expect(counters().openReads).toBe(1);
    call.cancel();
    await vi.waitFor(() => expect(counters().openReads).toBe(0), { timeout: 10_000, interval: 20 });
    expect((await plateau(() => counters().bytesRead)) - start).toBeLessThan(BOUND);
  });

  it("HTTP: a paused response holds the reads at the source; destroying it closes the file", async () => {
    const start = counters().bytesRead;
    const url = `${lb.httpUrl}/get-artifact?run_id=${runId}&path=big.bin`;
    const res = await new Promise<IncomingMessage>((resolve, reject) => get(url, resolve).on("error", reject));
    expect(res.statusCode).toBe(200);
    await new Promise<void>((resolve) =>
      res.once("data", () => {
        res.pause();
        resolve();
      }),
    );
    const held = (await plateau(() => counters().bytesRead)) - start;
    expect(held).toBeGreaterThanOrEqual(DOWNLOAD_CHUNK_BYTES);
    expect(held).toBeLessThan(BOUND);
    expect(counters().openReads).toBe(1);
    res.destroy();
    await vi.waitFor(() => expect(counters().openReads).toBe(0), { timeout: 10_000, interval: 20 });
    expect((await plateau(() => counters().bytesRead)) - start).toBeLessThan(BOUND);
  });
});
