/**
 * SearchService's registry and logged-model searches against a real server on both stores: SearchRegisteredModels
 * (gRPC, MLflow's registered-models/search, the analysis service's GET /mlflow/models), SearchModelVersions and
 * SearchLoggedModels — filters, orders, pages and MLflow's errors — and the model versions on leaderboard entries
 * (gRPC and NDJSON), read in one store call per batch of entries.
 */
import { type ClientReadableStream, credentials, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LeaderboardResponse, SearchServiceClient, SearchServiceService } from "../../gen/ts/logbook/v1/search_service.js";
import type { Store } from "../../src/store/types.js";
import { expectGrpcError, promiseClient } from "../harness/grpc.js";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";

const INVALID = { grpcCode: status.INVALID_ARGUMENT, mlflowCode: "INVALID_PARAMETER_VALUE" };
const hex = (n: number) => n.toString(16).padStart(32, "0");

function collect<T>(call: ClientReadableStream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const items: T[] = [];
    call.on("data", (x: T) => items.push(x));
    call.on("error", reject);
    call.on("end", () => resolve(items));
  });
}

/** Seed data on the store the server uses (what these tests read, not what they test). */
async function seed(store: Store) {
  const experimentId = await store.createExperiment({ name: "registry-search", tags: [], now: 1 });
  const runs: Record<string, string> = {};
  for (const [i, [name, sharpe]] of ([["r1", 2], ["r2", 3], ["r3", 1]] as const).entries()) {
    const runId = hex(i + 1);
    runs[name] = runId;
    await store.createRun({ runId, experimentId, userId: "u", runName: name, startTime: 1000 + i, tags: [] });
    await store.logBatch(runId, {
      metrics: [{ key: "sharpe", value: sharpe, timestamp: 1, step: 0 }],
      params: [{ key: "symbol", value: "AAPL" }],
      tags: [],
    });
  }
  const names = ["RM1", "RM2", "RM3", "RM4A", "RM4ab"];
  for (const [i, name] of names.entries()) {
    await store.createRegisteredModel({ name, description: "", userId: "u", tags: i === 0 ? [{ key: "team", value: "quant" }] : [], now: 100 + i });
  }
  await store.createRegisteredModel({ name: "a-prompt", description: "", userId: "u", tags: [{ key: "mlflow.prompt.is_prompt", value: "true" }], now: 99 });
  const version = (name: string, runId: string, source: string, now: number, tags: { key: string; value: string }[] = []) =>
    store.createModelVersion({ name, source, runId, runLink: "", description: "", userId: "u", tags, now });
  await version("RM1", runs.r1!, "runs:/r1/model", 200);
  await version("RM1", runs.r2!, "runs:/r2/model", 201, [{ key: "flavor", value: "sklearn" }]);
  await version("RM2", runs.r2!, "runs:/r2/other", 202);
  await version("RM3", "", "s3://bucket/m", 203);
  await store.transitionModelVersionStage("RM1", 2, "Production", false, 300);
  await store.setRegisteredModelAlias("RM1", "champion", 2, 301);

  const loggedModel = async (n: number, name: string, now: number, fields: { modelType?: string; runId?: string } = {}) =>
    (
      await store.createLoggedModel({
        modelId: `m-${hex(n)}`,
        experimentId,
        name,
        ...(fields.modelType ? { modelType: fields.modelType } : {}),
        ...(fields.runId ? { sourceRunId: fields.runId } : {}),
        params: [{ key: "lr", value: String(n / 100) }],
        tags: [],
        now,
      })
    ).modelId;
  const lm1 = await loggedModel(1, "alpha", 10, { modelType: "sklearn", runId: runs.r1 });
  const lm2 = await loggedModel(2, "beta", 20, { runId: runs.r2 });
  const lm3 = await loggedModel(3, "gamma", 30);
  await store.logBatch(runs.r1!, {
    metrics: [
      { key: "acc", value: 0.9, timestamp: 5, step: 0, modelId: lm1, datasetName: "train", datasetDigest: "d1" },
      { key: "acc", value: 0.7, timestamp: 6, step: 1, modelId: lm1, datasetName: "test", datasetDigest: "d2" },
    ],
    params: [],
    tags: [],
  });
  await store.logBatch(runs.r2!, { metrics: [{ key: "acc", value: 0.8, timestamp: 5, step: 0, modelId: lm2, datasetName: "test", datasetDigest: "d2" }], params: [], tags: [] });
  return { experimentId, runs, loggedModels: [lm1, lm2, lm3] };
}

