/**
 * Tracker: the tracking SDK's entry point. Every logging call returns immediately (a synchronous enqueue);
 * one background pump sends the queue in order as LogBatch and other calls, one call in flight at a time.
 * When the server is unreachable (UNAVAILABLE, DEADLINE_EXCEEDED) the queue goes to the spool file and a
 * probe with exponential backoff and jitter waits for the server; the spool is then replayed in order, also
 * by a later process on the same spool path. Other errors are reported through `onError`, never retried,
 * never thrown at the caller.
 */
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClientOptions } from "@grpc/grpc-js";
import { type LogbookError, toLogbookError } from "./errors.js";
import { BatchBuilder, decodeOp, pointsOf, type KeyValue, type Op, type OpKind } from "./ops.js";
import { OpSender } from "./op-sender.js";
import { LogbookRpc } from "./rpc.js";
import { RunHandle } from "./run.js";
import { Spool, SpoolLockedError } from "./spool.js";
import { logExperimentWith, type ExperimentRecord, type ExperimentResult } from "./log-experiment.js";
import { registerExitHooks, unregisterExitHooks } from "./exit-hooks.js";
import { type CompareRunsOptions, type WatchRunOptions, compareRuns, watchRun } from "./watch.js";
import type { RunUpdate } from "../../../gen/ts/logbook/v1/run_watch.js";
import type { CompareRunsResponse } from "../../../gen/ts/logbook/v1/search_service.js";

export interface TrackerOptions {
  /** host:port of Logbook's gRPC server; default $LOGBOOK_ADDRESS, else 127.0.0.1:50051. */
  address?: string;
  /**
   * The spool file (JSON lines). One Tracker at a time (a `.lock` beside it; SpoolLockedError otherwise). Default:
   * the first free of <tmpdir>/logbook-spool/<address>.jsonl, <address>-1.jsonl, …
   */
  spoolPath?: string;
  /** Size bound of the spool; when full the newest points are dropped and counted. Default 256 MiB. */
  maxSpoolBytes?: number;
  /** Open batches are sealed and sent at least this often. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Deadline of each call. Default 10,000 ms. */
  deadlineMs?: number;
  /** Sealed calls kept in memory before further ones go to the spool (memory bound). Default 100. */
  maxQueuedCalls?: number;
  /** First and largest delay of the reconnect probe (exponential backoff, "equal jitter"). Default 250 / 30,000 ms. */
  probeInitialMs?: number;
  probeMaxMs?: number;
  /** A call failed with a non-retryable error (it is dropped, not retried). */
  onError?: (error: LogbookError, op: Op) => void;
  /** Warnings: server unreachable (spooling), spool full (dropping). Default: console.warn. */
  onWarning?: (message: string) => void;
  /** Passed to the grpc-js client (e.g. `interceptors`). */
  channelOptions?: Partial<ClientOptions>;
  /**
   * A personal access token, for a Logbook started with `--auth basic`; default $LOGBOOK_TOKEN. A call refused for
   * its credentials (UNAUTHENTICATED, PERMISSION_DENIED) is reported through `onError`, not retried.
   */
  token?: string;
  /** Connect over TLS (default: $LOGBOOK_TLS is "true"); `rootCerts`: PEM of the CA to trust. */
  tls?: boolean | { rootCerts?: Buffer };
  /** Flush on `beforeExit` and write the queue to the spool on `exit`. Default true. */
  handleProcessExit?: boolean;
}

export interface StartRunOptions {
  experimentName?: string;
  experimentId?: string;
  runName?: string;
  tags?: Record<string, string>;
  /** 32 lowercase hex characters; default random. Replays of the same id never create a second run. */
  runId?: string;
  startTime?: number;
}

export interface TrackerStats {
  online: boolean;
  /** Sealed calls waiting in memory (not counting the one in flight). */
  queuedCalls: number;
  /** Points in memory: queued calls plus open batches. */
  queuedPoints: number;
  inFlight: number;
  maxInFlight: number;
  /** Calls that succeeded, by kind. */
  sent: Record<OpKind, number>;
  /** Calls attempted (including failed ones), by kind. */
  attempts: Record<OpKind, number>;
  spoolBytes: number;
  spoolPendingBytes: number;
  spooledCalls: number;
  replayedCalls: number;
  droppedPoints: number;
  errors: number;
}


const kinds = (): Record<OpKind, number> => ({ createRun: 0, logBatch: 0, endRun: 0, uploadArtifact: 0, registerModel: 0 });
const tags = (record: Record<string, string> = {}): KeyValue[] => Object.entries(record).map(([key, value]) => ({ key, value: String(value) }));

