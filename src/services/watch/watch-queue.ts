/**
 * What one watcher holds for its consumer (the stream writer, which pulls only as fast as the client reads).
 *
 * While the consumer keeps up, every update is queued and comes out once, in order. When more than `maxQueued` are
 * waiting, the queue coalesces: it keeps only the latest update per key (a metric key, a param, a tag, the run's
 * info), each at the place of its latest change, so sequences still come out increasing and memory is bounded by the
 * number of keys, not of changes. It goes back to queueing every update once the consumer has taken what was
 * waiting. A consumer further behind than `maxLag` changes (counting the ones merged away), or with more than
 * `maxKeys` keys waiting, is cut: what was waiting is dropped and the next pull throws `cutError`.
 */
import { AppError, ErrorCode } from "../../domain/errors.js";
import { Waker } from "./waker.js";

export interface QueuedUpdate<T> {
  sequence: number;
  value: T;
  /** True when this update stands for several changes of its key. */
  coalesced: boolean;
}

export interface WatchQueueOptions {
  maxQueued: number;
  maxLag: number;
  maxKeys: number;
  /** Told once when the queue cuts its consumer (the owner unsubscribes it from the feed). */
  onCut?: (err: AppError) => void;
}

interface Entry<T> {
  sequence: number;
  value: T;
  /** Changes this entry stands for. */
  count: number;
}

export const watcherTooSlow = (lag: number, maxLag: number) =>
  new AppError(
    ErrorCode.REQUEST_LIMIT_EXCEEDED,
    `The watcher fell ${lag} changes behind (the limit is ${maxLag}, --watch-max-lag): reconnect to resume with a fresh snapshot.`,
  );

export class WatchQueue<T> {
  private queued: Entry<T>[] = [];
  private head = 0;
  /** Set while coalescing: the latest entry per key, in the order of their latest changes. */
  private latest: Map<string, Entry<T>> | undefined;
  private keysOf: string[] = [];
  private pending = 0;
  private ended = false;
  private error: AppError | undefined;
  private readonly waker = new Waker();

  constructor(private readonly options: WatchQueueOptions) {}

  /** Changes waiting for the consumer (merged ones included). */
  get lag(): number {
    return this.pending;
  }

  get coalescing(): boolean {
    return this.latest !== undefined;
  }

  get closed(): boolean {
    return this.ended || this.error !== undefined;
  }

  push(key: string, sequence: number, value: T): void {
    if (this.closed) return;
    this.pending++;
    if (this.pending > this.options.maxLag) return this.cut(watcherTooSlow(this.pending, this.options.maxLag));
    if (this.latest === undefined) {
      this.queued.push({ sequence, value, count: 1 });
      this.keysOf.push(key);
      if (this.queued.length - this.head > this.options.maxQueued) this.startCoalescing();
    } else {
      const previous = this.latest.get(key);
      this.latest.delete(key); // re-inserted last: its place is its latest change's
      this.latest.set(key, { sequence, value, count: (previous?.count ?? 0) + 1 });
      if (this.latest.size > this.options.maxKeys) {
        return this.cut(new AppError(ErrorCode.REQUEST_LIMIT_EXCEEDED, `The watcher fell behind on more than ${this.options.maxKeys} keys at once.`));
      }
    }
    this.notify();
  }

  /** No more updates: the consumer gets what is waiting, then the end. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  /** Ends the consumer's stream with `err` at its next pull; what was waiting is dropped. */
  fail(err: AppError): void {
    if (this.error) return;
    this.error = err;
    this.clear();
    this.notify();
  }

  /** The next update; undefined at the end or when `signal` aborts. Throws the error the queue failed with. */
  async next(signal: AbortSignal): Promise<QueuedUpdate<T> | undefined> {
    for (;;) {
      if (this.error) throw this.error;
      if (signal.aborted) return undefined;
      const entry = this.take();
      if (entry) {
        this.pending -= entry.count;
        return { sequence: entry.sequence, value: entry.value, coalesced: entry.count > 1 };
      }
      if (this.ended) return undefined;
      await this.waker.wait(signal);
    }
  }

  private take(): Entry<T> | undefined {
    if (this.latest !== undefined) {
      const first = this.latest.entries().next();
      if (!first.done) {
        this.latest.delete(first.value[0]);
        if (this.latest.size === 0) this.latest = undefined; // caught up: back to every update
        return first.value[1];
      }
      this.latest = undefined;
    }
    if (this.head >= this.queued.length) return undefined;
    const entry = this.queued[this.head]!;
    this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.queued.length) {
      this.queued = this.queued.slice(this.head);
      this.keysOf = this.keysOf.slice(this.head);
      this.head = 0;
    }
    return entry;
  }

  private startCoalescing(): void {
    const latest = new Map<string, Entry<T>>();
    for (let i = this.head; i < this.queued.length; i++) {
      const key = this.keysOf[i]!;
      const previous = latest.get(key);
      latest.delete(key);
      const entry = this.queued[i]!;
      latest.set(key, { ...entry, count: entry.count + (previous?.count ?? 0) });
    }
    this.queued = [];
    this.keysOf = [];
    this.head = 0;
    this.latest = latest;
  }

  private cut(err: AppError): void {
    this.fail(err);
    this.options.onCut?.(err);
  }

  private clear(): void {
    this.queued = [];
    this.keysOf = [];
    this.head = 0;
    this.latest = undefined;
    this.pending = 0;
  }

  private notify(): void {
    this.waker.wake();
  }
}
