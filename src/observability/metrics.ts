/**
 * Logbook's Prometheus metrics: one registry per server (no module-level state, so several servers in one
 * process — the tests — never share counters), holding every metric Logbook exports plus prom-client's process
 * and Node runtime metrics. The names and labels are a public contract: scrapers, the alert rules and the
 * dashboard in docs/operations.md use them, so a rename is a breaking change.
 *
 * Label values are bounded by construction: `method` is an RPC name or a route template (never a raw path or
 * an id), `operation` a Store method name, `code` a gRPC status name or an HTTP status, `direction` one of two.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** 1 ms … 10 s, roughly ×2.5 per step: where RPC and store latencies live. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type Transport = "grpc" | "http";
export type ArtifactDirection = "upload" | "download";

/** What the gauges read when scraped (set by the server once the things they measure exist). */
export interface MetricSources {
  /** Calls and HTTP requests in flight on both transports. */
  inFlight(): number;
  /** Whether the store answered its last health ping. */
  storeUp(): boolean;
  /** Bytes the artifact store has read from its medium since it opened (only ever grows). */
  artifactBytesRead(): number;
}

export interface Metrics {
  readonly registry: Registry;
  readonly rpcRequests: Counter<"transport" | "service" | "method" | "code">;
  readonly rpcDuration: Histogram<"transport" | "service" | "method">;
  readonly streamsOpen: Gauge<"transport">;
  readonly streamsStalled: Gauge<"transport">;
  readonly streamItems: Counter<"transport">;
  readonly ingestedMetricPoints: Counter;
  readonly ingestedParams: Counter;
  readonly ingestedTags: Counter;
  readonly storeOperationDuration: Histogram<"operation" | "store">;
  readonly artifactBytes: Counter<"direction">;
  /** The Prometheus text exposition of every metric. */
  exposition(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsOptions {
  version: string;
  sources: MetricSources;
  /** prom-client's process and Node runtime metrics (event-loop lag, heap, GC); default true. */
  runtime?: boolean;
}

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const { sources } = options;
  let downloadedBytes = 0;

  new Gauge({
    name: "logbook_build_info",
    help: "Always 1; the running Logbook's version is in the `version` label.",
    labelNames: ["version"],
    registers,
  }).set({ version: options.version }, 1);
  new Gauge({
    name: "logbook_rpc_in_flight",
    help: "gRPC calls and HTTP requests (both transports) being served now.",
    registers,
    collect() {
      this.set(sources.inFlight());
    },
  });
  new Gauge({
    name: "logbook_store_up",
    help: "1 when the store answered its last health ping, 0 when it did not (the same source as gRPC health and /readyz).",
    registers,
    collect() {
      this.set(sources.storeUp() ? 1 : 0);
    },
  });

  const metrics: Omit<Metrics, "exposition" | "contentType"> = {
    registry,
    rpcRequests: new Counter({
      name: "logbook_rpc_requests_total",
      help:
        "Finished RPCs and HTTP requests. method: the RPC name, or the route template of a non-RPC route; " +
        "code: the gRPC status name (grpc) or the HTTP status (http; 499 when the response was cut before its end).",
      labelNames: ["transport", "service", "method", "code"],
      registers,
    }),
    rpcDuration: new Histogram({
      name: "logbook_rpc_duration_seconds",
      help: "Time from receiving an RPC or HTTP request to its last byte or status (streams: the whole stream).",
      labelNames: ["transport", "service", "method"],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    streamsOpen: new Gauge({
      name: "logbook_streams_open",
      help: "Server streams open now: gRPC server streams, NDJSON responses and HTTP artifact downloads.",
      labelNames: ["transport"],
      registers,
    }),
    streamsStalled: new Gauge({
      name: "logbook_streams_stalled",
      help: "Open server streams waiting on a slow reader (their send buffer is full).",
      labelNames: ["transport"],
      registers,
    }),
    streamItems: new Counter({
      name: "logbook_stream_items_total",
      help: "Items written to server streams (gRPC messages, NDJSON lines, download chunks).",
      labelNames: ["transport"],
      registers,
    }),
    ingestedMetricPoints: new Counter({
      name: "logbook_ingested_metric_points_total",
      help: "Metric points written to runs (LogBatch, LogMetric; both transports).",
      registers,
    }),
    ingestedParams: new Counter({
      name: "logbook_ingested_params_total",
      help: "Params written to runs (LogBatch, LogParameter; both transports).",
      registers,
    }),
    ingestedTags: new Counter({
      name: "logbook_ingested_tags_total",
      help: "Tags written to runs (LogBatch, SetTag; both transports).",
      registers,
    }),
    storeOperationDuration: new Histogram({
      name: "logbook_store_operation_duration_seconds",
      help: "Time spent in one store operation (a Store method: logBatch, searchRuns, …), failed ones included; streamRuns: the time spent reading, not waiting on the consumer.",
      labelNames: ["operation", "store"],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    artifactBytes: new Counter({
      name: "logbook_artifact_bytes_total",
      help: "Artifact bytes written to (upload) and read from (download) the artifact store, over both transports.",
      labelNames: ["direction"],
      registers,
      collect() {
        const read = sources.artifactBytesRead();
        if (read > downloadedBytes) this.inc({ direction: "download" }, read - downloadedBytes);
        downloadedBytes = Math.max(downloadedBytes, read);
      },
    }),
  };
  // Series with a small fixed label set start at 0, so rate() and absent() see them before the first event.
  for (const transport of ["grpc", "http"] as const) {
    metrics.streamsOpen.set({ transport }, 0);
    metrics.streamsStalled.set({ transport }, 0);
    metrics.streamItems.inc({ transport }, 0);
  }
  for (const direction of ["upload", "download"] as const) metrics.artifactBytes.inc({ direction }, 0);
  if (options.runtime ?? true) collectDefaultMetrics({ register: registry });
  return { ...metrics, exposition: () => registry.metrics(), contentType: registry.contentType };
}
