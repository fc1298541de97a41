/**
 * Slows down repeated sign-in failures per (account, client address): after FREE_FAILURES wrong credentials in a
 * row from one address for one account, that pair must wait before its next attempt — 1 s, then twice as long after
 * each further failure, up to MAX_WAIT_MS — and attempts made while it waits are refused without being checked.
 * Other addresses are not affected, so nobody can lock an account (the admin's) out from elsewhere; a success resets
 * the pair. The table is bounded: at most MAX_ENTRIES pairs, the least recently failed going first.
 */
import { AppError, ErrorCode } from "../../domain/errors.js";

export const FREE_FAILURES = 5;
const FIRST_WAIT_MS = 1000;
export const MAX_WAIT_MS = 60_000;
/** A pair that has not failed for this long starts again from zero. */
const FORGET_AFTER_MS = 15 * 60_000;
const MAX_ENTRIES = 10_000;

/** A refusal while the pair waits: 429 REQUEST_LIMIT_EXCEEDED (gRPC RESOURCE_EXHAUSTED), with when to retry. */
export class SignInThrottled extends AppError {
  constructor(readonly retryAfterS: number) {
    super(ErrorCode.REQUEST_LIMIT_EXCEEDED, `Too many failed sign-in attempts from this address; try again in ${retryAfterS} s.`);
  }
}

interface Failures {
  count: number;
  last: number;
  until: number;
}

export interface FailureThrottle {
  /** @throws SignInThrottled while the pair must wait. */
  check(account: string, address: string): void;
  recordFailure(account: string, address: string): void;
  recordSuccess(account: string, address: string): void;
}

export function createFailureThrottle(clock: () => number = Date.now): FailureThrottle {
  const table = new Map<string, Failures>();
  const keyOf = (account: string, address: string) => `${account}\u0000${address}`;

  return {
    check(account, address) {
      const entry = table.get(keyOf(account, address));
      const now = clock();
      if (entry && entry.until > now) throw new SignInThrottled(Math.ceil((entry.until - now) / 1000));
    },

    recordFailure(account, address) {
      const key = keyOf(account, address);
      const now = clock();
      const previous = table.get(key);
      const count = previous && now - previous.last < FORGET_AFTER_MS ? previous.count + 1 : 1;
      const wait = count >= FREE_FAILURES ? Math.min(FIRST_WAIT_MS * 2 ** (count - FREE_FAILURES), MAX_WAIT_MS) : 0;
      // Re-inserted so that Map order is least recently failed first.
      table.delete(key);
      table.set(key, { count, last: now, until: now + wait });
      if (table.size > MAX_ENTRIES) table.delete(table.keys().next().value!);
    },

    recordSuccess(account, address) {
      table.delete(keyOf(account, address));
    },
  };
}