interface Waiter {
  done: () => boolean;
  resolve: () => void;
}

export class Tracker {
  readonly address: string;
  readonly spoolPath: string;
  readonly rpc: LogbookRpc;
  private readonly spool: Spool;
  private readonly options: Required<Pick<TrackerOptions, "flushIntervalMs" | "maxQueuedCalls" | "probeInitialMs" | "probeMaxMs">> & TrackerOptions;
  private readonly open = new Map<string, BatchBuilder>();
  private readonly queue: { seq: number; op: Op }[] = [];
  private current: { seq: number; op: Op } | undefined; // in flight, taken from the queue
  private seq = 0;
  private pumping = false;
  private inFlight = 0;
  private online = true;
  private probeAttempt = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  private readonly interval: NodeJS.Timeout;
  private waiters: Waiter[] = [];
  private spoolFullWarned = false;
  private offlineWarned = false;
  private closed = false;
  /** Aborted by close(): ends the watches on this tracker's channel. */
  private readonly watches = new AbortController();
  private readonly counters = { sent: kinds(), attempts: kinds(), spooledCalls: 0, replayedCalls: 0, droppedPoints: 0, errors: 0, maxInFlight: 0 };
  /** Sends one operation; remembers experiment ids and registered model versions. */
  readonly calls: OpSender;

  constructor(options: TrackerOptions = {}) {
    this.options = { flushIntervalMs: 1000, maxQueuedCalls: 100, probeInitialMs: 250, probeMaxMs: 30_000, ...options };
    this.address = options.address ?? process.env.LOGBOOK_ADDRESS ?? "127.0.0.1:50051";
    const maxBytes = options.maxSpoolBytes ?? 256 * 1024 * 1024;
    if (options.spoolPath) {
      this.spoolPath = options.spoolPath;
      this.spool = new Spool({ path: this.spoolPath, maxBytes }); // SpoolLockedError when another Tracker owns it
    } else {
      // The default: the first free slot of <tmpdir>/logbook-spool/<address>[-k].jsonl, so concurrent processes
      // each get one, and a later process replays what an earlier one left in its slot.
      const base = join(tmpdir(), "logbook-spool", this.address.replace(/[^A-Za-z0-9.-]/g, "_"));
      let found: { path: string; spool: Spool } | undefined;
      for (let k = 0; !found; k++) {
        const path = k === 0 ? `${base}.jsonl` : `${base}-${k}.jsonl`;
        try {
          found = { path, spool: new Spool({ path, maxBytes }) };
        } catch (err) {
          if (!(err instanceof SpoolLockedError) || k >= 63) throw err;
        }
      }
      this.spoolPath = found.path;
      this.spool = found.spool;
    }
    const token = options.token ?? process.env.LOGBOOK_TOKEN;
    const tls = options.tls ?? process.env.LOGBOOK_TLS === "true";
    this.rpc = new LogbookRpc(this.address, options.deadlineMs ?? 10_000, options.channelOptions, { ...(token ? { token } : {}), tls });
    this.calls = new OpSender(this.rpc);
    this.interval = setInterval(() => this.sealAll(), this.options.flushIntervalMs).unref();
    if (options.handleProcessExit !== false) registerExitHooks(this);
    if (!this.spool.isEmpty) this.kick(); // a spool left by an earlier process
  }

  // ---- the caller's side: synchronous, never throws for server trouble ----

  /** Starts a run (its CreateRun is queued first); returns the handle at once. */
  startRun(options: StartRunOptions = {}): RunHandle {
    if (!options.experimentId && !options.experimentName) throw new TypeError("startRun needs experimentName or experimentId");
    const runId = options.runId ?? randomBytes(16).toString("hex");
    if (!/^[0-9a-f]{32}$/.test(runId)) throw new TypeError("runId must be 32 lowercase hex characters");
    this.enqueue({
      kind: "createRun",
      runId,
      experimentId: options.experimentId,
      experimentName: options.experimentName,
      runName: options.runName,
      startTime: options.startTime ?? Date.now(),
      tags: tags(options.tags),
    });
    return new RunHandle(this, runId);
  }

