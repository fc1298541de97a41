/**
 * The web UI's side of the HTTP server: finding the bundle (--ui-dir, or the mlflow package of the first python3 on
 * PATH that has one), serving it (content types, MLflow's caching headers, compression scoped to the UI files, no
 * way out of the bundle), and the UI's helper answers (telemetry, assistant, server-info, GenAI searches).
 * A small bundle made here stands in for MLflow's; the browser suite (test/ui/) serves the real one.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SearchServiceService } from "../../gen/ts/logbook/v1/search_service.js";
import { AggregationType, MetricViewType } from "../../gen/ts/logbook/v1/genai.js";
import { Command } from "commander";
import { addServerOptions, resolveConfig } from "../../src/server/config.js";
import { locateUiBundle } from "../../src/server/ui-bundle.js";
import { promiseClient } from "../harness/grpc.js";
import { startTestLogbook, tempDir, type TestLogbook } from "../harness/logbook.js";

const INDEX = '<!doctype html><html><head><script defer src="static-files/static/js/main.js"></script></head><body></body></html>';
const MAIN_JS = `console.log(${JSON.stringify("x".repeat(100))});\n`.repeat(400);

/** A directory laid out like MLflow's package: <dir>/mlflow/__init__.py and <dir>/mlflow/server/js/build/. */
function fakeMlflowPackage(root: string): string {
  const build = join(root, "mlflow", "server", "js", "build");
  mkdirSync(join(build, "static", "js"), { recursive: true });
  writeFileSync(join(root, "mlflow", "__init__.py"), "");
  writeFileSync(join(build, "index.html"), INDEX);
  writeFileSync(join(build, "static", "js", "main.js"), MAIN_JS);
  writeFileSync(join(build, "favicon.ico"), Buffer.from([0, 0, 1, 0]));
  return build;
}

/** A python3 on PATH that sees `packages` (a real interpreter; only its import path is set). */
function pythonSeeing(bin: string, packages: string | undefined): void {
  mkdirSync(bin, { recursive: true });
  const env = packages ? `PYTHONPATH=${packages} ` : "PYTHONPATH= PYTHONNOUSERSITE=1 ";
  writeFileSync(join(bin, "python3"), `#!/bin/sh\n${env}exec /usr/bin/python3 -S "$@"\n`);
  chmodSync(join(bin, "python3"), 0o755);
}

function get(url: string, headers: Record<string, string> = {}, method = "GET"): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the --ui switch", () => {
  const parse = (argv: string[], env: Record<string, string> = {}) => {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const cmd = addServerOptions(new Command()).exitOverride();
      cmd.parse(argv, { from: "user" });
      return resolveConfig(cmd.opts());
    } finally {
      for (const key of Object.keys(env)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  };

  it("is off by default, on with --ui, and reads true/false from the flag or LOGBOOK_UI (a flag wins)", () => {
    expect(parse([]).ui).toBe(false);
    expect(parse(["--ui"]).ui).toBe(true);
    expect(parse(["--ui", "false"]).ui).toBe(false);
    expect(parse([], { LOGBOOK_UI: "true" }).ui).toBe(true);
    expect(parse([], { LOGBOOK_UI: "0" }).ui).toBe(false);
    expect(parse(["--ui", "false"], { LOGBOOK_UI: "1" }).ui).toBe(false);
    expect(parse(["--ui-dir", "/srv/ui"]).uiDir).toBe("/srv/ui");
    expect(() => parse(["--ui", "maybe"])).toThrow(/expected true or false/);
    expect(parse(["--graphql-max-root-fields", "20"]).graphqlMaxRootFields).toBe(20);
  });
});

