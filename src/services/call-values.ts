/**
 * Typed per-call values (connect-es's context values): edge steps put what they learn about a call here — the
 * caller's identity once authentication exists, a request id, timings — and later steps and service functions read
 * it back by key, with the key's type. One `CallValues` per call, on both transports.
 */

export interface CallValueKey<T> {
  readonly id: symbol;
  readonly description: string;
  readonly defaultValue: T;
}

/** A key for one kind of value; `defaultValue` is what `get` answers when nothing was set. */
export function createCallValueKey<T>(description: string, defaultValue: T): CallValueKey<T> {
  return { id: Symbol(description), description, defaultValue };
}

export class CallValues {
  private readonly values = new Map<symbol, unknown>();

  get<T>(key: CallValueKey<T>): T {
    return this.values.has(key.id) ? (this.values.get(key.id) as T) : key.defaultValue;
  }

  set<T>(key: CallValueKey<T>, value: T): this {
    this.values.set(key.id, value);
    return this;
  }

  has(key: CallValueKey<unknown>): boolean {
    return this.values.has(key.id);
  }

  delete(key: CallValueKey<unknown>): this {
    this.values.delete(key.id);
    return this;
  }
}
