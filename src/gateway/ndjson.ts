/**
 * Server-streaming RPCs over HTTP: newline-delimited JSON (grpc-gateway's convention), one
 * `{"result": …}` per line, and an `{"error": {…}}` line when the stream fails after its first
 * byte (before it, the caller answers with a normal JSON error and status). Server-Sent Events (sse.ts) go through
 * the same loop with their own framing.
 *
 * Items go through the byte-bounded stream writer (src/edge/stream-writer.ts): nothing more is pulled
 * from the iterator while the response holds its high-water mark of unflushed bytes; when the client
 * goes away the wait ends at once and the iterator is `return()`ed so that its `finally` blocks run
 * (closing database cursors, releasing watchers).
 */
import type { ServerResponse } from "node:http";
import { createBoundedWriter, pump, type StreamObserver } from "../edge/stream-writer.js";
import { responseSink } from "./response-sink.js";

export const NDJSON_CONTENT_TYPE = "application/x-ndjson";

export interface NdjsonOptions {
  /** The JSON text of one stream item's line, without the newline (`{"result":…}`). */
  encodeItem(item: unknown): string;
  /** The JSON text of the final line for a failure (`{"error":{…}}`). */
  encodeError(err: unknown): string;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Told when the iterator's `return()` (its `finally` blocks) throws; the stream is over anyway. */
  onCleanupError?(err: unknown): void;
  /** This stream's observer (metrics); closed here when the stream is over. */
  observer?: StreamObserver;
}

/**
 * Writes the 200 head, then `first` and every further item of `iterator`, one line each, and ends
 * the response. Resolves when the stream is over, however it ended; never rejects.
 */
export function writeNdjson(res: ServerResponse, iterator: AsyncIterator<unknown>, first: IteratorResult<unknown>, options: NdjsonOptions): Promise<void> {
  return writeStreamResponse(res, iterator, first, {
    ...options,
    contentType: NDJSON_CONTENT_TYPE,
    encodeItem: (item) => `${options.encodeItem(item)}\n`,
    encodeError: (err) => `${options.encodeError(err)}\n`,
  });
}

export interface StreamResponseOptions extends NdjsonOptions {
  contentType: string;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Written every `everyMs` while the stream is quiet and the client has read everything (an SSE comment). */
  heartbeat?: { everyMs: number; text: string };
}

/**
 * The loop under NDJSON and Server-Sent Events: the 200 head, then each item's text (`encodeItem` gives the whole
 * chunk) through the bounded writer; a failure becomes `encodeError`'s chunk. Resolves when the stream is over,
 * however it ended; never rejects.
 */
export async function writeStreamResponse(
  res: ServerResponse,
  iterator: AsyncIterator<unknown>,
  first: IteratorResult<unknown>,
  options: StreamResponseOptions,
): Promise<void> {
  const { signal } = options;
  res.writeHead(200, { "content-type": options.contentType, "cache-control": "no-cache", ...options.headers });
  const { observer } = options;
  const writer = createBoundedWriter(responseSink(res), { signal, ...(observer ? { observer } : {}) });
  const send = (text: string) => writer.write(text, Buffer.byteLength(text));
  const { heartbeat } = options;
  // Only on a quiet stream whose client has read everything: heartbeats never queue behind a stalled one.
  const timer = heartbeat
    ? setInterval(() => {
        if (writer.queuedBytes === 0 && !signal.aborted) void send(heartbeat.text);
      }, heartbeat.everyMs)
    : undefined;
  timer?.unref();
  try {
    await pump(iterator, first, (item) => send(options.encodeItem(item)), options.onCleanupError);
  } catch (err) {
    if (!signal.aborted) res.write(options.encodeError(err));
  } finally {
    clearInterval(timer);
    observer?.closed?.();
  }
  res.end();
}
