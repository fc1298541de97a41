import { describe, expect, it } from "vitest";
import { extractTraceContext, incomingTraceId, tracingSettings } from "./tracing.js";
import { trace } from "@opentelemetry/api";

describe("tracingSettings: off unless the OTEL_* variables turn it on", () => {
  const cases: [string, NodeJS.ProcessEnv, ReturnType<typeof tracingSettings>][] = [
    ["nothing set", {}, undefined],
    ["an endpoint", { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }, { exporter: "otlp", protocol: "http/protobuf" }],
    ["a traces endpoint", { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c:4318/v1/traces" }, { exporter: "otlp", protocol: "http/protobuf" }],
    ["the exporter alone (default endpoint)", { OTEL_TRACES_EXPORTER: "otlp" }, { exporter: "otlp", protocol: "http/protobuf" }],
    ["http/json", { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }, { exporter: "otlp", protocol: "http/json" }],
    ["grpc", { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4317", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, { exporter: "otlp", protocol: "grpc" }],
    [
      "the traces protocol wins over the general one",
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json" },
      { exporter: "otlp", protocol: "http/json" },
    ],
    ["a protocol alone turns nothing on", { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }, undefined],
    ["console", { OTEL_TRACES_EXPORTER: "console" }, { exporter: "console" }],
    ["none wins over an endpoint", { OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c" }, undefined],
    ["the SDK disabled", { OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c" }, undefined],
    ["OTEL_SDK_DISABLED=false changes nothing", { OTEL_SDK_DISABLED: "false", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c" }, { exporter: "otlp", protocol: "http/protobuf" }],
    ["blank values are unset", { OTEL_TRACES_EXPORTER: " ", OTEL_EXPORTER_OTLP_ENDPOINT: "" }, undefined],
  ];
  for (const [name, env, expected] of cases) {
    it(name, () => expect(tracingSettings(env)).toEqual(expected));
  }

  it("refuses what it cannot honour, at start-up", () => {
    expect(() => tracingSettings({ OTEL_TRACES_EXPORTER: "zipkin" })).toThrow(/OTEL_TRACES_EXPORTER=zipkin/);
    expect(() => tracingSettings({ OTEL_TRACES_EXPORTER: "otlp,console" })).toThrow(/one of/);
    expect(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c", OTEL_EXPORTER_OTLP_PROTOCOL: "http/xml" })).toThrow(/http\/xml/);
  });
});

describe("W3C trace context of an incoming request", () => {
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const headers = (h: Record<string, string>) => (name: string) => h[name];

  it("reads a valid traceparent (and its tracestate)", () => {
    const ctx = extractTraceContext(headers({ traceparent: `00-${traceId}-00f067aa0ba902b7-01`, tracestate: "vendor=x" }));
    const parent = trace.getSpanContext(ctx);
    expect(parent).toMatchObject({ traceId, spanId: "00f067aa0ba902b7", traceFlags: 1, isRemote: true });
    expect(parent?.traceState?.get("vendor")).toBe("x");
    expect(incomingTraceId(headers({ traceparent: `00-${traceId}-00f067aa0ba902b7-00` }))).toBe(traceId);
  });

  it("ignores a missing or malformed one", () => {
    for (const traceparent of [undefined, "", "garbage", `00-${"0".repeat(32)}-00f067aa0ba902b7-01`, `00-${traceId}-${"0".repeat(16)}-01`, `ff-${traceId}-00f067aa0ba902b7-01`]) {
      expect(incomingTraceId(headers(traceparent === undefined ? {} : { traceparent })), String(traceparent)).toBeUndefined();
    }
  });
});