describe.each(STORE_KINDS)("registry and logged-model searches on %s", (kind) => {
  let lb: TestLogbook;
  let search: ReturnType<typeof promiseClient<typeof SearchServiceService>>;
  let data: Awaited<ReturnType<typeof seed>>;
  let url: string;
  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const q = (params: Record<string, string | number>) => new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "registry-search" });
    url = lb.httpUrl;
    search = promiseClient(SearchServiceService, lb.address);
    data = await seed(lb.logbook.store);
  });
  afterAll(async () => {
    search?.close();
    await lb?.close();
  });

  describe("SearchRegisteredModels", () => {
    const searchModels = (req: { filter?: string; orderBy?: string[]; maxResults?: bigint; pageToken?: string }) =>
      search.searchRegisteredModels({ filter: "", orderBy: [], pageToken: "", ...req });

    it("filters on name and tags, leaves prompts out, orders by name by default", async () => {
      const names = async (filter: string, orderBy: string[] = []) => (await searchModels({ filter, orderBy })).registeredModels.map((m) => m.name);
      expect(await names("")).toEqual(["RM1", "RM2", "RM3", "RM4A", "RM4ab"]);
      expect(await names("name LIKE 'RM4%'")).toEqual(["RM4A", "RM4ab"]);
      expect(await names("name ILIKE '%rm4a%'")).toEqual(["RM4A", "RM4ab"]);
      expect(await names("tags.team = 'quant'")).toEqual(["RM1"]);
      expect(await names("tags.`mlflow.prompt.is_prompt` = 'true'")).toEqual(["a-prompt"]);
      // Versions (timestamps 200–203) and RM1's stage move and alias (300–301) came after the models were created.
      expect(await names("", ["last_updated_timestamp DESC"])).toEqual(["RM1", "RM3", "RM2", "RM4ab", "RM4A"]);
      expect(await names("", ["name DESC"])).toEqual(["RM4ab", "RM4A", "RM3", "RM2", "RM1"]);
      expect(await names("name != 'x''); DROP TABLE registered_models; --'")).toHaveLength(5);
    });

    it("returns whole models and pages with opaque tokens", async () => {
      const [rm1] = (await searchModels({ filter: "name = 'RM1'" })).registeredModels;
      expect(rm1).toMatchObject({
        name: "RM1",
        creationTimestamp: 100n,
        tags: [{ key: "team", value: "quant" }],
        aliases: [{ alias: "champion", version: "2" }],
        latestVersions: [expect.objectContaining({ version: "1", currentStage: "None" }), expect.objectContaining({ version: "2", currentStage: "Production" })],
      });
      const seen: string[] = [];
      let pageToken = "";
      do {
        const page = await searchModels({ maxResults: 2n, pageToken, orderBy: ["name DESC"] });
        expect(page.registeredModels.length).toBeLessThanOrEqual(2);
        seen.push(...page.registeredModels.map((m) => m.name));
        pageToken = page.nextPageToken;
      } while (pageToken);
      expect(seen).toEqual(["RM4ab", "RM4A", "RM3", "RM2", "RM1"]);
      // A token continues only the search it came from.
      const { nextPageToken } = await searchModels({ maxResults: 2n, orderBy: ["name DESC"] });
      for (const other of [{ orderBy: ["name ASC"] }, { orderBy: ["name DESC"], filter: "name LIKE 'RM%'" }]) {
        await expectGrpcError(searchModels({ maxResults: 2n, pageToken: nextPageToken, ...other }), { ...INVALID, message: "Invalid page token" });
      }
    });

    it("rejects bad filters, orders, sizes and tokens with MLflow's messages", async () => {
      await expectGrpcError(searchModels({ filter: "run_id = 'x'" }), { ...INVALID, message: "Invalid attribute key 'run_id' specified. Valid keys are '{'name'}'" });
      await expectGrpcError(searchModels({ orderBy: ["description"] }), { ...INVALID, message: "Invalid order by key 'description' specified." });
      await expectGrpcError(searchModels({ maxResults: 1001n }), { ...INVALID, message: "Invalid value 1001 for parameter 'max_results' supplied" });
      await expectGrpcError(searchModels({ pageToken: "evilhax" }), { ...INVALID, message: "Invalid page token" });
    });

    it("serves GET /mlflow/models and MLflow's registered-models/search over HTTP", async () => {
      const first = await get(`/mlflow/models?${q({ filter: "name LIKE 'RM%'", max_results: 3 })}`);
      expect(first.status).toBe(200);
      expect(first.body.registered_models.map((m: { name: string }) => m.name)).toEqual(["RM1", "RM2", "RM3"]);
      expect(first.body.registered_models[0]).toMatchObject({
        name: "RM1",
        creation_timestamp: 100,
        aliases: [{ alias: "champion", version: "2" }],
        latest_versions: [{ version: "1", current_stage: "None" }, { version: "2", current_stage: "Production" }],
      });
      const second = await get(`/mlflow/models?${q({ filter: "name LIKE 'RM%'", max_results: 3, page_token: first.body.next_page_token })}`);
      expect(second.body.registered_models.map((m: { name: string }) => m.name)).toEqual(["RM4A", "RM4ab"]);
      expect(second.body.next_page_token).toBeUndefined();
      const mlflow = await get(`/api/2.0/mlflow/registered-models/search?${q({ filter: "tags.team = 'quant'" })}`);
      expect(mlflow.body.registered_models.map((m: { name: string }) => m.name)).toEqual(["RM1"]);
      expect(await get(`/ajax-api/2.0/mlflow/registered-models/search?${q({ filter: "name = 'nope'" })}`)).toEqual({ status: 200, body: {} });
      expect(await get(`/mlflow/models?${q({ filter: "name = 'a' OR name = 'b'" })}`)).toEqual({
        status: 400,
        body: { error_code: "INVALID_PARAMETER_VALUE", message: "Invalid clause(s) in filter string: OR" },
      });
    });
  });

  describe("SearchModelVersions", () => {
    const searchVersions = (req: { filter?: string; orderBy?: string[]; maxResults?: bigint; pageToken?: string }) =>
      search.searchModelVersions({ filter: "", orderBy: [], pageToken: "", ...req });
    const ids = async (filter: string, orderBy: string[] = []) => (await searchVersions({ filter, orderBy })).modelVersions.map((v) => `${v.name}/${v.version}`);

    it("filters on name, run_id (IN), source_path, version_number and tags", async () => {
      const { r1, r2 } = data.runs;
      expect(await ids("")).toEqual(["RM1/2", "RM3/1", "RM2/1", "RM1/1"]); // last_updated_timestamp DESC
      expect(await ids("name = 'RM1'")).toEqual(["RM1/2", "RM1/1"]);
      expect(await ids(`run_id = '${r2}'`, ["name ASC"])).toEqual(["RM1/2", "RM2/1"]);
      expect(await ids(`run_id IN ('${r1}', '${r2}') and name = 'RM1'`, ["version_number ASC"])).toEqual(["RM1/1", "RM1/2"]);
      expect(await ids(`name = 'RM1' and name = 'RM2'`)).toEqual([]);
      expect(await ids("source_path LIKE 'runs:/r2/%'", ["name"])).toEqual(["RM1/2", "RM2/1"]);
      expect(await ids("version_number > 1")).toEqual(["RM1/2"]);
      expect(await ids("tags.flavor = 'sklearn'")).toEqual(["RM1/2"]);
      expect(await ids("run_id != 'nope'", ["name"])).toEqual(["RM1/2", "RM1/1", "RM2/1"]); // RM3/1 has no run
    });

    it("returns whole versions with aliases and stages, paged", async () => {
      const page = await searchVersions({ filter: "name = 'RM1'", maxResults: 1n });
      expect(page.modelVersions).toEqual([
        expect.objectContaining({ name: "RM1", version: "2", currentStage: "Production", aliases: ["champion"], runId: data.runs.r2, source: "runs:/r2/model" }),
      ]);
      const next = await searchVersions({ filter: "name = 'RM1'", maxResults: 1n, pageToken: page.nextPageToken });
      expect(next.modelVersions.map((v) => v.version)).toEqual(["1"]);
      expect(next.nextPageToken).toBe("");
    });

    it("answers over HTTP with MLflow's errors", async () => {
      const ok = await get(`/api/2.0/mlflow/model-versions/search?${q({ filter: "name = 'RM2'" })}`);
      expect(ok.body.model_versions).toEqual([expect.objectContaining({ name: "RM2", version: "1", current_stage: "None", run_id: data.runs.r2 })]);
      expect(await get(`/api/2.0/mlflow/model-versions/search?${q({ filter: "run_id IN (1,2)" })}`)).toEqual({
        status: 400,
        body: {
          error_code: "INVALID_PARAMETER_VALUE",
          message: "While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: (1,2)",
        },
      });
      expect((await get(`/api/2.0/mlflow/model-versions/search?${q({ max_results: 200001 })}`)).status).toBe(400);
    });
  });

  describe("SearchLoggedModels", () => {
    const body = (extra: Record<string, unknown>) => ({ experiment_ids: [data.experimentId], ...extra });
    const modelIds = (res: { body: Record<string, any> }) => ((res.body.models ?? []) as { info: { model_id: string } }[]).map((m) => m.info.model_id);

    it("filters on attributes, params and metrics (on datasets) over HTTP", async () => {
      const [lm1, lm2, lm3] = data.loggedModels;
      expect(modelIds(await post("/api/2.0/mlflow/logged-models/search", body({})))).toEqual([lm3, lm2, lm1]);
      expect(modelIds(await post("/api/2.0/mlflow/logged-models/search", body({ filter: "name = 'beta'" })))).toEqual([lm2]);
      expect(modelIds(await post("/api/2.0/mlflow/logged-models/search", body({ filter: "model_type = 'sklearn'" })))).toEqual([lm1]);
      expect(modelIds(await post("/api/2.0/mlflow/logged-models/search", body({ filter: "params.lr = '0.03'" })))).toEqual([lm3]);
      expect(modelIds(await post("/api/2.0/mlflow/logged-models/search", body({ filter: "metrics.acc >= 0.8" })))).toEqual([lm2, lm1]);
      const onTest = body({ filter: "metrics.acc >= 0.8", datasets: [{ dataset_name: "test" }] });
      expect(modelIds(await post("/api/2.0/mlflow/logged-models/search", onTest))).toEqual([lm2]);
      expect(modelIds(await post("/api/2.0/mlflow/logged-models/search", body({ datasets: [{ dataset_name: "train", dataset_digest: "d1" }] })))).toEqual([lm1]);
      expect(await post("/api/2.0/mlflow/logged-models/search", { experiment_ids: [] })).toEqual({
        status: 400,
        body: {
          error_code: "INVALID_PARAMETER_VALUE",
          message: "Missing value for required parameter 'experiment_ids'. See the API docs for more information about request parameters.",
        },
      });
    });

    it("orders by metrics and attributes and pages with tokens tied to the search", async () => {
      const [lm1, lm2, lm3] = data.loggedModels;
      const byAcc = body({ order_by: [{ field_name: "metrics.acc", ascending: false }] });
      expect(modelIds(await post("/api/2.0/mlflow/logged-models/search", byAcc))).toEqual([lm2, lm1, lm3]); // lm1's latest is 0.7
      const byTrainAcc = body({ order_by: [{ field_name: "metrics.acc", ascending: false, dataset_name: "train" }] });
      expect(modelIds(await post("/api/2.0/mlflow/logged-models/search", byTrainAcc))).toEqual([lm1, lm3, lm2]);
      const first = await post("/api/2.0/mlflow/logged-models/search", body({ order_by: [{ field_name: "name" }], max_results: 2 }));
      expect(modelIds(first)).toEqual([lm1, lm2]);
      const second = await post("/api/2.0/mlflow/logged-models/search", body({ order_by: [{ field_name: "name" }], max_results: 2, page_token: first.body.next_page_token }));
      expect(modelIds(second)).toEqual([lm3]);
      expect(second.body.next_page_token).toBeUndefined();
      const other = await post("/api/2.0/mlflow/logged-models/search", body({ max_results: 2, page_token: first.body.next_page_token }));
      expect(other.status).toBe(400);
      expect(other.body.message).toMatch(/^Order by in the page token does not match the requested order by/);
    });

    it("answers over gRPC, with MLflow's errors", async () => {
      const res = await search.searchLoggedModels({ experimentIds: [data.experimentId], filter: "source_run_id = '" + data.runs.r1 + "'", datasets: [], orderBy: [], pageToken: "" });
      expect(res.models).toHaveLength(1);
      expect(res.models[0]!.info).toMatchObject({ modelId: data.loggedModels[0], name: "alpha", modelType: "sklearn" });
      expect(res.models[0]!.data!.metrics.map((m) => m.value)).toEqual([0.9, 0.7]);
      const call = (req: Record<string, unknown>) =>
        search.searchLoggedModels({ experimentIds: [data.experimentId], filter: "", datasets: [], orderBy: [], pageToken: "", ...req });
      await expectGrpcError(call({ filter: "artifact_location = 'x'" }), { ...INVALID, message: "Invalid attribute key 'artifact_location' specified." });
      await expectGrpcError(call({ orderBy: [{ fieldName: "params.lr" }] }), { ...INVALID, message: "Invalid order by field name: params.lr. Only metrics are supported." });
      await expectGrpcError(call({ datasets: [{ datasetName: "" }] }), { ...INVALID, message: "`dataset_name` in the `datasets` clause must be specified." });
      await expectGrpcError(call({ maxResults: 50_001 }), { ...INVALID, message: "Invalid value 50001 for parameter 'max_results' supplied" });
      expect((await call({ maxResults: 0 })).models).toHaveLength(3);
    });
  });

  describe("Leaderboard model versions", () => {
    it("puts each entry's model versions on it over gRPC, from one store read per batch", async () => {
      const store = lb.logbook.store;
      const original = store.modelVersionsOfRuns.bind(store);
      const calls: string[][] = [];
      store.modelVersionsOfRuns = (runIds) => {
        calls.push(runIds);
        return original(runIds);
      };
      const client = new SearchServiceClient(lb.address, credentials.createInsecure());
      try {
        const entries: LeaderboardResponse[] = await collect(client.leaderboard({ symbol: "AAPL", metric: "sharpe", limit: 10, ascending: false, experimentIds: [], filter: "" }));
        expect(entries.map((e) => [e.runName, e.modelVersions])).toEqual([
          ["r2", [{ name: "RM1", version: "2", currentStage: "Production", aliases: ["champion"] }, { name: "RM2", version: "1", currentStage: "None", aliases: [] }]],
          ["r1", [{ name: "RM1", version: "1", currentStage: "None", aliases: [] }]],
          ["r3", []],
        ]);
        expect(calls).toHaveLength(1);
        expect([...calls[0]!].sort()).toEqual([data.runs.r1, data.runs.r2, data.runs.r3].sort());
      } finally {
        client.close();
        store.modelVersionsOfRuns = original;
      }
    });

    it("writes model_versions on each NDJSON line", async () => {
      const text = await (await fetch(`${url}/mlflow/leaderboard/AAPL?metric=sharpe&limit=2`)).text();
      const lines = text.trim().split("\n").map((l) => JSON.parse(l).result as Record<string, any>);
      expect(lines.map((l) => [l.run_name, l.model_versions])).toEqual([
        ["r2", [{ name: "RM1", version: "2", current_stage: "Production", aliases: ["champion"] }, { name: "RM2", version: "1", current_stage: "None" }]],
        ["r1", [{ name: "RM1", version: "1", current_stage: "None" }]],
      ]);
    });
  });
});
