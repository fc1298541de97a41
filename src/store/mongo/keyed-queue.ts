/**
 * Runs work one at a time per key within this process: callers with the same key queue behind each other (in call
 * order), different keys run concurrently. Used so that concurrent requests for one run or one model on one server
 * do not contend for it in the database (one lease poller, or no lost compare-and-set rounds, instead of N).
 */
export type KeyedQueue = <T>(key: string, work: () => Promise<T>) => Promise<T>;

export function createKeyedQueue(): KeyedQueue {
  /** Per key, the promise the next caller waits for (settles when the last queued caller is done). */
  const tails = new Map<string, Promise<void>>();
  return async (key, work) => {
    const before = tails.get(key) ?? Promise.resolve();
    let done = () => {};
    const mine = new Promise<void>((resolve) => (done = resolve));
    const tail = before.then(() => mine);
    tails.set(key, tail);
    try {
      await before;
      return await work();
    } finally {
      done();
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}
