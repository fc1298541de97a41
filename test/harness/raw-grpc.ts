/**
 * gRPC calls over a bare node:http2 session, for clients no gRPC library plays: one that opens streams and never
 * reads them (flow control then stops the server), one that cancels right away, many streams on few connections.
 */
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from "node:http2";

/** A gRPC length-prefixed message (uncompressed). */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

export async function openSession(port: number): Promise<ClientHttp2Session> {
  const session = connect(`http://127.0.0.1:${port}`);
  session.on("error", () => undefined); // the chaos tests close sessions abruptly
  await new Promise<void>((resolve, reject) => {
    session.once("connect", () => resolve());
    session.once("error", reject);
  });
  return session;
}

/** Starts a call: request headers, the one request message, end of the request side. */
export function startCall(session: ClientHttp2Session, path: string, message: Uint8Array): ClientHttp2Stream {
  const stream = session.request({
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
  });
  stream.on("error", () => undefined);
  stream.end(grpcFrame(message));
  return stream;
}

/** Cancels a call the way gRPC clients do (RST_STREAM CANCEL). */
export function cancelCall(stream: ClientHttp2Stream): void {
  stream.close(constants.NGHTTP2_CANCEL);
}
