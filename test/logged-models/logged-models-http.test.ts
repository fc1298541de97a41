/**
 * MLflow 3 logged models over MLflow's REST paths on both stores, as the MLflow client calls them: the logged-models
 * routes with PATCH/DELETE bodies and the tag path parameter, the status enum's wire names, runs/outputs seen on
 * runs/get, metrics linked through log-batch, the artifact directory listing after proxy uploads, the raw
 * /model-versions/get-artifact route for each kind of version source, and the registry counts of /mlflow/status.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loggedModelNotFound, loggedModelTagNotFound } from "../../src/domain/registry-messages.js";
import { rawRequest, sha256 } from "../harness/artifacts.js";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";

const API = "/api/2.0/mlflow";
const PROXY = "/api/2.0/mlflow-artifacts/artifacts";
const UNKNOWN_ID = `m-${"0".repeat(32)}`;

// JSON bodies are untyped on purpose: the wire shape is what is under test.
type Json = any;

describe.each(STORE_KINDS)("logged models over HTTP on %s", (kind) => {
  let lb: TestLogbook;
  let experimentId: string;

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "logged_models_http" });
    experimentId = (await call("POST", `${API}/experiments/create`, { name: "logged-models-http" })).json.experiment_id;
  });
  afterAll(async () => {
    await lb?.close();
  });

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
    const res = await fetch(`${lb.httpUrl}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    return { status: res.status, json: await res.json() };
  }
  async function ok(method: string, path: string, body?: unknown): Promise<Json> {
    const res = await call(method, path, body);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    return res.json;
  }
  async function fails(method: string, path: string, body: unknown, status: number, errorCode: string, message?: string): Promise<void> {
    const res = await call(method, path, body);
    expect(res.status, JSON.stringify(res.json)).toBe(status);
    expect(res.json.error_code).toBe(errorCode);
    if (message) expect(res.json.message).toContain(message);
  }
  const createModel = async (body: Record<string, unknown> = {}) => (await ok("POST", `${API}/logged-models`, { experiment_id: experimentId, ...body })).model;
  const createRun = async () => (await ok("POST", `${API}/runs/create`, { experiment_id: experimentId })).run.info.run_id as string;
  const put = (path: string, data: Buffer) => rawRequest(lb.httpUrl, "PUT", `${PROXY}/${path}`, data);
  const proxied = (uri: string) => uri.replace(/^mlflow-artifacts:\//, "");

  it("creates, gets, finalizes, tags, logs params and deletes a model on MLflow's paths", async () => {
    const runId = await createRun();
    const model = await createModel({
      name: "forest",
      model_type: "sklearn",
      source_run_id: runId,
      params: [{ key: "depth", value: "3" }],
      tags: [{ key: "mlflow.source.type", value: "LOCAL" }],
    });
    const id = model.info.model_id as string;
    expect(id).toMatch(/^m-[0-9a-f]{32}$/);
    expect(model).toMatchObject({
      info: {
        experiment_id: experimentId,
        name: "forest",
        artifact_uri: `mlflow-artifacts:/${experimentId}/models/${id}/artifacts`,
        status: "LOGGED_MODEL_PENDING",
        model_type: "sklearn",
        source_run_id: runId,
        tags: [{ key: "mlflow.source.type", value: "LOCAL" }],
      },
      data: { params: [{ key: "depth", value: "3" }] },
    });
    expect(typeof model.info.creation_timestamp_ms).toBe("number");
    expect(model.info.last_updated_timestamp_ms).toBe(model.info.creation_timestamp_ms);

    expect((await ok("GET", `${API}/logged-models/${id}`)).model).toEqual(model);
    expect((await ok("GET", `/ajax-api/2.0/mlflow/logged-models/${id}`)).model.info.model_id).toBe(id);

    // Finalize: the status enum goes out and comes in as MLflow's names (prefix `LOGGED_MODEL_`), or as its number.
    await fails("PATCH", `${API}/logged-models/${id}`, { model_id: id, status: "LOGGED_MODEL_PENDING" }, 400, "INVALID_PARAMETER_VALUE", "LOGGED_MODEL_PENDING");
    await fails("PATCH", `${API}/logged-models/${id}`, { model_id: id, status: "DONE" }, 400, "INVALID_PARAMETER_VALUE");
    await fails("PATCH", `${API}/logged-models/${id}`, { model_id: id }, 400, "INVALID_PARAMETER_VALUE", "'status'");
    expect((await ok("PATCH", `${API}/logged-models/${id}`, { model_id: id, status: 3 })).model.info.status).toBe("LOGGED_MODEL_UPLOAD_FAILED");
    const ready = (await ok("PATCH", `${API}/logged-models/${id}`, { model_id: id, status: "LOGGED_MODEL_READY" })).model;
    expect(ready.info.status).toBe("LOGGED_MODEL_READY");
    expect((await ok("GET", `${API}/logged-models/${id}`)).model.info.status).toBe("LOGGED_MODEL_READY");

    // Tags: PATCH with a body; DELETE with the key as a path segment ("/" sent as %2F), with and without a body.
    const tagged = (await ok("PATCH", `${API}/logged-models/${id}/tags`, { tags: [{ key: "stage/env", value: "prod" }, { key: "k", value: "v" }] })).model;
    expect(tagged.info.tags).toEqual(
      expect.arrayContaining([
        { key: "stage/env", value: "prod" },
        { key: "k", value: "v" },
      ]),
    );
    expect(await ok("DELETE", `${API}/logged-models/${id}/tags/stage%2Fenv`, { model_id: id, tag_key: "stage/env" })).toEqual({});
    expect(await ok("DELETE", `${API}/logged-models/${id}/tags/k`)).toEqual({});
    await fails("DELETE", `${API}/logged-models/${id}/tags/k`, {}, 404, "RESOURCE_DOES_NOT_EXIST", loggedModelTagNotFound(id, "k").message);
    expect((await ok("GET", `${API}/logged-models/${id}`)).model.info.tags).toEqual([{ key: "mlflow.source.type", value: "LOCAL" }]);

    expect(await ok("POST", `${API}/logged-models/${id}/params`, { model_id: id, params: [{ key: "lr", value: "0.1" }, { key: "depth", value: "3" }] })).toEqual({});
    await fails("POST", `${API}/logged-models/${id}/params`, { params: [{ key: "lr", value: "0.2" }] }, 400, "INVALID_PARAMETER_VALUE", "Changing param values is not allowed");
    const params = (await ok("GET", `${API}/logged-models/${id}`)).model.data.params as { key: string }[];
    expect(params.map((p) => p.key).sort()).toEqual(["depth", "lr"]);

    // The MLflow client sends DELETE with a JSON body.
    expect(await ok("DELETE", `${API}/logged-models/${id}`, { model_id: id })).toEqual({});
    await fails("GET", `${API}/logged-models/${id}`, undefined, 404, "RESOURCE_DOES_NOT_EXIST", loggedModelNotFound(id).message);
    await fails("DELETE", `${API}/logged-models/${id}`, {}, 404, "RESOURCE_DOES_NOT_EXIST");
  });

  it("answers bad requests with MLflow's error bodies", async () => {
    await fails("POST", `${API}/logged-models`, {}, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'experiment_id'");
    await fails("POST", `${API}/logged-models`, { experiment_id: "abc" }, 400, "INVALID_PARAMETER_VALUE", "Invalid experiment ID 'abc'");
    await fails("POST", `${API}/logged-models`, { experiment_id: "424242" }, 404, "RESOURCE_DOES_NOT_EXIST");
    await fails("POST", `${API}/logged-models`, { experiment_id: experimentId, name: "a/b" }, 400, "INVALID_PARAMETER_VALUE", "Invalid model name");
    await fails("POST", `${API}/logged-models`, { experiment_id: experimentId, params: [{ value: "1" }] }, 400, "INVALID_PARAMETER_VALUE", "'params[0].key'");
    await fails("GET", `${API}/logged-models/${UNKNOWN_ID}`, undefined, 404, "RESOURCE_DOES_NOT_EXIST", loggedModelNotFound(UNKNOWN_ID).message);
    await fails("GET", `${API}/logged-models/not-a-model`, undefined, 404, "RESOURCE_DOES_NOT_EXIST", loggedModelNotFound("not-a-model").message);
    await fails("PATCH", `${API}/logged-models/${UNKNOWN_ID}/tags`, { tags: [{ key: "k", value: "v" }] }, 404, "RESOURCE_DOES_NOT_EXIST");
    await fails("POST", `${API}/runs/outputs`, { models: [] }, 400, "INVALID_PARAMETER_VALUE", "'run_id'");
  });

  it("runs/outputs links models to the run; runs/get shows outputs.model_outputs", async () => {
    const runId = await createRun();
    const id = (await createModel({ source_run_id: runId })).info.model_id as string;
    expect(await ok("POST", `${API}/runs/outputs`, { run_id: runId, models: [{ model_id: id, step: 0 }] })).toEqual({});
    expect(await ok("POST", `/ajax-api/2.0/mlflow/runs/outputs`, { run_id: runId, models: [{ model_id: id, step: "7" }] })).toEqual({});
    const run = (await ok("GET", `${API}/runs/get?run_id=${runId}`)).run;
    expect(
      (run.outputs.model_outputs as { model_id: string; step: number }[]).sort((a, b) => a.step - b.step),
    ).toEqual([
      { model_id: id, step: 0 },
      { model_id: id, step: 7 },
    ]);
    await fails("POST", `${API}/runs/outputs`, { run_id: runId, models: [{ step: 1 }] }, 400, "INVALID_PARAMETER_VALUE", "'models[0].model_id'");
  });

  it("shows metrics logged with model_id on the model, each with its run", async () => {
    const runId = await createRun();
    const id = (await createModel()).info.model_id as string;
    await ok("POST", `${API}/runs/log-batch`, {
      run_id: runId,
      metrics: [
        { key: "rmse", value: 0.25, timestamp: 1000, step: 2, model_id: id, dataset_name: "eval", dataset_digest: "d1" },
        { key: "rmse", value: "NaN", timestamp: 1001, step: 3, model_id: id },
        { key: "other", value: 1, timestamp: 1000, step: 0 },
      ],
    });
    const metrics = (await ok("GET", `${API}/logged-models/${id}`)).model.data.metrics as { step: number }[];
    expect(metrics.sort((a, b) => a.step - b.step)).toEqual([
      { key: "rmse", value: 0.25, timestamp: 1000, step: 2, run_id: runId, model_id: id, dataset_name: "eval", dataset_digest: "d1" },
      { key: "rmse", value: "NaN", timestamp: 1001, step: 3, run_id: runId, model_id: id },
    ]);
  });

  it("lists a model's artifacts uploaded through the proxy, relative to its root", async () => {
    const model = (await createModel()).info;
    const root = proxied(model.artifact_uri);
    for (const path of ["MLmodel", "model.pkl", "code/train.py", "code/lib/util.py"]) {
      expect((await put(`${root}/${path}`, Buffer.from(`#${path}`))).status).toBe(200);
    }
    const listing = `${API}/logged-models/${model.model_id}/artifacts/directories`;
    expect(await ok("GET", listing)).toEqual({
      root_uri: model.artifact_uri,
      files: [
        { path: "MLmodel", is_dir: false, file_size: 8 },
        { path: "code", is_dir: true },
        { path: "model.pkl", is_dir: false, file_size: 10 },
      ],
    });
    expect(await ok("GET", `${listing}?artifact_directory_path=code`)).toEqual({
      root_uri: model.artifact_uri,
      files: [
        { path: "code/lib", is_dir: true },
        { path: "code/train.py", is_dir: false, file_size: 14 },
      ],
    });
    expect((await ok("GET", `/ajax-api/2.0/mlflow/logged-models/${model.model_id}/artifacts/directories?artifact_directory_path=code/lib`)).files).toEqual([
      { path: "code/lib/util.py", is_dir: false, file_size: 17 },
    ]);
    expect((await ok("GET", `${listing}?artifact_directory_path=nothing`)).files).toBeUndefined();
    for (const evil of ["..", "../..", "code/../../x", "%2e%2e", "/etc"]) {
      const res = await call("GET", `${listing}?artifact_directory_path=${encodeURIComponent(evil)}`);
      expect(res.status, evil).toBe(400);
      expect(res.json, evil).toEqual({ error_code: "INVALID_PARAMETER_VALUE", message: "Invalid path" });
    }
    await fails("GET", `${API}/logged-models/${UNKNOWN_ID}/artifacts/directories`, undefined, 404, "RESOURCE_DOES_NOT_EXIST");
  });

  it("serves a model's file to the UI at /ajax-api/…/logged-models/<id>/artifacts/files", async () => {
    const model = (await createModel()).info;
    const data = Buffer.from(JSON.stringify({ flavor: "sklearn" }));
    expect((await put(`${proxied(model.artifact_uri)}/meta/info.json`, data)).status).toBe(200);
    const files = `/ajax-api/2.0/mlflow/logged-models/${model.model_id}/artifacts/files`;
    const res = await rawRequest(lb.httpUrl, "GET", `${files}?artifact_file_path=meta/info.json`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.headers["content-disposition"]).toContain('filename="info.json"');
    expect(sha256(res.body)).toBe(sha256(data));
    await fails("GET", files, undefined, 400, "BAD_REQUEST", 'Request must include the "artifact_file_path" query parameter.');
    for (const evil of ["..", "../x", "meta/../../x", "/etc/passwd"]) {
      const bad = await call("GET", `${files}?artifact_file_path=${encodeURIComponent(evil)}`);
      expect(bad.status, evil).toBe(400);
      expect(bad.json, evil).toEqual({ error_code: "INVALID_PARAMETER_VALUE", message: "Invalid path" });
    }
    await fails("GET", `${files}?artifact_file_path=meta/none.json`, undefined, 404, "RESOURCE_DOES_NOT_EXIST");
    await fails("GET", `/ajax-api/2.0/mlflow/logged-models/${UNKNOWN_ID}/artifacts/files?artifact_file_path=a`, undefined, 404, "RESOURCE_DOES_NOT_EXIST");
  });

  it("serves a model version's files at /model-versions/get-artifact for each kind of source", async () => {
    const name = `served-${kind}`;
    await ok("POST", `${API}/registered-models/create`, { name });

    // 1: made from a logged model (the MLflow 3 client's way): the files are the logged model's.
    const model = (await createModel()).info;
    const mlmodel = Buffer.from("artifact_path: model\nflavors: {}\n");
    await put(`${proxied(model.artifact_uri)}/MLmodel`, mlmodel);
    await put(`${proxied(model.artifact_uri)}/data/weights.json`, Buffer.from('{"w":[1,2]}'));
    const v1 = (await ok("POST", `${API}/model-versions/create`, { name, source: `models:/${model.model_id}`, model_id: model.model_id })).model_version;
    expect(v1.version).toBe("1");

    // 2: a runs:/ source; 3: the run's proxied artifact URI.
    const runId = await createRun();
    const runRoot = `${experimentId}/${runId}/artifacts`;
    await put(`${runRoot}/model/MLmodel`, Buffer.from("from-run"));
    await put(`${runRoot}/other/MLmodel`, Buffer.from("from-proxied-uri"));
    await ok("POST", `${API}/model-versions/create`, { name, source: `runs:/${runId}/model`, run_id: runId });
    await ok("POST", `${API}/model-versions/create`, { name, source: `mlflow-artifacts:/${runRoot}/other`, run_id: runId });

    const get = (query: string) => rawRequest(lb.httpUrl, "GET", `/model-versions/get-artifact?${query}`);
    const res = await get(`name=${name}&version=1&path=MLmodel`);
    expect(res.status).toBe(200);
    expect(sha256(res.body)).toBe(sha256(mlmodel));
    expect(res.headers["content-disposition"]).toContain('filename="MLmodel"');
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["content-type"]).toBe("text/plain; charset=utf-8"); // MLmodel is text, as MLflow serves it
    const nested = await get(`name=${name}&version=1&path=${encodeURIComponent("data/weights.json")}`);
    expect(nested.headers["content-type"]).toBe("application/json");
    expect(nested.body.toString()).toBe('{"w":[1,2]}');
    expect((await get(`name=${name}&version=2&path=MLmodel`)).body.toString()).toBe("from-run");
    expect((await get(`name=${name}&version=3&path=MLmodel`)).body.toString()).toBe("from-proxied-uri");

    const expectError = async (query: string, status: number, errorCode: string, message?: string) => {
      const r = await get(query);
      expect(r.status, query).toBe(status);
      const body = JSON.parse(r.body.toString());
      expect(body.error_code, query).toBe(errorCode);
      if (message) expect(body.message, query).toContain(message);
    };
    await expectError(`name=${name}&version=1&path=missing.txt`, 404, "RESOURCE_DOES_NOT_EXIST");
    await expectError(`name=${name}&version=9&path=MLmodel`, 404, "RESOURCE_DOES_NOT_EXIST", `Model Version (name=${name}, version=9) not found`);
    await expectError(`name=nobody&version=1&path=MLmodel`, 404, "RESOURCE_DOES_NOT_EXIST", "name=nobody");
    await expectError(`name=${name}&version=one&path=MLmodel`, 400, "INVALID_PARAMETER_VALUE", "Model version must be an integer");
    await expectError(`version=1&path=MLmodel`, 400, "INVALID_PARAMETER_VALUE", "'name'");
    for (const evil of ["../MLmodel", "data/../../x", "%2e%2e/x", "/etc/passwd", ""]) {
      await expectError(`name=${name}&version=1&path=${encodeURIComponent(evil)}`, 400, "INVALID_PARAMETER_VALUE", "Invalid path");
    }
    await expectError(`name=${name}&version=1`, 400, "INVALID_PARAMETER_VALUE", "Invalid path");
    // MLflow serves no /ajax-api twin of this route.
    expect((await rawRequest(lb.httpUrl, "GET", `/ajax-api/2.0/mlflow/model-versions/get-artifact?name=${name}&version=1&path=MLmodel`)).status).toBe(404);
  });

  it("counts registered models and model versions in /mlflow/status", async () => {
    const counts = async () => (await ok("GET", "/mlflow/status")).counts as Record<string, number>;
    const before = await counts();
    const name = `counted-${kind}`;
    await ok("POST", `${API}/registered-models/create`, { name });
    const model = (await createModel()).info;
    await ok("POST", `${API}/model-versions/create`, { name, source: `models:/${model.model_id}`, model_id: model.model_id });
    await ok("POST", `${API}/model-versions/create`, { name, source: `models:/${model.model_id}`, model_id: model.model_id });
    const after = await counts();
    expect(after.registered_models).toBe((before.registered_models ?? 0) + 1);
    expect(after.model_versions).toBe((before.model_versions ?? 0) + 2);
    await ok("DELETE", `${API}/model-versions/delete`, { name, version: "1" });
    expect((await counts()).model_versions).toBe((before.model_versions ?? 0) + 1);
  });
});
