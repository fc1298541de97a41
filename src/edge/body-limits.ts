/**
 * Limits on request bodies that arrive slowly or never end (`--body-idle-timeout-s`, `--body-min-bytes-per-s`):
 * HTTP bodies (JSON and raw artifact uploads) and gRPC client streams (UploadArtifact) alike.
 *
 * Only the time the server spends waiting for the client counts (not time the server itself is busy, e.g. writing
 * to disk with the body paused). A body is cut when no byte arrives for the idle timeout, or — once the time waited
 * passes that same timeout — when its average rate over the time waited falls below the minimum (a client
 * trickling one byte just before each idle deadline is cut too).
 */
import { AppError, ErrorCode } from "../domain/errors.js";

export const DEFAULT_BODY_IDLE_TIMEOUT_S = 60;
export const DEFAULT_BODY_MIN_BYTES_PER_S = 1024;

export interface BodyLimits {
  /** No byte for this long cuts the body; also the grace period before the rate is checked. */
  idleTimeoutMs: number;
  /** Minimum average rate once the grace period has passed; 0 turns the rate check off. */
  minBytesPerSecond: number;
}

/** A body cut for being idle or too slow: HTTP 408 (connection closed), gRPC DEADLINE_EXCEEDED. */
export class BodyTimeoutError extends AppError {
  constructor(message: string) {
    super(ErrorCode.DEADLINE_EXCEEDED, message);
  }
}

export const idleTimeout = (limits: BodyLimits) =>
  new BodyTimeoutError(`The request body sent nothing for ${limits.idleTimeoutMs / 1000} s; the request is cut`);

/** Throws when `bytes` received over `waitedMs` of waiting are below the minimum rate (past the grace period). */
export function checkBodyRate(bytes: number, waitedMs: number, limits: BodyLimits): void {
  if (limits.minBytesPerSecond <= 0 || waitedMs < limits.idleTimeoutMs) return;
  const rate = (bytes * 1000) / waitedMs;
  if (rate < limits.minBytesPerSecond) {
    throw new BodyTimeoutError(
      `The request body arrives at ${Math.floor(rate)} bytes/s, below the minimum of ${limits.minBytesPerSecond}; the request is cut`,
    );
  }
}

/**
 * `source` with the limits applied to each wait for its next item: the wait rejects with a {@link BodyTimeoutError}
 * after the idle timeout, and an item that leaves the average rate too low rejects instead of being delivered.
 * `sizeOf` gives an item's bytes. `return()` is passed through (it releases the source).
 */
export function limitBody<T>(source: AsyncIterable<T>, limits: BodyLimits, sizeOf: (item: T) => number): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const it = source[Symbol.asyncIterator]();
      let bytes = 0;
      let waitedMs = 0;
      return {
        next: () =>
          new Promise<IteratorResult<T>>((resolve, reject) => {
            const started = performance.now();
            const timer = setTimeout(() => reject(idleTimeout(limits)), limits.idleTimeoutMs);
            it.next().then(
              (result) => {
                clearTimeout(timer);
                waitedMs += performance.now() - started;
                if (!result.done) {
                  bytes += sizeOf(result.value);
                  try {
                    checkBodyRate(bytes, waitedMs, limits);
                  } catch (err) {
                    reject(err);
                    return;
                  }
                }
                resolve(result);
              },
              (err: unknown) => {
                clearTimeout(timer);
                reject(err);
              },
            );
          }),
        return: async (value?: unknown) => {
          await it.return?.(value);
          return { done: true, value: undefined };
        },
      };
    },
  };
}
