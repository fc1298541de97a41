/**
 * The HTTP side of a running server on both stores: probes, the service endpoints of the gateway issue
 * (/mlflow/status, /mlflow/runs/{run_id}), MLflow routes with their /ajax-api twins, and body limits.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";

const json = (body: unknown) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

describe.each(STORE_KINDS)("HTTP service endpoints on %s", (kind) => {
  let lb: TestLogbook;
  let url: string;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, json(body));
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "http" });
    url = lb.httpUrl;
  });
  afterAll(async () => {
    await lb?.close();
  });

  it("answers the probes: /health, /readyz, /version", async () => {
    const health = await fetch(`${url}/health`);
    expect([health.status, await health.text()]).toEqual([200, "OK"]);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const version = await fetch(`${url}/version`);
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(await version.text()).toBe(pkg.version);
    expect(version.headers.get("content-type")).toMatch(/^text\/plain/);
  });

  it("GET /mlflow/status has the documented shape and its counts rise after creates", async () => {
    const before = await get("/mlflow/status");
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({
      status: "ok",
      version: expect.stringMatching(/^\d+\.\d+\.\d+$/),
      uptime_seconds: expect.any(Number),
      store: { kind, reachable: true, location: expect.any(String) },
      counts: {
        experiments: expect.any(Number),
        runs: expect.any(Number),
        registered_models: 0,
        model_versions: 0,
      },
      grpc_port: lb.logbook.grpcPort,
      http_port: lb.logbook.httpPort,
    });
    const { body: created } = await post("/api/2.0/mlflow/experiments/create", { name: "status-counts" });
    await post("/api/2.0/mlflow/runs/create", { experiment_id: created.experiment_id });
    const after = await get("/mlflow/status");
    expect(after.body.counts.experiments).toBe(before.body.counts.experiments + 1);
    expect(after.body.counts.runs).toBe(before.body.counts.runs + 1);
  });

  it("GET /mlflow/runs/{run_id} returns the whole run; unknown → 404, malformed → 400", async () => {
    const { body: exp } = await post("/api/2.0/mlflow/experiments/create", { name: "service-run" });
    const { body: created } = await post("/api/2.0/mlflow/runs/create", { experiment_id: exp.experiment_id, run_name: "svc", start_time: 1000 });
    const runId = created.run.info.run_id as string;
    await post("/api/2.0/mlflow/runs/log-batch", {
      run_id: runId,
      metrics: [{ key: "sharpe", value: 1.5, timestamp: 2000, step: 0 }],
      params: [{ key: "symbol", value: "AAPL" }],
      tags: [{ key: "team", value: "quant" }],
    });
    const { status, body } = await get(`/mlflow/runs/${runId}`);
    expect(status).toBe(200);
    expect(body.run.info).toMatchObject({ run_id: runId, run_uuid: runId, run_name: "svc", status: "RUNNING", start_time: 1000, lifecycle_stage: "active" });
    expect(body.run.data.metrics).toEqual([{ key: "sharpe", value: 1.5, timestamp: 2000, step: 0 }]);
    expect(body.run.data.params).toEqual([{ key: "symbol", value: "AAPL" }]);
    expect(body.run.data.tags).toContainEqual({ key: "team", value: "quant" });
    expect((await get(`/api/2.0/mlflow/runs/get?run_id=${runId}`)).body).toEqual(body);

    const missing = await get("/mlflow/runs/0123456789abcdef0123456789abcdef");
    expect(missing).toMatchObject({ status: 404, body: { error_code: "RESOURCE_DOES_NOT_EXIST" } });
    const malformed = await get("/mlflow/runs/bad%20id");
    expect(malformed).toMatchObject({ status: 400, body: { error_code: "INVALID_PARAMETER_VALUE" } });
  });

  it("serves every /api/2.0 binding under /ajax-api/2.0 too", async () => {
    const res = await post("/ajax-api/2.0/mlflow/experiments/create", { name: "via-ajax" });
    expect(res.status).toBe(200);
    const got = await get(`/ajax-api/2.0/mlflow/experiments/get-by-name?experiment_name=via-ajax`);
    expect(got.body.experiment.experiment_id).toBe(res.body.experiment_id);
  });

  it("accepts a maximum-size LogBatch and refuses bodies over --max-body-bytes with 413", async () => {
    const { body: created } = await post("/api/2.0/mlflow/runs/create", { experiment_id: "0" });
    const runId = created.run.info.run_id as string;
    const batch = {
      run_id: runId,
      params: Array.from({ length: 100 }, (_, i) => ({ key: `p${i}`, value: "v".repeat(6000) })),
      tags: Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: "t".repeat(8000) })),
      metrics: Array.from({ length: 800 }, (_, i) => ({ key: `m${i % 10}`, value: i, timestamp: 1, step: i })),
    };
    const ok = await post("/api/2.0/mlflow/runs/log-batch", batch);
    expect(ok).toEqual({ status: 200, body: {} });
    const run = await get(`/mlflow/runs/${runId}`);
    expect(run.body.run.data.params).toHaveLength(100);

    const huge = await fetch(`${url}/api/2.0/mlflow/runs/log-batch`, json({ run_id: runId, tags: [{ key: "x", value: "y".repeat(33 * 1024 * 1024) }] }));
    expect(huge.status).toBe(413);
    expect(await huge.json()).toEqual({
      error_code: "INVALID_PARAMETER_VALUE",
      message: `Request body is larger than the limit of ${32 * 1024 * 1024} bytes`,
    });
  });
});
