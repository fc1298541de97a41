/**
 * The request log of a running Logbook: one info line per request on both transports (RPC or route template,
 * code, duration, bytes, trace id); `--no-log-requests` silences them; a request slower than `--slow-request-ms`
 * is a warning either way.
 */
import { request } from "node:http";
import { credentials } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { SearchServiceClient, StreamSearchRunsRequest, StreamSearchRunsResponse } from "../../gen/ts/logbook/v1/search_service.js";
import { captureLogs } from "../harness/log-capture.js";
import { startTestLogbook, type TestLogbook } from "../harness/logbook.js";

const flush = () => new Promise((resolve) => setImmediate(resolve));

/** A POST whose body is sent `delayMs` after its headers: the request cannot take less than that. */
function slowPost(url: string, body: string, delayMs: number): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode!));
      },
    );
    req.on("error", reject);
    req.flushHeaders();
    setTimeout(() => req.end(body), delayMs);
  });
}

describe("request log", () => {
  let lb: TestLogbook | undefined;
  afterEach(async () => {
    await lb?.close();
    lb = undefined;
  });

  it("one info line per request, on both transports", async () => {
    const logs = captureLogs();
    lb = await startTestLogbook("sqlite", { logger: logs.logger });
    await flush();
    const before = logs.requests().length;
    const { experimentId } = await lb.tracking.createExperiment({ name: "logged", artifactLocation: "", tags: [] });
    expect((await fetch(`${lb.httpUrl}/api/2.0/mlflow/experiments/get?experiment_id=${experimentId}`)).status).toBe(200);
    expect((await fetch(`${lb.httpUrl}/health`)).status).toBe(200);
    expect((await fetch(`${lb.httpUrl}/api/2.0/mlflow/experiments/get?experiment_id=424242`)).status).toBe(404);
    await flush();
    const lines = logs.requests().slice(before);
    expect(lines).toHaveLength(4);
    expect(lines.every((l) => l.level === 30 && l.msg === "request" && typeof l.durationMs === "number")).toBe(true);
    expect(lines[0]).toMatchObject({ transport: "grpc", service: "logbook.v1.TrackingService", method: "CreateExperiment", code: "OK" });
    expect(lines[0]).not.toHaveProperty("route");
    expect(lines[1]).toMatchObject({
      transport: "http",
      service: "logbook.v1.TrackingService",
      method: "GetExperiment",
      route: "GET /api/2.0/mlflow/experiments/get",
      code: "200",
    });
    expect(lines[2]).toMatchObject({ transport: "http", service: "health", method: "/health", route: "GET /health", code: "200" });
    expect(lines[3]).toMatchObject({ method: "GetExperiment", code: "404" });
    for (const line of lines) expect(JSON.stringify(line)).not.toContain("424242"); // templates, not paths
  });

  it("a gRPC server stream's line has the bytes of its request and of every message sent", async () => {
    const logs = captureLogs();
    lb = await startTestLogbook("sqlite", { logger: logs.logger });
    const { experimentId } = await lb.tracking.createExperiment({ name: "streamed", artifactLocation: "", tags: [] });
    for (let i = 0; i < 3; i++) await lb.tracking.createRun({ experimentId, userId: "u", runName: `r${i}`, tags: [] });
    const search = new SearchServiceClient(lb.address, credentials.createInsecure());
    const req = { experimentIds: [experimentId], filter: "", orderBy: [], runViewType: 0 };
    const received: StreamSearchRunsResponse[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        search.streamSearchRuns(req).on("data", (m: StreamSearchRunsResponse) => received.push(m)).on("error", reject).on("end", resolve);
      });
    } finally {
      search.close();
    }
    await flush();
    const line = logs.requests().find((l) => l.method === "StreamSearchRuns");
    expect(received).toHaveLength(3);
    expect(line).toMatchObject({ transport: "grpc", service: "logbook.v1.SearchService", code: "OK" });
    expect(line!.bytesIn).toBe(StreamSearchRunsRequest.encode(StreamSearchRunsRequest.fromPartial(req)).finish().length);
    expect(line!.bytesOut).toBe(received.reduce((n, m) => n + StreamSearchRunsResponse.encode(m).finish().length, 0));
  });

  it("--no-log-requests: no lines, but a request slower than --slow-request-ms is still a warning", async () => {
    const logs = captureLogs();
    lb = await startTestLogbook("sqlite", { logger: logs.logger, config: { logRequests: false, slowRequestMs: 50 } });
    const { experimentId } = await lb.tracking.createExperiment({ name: "quiet", artifactLocation: "", tags: [] });
    expect((await fetch(`${lb.httpUrl}/health`)).status).toBe(200);
    const status = await slowPost(`${lb.httpUrl}/api/2.0/mlflow/experiments/update`, JSON.stringify({ experiment_id: experimentId, new_name: "renamed" }), 300);
    expect(status).toBe(200);
    await flush();
    const lines = logs.requests();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, msg: "slow request", transport: "http", method: "UpdateExperiment", code: "200" });
    expect(lines[0]!.durationMs).toBeGreaterThanOrEqual(50);
  });
});
