/**
 * A loopback TCP proxy in front of a MongoDB-wire server that counts the commands passing through and holds each
 * client→server message back by a fixed delay, so every round trip costs that much more (a database across a
 * network: 0.5–1 ms per round trip). Responses pass straight through.
 *
 * Counting: each OP_MSG from a client is one command, named by the first key of its body document. `hello` and
 * `isMaster` (the driver's monitoring heartbeats and connection handshakes) are counted apart and left out of the
 * command counts, which are what Logbook's operations send.
 */
import { type Server, type Socket, connect, createServer } from "node:net";

const OP_MSG = 2013;
const MONITORING = new Set(["hello", "isMaster", "ismaster"]);

export interface WireCounts {
  /** Commands other than monitoring and handshakes. */
  commands: number;
  byCommand: Record<string, number>;
  /** hello / isMaster messages (heartbeats, handshakes, RTT probes). */
  monitoring: number;
}

export interface WireProxy {
  /** `mongodb://127.0.0.1:<port>/<database>` through the proxy, with direct connection (the proxy is one host). */
  uri(database: string): string;
  setDelay(ms: number): void;
  reset(): void;
  counts(): WireCounts;
  close(): Promise<void>;
}

/** The command name of an OP_MSG: the first element name of its kind-0 section. */
export function commandName(message: Buffer): string | undefined {
  if (message.readInt32LE(12) !== OP_MSG) return undefined;
  let at = 20; // header (16) + flagBits (4)
  while (at < message.length) {
    const kind = message[at];
    if (kind === 0) {
      const first = at + 1 + 4 + 1; // kind, document length, element type
      const end = message.indexOf(0, first);
      return end < 0 ? undefined : message.toString("utf8", first, end);
    }
    // kind 1: a document sequence (size includes itself); skip it.
    at += 1 + message.readInt32LE(at + 1);
  }
  return undefined;
}

export async function startWireProxy(upstream: { host: string; port: number }, delayMs = 0): Promise<WireProxy> {
  let delay = delayMs;
  let counts: WireCounts = { commands: 0, byCommand: {}, monitoring: 0 };
  const sockets = new Set<Socket>();

  const count = (message: Buffer) => {
    const name = commandName(message);
    if (name === undefined || MONITORING.has(name)) {
      counts.monitoring += 1;
      return;
    }
    counts.commands += 1;
    counts.byCommand[name] = (counts.byCommand[name] ?? 0) + 1;
  };

  const server: Server = createServer((client) => {
    const db = connect(upstream.port, upstream.host);
    sockets.add(client).add(db);
    client.setNoDelay(true);
    db.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    client.on("data", (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const length = pending.readInt32LE(0);
        if (pending.length < length) break;
        const message = pending.subarray(0, length);
        pending = pending.subarray(length);
        count(message);
        // Same delay for every message of a connection: timers of equal delay fire in order, so order is kept.
        if (delay <= 0) db.write(message);
        else setTimeout(() => db.write(message), delay);
      }
    });
    db.on("data", (chunk: Buffer) => client.write(chunk));
    const close = () => {
      client.destroy();
      db.destroy();
      sockets.delete(client);
      sockets.delete(db);
    };
    client.on("close", close).on("error", close);
    db.on("close", close).on("error", close);
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
  });

  return {
    uri: (database) => `mongodb://127.0.0.1:${port}/${database}?directConnection=true`,
    setDelay(ms) {
      delay = ms;
    },
    reset() {
      counts = { commands: 0, byCommand: {}, monitoring: 0 };
    },
    counts: () => structuredClone(counts),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
