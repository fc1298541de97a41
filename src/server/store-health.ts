/**
 * Whether the store answers, checked on an interval. One source for gRPC health and /readyz:
 * every registered service is SERVING while the store answers a ping, NOT_SERVING otherwise.
 */
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { Store } from "../store/types.js";

export class StoreHealth extends EventEmitter<{ change: [reachable: boolean] }> {
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  reachable = false;

  constructor(
    private readonly store: Store,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {
    super();
  }

  /** Pings once now (so start-up state is known), then on every interval. */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** A ping bounded by the interval: a frozen database must read as unreachable, not hang the check. */
  async check(): Promise<boolean> {
    if (this.checking) return this.reachable;
    this.checking = true;
    let timeout: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.store.ping(),
        new Promise((_, reject) => {
          timeout = setTimeout(() => reject(new Error(`no answer within ${this.intervalMs} ms`)), Math.max(this.intervalMs, 1000));
        }),
      ]);
      this.set(true);
    } catch (err) {
      if (this.reachable) this.logger.warn({ err }, "store unreachable");
      this.set(false);
    } finally {
      clearTimeout(timeout);
      this.checking = false;
    }
    return this.reachable;
  }

  private set(reachable: boolean): void {
    if (reachable === this.reachable) return;
    this.reachable = reachable;
    if (reachable) this.logger.info("store reachable");
    this.emit("change", reachable);
  }
}
