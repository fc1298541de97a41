/** Test helpers for the SDK suites: a counting grpc-js interceptor and metric-history reads from a live Logbook. */
import { InterceptingCall, type Interceptor } from "@grpc/grpc-js";
import type { LogBatchRequest } from "../../../gen/ts/logbook/v1/tracking_service.js";
import { TrackingServiceService } from "../../../gen/ts/logbook/v1/tracking_service.js";
import { promiseClient } from "../../../test/harness/promise-client.js";
import type { Metric } from "../../../gen/ts/logbook/v1/run.js";

/** Counts calls by method and records every LogBatch request as it goes on the wire. */
export function callCounter(): { interceptor: Interceptor; calls: Map<string, number>; batches: LogBatchRequest[]; count(method: string): number } {
  const calls = new Map<string, number>();
  const batches: LogBatchRequest[] = [];
  const interceptor: Interceptor = (options, next) => {
    const path = options.method_definition.path;
    calls.set(path, (calls.get(path) ?? 0) + 1);
    return new InterceptingCall(next(options), {
      sendMessage(message, nextSend) {
        if (path.endsWith("/LogBatch")) batches.push(message as LogBatchRequest);
        nextSend(message);
      },
    });
  };
  return { interceptor, calls, batches, count: (method) => calls.get(`/logbook.v1.TrackingService/${method}`) ?? 0 };
}

/** Every stored point of one metric of a run, read with the generated client. */
export async function metricHistory(address: string, runId: string, key: string): Promise<Metric[]> {
  const tracking = promiseClient(TrackingServiceService, address);
  try {
    const out: Metric[] = [];
    let pageToken = "";
    do {
      const page = await tracking.getMetricHistory({ runId, runUuid: "", metricKey: key, pageToken, maxResults: 25_000 });
      out.push(...page.metrics);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return out;
  } finally {
    tracking.close();
  }
}

/** The steps of a history, sorted, and whether each of 0..n-1 is there exactly once. */
export function stepsExactlyOnce(history: Metric[], n: number): boolean {
  const steps = history.map((m) => Number(m.step)).sort((a, b) => a - b);
  return steps.length === n && steps.every((s, i) => s === i);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
