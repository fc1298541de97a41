/**
 * Hundreds of malformed HTTP requests — bad JSON, wrong types, huge values, odd paths and encodings,
 * bad query strings, wrong methods and content types — get only 4xx answers with MLflow error bodies,
 * change nothing, and leave the process serving.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLogbook, type TestLogbook } from "../harness/logbook.js";

interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

function send(port: number, r: RawRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // An explicit length: Node's client sends a DELETE/GET body neither chunked nor sized otherwise.
    const headers = r.body === undefined ? r.headers : { ...r.headers, "content-length": String(Buffer.byteLength(r.body)) };
    const req = request({ host: "127.0.0.1", port, method: r.method, path: r.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    if (r.body !== undefined) req.write(r.body);
    req.end();
  });
}

/** A small deterministic PRNG so a failure names a reproducible case. */
function prng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

const JSON_HEADERS = { "content-type": "application/json" };
const POST_ROUTES = [
  "/api/2.0/mlflow/experiments/create",
  "/api/2.0/mlflow/experiments/update",
  "/api/2.0/mlflow/experiments/delete",
  "/api/2.0/mlflow/experiments/set-experiment-tag",
  "/api/2.0/mlflow/runs/create",
  "/api/2.0/mlflow/runs/update",
  "/api/2.0/mlflow/runs/delete",
  "/api/2.0/mlflow/runs/log-metric",
  "/api/2.0/mlflow/runs/log-parameter",
  "/api/2.0/mlflow/runs/set-tag",
  "/api/2.0/mlflow/runs/log-batch",
  "/api/2.0/mlflow/runs/log-inputs",
  "/api/2.0/mlflow/runs/log-model",
  "/ajax-api/2.0/mlflow/runs/log-batch",
];
const GET_ROUTES = [
  "/api/2.0/mlflow/experiments/get",
  "/api/2.0/mlflow/experiments/get-by-name",
  "/api/2.0/mlflow/runs/get",
  "/api/2.0/mlflow/metrics/get-history",
];

