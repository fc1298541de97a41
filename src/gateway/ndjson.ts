/**
 * Server-streaming RPCs over HTTP: newline-delimited JSON (grpc-gateway's convention), one
 * `{"result": …}` per line, and an `{"error": {…}}` line when the stream fails after its first
 * byte (before it, the caller answers with a normal JSON error and status).
 *
 * Backpressure: nothing more is pulled from the iterator while `write()` returns false, until
 * `drain`. Waiting for `drain` alone hangs when the client goes away (the socket closes and `drain`
 * never comes; shared/reference/toolchain.md §4), so the wait also ends on `close` or on the
 * call's abort signal, and then the iterator is `return()`ed so that its `finally` blocks run
 * (closing database cursors).
 */
import type { ServerResponse } from "node:http";

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
  let result = first;
  try {
    while (!result.done) {
      if (signal.aborted) break;
      const ok = res.write(`${options.encodeItem(result.value)}\n`);
      if (!ok && !(await drained(res, signal))) break;
      result = await iterator.next();
    }
  } catch (err) {
    if (!signal.aborted) res.write(`${options.encodeError(err)}\n`);
    await stop(iterator, options);
    res.end();
    return;
  }
  if (!result.done) await stop(iterator, options); // cancelled: let the generator's finally blocks run
  res.end();
}

/** True once the response drained; false if the client went away first. */
function drained(res: ServerResponse, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted || res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const settle = (ok: boolean) => {
      res.off("drain", onDrain);
      res.off("close", onClose);
      signal.removeEventListener("abort", onClose);
      resolve(ok);
    };
    const onDrain = () => settle(true);
    const onClose = () => settle(false);
    res.on("drain", onDrain);
    res.on("close", onClose);
    signal.addEventListener("abort", onClose);
  });
}

async function stop(iterator: AsyncIterator<unknown>, options: NdjsonOptions): Promise<void> {
  try {
    await iterator.return?.();
  } catch (err) {
    options.onCleanupError?.(err);
  }
}