describe("finding the UI bundle", () => {
  const dir = tempDir("logbook-ui-find-");
  afterAll(() => dir.remove());

  it("takes --ui-dir as the build directory or as the mlflow package directory", async () => {
    const build = fakeMlflowPackage(join(dir.path, "site"));
    expect(await locateUiBundle({ uiDir: build })).toEqual({ dir: build, source: "--ui-dir" });
    expect((await locateUiBundle({ uiDir: join(dir.path, "site", "mlflow") })).dir).toBe(build);
    await expect(locateUiBundle({ uiDir: dir.path })).rejects.toThrow(/--ui-dir .*: no index.html there/);
  });

  it("asks the python3s on PATH in order and takes the first whose mlflow package has the bundle", async () => {
    const build = fakeMlflowPackage(join(dir.path, "with"));
    mkdirSync(join(dir.path, "bare", "mlflow"), { recursive: true }); // mlflow without its UI (like mlflow-skinny)
    writeFileSync(join(dir.path, "bare", "mlflow", "__init__.py"), "");
    pythonSeeing(join(dir.path, "bin-none"), undefined);
    pythonSeeing(join(dir.path, "bin-bare"), join(dir.path, "bare"));
    pythonSeeing(join(dir.path, "bin-with"), join(dir.path, "with"));
    const path = ["bin-none", "bin-bare", "bin-with"].map((b) => join(dir.path, b)).join(":");
    expect(await locateUiBundle({ path })).toMatchObject({ dir: build, source: join(dir.path, "bin-with", "python3") });
    const none = ["bin-none", "bin-bare"].map((b) => join(dir.path, b)).join(":");
    await expect(locateUiBundle({ path: none })).rejects.toThrow(/MLflow's web UI bundle was not found .*pip install mlflow==3\.17\.2.*--ui-dir/);
    await expect(locateUiBundle({ path: join(dir.path, "nowhere") })).rejects.toThrow(/no python3 is on PATH/);
  });

  it("fails the start of `--ui` without a bundle, before opening anything", async () => {
    await expect(startTestLogbook("sqlite", { config: { ui: true, uiDir: join(dir.path, "missing") } })).rejects.toThrow(/no index.html there/);
  });
});

describe("serving the UI", () => {
  const dir = tempDir("logbook-ui-serve-");
  let lb: TestLogbook;
  let plain: TestLogbook;
  beforeAll(async () => {
    lb = await startTestLogbook("sqlite", { config: { ui: true, uiDir: fakeMlflowPackage(dir.path) } });
    plain = await startTestLogbook("sqlite");
  });
  afterAll(async () => {
    await lb?.close();
    await plain?.close();
    dir.remove();
  });

  it("serves index.html at / without caching, as MLflow does", async () => {
    const res = await get(`${lb.httpUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.headers["cache-control"]).toBe("no-cache");
    expect(res.body.toString()).toBe(INDEX);
  });

  it("serves /static-files/ with MLflow's 28-day max-age, ETag revalidation, and br or gzip when accepted", async () => {
    const url = `${lb.httpUrl}/static-files/static/js/main.js`;
    const identity = await get(url);
    expect(identity.status).toBe(200);
    expect(identity.headers["content-type"]).toMatch(/^(application|text)\/javascript; charset=utf-8$/);
    expect(identity.headers["cache-control"]).toBe("public, max-age=2419200");
    expect(identity.headers["content-encoding"]).toBeUndefined();
    expect(identity.body.toString()).toBe(MAIN_JS);
    const br = await get(url, { "accept-encoding": "br, gzip" });
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.body.length).toBeLessThan(MAIN_JS.length / 10);
    expect(brotliDecompressSync(br.body).toString()).toBe(MAIN_JS);
    const gzip = await get(url, { "accept-encoding": "gzip" });
    expect(gunzipSync(gzip.body).toString()).toBe(MAIN_JS);
    const etag = identity.headers.etag as string;
    expect((await get(url, { "if-none-match": etag })).status).toBe(304);
    expect((await get(`${lb.httpUrl}/static-files/favicon.ico`)).headers["content-type"]).toBe("image/vnd.microsoft.icon");
    expect((await get(url, {}, "HEAD")).status).toBe(200);
  });

  it("answers a missing file, a way out of the bundle and a wrong method with MLflow-shaped errors", async () => {
    for (const path of ["/static-files/nope.js", "/static-files/%2e%2e/%2e%2e/__init__.py", "/static-files/..%2f..%2f__init__.py", "/static-files/static/%2e%2e/%2e%2e/%2e%2e/__init__.py"]) {
      const res = await get(`${lb.httpUrl}${path}`);
      expect([path, res.status, JSON.parse(res.body.toString()).error_code]).toEqual([path, 404, "ENDPOINT_NOT_FOUND"]);
    }
    const post = await get(`${lb.httpUrl}/static-files/static/js/main.js`, {}, "POST");
    expect(post.status).toBe(405);
  });

  it("leaves API answers uncompressed, and has no UI files without --ui", async () => {
    const api = await get(`${lb.httpUrl}/api/2.0/mlflow/experiments/search?max_results=10`, { "accept-encoding": "br, gzip" });
    expect(api.status).toBe(200);
    expect(api.headers["content-encoding"]).toBeUndefined();
    for (const path of ["/", "/static-files/static/js/main.js"]) {
      const res = await get(`${plain.httpUrl}${path}`);
      expect(res.status).toBe(404);
      expect(JSON.parse(res.body.toString()).error_code).toBe("ENDPOINT_NOT_FOUND");
    }
  });
});

describe("the UI's helper answers (with or without --ui)", () => {
  let lb: TestLogbook;
  let url: string;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as unknown };
  };
  beforeAll(async () => {
    lb = await startTestLogbook("sqlite");
    url = lb.httpUrl;
  });
  afterAll(async () => {
    await lb?.close();
  });

  it("telemetry disabled, assistant unconfigured, server-info with MLflow 3.17.2's fields", async () => {
    expect(await call("GET", "/ajax-api/3.0/mlflow/ui-telemetry")).toEqual({
      status: 200,
      body: { disable_ui_events: [], disable_ui_telemetry: true, ui_rollout_percentage: 0 },
    });
    expect(await call("POST", "/ajax-api/3.0/mlflow/ui-telemetry", { records: [{ event_name: "x" }] })).toEqual({ status: 200, body: { status: "disabled" } });
    expect(await call("GET", "/ajax-api/3.0/mlflow/assistant/config")).toEqual({ status: 200, body: { providers: {}, projects: {}, remote_access_allowed: false } });
    expect(await call("GET", "/ajax-api/3.0/mlflow/assistant/providers")).toEqual({ status: 200, body: { providers: [], resolved: null, gateway_vendor_options: {} } });
    for (const prefix of ["/api", "/ajax-api"]) {
      expect(await call("GET", `${prefix}/3.0/mlflow/server-info`)).toEqual({
        status: 200,
        body: {
          store_type: "SqlStore",
          workspaces_enabled: false,
          trace_archival_enabled: false,
          multipart_uploads_enabled: false,
          multipart_downloads_enabled: false,
          presigned_upload_run_id_supported: false,
          presigned_upload_model_id_supported: false,
          features_enabled: { gateway: false },
        },
      });
    }
  });

  it("traces, trace metrics and evaluation datasets: MLflow's empty answers and its request checks", async () => {
    const location = { type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: "0" } };
    expect(await call("POST", "/ajax-api/3.0/mlflow/traces/search", { locations: [location], max_results: 100 })).toEqual({ status: 200, body: {} });
    expect(await call("POST", "/ajax-api/3.0/mlflow/traces/search", {})).toMatchObject({ status: 400, body: { message: expect.stringContaining("'locations'") } });
    expect((await call("POST", "/ajax-api/3.0/mlflow/traces/search", { locations: [location], max_results: 501 })).status).toBe(400);

    const metrics = (extra: Record<string, unknown>) =>
      call("POST", "/ajax-api/3.0/mlflow/traces/metrics", { experiment_ids: ["0"], view_type: "TRACES", metric_name: "trace_count", aggregations: [{ aggregation_type: "COUNT" }], ...extra });
    expect(await metrics({})).toEqual({ status: 200, body: { data_points: [{ metric_name: "trace_count", values: { COUNT: 0 } }] } });
    expect(await metrics({ dimensions: ["trace_status"], time_interval_seconds: 86400, start_time_ms: 1, end_time_ms: 2 })).toEqual({ status: 200, body: {} });
    expect(await metrics({ metric_name: "latency", aggregations: [{ aggregation_type: "PERCENTILE", percentile_value: 50 }] })).toEqual({ status: 200, body: {} });
    expect(await metrics({ metric_name: "nope" })).toEqual({
      status: 400,
      body: {
        error_code: "INVALID_PARAMETER_VALUE",
        message:
          "metric_name must be one of ['trace_count', 'session_count', 'latency', 'input_tokens', 'output_tokens', 'total_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'], got 'nope'",
      },
    });
    expect(await metrics({ metric_name: "latency" })).toMatchObject({ status: 400, body: { message: "Found invalid aggregation_type(s): ['COUNT']. Supported aggregation types: ['AVG', 'MAX', 'MIN', 'PERCENTILE']" } });
    expect(await metrics({ dimensions: ["x"] })).toMatchObject({ status: 400, body: { message: "Found invalid dimension(s): ['x']. Supported dimensions: ['trace_name', 'trace_status']" } });
    expect(await metrics({ time_interval_seconds: 60 })).toMatchObject({ status: 400, body: { message: "start_time_ms and end_time_ms are required if time_interval_seconds is set" } });
    expect(await call("POST", "/ajax-api/3.0/mlflow/traces/metrics", {})).toMatchObject({ status: 400, body: { message: expect.stringContaining("'experiment_ids'") } });

    expect(await call("POST", "/ajax-api/3.0/mlflow/datasets/search", { experiment_ids: ["0"] })).toEqual({ status: 200, body: {} });
    expect(await call("GET", "/api/3.0/mlflow/datasets/search?experiment_ids=0")).toEqual({ status: 200, body: {} });
    expect(await call("POST", "/api/3.0/mlflow/datasets/search", { max_results: 0 })).toMatchObject({
      status: 400,
      body: { message: "Invalid value None for parameter 'max_results' supplied. It must be a positive integer" },
    });
  });

  it("answers the same over gRPC", async () => {
    const search = promiseClient(SearchServiceService, lb.address);
    try {
      const answer = await search.queryTraceMetrics({
        experimentIds: ["0"],
        viewType: MetricViewType.METRIC_VIEW_TYPE_SPANS,
        metricName: "span_count",
        aggregations: [{ aggregationType: AggregationType.AGGREGATION_TYPE_COUNT }],
        dimensions: [],
        filters: [],
        pageToken: "",
      });
      expect(answer.dataPoints).toEqual([{ metricName: "span_count", dimensions: {}, values: { COUNT: 0 } }]);
      await expect(search.searchTraces({ locations: [], filter: "", orderBy: [], pageToken: "" })).rejects.toThrow(/'locations'/);
    } finally {
      search.close();
    }
  });
});