  /** @internal Adds one point to the run's open batch, sealing it first when it has no room. */
  add(runId: string, kind: "metric" | "param" | "tag", key: string, value: string | number, step = 0, timestamp = Date.now()): void {
    if (this.closed) {
      this.drop(1, "the tracker is closed");
      return;
    }
    let batch = this.open.get(runId);
    const text = typeof value === "string" ? value : String(value);
    if (batch && !batch.fits(kind, key, text)) {
      this.seal(runId);
      batch = undefined;
    }
    if (!batch) this.open.set(runId, (batch = new BatchBuilder(runId)));
    if (kind === "metric") batch.metrics.push({ key, value: Number(value), step, timestamp });
    else if (kind === "param") batch.params.set(key, text);
    else batch.tags.set(key, text);
    if (batch.isFull) this.seal(runId);
  }

  /** @internal Queues an operation after the run's open batch (keeps the run's order). */
  enqueue(op: Op): void {
    if (this.closed) {
      this.drop(pointsOf(op), "the tracker is closed");
      return;
    }
    if (op.kind !== "createRun") this.seal(op.runId);
    this.queue.push({ seq: ++this.seq, op });
    this.kick();
  }

  private seal(runId: string): void {
    const batch = this.open.get(runId);
    if (!batch) return;
    this.open.delete(runId);
    if (batch.isEmpty) return;
    this.queue.push({ seq: ++this.seq, op: batch.seal() });
    this.kick();
  }

  private sealAll(): void {
    for (const runId of [...this.open.keys()]) this.seal(runId);
  }

  /** See logExperiment: records a complete experiment through this tracker and flushes it. */
  /**
   * The run live: its snapshot, then each change as it commits (metric points, params, tags, status), until the run
   * ends or the caller stops iterating (or the tracker is closed); reconnects after the last update when the server
   * goes away. Independent of the logging queue: points this tracker has not sent yet are not there.
   */
  watchRun(runId: string, options: WatchRunOptions = {}): AsyncGenerator<RunUpdate> {
    const signal = options.signal ? AbortSignal.any([options.signal, this.watches.signal]) : this.watches.signal;
    return watchRun(this.rpc, runId, { ...options, signal });
  }

  /** 2–100 runs side by side (SearchService.CompareRuns): params, tags, latest metrics, downsampled histories. */
  compareRuns(runIds: string[], options?: CompareRunsOptions): Promise<CompareRunsResponse> {
    return compareRuns(this.rpc, runIds, options);
  }

  logExperiment(record: ExperimentRecord): Promise<ExperimentResult> {
    return logExperimentWith(this, record);
  }

  // ---- flushing ----

  /**
   * Seals the open batches and resolves once everything logged so far has been sent (or reported), or — when
   * the server is unreachable — written to the spool. Probes the server first when it was away.
   */
  async flush(): Promise<void> {
    this.sealAll();
    const target = this.seq;
    if (!this.online) await this.probe();
    await this.until(() => this.doneUpTo(target) && (!this.online || this.spool.isEmpty));
  }

  /** Resolves once everything, spool included, has reached the server (waits for the server to come back). */
  async drain(): Promise<void> {
    this.sealAll();
    if (!this.online) await this.probe();
    await this.until(() => this.online && this.queue.length === 0 && !this.current && this.spool.isEmpty && !this.pumping);
  }