function malformedRequests(runId: string): RawRequest[] {
  const rand = prng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const out: RawRequest[] = [];

  const badBodies = [
    "{", "}", "[", "[]", "null", "true", "42", '"str"', "{'a': 1}", '{"a":}', '{"a" 1}', "{,}", '{"a":1,}',
    "\u0000", "\uFEFF{}x", '{"name": "x"} trailing', '{"name": "\\uD800"}', '{"name": "\\x41"}', "NaN", "{NaN}",
    "[".repeat(5000), '{"a":'.repeat(3000), "\xff\xfe\x00",
  ];
  for (const body of badBodies) out.push({ method: "POST", path: pick(POST_ROUTES), headers: JSON_HEADERS, body });

  // Every field each route reads, given a value of the wrong JSON type (or an operator object):
  // invalid whatever else the body holds, so each must be refused whole.
  type Kind = "string" | "id" | "int64" | "double" | "enum" | "list";
  const routeFields: Record<string, Record<string, Kind>> = {
    "experiments/create": { name: "string", artifact_location: "string", tags: "list" },
    "experiments/update": { experiment_id: "id", new_name: "string" },
    "experiments/delete": { experiment_id: "id" },
    "experiments/set-experiment-tag": { experiment_id: "id", key: "string", value: "string" },
    "runs/create": { experiment_id: "id", user_id: "string", run_name: "string", start_time: "int64", tags: "list" },
    "runs/update": { run_id: "string", status: "enum", end_time: "int64", run_name: "string" },
    "runs/delete": { run_id: "string" },
    "runs/log-metric": { run_id: "string", key: "string", value: "double", timestamp: "int64", step: "int64" },
    "runs/log-parameter": { run_id: "string", key: "string", value: "string" },
    "runs/set-tag": { run_id: "string", key: "string", value: "string" },
    "runs/log-batch": { run_id: "string", metrics: "list", params: "list", tags: "list" },
    "runs/log-inputs": { run_id: "string", datasets: "list", models: "list" },
    "runs/log-model": { run_id: "string", model_json: "string" },
  };
  const wrong: Record<Kind, unknown[]> = {
    string: [{}, [1], { $ne: 1 }, { $where: "sleep(1000)" }, 5, true],
    id: [{}, ["0"], { $gt: "" }, 1.5, true, "abc", "-1"],
    int64: ["abc", "1e999", 1.5, {}, [], true, "9223372036854775808", 2 ** 64, -(2 ** 64)],
    double: ["abc", {}, [], true, "1,5"],
    enum: ["NOT_A_STATUS", {}, [], 1.5],
    list: ["str", 5, {}, [5], [["nested"]], [{ key: {} }]],
  };
  for (const [route, fields] of Object.entries(routeFields)) {
    for (const [field, kind] of Object.entries(fields)) {
      for (const value of wrong[kind]) {
        const body: Record<string, unknown> = { run_id: runId, experiment_id: "0", name: "fuzz", key: "k", value: "v" };
        body[field] = value;
        out.push({ method: "POST", path: `/api/2.0/mlflow/${route}`, headers: JSON_HEADERS, body: JSON.stringify(body) });
      }
    }
  }

  // Right types, invalid values.
  const invalid: [string, Record<string, unknown>][] = [
    ["runs/log-metric", { run_id: runId, key: "a$b", value: 1, timestamp: 1 }],
    ["runs/log-metric", { run_id: runId, key: "../x", value: 1, timestamp: 1 }],
    ["runs/log-metric", { run_id: runId, key: "m", value: 1, timestamp: -1 }],
    ["runs/log-metric", { run_id: runId, key: "m", timestamp: 1 }],
    ["runs/log-metric", { run_id: runId, key: "m", value: 1 }],
    ["runs/log-metric", { run_id: runId, key: "k".repeat(251), value: 1, timestamp: 1 }],
    ["runs/log-parameter", { run_id: runId, key: "p", value: "changed" }],
    ["runs/log-parameter", { run_id: "../../etc/passwd", key: "p", value: "1" }],
    ["runs/log-parameter", { run_id: runId, key: "", value: "1" }],
    ["runs/set-tag", { run_id: runId, key: "x\u0000y", value: "1" }],
    ["runs/set-tag", { run_id: "", key: "t", value: "1" }],
    ["runs/log-batch", { run_id: runId, metrics: Array.from({ length: 1001 }, (_, i) => ({ key: "m", value: i, timestamp: 1, step: i })) }],
    ["runs/log-batch", { run_id: runId, params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: "v" })) }],
    ["runs/log-batch", { run_id: runId, params: [{ key: "d", value: "1" }, { key: "d", value: "2" }] }],
    ["runs/log-batch", { run_id: runId, metrics: [{ key: "m", value: 1, timestamp: 1 }], params: [{ key: "p", value: "2" }] }],
    ["runs/log-batch", { run_id: runId, metrics: [{ key: "m", value: 1 }] }],
    ["runs/log-batch", { run_id: "0123456789abcdef0123456789abcdef", tags: [{ key: "t", value: "1" }] }],
    ["runs/update", { run_id: runId, end_time: "-9223372036854775809" }],
    ["runs/create", { experiment_id: "999999999" }],
    ["runs/create", { experiment_id: "0", start_time: 1, run_name: "a", tags: [{ key: "mlflow.runName", value: "b" }] }],
    ["experiments/create", { name: "" }],
    ["experiments/create", { name: "n".repeat(501) }],
    ["experiments/create", { name: "Default" }],
    ["experiments/create", { name: "ok-name", artifact_location: "runs:/abc" }],
    ["experiments/update", { experiment_id: "0", new_name: "" }],
    ["experiments/set-experiment-tag", { experiment_id: "0", key: "t" }],
    ["experiments/set-experiment-tag", { experiment_id: "0", key: "t", value: "v".repeat(5001) }],
    ["experiments/delete-experiment-tag", { experiment_id: "0", key: "never-set" }],
    ["runs/delete-tag", { run_id: runId, key: "never-set" }],
    ["runs/log-model", { run_id: runId, model_json: "{" }],
    ["runs/log-model", { run_id: runId, model_json: "[]" }],
    ["runs/log-inputs", { run_id: runId, datasets: [{ dataset: { name: "d" } }] }],
    ["runs/log-inputs", { run_id: runId, models: [{}] }],
  ];
  for (const [route, body] of invalid) out.push({ method: "POST", path: `/api/2.0/mlflow/${route}`, headers: JSON_HEADERS, body: JSON.stringify(body) });

  // Odd paths and encodings.
  const paths = [
    "/api/2.0/mlflow/../mlflow/experiments/get", "/api/2.0/mlflow/experiments/get%00", "/api/2.0/mlflow/%2e%2e/x",
    "/api/2.0/mlflow/experiments/get/", "//api/2.0/mlflow/experiments/get", "/api/2.0/mlflow/experiments/%E2%82",
    "/api/2.0/mlflow/experiments/" + "a".repeat(10_000), "/api/9.9/mlflow/experiments/get", "/mlflow/runs/%2F..%2F",
    "/mlflow/runs/", "/mlflow/runs/a/b", "/api/2.0/mlflow/runs/get%3Fx", "/%", "/api/2.0/mlflow/experiments/get?%ZZ=1",
    "/api/2.0/mlflow/experiments/get?experiment_id=%ZZ", "/mlflow/runs/%E2%82%AC", "/ajax-api/3.0/mlflow/nothing",
  ];
  for (const path of paths) out.push({ method: "GET", path });

  // Bad query strings on GET routes.
  const queries = [
    "experiment_id=", "experiment_id=abc", "experiment_id=1&experiment_id=2", "experiment_id=-1", "experiment_id=1e3",
    "experiment_name=", "run_id=..%2F..%2Fetc", "run_id=" + "f".repeat(300), "run_id=x&metric_key=", "max_results=abc",
    "run_id=%00",
  ];
  for (const q of queries) out.push({ method: "GET", path: `${pick(GET_ROUTES)}?${q}` });
  for (const q of ["page_token=!!!", "page_token=eyJ4Ijox", "max_results=abc", "max_results=0", "max_results=25001", "max_results=99999999999999999999", "metric_key="]) {
    out.push({ method: "GET", path: `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=m&${q}` });
  }

  // Wrong methods and content types.
  for (const route of POST_ROUTES.slice(0, 8)) {
    out.push({ method: pick(["GET", "PUT", "DELETE", "PATCH"]), path: route, headers: JSON_HEADERS, body: "{}" });
    out.push({ method: "POST", path: route, headers: { "content-type": "text/plain" }, body: '{"name":"x"}' });
    out.push({ method: "POST", path: route, body: '{"name":"x"}' });
  }
  for (const route of GET_ROUTES) out.push({ method: "POST", path: route, headers: JSON_HEADERS, body: "{}" });
  return out;
}

