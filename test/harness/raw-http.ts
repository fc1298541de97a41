/**
 * Raw HTTP/1.1 over a socket, for requests no HTTP client will send (malformed framing, unknown methods, bodies
 * that never end) and for reading exactly what the server wrote back.
 */
import { request } from "node:http";
import { connect, type Socket } from "node:net";

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Everything the server wrote. */
  text: string;
  /** Whether the server closed the connection. */
  closed: boolean;
}

export function parseAnswer(text: string, closed: boolean): RawAnswer {
  const end = text.indexOf("\r\n\r\n");
  const head = end === -1 ? text : text.slice(0, end);
  const [statusLine, ...lines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine?.split(" ")[1] ?? 0), headers, body: end === -1 ? "" : text.slice(end + 4), text, closed };
}

/** A connected socket that collects what the server writes. */
export async function openRaw(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let text = "";
  socket.on("data", (d: Buffer) => (text += d.toString("latin1")));
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return { socket, received: () => text, closed };
}

/**
 * Sends `payload` and waits until the server closes the connection, or until a whole response (by
 * Content-Length) arrived, or `waitMs` passed — whichever first.
 */
export async function rawExchange(port: number, payload: string | Buffer, waitMs = 10_000): Promise<RawAnswer> {
  const { socket, received, closed } = await openRaw(port);
  socket.write(payload);
  let isClosed = false;
  const complete = new Promise<void>((resolve) => {
    const check = () => {
      const a = parseAnswer(received(), false);
      const length = Number(a.headers["content-length"]);
      if (a.status && Number.isFinite(length) && Buffer.byteLength(a.body, "latin1") >= length) resolve();
    };
    socket.on("data", check);
  });
  const timer = new Promise<void>((resolve) => setTimeout(resolve, waitMs).unref());
  await Promise.race([closed.then(() => (isClosed = true)), complete, timer]);
  socket.destroy();
  return parseAnswer(received(), isClosed);
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request through node:http with exactly these headers (Host included: fetch would not let a test set it). */
export function sendRequest(
  port: number,
  r: { method: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<HttpAnswer> {
  const length = r.body === undefined ? {} : { "content-length": String(Buffer.byteLength(r.body)) };
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method: r.method, path: r.path, headers: { host: `localhost:${port}`, ...r.headers, ...length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(r.body);
  });
}
