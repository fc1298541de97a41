/**
 * DNS rebinding and browsers: on the HTTP port a Host that does not name this server is refused (403, MLflow's
 * body) everywhere but the probes, which orchestrators call by pod IP; the gRPC port has no Host check; a
 * cross-origin POST/PUT/PATCH/DELETE is refused and changes nothing, while same-origin and Origin-less requests
 * pass; no CORS headers are sent unless --cors-allowed-origins is set, and then only to listed origins.
 */
import { Client, credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { startTestLogbook, type TestLogbook } from "../harness/logbook.js";
import { sendRequest } from "../harness/raw-http.js";

const send = (port: number, method: string, path: string, headers: Record<string, string>, body?: string) =>
  sendRequest(port, { method, path, headers, ...(body === undefined ? {} : { body }) });

const JSON_HEADERS = { "content-type": "application/json" };

describe("Host check (DNS rebinding)", () => {
  let lb: TestLogbook;
  let port: number;
  let runId: string;

  beforeAll(async () => {
    lb = await startTestLogbook("sqlite");
    port = lb.logbook.httpPort;
    runId = (await lb.tracking.createRun({ experimentId: "0", userId: "", runName: "r", tags: [] })).run!.info!.runId;
  });
  afterAll(async () => {
    await lb?.close();
  });

  it.each([
    "/api/2.0/mlflow/experiments/get?experiment_id=0",
    "/ajax-api/2.0/mlflow/experiments/get?experiment_id=0",
    "/api/3.0/mlflow/server-info",
    "/mlflow/status",
    "/api/2.0/mlflow-artifacts/artifacts?path=0",
    "/get-artifact?run_id=x&path=a",
    "/no/such/route",
  ])("refuses %s under a rebound name", async (path) => {
    for (const host of [`attacker.example:${port}`, "attacker.example", `127.0.0.1.attacker.example:${port}`]) {
      const res = await send(port, "GET", path, { host });
      expect(res.status, `${host} ${path}`).toBe(403);
      expect(JSON.parse(res.body)).toEqual({ error_code: "PERMISSION_DENIED", message: "Invalid Host header - possible DNS rebinding attack detected" });
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
    }
  });

  it("refuses a rebound page's same-origin write, changing nothing", async () => {
    const before = (await lb.tracking.getServerStatus({})).counts;
    const host = `attacker.example:${port}`;
    const res = await send(port, "POST", "/api/2.0/mlflow/experiments/create", { host, origin: `http://${host}`, ...JSON_HEADERS }, '{"name": "rebound"}');
    expect(res.status).toBe(403);
    expect((await lb.tracking.getServerStatus({})).counts).toEqual(before);
  });

  it("answers the probes whatever the Host", async () => {
    for (const path of ["/health", "/readyz", "/version"]) {
      expect((await send(port, "GET", path, { host: "10.1.2.3:5000" })).status, path).toBe(200);
    }
  });

  it("accepts localhost and loopback names", async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, "localhost"]) {
      expect((await send(port, "GET", "/api/2.0/mlflow/experiments/get?experiment_id=0", { host })).status, host).toBe(200);
    }
  });

  it("has no Host check on the gRPC port", async () => {
    const client = new Client(lb.address, credentials.createInsecure(), { "grpc.default_authority": "attacker.example" });
    const def = TrackingServiceService.getRun;
    const res = await new Promise<unknown>((resolve, reject) =>
      client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, { runId, runUuid: "" }, (e, r) => (e ? reject(e) : resolve(r))),
    );
    client.close();
    expect(res).toMatchObject({ run: { info: { runId } } });
  });
});

describe("Origin check and CORS", () => {
  let lb: TestLogbook;
  let withCors: TestLogbook;

  beforeAll(async () => {
    lb = await startTestLogbook("sqlite");
    withCors = await startTestLogbook("sqlite", { config: { corsAllowedOrigins: ["https://ui.example.com"] } });
  });
  afterAll(async () => {
    await lb?.close();
    await withCors?.close();
  });

  const create = (target: TestLogbook, name: string, headers: Record<string, string>) =>
    send(target.logbook.httpPort, "POST", "/api/2.0/mlflow/experiments/create", { host: `localhost:${target.logbook.httpPort}`, ...JSON_HEADERS, ...headers }, JSON.stringify({ name }));

  it("refuses cross-origin state changes on every method, changing nothing", async () => {
    const before = (await lb.tracking.getServerStatus({})).counts;
    const port = lb.logbook.httpPort;
    for (const origin of ["https://evil.example", `http://localhost:${port + 1}`, "null"]) {
      const res = await create(lb, `x-${origin}`, { origin });
      expect(res.status, origin).toBe(403);
      expect(JSON.parse(res.body)).toEqual({ error_code: "PERMISSION_DENIED", message: "Cross-origin request blocked" });
      expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    }
    for (const [method, path] of [
      ["PUT", "/api/2.0/mlflow-artifacts/artifacts/0/x.txt"],
      ["DELETE", "/api/2.0/mlflow-artifacts/artifacts/0/x.txt"],
      ["PATCH", "/api/2.0/mlflow/registered-models/update"],
      ["POST", "/mlflow/search"],
    ] as const) {
      const res = await send(port, method, path, { host: `localhost:${port}`, origin: "https://evil.example", ...JSON_HEADERS }, "{}");
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    expect((await lb.tracking.getServerStatus({})).counts).toEqual(before);
  });

  it("lets same-origin and Origin-less writes through, and cross-origin reads without CORS headers", async () => {
    const port = lb.logbook.httpPort;
    expect((await create(lb, "same-origin", { origin: `http://localhost:${port}` })).status).toBe(200);
    expect((await create(lb, "no-origin", {})).status).toBe(200);
    const read = await send(port, "GET", "/api/2.0/mlflow/experiments/get?experiment_id=0", { host: `localhost:${port}`, origin: "https://evil.example" });
    expect(read.status).toBe(200);
    expect(read.headers["access-control-allow-origin"]).toBeUndefined();
    const preflight = await send(port, "OPTIONS", "/api/2.0/mlflow/experiments/create", {
      host: `localhost:${port}`,
      origin: "https://evil.example",
      "access-control-request-method": "POST",
    });
    expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("with --cors-allowed-origins, answers listed origins' preflights and writes with CORS headers, and only theirs", async () => {
    const port = withCors.logbook.httpPort;
    const origin = "https://ui.example.com";
    const preflight = await send(port, "OPTIONS", "/api/2.0/mlflow/experiments/create", {
      host: `localhost:${port}`,
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type",
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers).toMatchObject({
      "access-control-allow-origin": origin,
      "access-control-allow-credentials": "true",
      "access-control-allow-headers": "content-type",
      vary: "Origin",
    });
    expect(String(preflight.headers["access-control-allow-methods"])).toContain("POST");
    const write = await create(withCors, "from-ui", { origin });
    expect(write.status).toBe(200);
    expect(write.headers["access-control-allow-origin"]).toBe(origin);
    const other = await create(withCors, "from-elsewhere", { origin: "https://evil.example" });
    expect(other.status).toBe(403);
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
  });
});
