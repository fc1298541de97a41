/**
 * OpenTelemetry tracing, off unless the standard `OTEL_*` environment variables turn it on (tracingSettings),
 * exporting OTLP over HTTP/protobuf by default — `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL` may say `http/json` or
 * `grpc` — to `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`. The exporters, the batch processor (`OTEL_BSP_*`), the
 * sampler (`OTEL_TRACES_SAMPLER`, parent-based always-on by default) and the resource (`OTEL_SERVICE_NAME`,
 * `OTEL_RESOURCE_ATTRIBUTES`) read their own variables as the OpenTelemetry SDK documents them.
 *
 * Nothing here is global: each server gets its own provider, tracer and AsyncLocalStorage context manager (the
 * active span follows a call into the services and the store), and the W3C propagator is used as an instance. The
 * SDK is loaded only when tracing is on.
 */
import { ROOT_CONTEXT, trace, type Context, type Span, type TextMapGetter, type Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { Logger } from "pino";

export type OtlpProtocol = "http/protobuf" | "http/json" | "grpc";

/** What the environment asks for: no tracing (undefined), OTLP with a protocol, or spans printed to stdout. */
export type TracingSettings = { exporter: "otlp"; protocol: OtlpProtocol } | { exporter: "console" };

const PROTOCOLS: readonly OtlpProtocol[] = ["http/protobuf", "http/json", "grpc"];

const isTrue = (value: string | undefined) => value?.trim().toLowerCase() === "true";
const valueOf = (env: NodeJS.ProcessEnv, name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined);

/**
 * Tracing is on when `OTEL_TRACES_EXPORTER` names an exporter (`otlp`, `console`), or, with that variable unset,
 * when an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`). It is off
 * otherwise, and always with `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`. A value Logbook cannot honour
 * is an error at start-up rather than a silent absence of traces.
 */
export function tracingSettings(env: NodeJS.ProcessEnv): TracingSettings | undefined {
  if (isTrue(env.OTEL_SDK_DISABLED)) return undefined;
  const exporters = (valueOf(env, "OTEL_TRACES_EXPORTER") ?? "").split(",").map((e) => e.trim()).filter(Boolean);
  if (exporters.includes("none")) return undefined;
  const unsupported = exporters.filter((e) => e !== "otlp" && e !== "console");
  if (unsupported.length > 0 || exporters.length > 1) {
    throw new Error(`OTEL_TRACES_EXPORTER=${env.OTEL_TRACES_EXPORTER}: Logbook exports traces with one of "otlp", "console" or "none"`);
  }
  if (exporters[0] === "console") return { exporter: "console" };
  const endpoint = valueOf(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ?? valueOf(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
  if (exporters[0] !== "otlp" && !endpoint) return undefined;
  const protocol = valueOf(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ?? valueOf(env, "OTEL_EXPORTER_OTLP_PROTOCOL") ?? "http/protobuf";
  if (!PROTOCOLS.includes(protocol as OtlpProtocol)) {
    throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol}: expected one of ${PROTOCOLS.join(", ")}`);
  }
  return { exporter: "otlp", protocol: protocol as OtlpProtocol };
}

/** A server's tracing: its tracer, the active context of the current call, and W3C trace-context extraction. */
export interface Tracing {
  readonly tracer: Tracer;
  /** The context active in the current async chain (ROOT_CONTEXT outside any call). */
  active(): Context;
  /** Runs `fn` with `ctx` active, so spans started beneath it (store operations) become its children. */
  with<T>(ctx: Context, fn: () => T): T;
  /** Exports the finished spans still pending. */
  flush(): Promise<void>;
  /** Exports what is pending and stops; spans started afterwards are dropped. */
  shutdown(): Promise<void>;
}

/** The span of the current call, if there is one. */
export function activeSpan(tracing: Tracing): Span | undefined {
  return trace.getSpan(tracing.active());
}

const propagator = new W3CTraceContextPropagator();

const getter: TextMapGetter<(name: string) => string | undefined> = {
  get: (read, key) => read(key),
  keys: () => ["traceparent", "tracestate"],
};

/**
 * The remote parent carried by an incoming request's W3C `traceparent` / `tracestate` (HTTP headers or gRPC
 * metadata, read through `read`), or ROOT_CONTEXT when there is none or it is malformed.
 */
export function extractTraceContext(read: (name: string) => string | undefined): Context {
  return propagator.extract(ROOT_CONTEXT, read, getter);
}

/** The trace id of an incoming `traceparent`, for request logs when tracing is off. */
export function incomingTraceId(read: (name: string) => string | undefined): string | undefined {
  return trace.getSpanContext(extractTraceContext(read))?.traceId;
}

export interface StartTracingOptions {
  settings: TracingSettings;
  /** service.version; service.name is "logbook" unless OTEL_SERVICE_NAME says otherwise. */
  version: string;
  logger: Logger;
  /** Replaces the exporter the settings name (tests: an in-memory one). */
  exporter?: SpanExporter;
}

/** Starts the SDK (loaded here, only when tracing is on). */
export async function startTracing(options: StartTracingOptions): Promise<Tracing> {
  const [{ BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter }, { AsyncLocalStorageContextManager }, resources] = await Promise.all([
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/context-async-hooks"),
    import("@opentelemetry/resources"),
  ]);
  const { settings, logger } = options;
  let exporter: SpanExporter;
  if (options.exporter) exporter = options.exporter;
  else if (settings.exporter === "console") exporter = new ConsoleSpanExporter();
  else if (settings.protocol === "http/json") exporter = new (await import("@opentelemetry/exporter-trace-otlp-http")).OTLPTraceExporter();
  else if (settings.protocol === "grpc") exporter = new (await import("@opentelemetry/exporter-trace-otlp-grpc")).OTLPTraceExporter();
  else exporter = new (await import("@opentelemetry/exporter-trace-otlp-proto")).OTLPTraceExporter();

  // Export failures are otherwise silent (the SDK reports them to a diag logger nobody installed): say when
  // exporting starts failing and when it recovers, not once per batch.
  let failing = false;
  const exportSpans = exporter.export.bind(exporter);
  exporter.export = (spans, done) =>
    exportSpans(spans, (result) => {
      const failed = result.code !== 0; // ExportResultCode.SUCCESS
      if (failed && !failing) logger.warn({ err: result.error }, "trace export failing; spans are being dropped");
      if (!failed && failing) logger.info("trace export recovered");
      failing = failed;
      done(result);
    });

  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ "service.name": "logbook", "service.version": options.version }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  logger.info({ tracing: settings }, "tracing on");
  return {
    tracer: provider.getTracer("logbook", options.version),
    active: () => contextManager.active(),
    with: (ctx, fn) => contextManager.with(ctx, fn),
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      await provider.shutdown();
      contextManager.disable();
    },
  };
}