  /** Flushes, then stops timers and closes the channel. Later logging calls are dropped (and counted). */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    clearInterval(this.interval);
    if (this.probeTimer) clearTimeout(this.probeTimer);
    unregisterExitHooks(this);
    this.watches.abort(); // open watchRun iterations end (they share the channel)
    this.rpc.close();
    this.spool.close();
  }

  /** @internal Whether anything is still in memory (used by the beforeExit hook). */
  get hasPendingWork(): boolean {
    return !this.closed && (this.queue.length > 0 || this.current !== undefined || [...this.open.values()].some((b) => !b.isEmpty) || (this.online && !this.spool.isEmpty));
  }

  /** @internal Process `exit`: best effort, synchronous — everything in memory goes to the spool. */
  spoolNowSync(): void {
    if (this.closed) return;
    this.sealAll();
    if (this.current) this.spill(this.current.op); // in flight: it may land twice, which replays tolerate
    this.current = undefined;
    for (const item of this.queue.splice(0)) this.spill(item.op);
    this.closed = true;
    this.spool.close(); // releases the lock
  }

  stats(): TrackerStats {
    let points = 0;
    for (const item of this.queue) points += pointsOf(item.op);
    for (const batch of this.open.values()) points += batch.size;
    return {
      online: this.online,
      queuedCalls: this.queue.length,
      queuedPoints: points,
      inFlight: this.inFlight,
      maxInFlight: this.counters.maxInFlight,
      sent: { ...this.counters.sent },
      attempts: { ...this.counters.attempts },
      spoolBytes: this.spool.bytes,
      spoolPendingBytes: this.spool.pendingBytes,
      spooledCalls: this.counters.spooledCalls,
      replayedCalls: this.counters.replayedCalls,
      droppedPoints: this.counters.droppedPoints,
      errors: this.counters.errors,
    };
  }

  private doneUpTo(seq: number): boolean {
    const head = this.current?.seq ?? this.queue[0]?.seq;
    return head === undefined || head > seq;
  }

  private until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ done, resolve }));
  }

  private settle(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) (w.done() ? w.resolve : () => still.push(w))();
    this.waiters = still;
  }

  // ---- the pump: one call in flight, spool first (it holds the oldest calls), then memory ----

  private kick(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    queueMicrotask(() => void this.pump());
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        if (!this.online) {
          for (const item of this.queue.splice(0)) this.spill(item.op);
          return;
        }
        while (this.queue.length > this.options.maxQueuedCalls) this.spill(this.queue.shift()!.op);
        let op: Op | undefined;
        let spoolNext: number | undefined;
        const line = this.spool.peek();
        if (line) {
          op = decodeOp(line.value);
          spoolNext = line.next;
          if (!op) {
            this.spool.commit(line.next);
            continue;
          }
        } else {
          this.current = this.queue.shift();
          op = this.current?.op;
        }
        if (!op) return;
        this.inFlight++;
        this.counters.maxInFlight = Math.max(this.counters.maxInFlight, this.inFlight);
        const outcome = await this.send(op).finally(() => this.inFlight--);
        if (outcome === "retry") {
          if (this.current) this.queue.unshift(this.current);
          this.current = undefined;
          this.goOffline(op);
          continue;
        }
        if (spoolNext !== undefined) {
          this.spool.commit(spoolNext);
          this.counters.replayedCalls++;
          if (this.spool.isEmpty) this.spoolFullWarned = false;
        }
        this.current = undefined;
        this.settle();
      }
    } finally {
      this.pumping = false;
      this.settle();
    }
  }

  private spill(op: Op): void {
    if (this.spool.append(op)) {
      this.counters.spooledCalls++;
      return;
    }
    this.drop(pointsOf(op), `the spool ${this.spoolPath} is full (${this.spool.bytes} bytes)`);
  }

  private drop(points: number, why: string): void {
    this.counters.droppedPoints += points;
    if (!this.spoolFullWarned) {
      this.spoolFullWarned = true;
      this.warn(`logbook: ${why}: dropping the newest points from now on (counted in stats().droppedPoints)`);
    }
  }

  private warn(message: string): void {
    (this.options.onWarning ?? console.warn)(message);
  }

  private goOffline(op: Op): void {
    if (this.online && !this.offlineWarned) {
      this.offlineWarned = true;
      this.warn(`logbook: ${this.address} is unreachable (during ${op.kind}): spooling to ${this.spoolPath}, replaying when it is back`);
    }
    this.online = false;
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.probeTimer || this.closed) return;
    const cap = Math.min(this.options.probeMaxMs, this.options.probeInitialMs * 2 ** this.probeAttempt);
    const delay = cap / 2 + Math.random() * (cap / 2);
    this.probeAttempt++;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      void this.probe();
    }, delay).unref();
  }

  /** One GetServerStatus; back online (and pumping) when it answers, else the next probe is scheduled. */
  private async probe(): Promise<void> {
    if (this.online || this.closed) return;
    let ready: boolean;
    try {
      ready = (await this.rpc.tracking.getServerStatus({})).status === "ok"; // "degraded": its store is away
    } catch (err) {
      ready = !toLogbookError(err).retryable; // e.g. UNIMPLEMENTED: it answers, so try the real calls
    }
    if (!ready) {
      this.scheduleProbe();
      this.settle();
      return;
    }
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.online = true;
    this.offlineWarned = false;
    this.kick(); // the backoff is reset by the first call that succeeds, not by the probe
  }

  private async send(op: Op): Promise<"ok" | "retry" | "reported"> {
    this.counters.attempts[op.kind]++;
    try {
      await this.calls.execute(op);
      this.counters.sent[op.kind]++;
      this.probeAttempt = 0;
      return "ok";
    } catch (e) {
      const err = toLogbookError(e);
      if (err.retryable) return "retry";
      this.counters.errors++;
      try {
        this.options.onError?.(err, op);
      } catch {
        // the caller's callback must not stop the pump
      }
      return "reported";
    }
  }
}
