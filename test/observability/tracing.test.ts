/**
 * Tracing end to end against an in-process OTLP receiver (the collector stand-in): a LogBatch over gRPC and over
 * HTTP, each sent with a W3C traceparent, arrives as a server span continuing the caller's trace with a store child
 * span, and the request log line carries the same trace id. The CLI honours the variables too (http/json here), and
 * exports what is pending when it shuts down.
 */
import { randomBytes } from "node:crypto";
import { Metadata, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { captureLogs, type CapturedLogs } from "../harness/log-capture.js";
import { spawnLogbook, startTestLogbook, tempDir, type TestLogbook } from "../harness/logbook.js";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../harness/otlp-receiver.js";

const SERVER = 2;
const CLIENT = 3;
const VARS = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_BSP_SCHEDULE_DELAY", "OTEL_SERVICE_NAME"];

const newTraceparent = () => {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  return { traceId, spanId, header: `00-${traceId}-${spanId}-01` };
};

const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan) => spans.filter((s) => s.parentSpanId === parent.spanId && s.traceId === parent.traceId);

describe("traces of a LogBatch, over gRPC and HTTP", () => {
  let receiver: OtlpReceiver;
  let lb: TestLogbook;
  let logs: CapturedLogs;
  let runId: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // The exporter and the batch processor read the standard variables when the server starts.
    Object.assign(process.env, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: "100", OTEL_SERVICE_NAME: "logbook-under-test" });
    logs = captureLogs();
    lb = await startTestLogbook("sqlite", { label: "tracing", logger: logs.logger });
    const { experimentId } = await lb.tracking.createExperiment({ name: "traced", artifactLocation: "", tags: [] });
    runId = (await lb.tracking.createRun({ experimentId, userId: "u", runName: "r", tags: [] })).run!.info!.runId;
  });
  afterAll(async () => {
    await lb?.close();
    await receiver?.close();
    for (const name of VARS) delete process.env[name];
  });

  /** The server span of the incoming trace, once exported, with its children. */
  async function traceOf(incoming: { traceId: string; spanId: string }): Promise<{ server: ReceivedSpan; children: ReceivedSpan[] }> {
    const spans = await receiver.waitFor((all) => {
      const server = all.find((s) => s.traceId === incoming.traceId && s.parentSpanId === incoming.spanId);
      return !!server && childrenOf(all, server).some((c) => c.name === "store.logBatch");
    });
    const server = spans.find((s) => s.traceId === incoming.traceId && s.parentSpanId === incoming.spanId)!;
    return { server, children: childrenOf(spans, server) };
  }

  function expectStoreChild(children: ReceivedSpan[]) {
    const store = children.find((c) => c.name === "store.logBatch")!;
    expect(store.kind).toBe(CLIENT);
    expect(store.attributes).toEqual({ "db.system.name": "sqlite", "db.operation.name": "logBatch", "logbook.store.statement_kind": "write" });
    // Statement kinds only: no id, key or value of the call anywhere in the spans.
    const text = JSON.stringify(children);
    for (const secret of [runId, "secret_metric", "secret_param"]) expect(text).not.toContain(secret);
  }

  it("gRPC: the caller's trace continues in a server span with a store child span, and the log line has its trace id", async () => {
    const incoming = newTraceparent();
    const metadata = new Metadata();
    metadata.set("traceparent", incoming.header);
    const def = TrackingServiceService.logBatch;
    await new Promise((resolve, reject) =>
      lb.tracking.raw.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        { runId, metrics: [{ key: "secret_metric", value: 1, timestamp: 1n, step: 0n, runId: "" }], params: [{ key: "secret_param", value: "v" }], tags: [] },
        metadata,
        (err: ServiceError | null, res?: unknown) => (err ? reject(err) : resolve(res)),
      ),
    );
    const { server, children } = await traceOf(incoming);
    expect(server).toMatchObject({ name: "logbook.v1.TrackingService/LogBatch", kind: SERVER, traceId: incoming.traceId });
    expect(server.attributes).toMatchObject({ "rpc.system": "grpc", "rpc.service": "logbook.v1.TrackingService", "rpc.method": "LogBatch", "rpc.grpc.status_code": "OK" });
    expect(server.resource).toMatchObject({ "service.name": "logbook-under-test" });
    expectStoreChild(children);
    const line = logs.requests().find((l) => l.method === "LogBatch" && l.transport === "grpc");
    expect(line).toMatchObject({ msg: "request", service: "logbook.v1.TrackingService", code: "OK", traceId: incoming.traceId });
    expect(line!.bytesIn).toBeGreaterThan(0);
    expect(line!.bytesOut).toBe(0); // LogBatchResponse is empty
  });

  it("HTTP: the same, named by the route template", async () => {
    const incoming = newTraceparent();
    const res = await fetch(`${lb.httpUrl}/api/2.0/mlflow/runs/log-batch`, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent: incoming.header },
      body: JSON.stringify({ run_id: runId, metrics: [{ key: "secret_metric", value: 2, timestamp: 2, step: 1 }] }),
    });
    expect(res.status).toBe(200);
    const { server, children } = await traceOf(incoming);
    expect(server).toMatchObject({ name: "POST /api/2.0/mlflow/runs/log-batch", kind: SERVER });
    expect(server.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "/api/2.0/mlflow/runs/log-batch",
      "http.response.status_code": 200,
      "rpc.method": "LogBatch",
    });
    expectStoreChild(children);
    const line = logs.requests().find((l) => l.transport === "http" && l.traceId === incoming.traceId);
    expect(line).toMatchObject({ msg: "request", method: "LogBatch", route: "POST /api/2.0/mlflow/runs/log-batch", code: "200" });
    expect(line!.bytesIn).toBeGreaterThan(0);
    expect(line!.bytesOut).toBeGreaterThan(0);
  });

  it("a call without traceparent starts its own trace, whose id is in the log line", async () => {
    const before = logs.requests().length;
    expect((await fetch(`${lb.httpUrl}/mlflow/runs/${runId}`)).status).toBe(200);
    await new Promise((resolve) => setImmediate(resolve));
    const line = logs.requests().slice(before).find((l) => l.method === "GetRun")!;
    expect(line.traceId).toMatch(/^[0-9a-f]{32}$/);
    const spans = await receiver.waitFor((all) => all.some((s) => s.traceId === line.traceId && s.kind === SERVER));
    const server = spans.find((s) => s.traceId === line.traceId && s.kind === SERVER)!;
    expect(server).toMatchObject({ name: "GET /mlflow/runs/{run_id}", parentSpanId: "" });
    expect(JSON.stringify(server)).not.toContain(runId); // the template, never the raw path
  });
});

describe("the CLI with OTEL_* variables", () => {
  it("exports over http/json and flushes on shutdown", async () => {
    const receiver = await startOtlpReceiver();
    const dir = tempDir();
    try {
      // A long batch delay: only the shutdown flush can deliver the span in this test.
      const proc = await spawnLogbook(["--data-dir", dir.path], {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_BSP_SCHEDULE_DELAY: "600000",
      });
      const incoming = newTraceparent();
      expect((await fetch(`${proc.httpUrl}/api/2.0/mlflow/experiments/get?experiment_id=0`, { headers: { traceparent: incoming.header } })).status).toBe(200);
      await proc.stop();
      const server = receiver.spans.find((s) => s.traceId === incoming.traceId && s.parentSpanId === incoming.spanId);
      expect(server).toMatchObject({ name: "GET /api/2.0/mlflow/experiments/get", contentType: "application/json" });
      expect(server!.resource).toMatchObject({ "service.name": "logbook" });
      expect(receiver.spans.some((s) => s.parentSpanId === server!.spanId && s.name === "store.getExperiment")).toBe(true);
    } finally {
      await receiver.close();
      dir.remove();
    }
  });
});
