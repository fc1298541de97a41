/**
 * The edge of a running server (embedded store, in process): every registered route belongs to a route family,
 * the in-flight cap is shared by both ports and refuses with 503 / UNAVAILABLE (probes exempt), every HTTP answer
 * carries the security headers, gRPC requests that do not decode answer INVALID_ARGUMENT, requests Node's HTTP
 * parser refuses get MLflow's error shape, and HTTP/2 advertises the per-connection stream limit.
 */
import { connect as http2Connect } from "node:http2";
import { Client, credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ArtifactServiceService } from "../../gen/ts/logbook/v1/artifact_service.js";
import { RegistryServiceService } from "../../gen/ts/logbook/v1/registry.js";
import { SearchServiceService } from "../../gen/ts/logbook/v1/search_service.js";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { grpcFamilyOf, httpFamilyOf, samplePath, unmappedRoutes } from "../../src/edge/route-families.js";
import { errorCodeOf } from "../../src/grpc/status.js";
import { standInUiBundle, startTestLogbook, type TestLogbook } from "../harness/logbook.js";
import { openRaw, rawExchange } from "../harness/raw-http.js";

const SECURITY = { "x-content-type-options": "nosniff", "x-frame-options": "SAMEORIGIN" };

function unaryBytes(address: string, path: string, bytes: Buffer): Promise<ServiceError | undefined> {
  const client = new Client(address, credentials.createInsecure());
  return new Promise((resolve) =>
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, bytes, new Metadata(), (err) => {
      client.close();
      resolve(err ?? undefined);
    }),
  );
}

