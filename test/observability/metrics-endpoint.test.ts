/**
 * GET /metrics on a running Logbook, parsed by Prometheus's own parser: where it is served (the HTTP port by
 * default; only --metrics-port when set; nowhere with --no-metrics), and that ingest, artifact and store metrics
 * move by exactly what known calls did, on both transports and both stores; with `--auth basic`, /metrics on the HTTP
 * port is an admin's, --metrics-port asks for nothing, and request lines name the signed-in user.
 */
import { Client, Metadata, credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { content, downloadGrpc, putArtifact, uploadGrpc } from "../harness/artifacts.js";
import { captureLogs } from "../harness/log-capture.js";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";
import { scrape } from "../harness/prometheus.js";

describe.each(STORE_KINDS)("GET /metrics on %s", (kind) => {
  let lb: TestLogbook;
  let runId: string;
  let runRoot: string;
  const metricsUrl = () => `${lb.httpUrl}/metrics`;

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "metrics" });
    const { experimentId } = await lb.tracking.createExperiment({ name: "metrics", artifactLocation: "", tags: [] });
    runId = (await lb.tracking.createRun({ experimentId, userId: "u", runName: "r", tags: [] })).run!.info!.runId;
    runRoot = `${experimentId}/${runId}/artifacts`;
  });
  afterAll(async () => {
    await lb?.close();
  });

  it("answers the Prometheus text format, uncached, and says the store is up", async () => {
    const res = await fetch(metricsUrl());
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4; charset=utf-8/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const s = await scrape(metricsUrl());
    expect(s.value("logbook_store_up")).toBe(1);
    expect(s.labelValues("logbook_build_info", "version").size).toBe(1);
  });

  it("counts ingested metric points, params and tags exactly, over gRPC and HTTP", async () => {
    const before = await scrape(metricsUrl());
    await lb.tracking.logBatch({
      runId,
      metrics: Array.from({ length: 7 }, (_, i) => ({ key: "loss", value: 1 / (i + 1), timestamp: BigInt(Date.now()), step: BigInt(i), runId: "" })),
      params: [{ key: "lr", value: "0.1" }],
      tags: [{ key: "a", value: "1" }, { key: "b", value: "2" }],
    });
    const res = await fetch(`${lb.httpUrl}/api/2.0/mlflow/runs/log-batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        run_id: runId,
        metrics: [{ key: "acc", value: 0.5, timestamp: Date.now(), step: 0 }],
        params: [{ key: "symbol", value: "AAPL" }, { key: "window", value: "20" }],
      }),
    });
    expect(res.status).toBe(200);
    await fetch(`${lb.httpUrl}/api/2.0/mlflow/runs/log-metric`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ run_id: runId, key: "acc", value: 0.6, timestamp: Date.now(), step: 1 }),
    });
    const after = await scrape(metricsUrl());
    const delta = (name: string, labels = {}) => after.value(name, labels) - before.value(name, labels);
    expect(delta("logbook_ingested_metric_points_total")).toBe(9);
    expect(delta("logbook_ingested_params_total")).toBe(3);
    expect(delta("logbook_ingested_tags_total")).toBe(2);
    const ops = (name: string, s = after) => s.count("logbook_store_operation_duration_seconds", { operation: name, store: kind });
    expect(ops("logBatch") - ops("logBatch", before)).toBe(3);
  });

  it("counts artifact bytes up and down, over gRPC and HTTP", async () => {
    const grpc = new Client(lb.address, credentials.createInsecure());
    try {
      const small = content(4321);
      const before = await scrape(metricsUrl());
      expect((await putArtifact(lb.httpUrl, `${runRoot}/a.bin`, small)).status).toBe(200);
      await uploadGrpc(grpc, { runId, path: "b.bin" }, small, 1000);
      const down = await fetch(`${lb.httpUrl}/api/2.0/mlflow-artifacts/artifacts/${runRoot}/a.bin`);
      expect(Buffer.from(await down.arrayBuffer()).equals(small)).toBe(true);
      expect((await downloadGrpc(grpc, { runId, path: "b.bin" })).data.equals(small)).toBe(true);
      const after = await scrape(metricsUrl());
      const delta = (direction: string) => after.value("logbook_artifact_bytes_total", { direction }) - before.value("logbook_artifact_bytes_total", { direction });
      expect(delta("upload")).toBe(2 * small.length);
      expect(delta("download")).toBe(2 * small.length);
    } finally {
      grpc.close();
    }
  });
});

describe("where /metrics is served", () => {
  it("--metrics-port: only there, without credentials; the HTTP port answers 404 like any unknown route", async () => {
    const lb = await startTestLogbook("sqlite", { config: { metricsPort: 0 } });
    try {
      const port = lb.logbook.metricsPort!;
      expect(port).toBeGreaterThan(0);
      expect(port).not.toBe(lb.logbook.httpPort);
      const s = await scrape(`http://127.0.0.1:${port}/metrics`);
      expect(s.value("logbook_store_up")).toBe(1);
      const onHttp = await fetch(`${lb.httpUrl}/metrics`);
      expect(onHttp.status).toBe(404);
      expect(await onHttp.json()).toMatchObject({ error_code: "ENDPOINT_NOT_FOUND" });
      expect((await fetch(`http://127.0.0.1:${port}/api/2.0/mlflow/experiments/search`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: "POST" })).status).toBe(405);
    } finally {
      await lb.close();
    }
  });

  it("--auth basic: /metrics on the HTTP port for an admin only, --metrics-port without credentials, the user in request lines", async () => {
    const admin = { username: "admin", password: "admin-password-123" };
    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;
    const logs = captureLogs();
    const lb = await startTestLogbook("sqlite", { logger: logs.logger, config: { auth: "basic", admin } });
    const separate = await startTestLogbook("sqlite", { config: { auth: "basic", admin, metricsPort: 0 } });
    try {
      const asAdmin = { authorization: basic(admin.username, admin.password) };
      const created = await fetch(`${lb.httpUrl}/api/2.0/mlflow/users/create`, {
        method: "POST",
        headers: { ...asAdmin, "content-type": "application/json" },
        body: JSON.stringify({ username: "carol", password: "carol-password-456" }),
      });
      expect(created.status).toBe(200);
      expect((await fetch(`${lb.httpUrl}/metrics`)).status).toBe(401);
      const asUser = await fetch(`${lb.httpUrl}/metrics`, { headers: { authorization: basic("carol", "carol-password-456") } });
      expect(asUser.status).toBe(403);
      expect(await asUser.json()).toMatchObject({ error_code: "PERMISSION_DENIED" });
      const s = await scrape(`${lb.httpUrl}/metrics`, asAdmin);
      expect(s.value("logbook_store_up")).toBe(1);
      // The refusals are counted under their codes, and the first scrape by the second.
      expect(s.value("logbook_rpc_requests_total", { transport: "http", service: "metrics", method: "/metrics", code: "401" })).toBe(1);
      expect(s.value("logbook_rpc_requests_total", { transport: "http", service: "metrics", method: "/metrics", code: "403" })).toBe(1);
      expect(s.value("logbook_rpc_requests_total", { transport: "http", service: "metrics", method: "/metrics", code: "200" })).toBe(0);

      // gRPC with credentials in the metadata: the line names the user; a refused call has no user.
      const metadata = new Metadata();
      metadata.set("authorization", basic("carol", "carol-password-456"));
      await new Promise<void>((resolve) => lb.tracking.raw.makeUnaryRequest("/logbook.v1.TrackingService/GetExperiment", (m: Buffer) => m, (b: Buffer) => b, Buffer.from([10, 1, 48]), metadata, () => resolve()));
      await new Promise((resolve) => setImmediate(resolve));
      const lines = logs.requests();
      expect(lines.find((l) => l.method === "CreateUser")).toMatchObject({ user: "admin", code: "200" });
      expect(lines.find((l) => l.method === "/metrics" && l.code === "403")).toMatchObject({ user: "carol" });
      expect(lines.find((l) => l.method === "/metrics" && l.code === "401")).not.toHaveProperty("user");
      expect(lines.find((l) => l.transport === "grpc" && l.method === "GetExperiment")).toMatchObject({ user: "carol", code: "OK" });

      const port = separate.logbook.metricsPort!;
      expect((await scrape(`http://127.0.0.1:${port}/metrics`)).value("logbook_store_up")).toBe(1);
    } finally {
      await lb.close();
      await separate.close();
    }
  });

  it("--no-metrics: nowhere", async () => {
    const lb = await startTestLogbook("sqlite", { config: { metrics: false } });
    try {
      expect(lb.logbook.metrics).toBeUndefined();
      expect((await fetch(`${lb.httpUrl}/metrics`)).status).toBe(404);
      // The rest works unchanged.
      expect((await lb.tracking.createExperiment({ name: "no-metrics", artifactLocation: "", tags: [] })).experimentId).toBeTruthy();
    } finally {
      await lb.close();
    }
  });
});
