/**
 * Reading a live (never-ending) stream in tests: items arrive into a buffer as the transport delivers them, and
 * `next()` / `take(n)` wait for them. A wait that never ends fails after a generous guard (a hang, not a speed check).
 * Sources: a grpc-js server stream, or any async iterable (an SSE or NDJSON reader).
 */
import type { ClientReadableStream } from "@grpc/grpc-js";

const GUARD_MS = 60_000;

export interface LiveStream<T> {
  /** The next item; rejects with the stream's error, or when it ended first. */
  next(): Promise<T>;
  take(n: number): Promise<T[]>;
  /** Resolves once the stream ended normally, with the items not taken yet; rejects with its error. */
  end(): Promise<T[]>;
  /** Items received and not taken yet. */
  readonly buffered: number;
  cancel(): void;
}

export function liveStream<T>(source: ClientReadableStream<T> | AsyncIterable<T>, cancel?: () => void): LiveStream<T> {
  const items: T[] = [];
  let error: unknown;
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => wake?.();
  if (Symbol.asyncIterator in source && !("cancel" in source)) {
    void (async () => {
      try {
        for await (const item of source) {
          items.push(item);
          notify();
        }
        ended = true;
      } catch (err) {
        error = err;
      }
      notify();
    })();
  } else {
    const call = source as ClientReadableStream<T>;
    call.on("data", (item: T) => {
      items.push(item);
      notify();
    });
    call.on("error", (err) => {
      error = err;
      notify();
    });
    call.on("end", () => {
      ended = true;
      notify();
    });
  }

  const until = async (ready: () => boolean, what: string) => {
    const deadline = Date.now() + GUARD_MS;
    while (!ready()) {
      if (Date.now() > deadline) throw new Error(`the stream gave no ${what} within ${GUARD_MS} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  };

  const stream: LiveStream<T> = {
    async next() {
      await until(() => items.length > 0 || error !== undefined || ended, "item");
      if (items.length > 0) return items.shift()!;
      if (error !== undefined) throw error;
      throw new Error("the stream ended");
    },
    async take(n) {
      const out: T[] = [];
      while (out.length < n) out.push(await stream.next());
      return out;
    },
    async end() {
      await until(() => error !== undefined || ended, "end");
      if (error !== undefined && items.length === 0) throw error;
      if (error !== undefined) throw error;
      return items.splice(0);
    },
    get buffered() {
      return items.length;
    },
    cancel() {
      if (cancel) cancel();
      else (source as ClientReadableStream<T>).cancel?.();
    },
  };
  return stream;
}
