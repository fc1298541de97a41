/**
 * The one writer every server stream goes through (gRPC server streams, NDJSON and Server-Sent Events — live watches
 * included —, artifact downloads): it bounds what a stream may have queued in the process by bytes, not by messages.
 *
 * Why bytes: transports signal backpressure by message count (grpc-js buffers 16 messages before `write()` returns
 * false; Node's HTTP response by its own mark), so a stream of 1 MiB messages to a client that stopped reading pins
 * 16 MiB and more. Here an item is written only while the bytes handed to the transport and not yet flushed stay
 * within the high-water mark (64 KiB by default; a single item bigger than the mark goes alone); past it the
 * writer waits for the transport's flush callbacks, or for the stream to go away (the signal), whichever first.
 */

/**
 * Default per-stream bound on queued bytes. Measured on 200 stalled downloads plus 5,000 opened and cancelled ones
 * (test/chaos/stalled-streams.test.ts), resident memory grows with this mark far more than with anything else:
 * 256 KiB took the server to about 390 MB, 64 KiB keeps it near 250 MB; a socket's kernel buffers, not this queue,
 * keep a fast client's pipe full.
 */
export const STREAM_HIGH_WATER_MARK = 64 * 1024;

/** A transport's write: hands `data` over and calls `flushed` once it has left the process's queues (or failed). */
export type SinkWrite<T> = (data: T, flushed: (err?: Error | null) => void) => void;

/**
 * Optional hooks for whoever counts streams (metrics); each is called synchronously and must not throw. One observer
 * per stream, made when the stream opens; its owner (the code that pumps the stream) calls `closed` once when the
 * stream is over, however it ended.
 */
export interface StreamObserver {
  /** An item of `bytes` was handed to the transport. */
  written?(bytes: number): void;
  /** The writer started waiting for room (the client is not keeping up). */
  stalled?(): void;
  /** Room came back after a stall. */
  resumed?(): void;
  /** The stream is over (ended, failed or abandoned), possibly while stalled. */
  closed?(): void;
}

/** Makes the observer of a stream that opens now (the transports call it once per server stream). */
export type StreamObservers = () => StreamObserver;

export interface BoundedWriterOptions {
  /** Aborted when the stream is gone (client cancel, closed socket, shutdown): every wait ends at once. */
  signal: AbortSignal;
  highWaterMark?: number;
  observer?: StreamObserver;
}

export interface BoundedWriter<T> {
  /**
   * Writes one item of `bytes` bytes once there is room. True when the caller may produce the next item; false when
   * the stream is gone (nothing was written), so the caller stops and releases what it holds.
   */
  write(item: T, bytes: number): Promise<boolean>;
  /** Bytes handed to the transport and not yet flushed. */
  readonly queuedBytes: number;
}

export function createBoundedWriter<T>(sinkWrite: SinkWrite<T>, options: BoundedWriterOptions): BoundedWriter<T> {
  const { signal, observer } = options;
  const highWaterMark = options.highWaterMark ?? STREAM_HIGH_WATER_MARK;
  let queued = 0;
  let wake: (() => void) | undefined;

  /** Resolves true when a flush made room, false when the stream went away. */
  const waitForRoom = (): Promise<boolean> =>
    new Promise((resolve) => {
      const onAbort = () => {
        wake = undefined;
        resolve(false);
      };
      wake = () => {
        signal.removeEventListener("abort", onAbort);
        wake = undefined;
        resolve(true);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });

  return {
    get queuedBytes() {
      return queued;
    },
    async write(item, bytes) {
      let stalled = false;
      while (!signal.aborted && queued > 0 && queued + bytes > highWaterMark) {
        if (!stalled) {
          stalled = true;
          observer?.stalled?.();
        }
        if (!(await waitForRoom())) return false;
      }
      if (signal.aborted) return false;
      if (stalled) observer?.resumed?.();
      queued += bytes;
      observer?.written?.(bytes);
      let settled = false;
      sinkWrite(item, () => {
        if (settled) return;
        settled = true;
        queued -= bytes;
        wake?.(); // the loop in write() re-checks whether the waiting item fits now
      });
      return true;
    },
  };
}

/**
 * Pulls items from `source` (after `first`, when the caller already pulled one) and writes each through `write`
 * until the source ends (true) or `write` says the stream is gone (false). When the stream is abandoned, or the
 * source throws, the iterator is `return()`ed so its `finally` blocks run (files and cursors closed) before this
 * resolves or rethrows; an error of that `return()` goes to `onCleanupError`.
 */
export async function pump<T>(
  source: AsyncIterator<T>,
  first: IteratorResult<T> | undefined,
  write: (item: T) => Promise<boolean>,
  onCleanupError: (err: unknown) => void = () => undefined,
): Promise<boolean> {
  let result = first ?? (await source.next());
  let finished = false;
  try {
    while (!result.done) {
      if (!(await write(result.value))) return false;
      result = await source.next();
    }
    finished = true;
    return true;
  } finally {
    if (!finished && !result.done) {
      try {
        await source.return?.(undefined);
      } catch (err) {
        onCleanupError(err); // the stream is over either way
      }
    }
  }
}
