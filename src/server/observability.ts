/**
 * The server's observability, assembled once from the configuration and the environment: the metrics registry
 * (unless `--no-metrics`), tracing (when the OTEL_* variables turn it on), and the call observer both transports
 * plug into their seams (RPC metrics, server spans, request logs).
 */
import type { Logger } from "pino";
import { createCallObserver, type CallObserver } from "../observability/call-observer.js";
import type { StreamObservers } from "../edge/stream-writer.js";
import { createMetrics, type Metrics, type MetricSources, type Transport } from "../observability/metrics.js";
import { streamObservers } from "../observability/stream-metrics.js";
import { startTracing, tracingSettings, type Tracing } from "../observability/tracing.js";
import type { ServerConfig } from "./config.js";
import { startMetricsServer, type MetricsServer } from "./metrics-server.js";
import { LOGBOOK_VERSION } from "./version.js";

export interface Observability {
  metrics?: Metrics;
  tracing?: Tracing;
  calls: CallObserver;
  /** The observers of a transport's server streams (undefined with `--no-metrics`). */
  streams(transport: Transport): StreamObservers | undefined;
  /** With `--metrics-port`, starts the metrics-only server; resolves with its port (undefined otherwise). */
  listen(host: string): Promise<number | undefined>;
  /** Stops the metrics server and exports the spans still pending. */
  close(): Promise<void>;
}

type Config = Pick<ServerConfig, "metrics" | "metricsPort" | "logRequests" | "slowRequestMs">;

export async function startObservability(config: Config, logger: Logger, sources: MetricSources, env: NodeJS.ProcessEnv = process.env): Promise<Observability> {
  const settings = tracingSettings(env);
  const tracing = settings ? await startTracing({ settings, version: LOGBOOK_VERSION, logger }) : undefined;
  const metrics = config.metrics ? createMetrics({ version: LOGBOOK_VERSION, sources }) : undefined;
  const calls = createCallObserver({
    ...(metrics ? { metrics } : {}),
    ...(tracing ? { tracing } : {}),
    logger,
    logRequests: config.logRequests,
    slowRequestMs: config.slowRequestMs,
  });
  let server: MetricsServer | undefined;
  return {
    ...(metrics ? { metrics } : {}),
    ...(tracing ? { tracing } : {}),
    calls,
    streams: (transport) => (metrics ? streamObservers(metrics, transport) : undefined),
    async listen(host) {
      if (!metrics || config.metricsPort === undefined) return undefined;
      server = await startMetricsServer(metrics, { host, port: config.metricsPort, logger });
      return server.port;
    },
    async close() {
      await server?.close();
      await tracing?.shutdown();
    },
  };
}

/** Whether the HTTP port serves /metrics: yes unless metrics are off or they have a port of their own. */
export function metricsOnHttpPort(config: Config): boolean {
  return config.metrics && config.metricsPort === undefined;
}