describe("malformed HTTP requests (embedded store)", () => {
  let lb: TestLogbook;
  let port: number;
  let runId: string;

  beforeAll(async () => {
    lb = await startTestLogbook("sqlite");
    port = lb.logbook.httpPort;
    const { run } = await lb.tracking.createRun({ experimentId: "0", userId: "", runName: "target", tags: [] });
    runId = run!.info!.runId;
    await lb.tracking.logBatch({
      runId,
      metrics: [{ key: "m", value: 1, timestamp: 1n, step: 0n, runId: "" }],
      params: [{ key: "p", value: "1" }],
      tags: [{ key: "t", value: "1" }],
    });
  });
  afterAll(async () => {
    await lb?.close();
  });

  it("answers each with a 4xx MLflow error body and changes nothing", async () => {
    const snapshot = async () => ({
      status: (await lb.tracking.getServerStatus({})).counts,
      run: (await lb.tracking.getRun({ runId, runUuid: "" })).run,
      experiment: (await lb.tracking.getExperiment({ experimentId: "0" })).experiment,
      history: (await lb.tracking.getMetricHistory({ runId, runUuid: "", metricKey: "m", pageToken: "" })).metrics,
    });
    const before = await snapshot();
    const requests = malformedRequests(runId);
    expect(requests.length).toBeGreaterThanOrEqual(300);
    const failures: string[] = [];
    for (const r of requests) {
      const res = await send(port, r).catch((err: Error) => ({ status: 0, body: `connection error: ${err.message}` }));
      let body: { error_code?: unknown; message?: unknown } = {};
      try {
        body = JSON.parse(res.body) as typeof body;
      } catch {
        // reported below
      }
      const ok = res.status >= 400 && res.status < 500 && typeof body.error_code === "string" && typeof body.message === "string";
      if (!ok) failures.push(`${r.method} ${r.path.slice(0, 120)} ${String(r.body ?? "").slice(0, 120)} → ${res.status} ${res.body.slice(0, 200)}`);
    }
    expect(failures).toEqual([]);
    expect(await snapshot()).toEqual(before);
    expect((await fetch(`${lb.httpUrl}/health`)).status).toBe(200);
  });
});
