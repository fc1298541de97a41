/**
 * The in-flight cap (`--max-in-flight`): one counter of the calls and HTTP requests being served, shared by both
 * transports. Past the cap a new call is refused at once (HTTP 503 TEMPORARILY_UNAVAILABLE with `Retry-After`, gRPC
 * UNAVAILABLE) instead of queueing work the process cannot keep up with.
 */
import { AppError, ErrorCode } from "../domain/errors.js";

export const DEFAULT_MAX_IN_FLIGHT = 1000;

/** Seconds a refused client is told to wait before retrying. */
export const RETRY_AFTER_S = 1;

export interface InFlightLimiter {
  readonly max: number;
  /** Calls in flight now. */
  readonly count: number;
  /** Takes a slot: the returned release (idempotent) gives it back; undefined when the cap is reached. */
  tryAcquire(): (() => void) | undefined;
}

export function createInFlightLimiter(max: number = DEFAULT_MAX_IN_FLIGHT): InFlightLimiter {
  let count = 0;
  return {
    max,
    get count() {
      return count;
    },
    tryAcquire() {
      if (count >= max) return undefined;
      count++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        count--;
      };
    },
  };
}

/** The error a call refused by the cap gets (both transports map it: 503 / UNAVAILABLE). */
export function overloaded(max: number): AppError {
  return new AppError(
    ErrorCode.TEMPORARILY_UNAVAILABLE,
    `The server is at its limit of ${max} calls in flight; retry in ${RETRY_AFTER_S} s`,
  );
}
