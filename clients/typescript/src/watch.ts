/**
 * Live watching and comparison: `watchRun` (an async iterator over TrackingService.WatchRun that reconnects after the
 * last update it handed out when the server goes away) and `compareRuns` (SearchService.CompareRuns by name).
 */
import { status } from "@grpc/grpc-js";
import type { RunUpdate } from "../../../gen/ts/logbook/v1/run_watch.js";
import { type CompareRunsResponse, MetricDirection } from "../../../gen/ts/logbook/v1/search_service.js";
import { TrackingServiceService } from "../../../gen/ts/logbook/v1/tracking_service.js";
import { toLogbookError } from "./errors.js";
import type { LogbookRpc } from "./rpc.js";

export interface WatchRunOptions {
  /** Only these metrics; default every metric. */
  metricKeys?: string[];
  /** Resume after this update's sequence (the changes after it come first, no snapshot). */
  afterSequence?: bigint;
  /** Ends the iteration (the call is cancelled). */
  signal?: AbortSignal;
  /**
   * When the server goes away (UNAVAILABLE: restarted, shut down), call again after the last update received, with
   * backoff up to `maxReconnectDelayMs` (default 5,000). Default true. Other errors end the iteration.
   */
  reconnect?: boolean;
  maxReconnectDelayMs?: number;
}

/**
 * The run's snapshot, then each of its changes as it commits, until the run ends (the iteration finishes) or the
 * caller stops (break, `return()`, the signal). Reads only as fast as the caller iterates: a caller that falls behind
 * gets the latest value per key (`coalesced`), and one too far behind an error (RESOURCE_EXHAUSTED).
 */
export async function* watchRun(rpc: LogbookRpc, runId: string, options: WatchRunOptions = {}): AsyncGenerator<RunUpdate> {
  const def = TrackingServiceService.watchRun;
  let after = options.afterSequence;
  let attempt = 0;
  for (;;) {
    if (options.signal?.aborted) return;
    const call = rpc.raw.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, {
      runId,
      metricKeys: options.metricKeys ?? [],
      ...(after === undefined ? {} : { afterSequence: after }),
    });
    const cancel = () => call.cancel();
    options.signal?.addEventListener("abort", cancel, { once: true });
    try {
      for await (const update of call as AsyncIterable<RunUpdate>) {
        attempt = 0;
        after = update.sequence;
        yield update;
      }
      return;
    } catch (err) {
      if (options.signal?.aborted) return;
      const error = toLogbookError(err, def.path);
      if (options.reconnect === false || error.grpcCode !== status.UNAVAILABLE) throw error;
      const delay = Math.min(options.maxReconnectDelayMs ?? 5000, 100 * 2 ** attempt++);
      await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * (delay / 2)));
    } finally {
      options.signal?.removeEventListener("abort", cancel);
      call.cancel();
    }
  }
}

export interface CompareRunsOptions {
  /** Metrics whose histories come back downsampled (at most 20). */
  metricKeys?: string[];
  /** Points per run and metric in the histories (default 500). */
  maxPoints?: number;
  /** Which way each metric is better; default MAXIMIZE (never guessed from the name). */
  directions?: Record<string, "MAXIMIZE" | "MINIMIZE">;
}

export async function compareRuns(rpc: LogbookRpc, runIds: string[], options: CompareRunsOptions = {}): Promise<CompareRunsResponse> {
  const directions = Object.fromEntries(
    Object.entries(options.directions ?? {}).map(([key, d]) => [
      key,
      d === "MINIMIZE" ? MetricDirection.METRIC_DIRECTION_MINIMIZE : MetricDirection.METRIC_DIRECTION_MAXIMIZE,
    ]),
  );
  return rpc.search.compareRuns({ runIds, metricKeys: options.metricKeys ?? [], ...(options.maxPoints === undefined ? {} : { maxPoints: options.maxPoints }), directions });
}
