/**
 * The registry over HTTP on both stores, as the MLflow client and curl users see it: MLflow's REST paths and
 * methods (DELETE with JSON bodies, PATCH, GET with query strings), their /ajax-api twins, MLflow's JSON
 * (snake_case, versions as strings, int64 timestamps as numbers, stage names) and error bodies, and the service
 * endpoints GET /mlflow/models/{model_name} and POST /mlflow/models/promote.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";

interface Reply {
  status: number;
  body: Record<string, any>;
}

describe.each(STORE_KINDS)("registry over HTTP on %s", (kind) => {
  let lb: TestLogbook;
  let seq = 0;
  const fresh = (base: string) => `${base}-${++seq}`;

  async function call(method: string, path: string, body?: unknown): Promise<Reply> {
    const res = await fetch(`${lb.httpUrl}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }
  const post = (path: string, body: unknown) => call("POST", `/api/2.0/mlflow${path}`, body);
  const get = (path: string) => call("GET", `/api/2.0/mlflow${path}`);
  const ok = (reply: Reply) => {
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    return reply.body;
  };
  const createModel = async (name: string) => ok(await post("/registered-models/create", { name }));
  const createVersion = async (name: string, source = "s3://bucket/model") =>
    ok(await post("/model-versions/create", { name, source })).model_version as Record<string, any>;
  const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "registry_http" });
  });
  afterAll(async () => {
    await lb?.close();
  });

  it("creates and reads a registered model with MLflow's JSON", async () => {
    const name = fresh("json");
    const created = await post("/registered-models/create", {
      name,
      description: "daily forecasts",
      tags: [{ key: "team", value: "quant" }],
    });
    expect(created.status).toBe(200);
    const m = created.body.registered_model;
    expect(Object.keys(m).sort()).toEqual(["creation_timestamp", "description", "last_updated_timestamp", "name", "tags"]);
    expect(m).toMatchObject({ name, description: "daily forecasts", tags: [{ key: "team", value: "quant" }] });
    expect(typeof m.creation_timestamp).toBe("number");

    await createVersion(name);
    await post("/registered-models/alias", { name, alias: "champion", version: "1" });
    const read = ok(await get(`/registered-models/get?${q({ name })}`)).registered_model;
    expect(read.aliases).toEqual([{ alias: "champion", version: "1" }]);
    expect(read.latest_versions).toHaveLength(1);
    expect(read.latest_versions[0]).toMatchObject({ name, version: "1", current_stage: "None", status: "READY" });
  });

  it("creates a model version with MLflow's JSON: version as a string, timestamps as numbers", async () => {
    const name = fresh("mvjson");
    await createModel(name);
    const reply = await post("/model-versions/create", {
      name,
      source: "s3://bucket/model",
      run_link: "http://ci/build/7",
      description: "first cut",
      tags: [{ key: "k", value: "v" }],
    });
    const v = ok(reply).model_version;
    expect(v).toMatchObject({
      name,
      version: "1",
      current_stage: "None",
      source: "s3://bucket/model",
      run_id: "",
      run_link: "http://ci/build/7",
      description: "first cut",
      status: "READY",
      tags: [{ key: "k", value: "v" }],
    });
    expect(typeof v.creation_timestamp).toBe("number");
    expect(typeof v.last_updated_timestamp).toBe("number");
    expect(v).not.toHaveProperty("user_id");
    expect((await createVersion(name)).version).toBe("2");
    const byGet = ok(await get(`/model-versions/get?${q({ name, version: "2" })}`)).model_version;
    expect(byGet).toMatchObject({ name, version: "2" });
    expect(ok(await get(`/model-versions/get-download-uri?${q({ name, version: "1" })}`))).toEqual({ artifact_uri: "s3://bucket/model" });
  });

  it("maps errors to MLflow's bodies and statuses", async () => {
    const name = fresh("errors");
    await createModel(name);
    expect(await post("/registered-models/create", { name })).toEqual({
      status: 400,
      body: { error_code: "RESOURCE_ALREADY_EXISTS", message: `Registered Model (name=${name}) already exists.` },
    });
    expect(await get(`/registered-models/get?${q({ name: "never-created" })}`)).toEqual({
      status: 404,
      body: { error_code: "RESOURCE_DOES_NOT_EXIST", message: "Registered Model with name=never-created not found" },
    });
    expect(await get(`/model-versions/get?${q({ name, version: "1" })}`)).toEqual({
      status: 404,
      body: { error_code: "RESOURCE_DOES_NOT_EXIST", message: `Model Version (name=${name}, version=1) not found` },
    });
    expect(await get(`/model-versions/get?${q({ name, version: "latest" })}`)).toEqual({
      status: 400,
      body: { error_code: "INVALID_PARAMETER_VALUE", message: "Parameter 'version' must be an integer, got 'latest'." },
    });
    const relative = await post("/model-versions/create", { name, source: "mlflow-artifacts://h/..%2f..%2fetc" });
    expect(relative.status).toBe(400);
    expect(relative.body.message).toContain("an absolute path must be provided without relative path references present");
    const missing = await post("/model-versions/create", { name });
    expect(missing).toEqual({
      status: 400,
      body: {
        error_code: "INVALID_PARAMETER_VALUE",
        message: "Missing value for required parameter 'source'. See the API docs for more information about request parameters.",
      },
    });
  });

  it("serves DELETE with JSON bodies and PATCH", async () => {
    const name = fresh("verbs");
    await createModel(name);
    await createVersion(name);
    await createVersion(name);

    const patched = ok(await call("PATCH", "/api/2.0/mlflow/registered-models/update", { name, description: "patched" }));
    expect(patched.registered_model.description).toBe("patched");
    const mv = ok(await call("PATCH", "/api/2.0/mlflow/model-versions/update", { name, version: "1", description: "v1 text" }));
    expect(mv.model_version.description).toBe("v1 text");

    ok(await post("/registered-models/set-tag", { name, key: "a", value: "1" }));
    ok(await post("/model-versions/set-tag", { name, version: "1", key: "b", value: "2" }));
    ok(await call("DELETE", "/api/2.0/mlflow/registered-models/delete-tag", { name, key: "a" }));
    ok(await call("DELETE", "/api/2.0/mlflow/model-versions/delete-tag", { name, version: "1", key: "b" }));
    expect(ok(await get(`/registered-models/get?${q({ name })}`)).registered_model.tags).toBeUndefined();
    expect(ok(await get(`/model-versions/get?${q({ name, version: "1" })}`)).model_version.tags).toBeUndefined();

    ok(await call("DELETE", "/api/2.0/mlflow/model-versions/delete", { name, version: "2" }));
    expect((await get(`/model-versions/get?${q({ name, version: "2" })}`)).status).toBe(404);
    ok(await call("DELETE", "/api/2.0/mlflow/registered-models/delete", { name }));
    expect((await get(`/registered-models/get?${q({ name })}`)).status).toBe(404);
    expect((await call("DELETE", "/api/2.0/mlflow/registered-models/delete", { name })).status).toBe(404);
  });

  it("renames, lists latest versions by POST and by GET with repeated stages, and transitions stages", async () => {
    const name = fresh("stages");
    await createModel(name);
    for (let i = 0; i < 3; i++) await createVersion(name);
    // MLflow's client sends booleans as JSON booleans; curl users may send strings.
    ok(await post("/model-versions/transition-stage", { name, version: "1", stage: "staging", archive_existing_versions: false }));
    ok(await post("/model-versions/transition-stage", { name, version: "2", stage: "Production", archive_existing_versions: "false" }));
    const moved = ok(await post("/model-versions/transition-stage", { name, version: "3", stage: "production", archive_existing_versions: "true" }));
    expect(moved.model_version).toMatchObject({ version: "3", current_stage: "Production" });

    const renamed = fresh("renamed");
    expect(ok(await post("/registered-models/rename", { name, new_name: renamed })).registered_model.name).toBe(renamed);

    const byPost = ok(await post("/registered-models/get-latest-versions", { name: renamed, stages: ["Production", "staging"] }));
    expect(byPost.model_versions.map((v: any) => [v.current_stage, v.version])).toEqual([["Staging", "1"], ["Production", "3"]]);
    const byGet = ok(await get(`/registered-models/get-latest-versions?name=${renamed}&stages=Archived&stages=Production`));
    expect(byGet.model_versions.map((v: any) => [v.current_stage, v.version])).toEqual([["Production", "3"], ["Archived", "2"]]);

    const bad = await post("/model-versions/transition-stage", { name: renamed, version: "1", stage: "gold", archive_existing_versions: false });
    expect(bad).toEqual({
      status: 400,
      body: { error_code: "INVALID_PARAMETER_VALUE", message: "Invalid Model Version stage: gold. Value must be one of None, Staging, Production, Archived." },
    });
  });

  it("sets, reads (GET ?name&alias) and deletes (DELETE with a body) aliases on one path", async () => {
    const name = fresh("alias");
    await createModel(name);
    await createVersion(name);
    ok(await post("/registered-models/alias", { name, alias: "champion", version: "1" }));
    const read = ok(await get(`/registered-models/alias?${q({ name, alias: "champion" })}`));
    expect(read.model_version).toMatchObject({ name, version: "1", aliases: ["champion"] });
    ok(await call("DELETE", "/api/2.0/mlflow/registered-models/alias", { name, alias: "champion" }));
    expect(await get(`/registered-models/alias?${q({ name, alias: "champion" })}`)).toEqual({
      status: 400,
      body: { error_code: "INVALID_PARAMETER_VALUE", message: "Registered model alias champion not found." },
    });
    const reserved = await post("/registered-models/alias", { name, alias: "latest", version: "1" });
    expect(reserved).toEqual({
      status: 400,
      body: { error_code: "INVALID_PARAMETER_VALUE", message: "'latest' alias name (case insensitive) is reserved." },
    });
  });

  it("serves every binding under /ajax-api too", async () => {
    const name = fresh("ajax");
    const created = await call("POST", "/ajax-api/2.0/mlflow/registered-models/create", { name });
    expect(created.status).toBe(200);
    ok(await call("POST", "/ajax-api/2.0/mlflow/model-versions/create", { name, source: "s3://b/m" }));
    expect(ok(await call("GET", `/ajax-api/2.0/mlflow/model-versions/get?${q({ name, version: "1" })}`)).model_version.version).toBe("1");
    ok(await call("PATCH", "/ajax-api/2.0/mlflow/registered-models/update", { name, description: "d" }));
    ok(await call("DELETE", "/ajax-api/2.0/mlflow/registered-models/delete", { name }));
    expect((await call("GET", `/ajax-api/2.0/mlflow/registered-models/get?${q({ name })}`)).status).toBe(404);
  });

  it("GET /mlflow/models/{model_name} answers the model and every version, newest first", async () => {
    const name = fresh("details model");
    await createModel(name);
    for (let i = 0; i < 3; i++) await createVersion(name);
    await post("/registered-models/alias", { name, alias: "prod", version: "2" });
    const details = ok(await call("GET", `/mlflow/models/${encodeURIComponent(name)}`));
    expect(details.registered_model).toMatchObject({ name, aliases: [{ alias: "prod", version: "2" }] });
    expect(details.model_versions.map((v: any) => v.version)).toEqual(["3", "2", "1"]);
    expect(details.model_versions[1]).toMatchObject({ aliases: ["prod"], current_stage: "None" });
    expect(typeof details.model_versions[0].creation_timestamp).toBe("number");

    expect(await call("GET", "/mlflow/models/never-created")).toEqual({
      status: 404,
      body: { error_code: "RESOURCE_DOES_NOT_EXIST", message: "Registered Model with name=never-created not found" },
    });
    // A "/" in the path parameter travels as %2F and reaches the service decoded (MLflow 3 refuses "/" in new
    // names, so such a model is never found).
    expect(await call("GET", "/mlflow/models/team%2Fforecaster")).toEqual({
      status: 404,
      body: { error_code: "RESOURCE_DOES_NOT_EXIST", message: "Registered Model with name=team/forecaster not found" },
    });
  });

  it("POST /mlflow/models/promote moves a version; archive_existing_versions defaults to false", async () => {
    const name = fresh("promote");
    await createModel(name);
    for (let i = 0; i < 3; i++) await createVersion(name);
    const first = ok(await call("POST", "/mlflow/models/promote", { name, version: "1", stage: "production" }));
    expect(first.model_version).toMatchObject({ name, version: "1", current_stage: "Production" });
    ok(await call("POST", "/mlflow/models/promote", { name, version: "2", stage: "PRODUCTION" }));
    const stages = async () =>
      (ok(await call("GET", `/mlflow/models/${name}`)).model_versions as any[]).map((v) => [v.version, v.current_stage]);
    expect(await stages()).toEqual([["3", "None"], ["2", "Production"], ["1", "Production"]]);
    ok(await call("POST", "/mlflow/models/promote", { name, version: "3", stage: "Production", archive_existing_versions: true }));
    expect(await stages()).toEqual([["3", "Production"], ["2", "Archived"], ["1", "Archived"]]);

    expect(await call("POST", "/mlflow/models/promote", { name, version: "1", stage: "Live" })).toEqual({
      status: 400,
      body: { error_code: "INVALID_PARAMETER_VALUE", message: "Invalid Model Version stage: Live. Value must be one of None, Staging, Production, Archived." },
    });
    expect((await call("POST", "/mlflow/models/promote", { name, version: "9", stage: "Staging" })).status).toBe(404);
    expect((await call("POST", "/mlflow/models/promote", { name: "never-created", version: "1", stage: "Staging" })).status).toBe(404);
  });
});
