/**
 * Tracing's export path against in-process OTLP receivers: http/protobuf, http/json and grpc, chosen by the
 * standard variables, carry spans with their parent links and Logbook's resource.
 */
import { trace } from "@opentelemetry/api";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTracing, tracingSettings } from "../../src/observability/tracing.js";
import { startOtlpGrpcReceiver, startOtlpReceiver, type OtlpReceiver } from "../harness/otlp-receiver.js";

const CONTENT_TYPES: Record<string, string> = { "http/protobuf": "application/x-protobuf", "http/json": "application/json", grpc: "application/grpc" };

describe.each(["http/protobuf", "http/json", "grpc"])("OTLP export over %s", (protocol) => {
  let receiver: OtlpReceiver;
  const VARS = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_SERVICE_NAME"];
  beforeAll(async () => {
    receiver = protocol === "grpc" ? await startOtlpGrpcReceiver() : await startOtlpReceiver();
  });
  afterAll(async () => {
    for (const name of VARS) delete process.env[name];
    await receiver?.close();
  });

  it("sends a parent and a child span with the resource", async () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_SERVICE_NAME: "logbook-test" };
    Object.assign(process.env, env); // the exporters and the resource read process.env, as in the server
    const settings = tracingSettings(process.env)!;
    expect(settings).toEqual({ exporter: "otlp", protocol });
    const tracing = await startTracing({ settings, version: "9.9.9", logger: pino({ level: "silent" }) });
    const parent = tracing.tracer.startSpan("parent");
    const child = tracing.tracer.startSpan("child", { attributes: { n: 3, ok: true, s: "x" } }, trace.setSpan(tracing.active(), parent));
    child.end();
    parent.end();
    await tracing.shutdown();
    const spans = await receiver.waitFor((s) => s.length >= 2);
    const p = spans.find((s) => s.name === "parent")!;
    const c = spans.find((s) => s.name === "child")!;
    expect(p.parentSpanId).toBe("");
    expect(c).toMatchObject({ traceId: p.traceId, parentSpanId: p.spanId, attributes: { n: 3, ok: true, s: "x" } });
    expect(c.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(c.resource).toMatchObject({ "service.name": "logbook-test", "service.version": "9.9.9" });
    expect(c.contentType).toBe(CONTENT_TYPES[protocol]);
  });
});
