/**
 * Artifact modes and roots, Logbook's own rules (the MLflow-compatible behaviour is in test/compat/test_artifact_modes.py):
 * the flags and their variables, files opened only under configured roots, an experiment location never inside a run's
 * or logged model's artifact tree, and the new MLflow UI calls over gRPC, on both stores.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { Command } from "commander";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addServerOptions, defaultServerConfig, resolveConfig, type ServerConfig } from "../../src/server/config.js";
import { type Logbook, startLogbook } from "../../src/server/server.js";
import { SearchServiceService } from "../../gen/ts/logbook/v1/search_service.js";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { expectGrpcError, promiseClient } from "../harness/grpc.js";
import { STORE_KINDS, storeSpec, tempDir } from "../harness/logbook.js";

function parse(argv: string[], env: NodeJS.ProcessEnv = {}): ServerConfig {
  const cmd = addServerOptions(new Command()).exitOverride();
  cmd.parse(argv, { from: "user" });
  return resolveConfig(cmd.opts(), env);
}

describe("--serve-artifacts / --no-serve-artifacts / --default-artifact-root", () => {
  it("serves artifacts unless told not to, by flag or LOGBOOK_SERVE_ARTIFACTS (the flag wins)", () => {
    expect(parse([]).serveArtifacts).toBe(true);
    expect(parse(["--no-serve-artifacts"]).serveArtifacts).toBe(false);
    expect(parse([], { LOGBOOK_SERVE_ARTIFACTS: "false" }).serveArtifacts).toBe(false);
    expect(parse(["--serve-artifacts"], { LOGBOOK_SERVE_ARTIFACTS: "false" }).serveArtifacts).toBe(true);
    expect(() => parse([], { LOGBOOK_SERVE_ARTIFACTS: "maybe" })).toThrow("expected true or false");
  });

  it("takes a default artifact root", () => {
    expect(parse([]).defaultArtifactRoot).toBeUndefined();
    expect(parse(["--default-artifact-root", "s3://bucket/p"]).defaultArtifactRoot).toBe("s3://bucket/p");
  });
});

describe.each(STORE_KINDS)("artifact roots (%s)", (kind) => {
  const data = tempDir();
  const root = tempDir("logbook-root-");
  let lb: Logbook;
  let url: string;
  let tracking: ReturnType<typeof promiseClient<typeof TrackingServiceService>>;
  let search: ReturnType<typeof promiseClient<typeof SearchServiceService>>;

  const post = (path: string, body: unknown) =>
    fetch(url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

  beforeAll(async () => {
    lb = await startLogbook(
      {
        ...defaultServerConfig(),
        host: "127.0.0.1",
        grpcPort: 0,
        httpPort: 0,
        maxBodyBytes: 1 << 20,
        dataDir: data.path,
        store: storeSpec(kind, "artifact_modes"),
        defaultArtifactRoot: root.path,
        logLevel: "silent",
        healthIntervalMs: 1000,
        shutdownTimeoutS: 5,
        metrics: true,
        logRequests: true,
        slowRequestMs: 1000,
      },
      pino({ level: "silent" }),
    );
    url = `http://127.0.0.1:${lb.httpPort}`;
    tracking = promiseClient(TrackingServiceService, `127.0.0.1:${lb.grpcPort}`);
    search = promiseClient(SearchServiceService, `127.0.0.1:${lb.grpcPort}`);
  });

  afterAll(async () => {
    tracking.close();
    search.close();
    await lb.close();
    data.remove();
    root.remove();
  });

  it("refuses an experiment location inside a run's or a logged model's artifact tree, existing or not", async () => {
    const run = (await tracking.createRun({ experimentId: "0", userId: "u", runName: "r", tags: [] })).run!.info!;
    const inside = [
      `${run.artifactUri}`,
      `${run.artifactUri}/sub`,
      `mlflow-artifacts:/0/${run.runId}/artifacts/x`,
      `s3://bucket/0/${"a".repeat(32)}/artifacts`,
      `file://${root.path}/1/models/m-${"b".repeat(32)}/artifacts/y`,
    ];
    for (const location of inside) {
      const res = await post("/api/2.0/mlflow/experiments/create", { name: `inside-${Math.random()}`, artifact_location: location });
      expect(res.status, location).toBe(400);
      expect(((await res.json()) as { message: string }).message).toContain("lies inside the artifact directory of");
    }
    const beside = await post("/api/2.0/mlflow/experiments/create", { name: `beside-${Math.random()}`, artifact_location: `${root.path}/0/${run.runId}` });
    expect(beside.status).toBe(200);
  });

  it("never opens files outside its roots: a location elsewhere on disk is stored, not served", async () => {
    const elsewhere = tempDir("logbook-elsewhere-");
    try {
      mkdirSync(join(elsewhere.path, "secret"), { recursive: true });
      writeFileSync(join(elsewhere.path, "secret.txt"), "do not read");
      const { experimentId } = await tracking.createExperiment({ name: `elsewhere-${Math.random()}`, artifactLocation: `file://${elsewhere.path}`, tags: [] });
      const run = (await tracking.createRun({ experimentId, userId: "u", runName: "r", tags: [] })).run!.info!;
      expect(run.artifactUri).toBe(`file://${elsewhere.path}/${run.runId}/artifacts`);
      const list = await fetch(`${url}/api/2.0/mlflow/artifacts/list?run_id=${run.runId}`);
      expect(list.status).toBe(400);
      expect(((await list.json()) as { message: string }).message).toContain("is not served by this server");
      const get = await fetch(`${url}/get-artifact?run_id=${run.runId}&path=../../secret.txt`);
      expect(get.status).toBe(400);
    } finally {
      elsewhere.remove();
    }
  });

  it("serves run files under its directory root, over HTTP and gRPC", async () => {
    const { experimentId } = await tracking.createExperiment({ name: `rooted-${Math.random()}`, artifactLocation: "", tags: [] });
    const run = (await tracking.createRun({ experimentId, userId: "u", runName: "r", tags: [] })).run!.info!;
    expect(run.artifactUri).toBe(`${root.path}/${experimentId}/${run.runId}/artifacts`);
    const up = await fetch(`${url}/ajax-api/2.0/mlflow/upload-artifact?run_uuid=${run.runId}&path=a/b.txt`, { method: "POST", body: "bytes" });
    expect(up.status).toBe(200);
    expect(existsSync(join(run.artifactUri, "a", "b.txt"))).toBe(true);
    expect((await fetch(`${url}/get-artifact?run_id=${run.runId}&path=a/b.txt`)).status).toBe(200);
  });

  it("answers the MLflow UI's calls over gRPC too", async () => {
    const { experimentId } = await tracking.createExperiment({ name: `ui-${Math.random()}`, artifactLocation: "", tags: [] });
    const run = (await tracking.createRun({ experimentId, userId: "u", runName: "r", tags: [] })).run!.info!;
    await tracking.logInputs({
      runId: run.runId,
      datasets: [{ tags: [{ key: "mlflow.data.context", value: "training" }], dataset: { name: "d", digest: "x1", sourceType: "local", source: "/d" } }],
      models: [],
    });
    await tracking.logBatch({ runId: run.runId, metrics: [{ key: "m", value: 1, timestamp: 5n, step: 0n, runId: "" }], params: [], tags: [] });
    expect((await search.searchDatasets({ experimentIds: [experimentId] })).datasetSummaries).toEqual([
      { experimentId, name: "d", digest: "x1", context: "training" },
    ]);
    const bulk = await search.getMetricHistoryBulk({ runId: [run.runId, "0".repeat(32)], metricKey: "m" });
    expect(bulk.metrics.map((m) => [m.runId, m.value])).toEqual([[run.runId, 1]]);
    await expectGrpcError(search.searchDatasets({ experimentIds: [] }), {
      grpcCode: status.INVALID_ARGUMENT,
      mlflowCode: "INVALID_PARAMETER_VALUE",
      message: "SearchDatasets request must specify at least one experiment_id.",
    });
    const lab = await tracking.createPromptlabRun({
      experimentId,
      runName: "",
      tags: [],
      promptTemplate: "Hi {{ who }}",
      promptParameters: [{ key: "who", value: "you" }],
      modelRoute: "chat",
      modelParameters: [],
      modelInput: "Hi you",
      modelOutput: "hey",
      modelOutputParameters: [],
      mlflowVersion: "3.17.2",
      userId: "",
    });
    expect([lab.run!.info!.status, lab.run!.info!.userId]).toEqual([5 - 2, "unknown"]); // FINISHED
    expect(existsSync(join(lab.run!.info!.artifactUri, "model", "MLmodel"))).toBe(true);
  });

  it("ends a prompt-lab run FAILED when its files cannot be written, as MLflow does", async () => {
    const { experimentId } = await tracking.createExperiment({ name: `lab-s3-${Math.random()}`, artifactLocation: "s3://bucket/lab", tags: [] });
    const res = await post("/ajax-api/2.0/mlflow/runs/create-promptlab-run", {
      experiment_id: experimentId,
      prompt_template: "t",
      prompt_parameters: [{ key: "k", value: 1 }],
      model_route: "r",
      model_input: "i",
      mlflow_version: "3.17.2",
    });
    expect(res.status).toBe(200);
    const run = ((await res.json()) as { run: { info: { status: string }; data: { params: { key: string; value: string }[] } } }).run;
    expect(run.info.status).toBe("FAILED");
    expect(run.data.params).toContainEqual({ key: "prompt_template", value: "t" });
  });
});
