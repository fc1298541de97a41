/**
 * Server-streaming RPCs over HTTP: newline-delimited JSON (grpc-gateway's convention), one
 * `{"result": …}` per line, and an `{"error": {…}}` line when the stream fails after its first
 * byte (before it, the caller answers with a normal JSON error and status).
 *
 * Lines go through the byte-bounded stream writer (src/edge/stream-writer.ts): nothing more is pulled
 * from the iterator while the response holds its high-water mark of unflushed bytes; when the client
 * goes away the wait ends at once and the iterator is `return()`ed so that its `finally` blocks run
 * (closing database cursors).
 */
import type { ServerResponse } from "node:http";
import { createBoundedWriter, pump } from "../edge/stream-writer.js";
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
}

/**
 * Writes the 200 head, then `first` and every further item of `iterator`, one line each, and ends
 * the response. Resolves when the stream is over, however it ended; never rejects.
 */
export async function writeNdjson(
  res: ServerResponse,
  iterator: AsyncIterator<unknown>,
  first: IteratorResult<unknown>,
  options: NdjsonOptions,
): Promise<void> {
  const { signal } = options;
  res.writeHead(200, { "content-type": NDJSON_CONTENT_TYPE, "cache-control": "no-cache" });
  const writer = createBoundedWriter(responseSink(res), { signal });
  try {
    await pump(
      iterator,
      first,
      (item) => {
        const line = `${options.encodeItem(item)}\n`;
        return writer.write(line, Buffer.byteLength(line));
      },
      options.onCleanupError,
    );
  } catch (err) {
    if (!signal.aborted) res.write(`${options.encodeError(err)}\n`);
  }
  res.end();
}
