/**
 * What Logbook records of every gRPC call and HTTP request, whatever the transport: the RPC metrics
 * (logbook_rpc_requests_total, logbook_rpc_duration_seconds), a server span continuing the caller's W3C trace
 * (with the RPC or route template, never the raw path), and one structured request log line. The transports plug it
 * in at their seams (a gRPC interceptor, an HTTP hook), so every call is observed by construction; this module
 * knows neither grpc-js nor fastify.
 */
import { SpanKind, SpanStatusCode, trace, type Context, type Span } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { Metrics, Transport } from "./metrics.js";
import { extractTraceContext, incomingTraceId, type Tracing } from "./tracing.js";

/** How a call is named in labels, spans and logs: bounded values only. */
export interface CallName {
  /** The RPC's service ("logbook.v1.TrackingService"), or the route family of a non-RPC HTTP route. */
  service: string;
  /** The RPC name ("LogBatch"), or the route template of a non-RPC route ("/get-artifact"). */
  method: string;
  /** HTTP only: the matched route template ("/api/2.0/mlflow/runs/log-batch", "/mlflow/runs/{run_id}"). */
  route?: string;
  /** An RPC (either transport), as opposed to a hand-written HTTP route. */
  rpc: boolean;
  /** A streaming call (server or client stream, NDJSON, raw bytes): long by nature, never logged as slow. */
  streaming?: boolean;
}

export interface CallStart {
  transport: Transport;
  /** HTTP only: the request method. */
  httpMethod?: string;
  /** Reads an incoming header or metadata value (traceparent, tracestate). */
  header(name: string): string | undefined;
  /** Known at the start on gRPC; an HTTP request is named once routed ({@link CallObservation.name}). */
  name?: CallName;
}

export interface CallOutcome {
  /** gRPC: the status name ("OK", "NOT_FOUND"); HTTP: the status ("200"; "499" when the client went away first). */
  code: string;
  /** Request and response bytes, where the transport knows them. */
  bytesIn?: number;
  bytesOut?: number;
  /** The authenticated caller, once authentication exists. */
  user?: string;
}

export interface CallObservation {
  /** Runs the handler with the call's span active, so store spans become its children. */
  run<T>(fn: () => T): T;
  /** Whether the call has a span (`run` does something): without one, a stream need not wrap each pull in it. */
  readonly traced: boolean;
  /** Names (or renames) the call; HTTP requests are named once the router has matched them. */
  name(name: CallName): void;
  /** Records the call once: metrics, span end, request log line. Later calls do nothing. */
  end(outcome: CallOutcome): void;
  /** The trace id of this call (its own span's, or the caller's when tracing is off). */
  readonly traceId: string | undefined;
}

export interface CallObserver {
  begin(start: CallStart): CallObservation;
}

export interface CallObserverOptions {
  metrics?: Metrics;
  tracing?: Tracing;
  logger: Logger;
  /** One info line per request (`--no-log-requests` turns it off). */
  logRequests: boolean;
  /** Unary calls slower than this are logged at warn (even with logRequests off). */
  slowRequestMs: number;
}

/** A request no route matched: one label value for all of them, so unknown paths cannot grow the series. */
export const UNMATCHED: CallName = { service: "none", method: "unmatched", rpc: false };

/** gRPC codes that mean the server failed (OpenTelemetry's rule for server spans); HTTP: 5xx. */
const GRPC_SERVER_ERRORS = new Set(["UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS"]);

export function isServerError(transport: Transport, code: string): boolean {
  return transport === "grpc" ? GRPC_SERVER_ERRORS.has(code) : code.length === 3 && code.startsWith("5");
}

export function createCallObserver(options: CallObserverOptions): CallObserver {
  return { begin: (start) => new Observation(options, start) };
}

/**
 * One call's observation. A class (methods on the prototype) rather than closures: one lives per call in flight, and
 * thousands of streams may be open at once.
 */
class Observation implements CallObservation {
  readonly traceId: string | undefined;
  private readonly started = performance.now();
  private callName: CallName;
  private readonly span: Span | undefined;
  private readonly spanContext: Context | undefined;
  private ended = false;

  constructor(
    private readonly options: CallObserverOptions,
    private readonly start: CallStart,
  ) {
    this.callName = start.name ?? UNMATCHED;
    const { tracing } = options;
    if (tracing) {
      const parent = extractTraceContext(start.header);
      this.span = tracing.tracer.startSpan(spanName(start, this.callName), { kind: SpanKind.SERVER, attributes: spanAttributes(start, this.callName) }, parent);
      this.spanContext = trace.setSpan(parent, this.span);
    }
    this.traceId = this.span ? this.span.spanContext().traceId : incomingTraceId(start.header);
  }

  get traced(): boolean {
    return this.spanContext !== undefined;
  }

  run<T>(fn: () => T): T {
    const { tracing } = this.options;
    return tracing && this.spanContext ? tracing.with(this.spanContext, fn) : fn();
  }

  name(next: CallName): void {
    this.callName = next;
    if (this.span) {
      this.span.updateName(spanName(this.start, next));
      this.span.setAttributes(spanAttributes(this.start, next));
    }
  }

  end(outcome: CallOutcome): void {
    if (this.ended) return;
    this.ended = true;
    const ms = performance.now() - this.started;
    const { metrics, logger } = this.options;
    const { transport } = this.start;
    const name = this.callName;
    metrics?.rpcRequests.inc({ transport, service: name.service, method: name.method, code: outcome.code });
    metrics?.rpcDuration.observe({ transport, service: name.service, method: name.method }, ms / 1000);
    const { span } = this;
    if (span) {
      if (transport === "http") span.setAttribute("http.response.status_code", Number(outcome.code));
      else span.setAttribute("rpc.grpc.status_code", outcome.code);
      if (isServerError(transport, outcome.code)) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.code });
      span.end();
    }
    const slow = !name.streaming && ms >= this.options.slowRequestMs;
    if (!slow && !this.options.logRequests) return;
    const line = {
      transport,
      service: name.service,
      method: name.method,
      ...(name.route ? { route: `${this.start.httpMethod ?? ""} ${name.route}`.trim() } : {}),
      code: outcome.code,
      durationMs: Math.round(ms * 10) / 10,
      ...(outcome.bytesIn !== undefined ? { bytesIn: outcome.bytesIn } : {}),
      ...(outcome.bytesOut !== undefined ? { bytesOut: outcome.bytesOut } : {}),
      ...(this.traceId ? { traceId: this.traceId } : {}),
      ...(outcome.user ? { user: outcome.user } : {}),
    };
    if (slow) logger.warn(line, "slow request");
    else logger.info(line, "request");
  }
}

function spanName(start: CallStart, name: CallName): string {
  if (start.transport === "grpc") return `${name.service}/${name.method}`;
  return `${start.httpMethod ?? "HTTP"} ${name.route ?? name.method}`;
}

function spanAttributes(start: CallStart, name: CallName): Record<string, string> {
  if (start.transport === "grpc") return { "rpc.system": "grpc", "rpc.service": name.service, "rpc.method": name.method };
  return {
    "http.request.method": start.httpMethod ?? "",
    ...(name.route ? { "http.route": name.route } : {}),
    ...(name.rpc ? { "rpc.service": name.service, "rpc.method": name.method } : { "logbook.route.family": name.service }),
  };
}