describe("the edge of a running server", () => {
  let lb: TestLogbook;
  // A stand-in UI bundle, so that the UI's routes (served with --ui only) are registered too.
  const ui = standInUiBundle();

  beforeAll(async () => {
    lb = await startTestLogbook("sqlite", { config: { maxInFlight: 2, grpcMaxConcurrentStreams: 7, headersTimeoutS: 1, ui: true, uiDir: ui.path } });
  });
  afterAll(async () => {
    await lb?.close();
    ui.remove();
  });

  it("maps every registered HTTP route and gRPC method to a route family", () => {
    const { http, grpc } = lb.logbook.routes;
    expect(unmappedRoutes({ http, grpc })).toEqual([]);
    const family = (p: string) => httpFamilyOf(samplePath(p)).name;
    expect(family("/health")).toBe("health");
    expect(family("/readyz")).toBe("readyz");
    expect(family("/api/2.0/mlflow-artifacts/artifacts/*")).toBe("artifacts");
    expect(family("/api/3.0/mlflow/server-info")).toBe("server-info");
    expect(family("/mlflow/runs/{run_id}")).toBe("service-api");
    // What the UI brought: its files, GraphQL, the GenAI answers, its helper calls and logged-model file preview.
    for (const [route, name] of [
      ["/", "ui"],
      ["/static-files/*", "ui"],
      ["/graphql", "graphql"],
      ["/api/3.0/mlflow/traces/search", "mlflow-api"],
      ["/ajax-api/3.0/mlflow/traces/metrics", "mlflow-api"],
      ["/ajax-api/3.0/mlflow/ui-telemetry", "mlflow-api"],
      ["/ajax-api/3.0/mlflow/assistant/config", "mlflow-api"],
      ["/ajax-api/2.0/mlflow/logged-models/:modelId/artifacts/files", "mlflow-api"],
    ]) {
      expect(http, route).toContain(route);
      expect(family(route!), route).toBe(name);
    }
    expect(http).toContain("/api/2.0/mlflow/runs/log-batch");
    expect(http).toContain("/ajax-api/2.0/mlflow/runs/log-batch");
    // Every method of every service the server registers, ours and grpc-js's own, is listed and has a family.
    for (const definition of [TrackingServiceService, RegistryServiceService, SearchServiceService, ArtifactServiceService]) {
      for (const m of Object.values(definition)) {
        expect(grpc).toContain(m.path);
        expect(grpcFamilyOf(m.path)?.name).toBe("grpc");
      }
    }
    expect(grpc.map((m) => grpcFamilyOf(m)?.name)).toContain("grpc-health");
    expect(grpc.map((m) => grpcFamilyOf(m)?.name)).toContain("grpc-reflection");
  });

  it("puts the security headers on every kind of answer", async () => {
    const { run } = await lb.tracking.createRun({ experimentId: "0", userId: "", runName: "headers", tags: [] });
    const urls = [
      "/health",
      "/api/2.0/mlflow/experiments/get?experiment_id=0",
      "/api/2.0/mlflow/no-such-route",
      "/api/2.0/mlflow/runs/log-batch", // 405
      "/mlflow/leaderboard/AAPL?metric=m", // NDJSON
      `/get-artifact?run_id=${run!.info!.runId}&path=missing.txt`,
      "/", // the UI's index.html
      "/static-files/app.js",
      "/static-files/missing.js", // 404
      "/graphql?query=%7B__typename%7D",
    ];
    for (const url of urls) {
      const res = await fetch(`${lb.httpUrl}${url}`);
      await res.arrayBuffer();
      for (const [name, value] of Object.entries(SECURITY)) expect(res.headers.get(name), `${url} ${name}`).toBe(value);
    }
  });

  it("caps the calls in flight over both ports, exempting probes, and frees the slots as calls end", async () => {
    // Two requests whose bodies never finish hold both slots.
    const held = await Promise.all(
      [0, 1].map(async () => {
        const conn = await openRaw(lb.logbook.httpPort);
        conn.socket.write(
          "POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{\"\r\n",
        );
        return conn;
      }),
    );
    try {
      await vi.waitFor(() => expect(lb.logbook.inFlight.count).toBe(2));
      const refused = await fetch(`${lb.httpUrl}/api/2.0/mlflow/experiments/get?experiment_id=0`);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(await refused.json()).toMatchObject({ error_code: "TEMPORARILY_UNAVAILABLE" });
      const grpcErr = await lb.tracking.getExperiment({ experimentId: "0" }).then(
        () => undefined,
        (e: ServiceError) => e,
      );
      expect(grpcErr?.code).toBe(status.UNAVAILABLE);
      expect(errorCodeOf(grpcErr!)).toBe("TEMPORARILY_UNAVAILABLE");
      expect((await fetch(`${lb.httpUrl}/health`)).status).toBe(200);
      expect((await fetch(`${lb.httpUrl}/readyz`)).status).toBe(200);
    } finally {
      for (const h of held) h.socket.destroy();
    }
    await vi.waitFor(() => expect(lb.logbook.inFlight.count).toBe(0));
    expect((await fetch(`${lb.httpUrl}/api/2.0/mlflow/experiments/get?experiment_id=0`)).status).toBe(200);
    expect((await lb.tracking.getExperiment({ experimentId: "0" })).experiment?.name).toBe("Default");
  });

  it.each([
    ["garbage bytes", Buffer.from([0x0f, 0xff, 0xff, 0x01])],
    ["a field longer than the message", Buffer.from([0x0a, 0x40, 0x61])],
    ["a string that is not UTF-8", Buffer.from([0x0a, 0x02, 0xff, 0xfe])],
    ["a varint that never ends", Buffer.alloc(12, 0xff)],
  ])("answers a gRPC request with %s INVALID_ARGUMENT, changing nothing", async (_label, bytes) => {
    const before = (await lb.tracking.getServerStatus({})).counts;
    const err = await unaryBytes(lb.address, TrackingServiceService.createExperiment.path, bytes);
    expect(err?.code, err?.details).toBe(status.INVALID_ARGUMENT);
    expect(errorCodeOf(err!)).toBe("INVALID_PARAMETER_VALUE");
    expect(err?.details).toMatch(/could not be decoded/);
    expect((await lb.tracking.getServerStatus({})).counts).toEqual(before);
  });

  it("answers an upload stream with an undecodable message INVALID_ARGUMENT", async () => {
    const client = new Client(lb.address, credentials.createInsecure());
    const def = ArtifactServiceService.uploadArtifact;
    const err = await new Promise<ServiceError | null>((resolve) => {
      const call = client.makeClientStreamRequest(def.path, (b: Buffer) => b, def.responseDeserialize, (e) => resolve(e));
      call.write(Buffer.from([0x0f, 0xff]));
      call.end();
    });
    client.close();
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
  });

  it.each([
    ["a bad Content-Length", "GET /health HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n", 400],
    ["Content-Length with Transfer-Encoding", "POST /api/2.0/mlflow/runs/search HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
    ["an unknown method", "FOO / HTTP/1.1\r\nHost: localhost\r\n\r\n", 400],
    ["a WebDAV method", "PROPFIND /api/2.0/mlflow/runs/search HTTP/1.1\r\nHost: localhost\r\n\r\n", 404],
    ["headers too large", `GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, 431],
    ["headers that never end", "GET /health HTTP/1.1\r\nHost: localhost\r\n", 408],
  ])("answers %s with MLflow's error shape", async (_label, payload, expected) => {
    const answer = await rawExchange(lb.logbook.httpPort, payload, 15_000);
    expect(answer.status, answer.text.slice(0, 300)).toBe(expected);
    expect(answer.headers["content-type"]).toMatch(/^application\/json/);
    const body = JSON.parse(answer.body) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["error_code", "message"]);
    expect(answer.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("advertises the per-connection limit of concurrent gRPC streams", async () => {
    const session = http2Connect(`http://127.0.0.1:${lb.logbook.grpcPort}`);
    try {
      const settings = await new Promise<{ maxConcurrentStreams?: number }>((resolve, reject) => {
        session.once("remoteSettings", resolve);
        session.once("error", reject);
      });
      expect(settings.maxConcurrentStreams).toBe(7);
    } finally {
      session.close();
    }
  });
});
