/**
 * better-sqlite3 is synchronous, so the SQLite stores are written as synchronous functions and lifted
 * into the Store's promise-returning interface in one place, which also translates driver errors.
 */
import { toAppError } from "./errors.js";

/** The synchronous twin of an interface whose methods all return promises. */
export type Synchronous<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never;
};

/** Calls `fn` with arguments and returns a promise; a thrown error becomes a rejection with an AppError. */
export function lift<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return fn(...args);
    } catch (err) {
      throw toAppError(err);
    }
  };
}
