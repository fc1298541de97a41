/**
 * NDJSON streaming over a real socket (fastify.inject() has no socket buffers and no disconnects):
 * backpressure — a client that stops reading stops the gateway pulling from the service's
 * generator — and cancellation — a client that goes away makes the generator's `finally` run
 * and aborts the call's signal.
 */
import { connect, type Socket } from "node:net";
import Fastify, { type FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { gatewayPlugin } from "../../src/gateway/gateway.js";
import { createLibraryService, type LibraryState } from "./library-service.js";
import { readFileSync } from "node:fs";

const testSet = readFileSync(new URL("../gen/descriptor.binpb", import.meta.url));

let app: FastifyInstance;
let port: number;
let state: LibraryState;
const sockets: Socket[] = [];

beforeAll(async () => {
  const library = createLibraryService();
  state = library.state;
  app = Fastify();
  await app.register(gatewayPlugin, { services: [library.service], descriptorSet: testSet, logger: pino({ level: "silent" }) });
  await app.listen({ host: "127.0.0.1", port: 0 });
  port = (app.server.address() as { port: number }).port;
});
afterAll(() => app.close());
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  state.pulled = 0;
  state.finished = 0;
  state.aborted = 0;
});

/** Sends a GET on a raw socket and leaves it unread (not flowing): nothing is consumed until asked. */
function rawGet(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      resolve(socket);
    });
    socket.on("error", reject);
    sockets.push(socket);
  });
}

/** Resolves once `read()` stops changing across `times` polls (the producer is stalled). */
async function settled(read: () => number, times = 5, intervalMs = 40): Promise<number> {
  let last = read();
  let same = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, intervalMs));
    const now = read();
    same = now === last ? same + 1 : 0;
    last = now;
    if (same >= times) return now;
  }
}

/** Reads from the socket until at least `bytes` more bytes arrived. */
function consume(socket: Socket, bytes: number): Promise<string> {
  return new Promise((resolve) => {
    let got = 0;
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= bytes) {
        socket.off("data", onData);
        socket.pause();
        resolve(Buffer.concat(chunks).toString("latin1"));
      }
    };
    socket.on("data", onData);
    socket.resume(); // a socket paused by an earlier call does not flow again by itself
  });
}

describe("NDJSON streaming on a real socket", () => {
  it("stops pulling from the generator while the client does not read, resumes when it does, and cleans up on disconnect", async () => {
    const padding = 64 * 1024;
    const socket = await rawGet(`/v1/shelves/s1/books:stream?count=0&padding_bytes=${padding}`);

    // The generator is endless; with the socket unread, the gateway must stall once the buffers are full.
    const stalled = await settled(() => state.pulled);
    expect(stalled).toBeGreaterThan(0);
    expect(state.finished).toBe(0);
    expect(await settled(() => state.pulled)).toBe(stalled); // still not growing

    // Reading frees the buffers and pulling resumes. How much must be read first is the kernel's affair (a socket
    // becomes writable again only once a good part of its send buffer is free), so read until it does.
    const head = await consume(socket, 4 * padding);
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head.toLowerCase()).toContain("content-type: application/x-ndjson");
    for (let reads = 0; state.pulled === stalled && reads < 200; reads++) {
      await consume(socket, 4 * padding);
      await new Promise((r) => setTimeout(r, 20));
    }
    await vi.waitFor(() => expect(state.pulled).toBeGreaterThan(stalled), { timeout: 10_000 });

    // Going away while the gateway waits for drain: no hang, the generator's finally runs.
    await settled(() => state.pulled);
    socket.destroy();
    await vi.waitFor(() => expect(state.finished).toBe(1), { timeout: 10_000 });
    expect(state.aborted).toBe(1);
  });

  it("runs the generator's finally and aborts the signal when the client goes away mid-stream", async () => {
    const socket = await rawGet("/v1/shelves/s1/books:stream?count=0");
    const text = await consume(socket, 1);
    expect(text).toMatch(/^HTTP\/1\.1 200 OK/);
    socket.destroy();
    await vi.waitFor(() => expect(state.finished).toBe(1), { timeout: 10_000 });
    expect(state.aborted).toBe(1);
    const pulled = state.pulled;
    expect(await settled(() => state.pulled)).toBe(pulled);
  });

  it("aborts a unary call's signal when the client goes away", async () => {
    const socket = await rawGet("/v1/echo?text=wait");
    await vi.waitFor(() => expect(state.lastContext?.signal.aborted).toBe(false));
    socket.destroy();
    await vi.waitFor(() => expect(state.aborted).toBe(1), { timeout: 10_000 });
    expect(state.lastContext!.signal.aborted).toBe(true);
  });

  it("answers 413 to an oversized chunked body without reading it all, and closes the connection", async () => {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(port, "127.0.0.1", () => resolve(s));
      s.on("error", reject);
      sockets.push(s);
    });
    socket.setEncoding("utf8");
    let text = "";
    let closed = false;
    socket.on("data", (d: string) => (text += d));
    socket.on("close", () => (closed = true));
    socket.write("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    const chunk = "x".repeat(1 << 20);
    // 40 MiB announced chunk by chunk (never finished): more than the 32 MiB default limit.
    for (let i = 0; i < 40 && !closed && text === ""; i++) {
      socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      await new Promise((r) => setTimeout(r, 5));
    }
    await vi.waitFor(() => expect(closed).toBe(true), { timeout: 10_000 });
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toContain('{"error_code":"INVALID_PARAMETER_VALUE","message":"Request body is larger than the limit of 33554432 bytes"}');
  });

  it("streams a finite result to the end", async () => {
    const socket = await rawGet("/v1/shelves/s1/books:stream?count=3");
    socket.setEncoding("utf8");
    let text = "";
    socket.on("data", (d: string) => (text += d));
    await vi.waitFor(() => expect(text).toContain("0\r\n\r\n"), { timeout: 10_000 }); // chunked terminator
    const body = text.slice(text.indexOf("\r\n\r\n") + 4);
    expect(body.match(/\{"result":/g)).toHaveLength(3);
    expect(state.finished).toBe(1);
    expect(state.aborted).toBe(0);
  });
});
