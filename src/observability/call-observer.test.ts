import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { pino } from "pino";
import { captureLogs } from "../../test/harness/log-capture.js";
import { afterEach, describe, expect, it } from "vitest";
import { parseExposition, Scrape } from "../../test/harness/prometheus.js";
import { createCallObserver, isServerError, type CallObserverOptions } from "./call-observer.js";
import { createMetrics } from "./metrics.js";
import { activeSpan, startTracing, type Tracing } from "./tracing.js";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

function captureLogger(level = "info") {
  const { logger, lines } = captureLogs(level);
  return { logger, lines };
}

const flushLogs = () => new Promise((resolve) => setImmediate(resolve));
const noHeaders = () => undefined;

describe("call observer", () => {
  let tracing: Tracing | undefined;
  afterEach(async () => {
    await tracing?.shutdown();
    tracing = undefined;
  });

  function setup(options: Partial<CallObserverOptions> = {}) {
    const metrics = createMetrics({ version: "0", sources: { inFlight: () => 0, storeUp: () => true, artifactBytesRead: () => 0 }, runtime: false });
    const { logger, lines } = captureLogger();
    const observer = createCallObserver({ metrics, logger, logRequests: true, slowRequestMs: 60_000, ...options });
    const scrape = async () => new Scrape("", parseExposition(await metrics.exposition()));
    return { metrics, observer, lines, logger, scrape };
  }

  it("counts and times each call once, with its labels", async () => {
    const { observer, scrape } = setup();
    const grpc = { transport: "grpc", service: "logbook.v1.TrackingService", method: "LogBatch" };
    for (const code of ["OK", "OK", "NOT_FOUND"]) {
      const call = observer.begin({ transport: "grpc", header: noHeaders, name: { service: grpc.service, method: grpc.method, rpc: true } });
      call.end({ code });
      call.end({ code: "INTERNAL" }); // a second end records nothing
    }
    const http = observer.begin({ transport: "http", httpMethod: "GET", header: noHeaders });
    http.name({ service: "logbook.v1.TrackingService", method: "GetRun", route: "/mlflow/runs/{run_id}", rpc: true });
    http.end({ code: "200" });
    observer.begin({ transport: "http", httpMethod: "GET", header: noHeaders }).end({ code: "404" });
    const s = await scrape();
    expect(s.value("logbook_rpc_requests_total", { ...grpc, code: "OK" })).toBe(2);
    expect(s.value("logbook_rpc_requests_total", { ...grpc, code: "NOT_FOUND" })).toBe(1);
    expect(s.value("logbook_rpc_requests_total", { ...grpc, code: "INTERNAL" })).toBe(0);
    expect(s.count("logbook_rpc_duration_seconds", grpc)).toBe(3);
    expect(s.value("logbook_rpc_requests_total", { transport: "http", service: "logbook.v1.TrackingService", method: "GetRun", code: "200" })).toBe(1);
    expect(s.value("logbook_rpc_requests_total", { transport: "http", service: "none", method: "unmatched", code: "404" })).toBe(1);
  });

  it("logs one line per request with the call's name, code, duration, bytes and trace id", async () => {
    const { observer, lines } = setup();
    const call = observer.begin({ transport: "http", httpMethod: "POST", header: (n) => (n === "traceparent" ? TRACEPARENT : undefined) });
    call.name({ service: "logbook.v1.TrackingService", method: "LogBatch", route: "/api/2.0/mlflow/runs/log-batch", rpc: true });
    call.end({ code: "200", bytesIn: 120, bytesOut: 2, user: "alice" });
    await flushLogs();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: "request",
      transport: "http",
      service: "logbook.v1.TrackingService",
      method: "LogBatch",
      route: "POST /api/2.0/mlflow/runs/log-batch",
      code: "200",
      bytesIn: 120,
      bytesOut: 2,
      traceId: TRACE_ID, // the caller's, with tracing off
      user: "alice",
    });
    expect(typeof lines[0]!.durationMs).toBe("number");
  });

  it("--no-log-requests: no line, except for slow calls, which are warnings; streams are never slow", async () => {
    const { observer, lines, logger } = setup({ logRequests: false, slowRequestMs: 1 });
    const quick = createCallObserver({ logger, logRequests: false, slowRequestMs: 60_000 });
    quick.begin({ transport: "grpc", header: noHeaders, name: { service: "s", method: "Fast", rpc: true } }).end({ code: "OK" });
    const wait = () => new Promise((resolve) => setTimeout(resolve, 5));
    const slow = observer.begin({ transport: "grpc", header: noHeaders, name: { service: "s", method: "Slow", rpc: true } });
    const stream = observer.begin({ transport: "grpc", header: noHeaders, name: { service: "s", method: "Stream", rpc: true, streaming: true } });
    await wait();
    slow.end({ code: "OK" });
    stream.end({ code: "OK" });
    await flushLogs();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, msg: "slow request", method: "Slow" });
  });

  it("makes a server span continuing the caller's trace, named by RPC or route template, active while the handler runs", async () => {
    const exporter = new InMemorySpanExporter();
    tracing = await startTracing({ settings: { exporter: "console" }, version: "0", logger: pino({ level: "silent" }), exporter });
    const { observer } = setup({ tracing });
    const headers = (n: string) => (n === "traceparent" ? TRACEPARENT : undefined);

    const grpcCall = observer.begin({ transport: "grpc", header: headers, name: { service: "logbook.v1.TrackingService", method: "GetRun", rpc: true } });
    expect(grpcCall.traceId).toBe(TRACE_ID);
    const inside = await grpcCall.run(async () => activeSpan(tracing!));
    expect(inside?.spanContext().traceId).toBe(TRACE_ID);
    grpcCall.end({ code: "UNAVAILABLE" });

    const httpCall = observer.begin({ transport: "http", httpMethod: "GET", header: noHeaders });
    httpCall.name({ service: "logbook.v1.TrackingService", method: "GetRun", route: "/mlflow/runs/{run_id}", rpc: true });
    httpCall.end({ code: "404" });
    const raw = observer.begin({ transport: "http", httpMethod: "GET", header: noHeaders });
    raw.name({ service: "artifacts", method: "/get-artifact", route: "/get-artifact", rpc: false, streaming: true });
    raw.end({ code: "500" });
    await tracing.flush();

    const [g, h, r] = exporter.getFinishedSpans();
    expect(g).toMatchObject({ name: "logbook.v1.TrackingService/GetRun", kind: SpanKind.SERVER });
    expect(g!.parentSpanContext).toMatchObject({ traceId: TRACE_ID, spanId: "00f067aa0ba902b7" });
    expect(g!.attributes).toEqual({ "rpc.system": "grpc", "rpc.service": "logbook.v1.TrackingService", "rpc.method": "GetRun", "rpc.grpc.status_code": "UNAVAILABLE" });
    expect(g!.status).toEqual({ code: SpanStatusCode.ERROR, message: "UNAVAILABLE" });
    expect(h).toMatchObject({ name: "GET /mlflow/runs/{run_id}" });
    expect(h!.attributes).toMatchObject({ "http.request.method": "GET", "http.route": "/mlflow/runs/{run_id}", "http.response.status_code": 404, "rpc.method": "GetRun" });
    expect(h!.status.code).toBe(SpanStatusCode.UNSET); // a 4xx is the client's error, not the server's
    expect(h!.parentSpanContext).toBeUndefined();
    expect(r!.attributes).toMatchObject({ "http.route": "/get-artifact", "logbook.route.family": "artifacts" });
    expect(r!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it("tells server errors from client errors", () => {
    expect(["UNKNOWN", "INTERNAL", "UNAVAILABLE", "DEADLINE_EXCEEDED", "DATA_LOSS", "UNIMPLEMENTED"].every((c) => isServerError("grpc", c))).toBe(true);
    expect(["OK", "NOT_FOUND", "INVALID_ARGUMENT", "CANCELLED", "ALREADY_EXISTS", "RESOURCE_EXHAUSTED"].some((c) => isServerError("grpc", c))).toBe(false);
    expect(isServerError("http", "503")).toBe(true);
    expect(isServerError("http", "499")).toBe(false);
    expect(isServerError("http", "404")).toBe(false);
  });
});
