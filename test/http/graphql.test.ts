/**
 * /graphql on a running server, both stores: MLflow's schema answered from the services (the same data as REST),
 * MLflow's envelope and shapes (camelCase, int64 as strings, protobuf defaults, enum names), its query limits, and
 * clear 400s for requests that are not one GraphQL operation. The same queries against a real MLflow server are
 * compared in test/compat/test_graphql.py.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";

const T0 = 1_767_225_600_000;

const RUN_FIELDS = `info { runId runUuid runName experimentId userId status startTime endTime artifactUri lifecycleStage }
  data { metrics { key value step timestamp runId modelId } params { key value } tags { key value } }
  inputs { datasetInputs { dataset { name digest sourceType source schema profile } tags { key value } } modelInputs { modelId } }
  outputs { modelOutputs { modelId step } }
  experiment { experimentId name artifactLocation lifecycleStage lastUpdateTime tags { key value } __typename }
  modelVersions { name version status source runId currentStage __typename }`;

describe.each(STORE_KINDS)("GraphQL on %s", (kind) => {
  let lb: TestLogbook;
  let url: string;
  let experimentId: string;
  const runs: string[] = [];

  const rest = async (path: string, body: unknown) => {
    const res = await fetch(`${url}/api/2.0/mlflow/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const json = (await res.json()) as Record<string, any>;
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const graphql = async (query: string, variables?: Record<string, unknown>, init: RequestInit = {}) => {
    const res = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query, variables }),
      ...init,
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "graphql" });
    url = lb.httpUrl;
    experimentId = (await rest("experiments/create", { name: "gql", tags: [{ key: "desk", value: "fx" }] })).experiment_id;
    for (let i = 0; i < 3; i++) {
      const run = (await rest("runs/create", { experiment_id: experimentId, run_name: `r${i}`, start_time: T0 + i })).run.info.run_id as string;
      runs.push(run);
      const metrics = Array.from({ length: 20 }, (_, step) => ({ key: "loss", value: 1 / (step + 1 + i), timestamp: T0 + step, step }));
      await rest("runs/log-batch", { run_id: run, metrics, params: [{ key: "lr", value: String(0.1 * (i + 1)) }], tags: [{ key: "team", value: "a" }] });
    }
    await rest("runs/log-batch", { run_id: runs[0], metrics: [{ key: "odd", value: "NaN", timestamp: T0, step: 0 }] });
    await rest("runs/update", { run_id: runs[1], status: "FINISHED", end_time: T0 + 99 });
    await rest("runs/log-inputs", {
      run_id: runs[0],
      datasets: [{ tags: [{ key: "mlflow.data.context", value: "training" }], dataset: { name: "prices", digest: "d1", source_type: "code", source: "{}" } }],
    });
    await rest("registered-models/create", { name: "gql-model" });
    await rest("model-versions/create", { name: "gql-model", source: `runs:/${runs[1]}/model`, run_id: runs[1] });
  });
  afterAll(async () => {
    await lb?.close();
  });

  it("GetRun: the run as MLflow's GraphQL shapes it, with its experiment and model versions", async () => {
    const { status, body } = await graphql(`query GetRun($data: MlflowGetRunInput!) { mlflowGetRun(input: $data) { apiError { code message } run { ${RUN_FIELDS} } } }`, {
      data: { runId: runs[1] },
    });
    expect(status).toBe(200);
    expect(body.errors).toBeNull();
    const { run, apiError } = body.data.mlflowGetRun;
    expect(apiError).toBeNull();
    expect(run.info).toMatchObject({ runId: runs[1], runUuid: runs[1], runName: "r1", experimentId, status: "FINISHED", startTime: String(T0 + 1), endTime: String(T0 + 99) });
    expect(run.data.params).toEqual([{ key: "lr", value: "0.2" }]);
    expect(run.data.metrics).toEqual([{ key: "loss", value: 1 / 21, step: "19", timestamp: String(T0 + 19), runId: "", modelId: "" }]);
    // Unset message fields are empty messages, unset lists empty: never null.
    expect(run.inputs).toEqual({ datasetInputs: [], modelInputs: [] });
    expect(run.outputs).toEqual({ modelOutputs: [] });
    expect(run.experiment).toMatchObject({ experimentId, name: "gql", lifecycleStage: "active", tags: [{ key: "desk", value: "fx" }], __typename: "MlflowExperiment" });
    expect(run.experiment.lastUpdateTime).toMatch(/^\d+$/);
    expect(run.modelVersions).toEqual([
      { name: "gql-model", version: "1", status: "READY", source: `runs:/${runs[1]}/model`, runId: runs[1], currentStage: "None", __typename: "MlflowModelVersion" },
    ]);
  });

  it("GetRun: a running run's unset end time is \"0\", a NaN metric null, dataset inputs whole", async () => {
    const { body } = await graphql(`query { mlflowGetRun(input: {runId: "${runs[0]}"}) { run { ${RUN_FIELDS} } } }`);
    expect(body.errors).toBeNull();
    const { run } = body.data.mlflowGetRun;
    expect(run.info).toMatchObject({ status: "RUNNING", endTime: "0" });
    expect(run.data.metrics.find((m: { key: string }) => m.key === "odd").value).toBeNull();
    expect(run.inputs.datasetInputs).toEqual([
      { dataset: { name: "prices", digest: "d1", sourceType: "code", source: "{}", schema: "", profile: "" }, tags: [{ key: "mlflow.data.context", value: "training" }] },
    ]);
    expect(run.modelVersions).toEqual([]);
  });

  it("answers an unknown run as MLflow does: the field null, the message in `errors`", async () => {
    const { status, body } = await graphql('query { mlflowGetRun(input: {runId: "0123456789abcdef0123456789abcdef"}) { apiError { code } run { info { runId } } } }');
    expect(status).toBe(200);
    expect(body).toEqual({ data: { mlflowGetRun: null }, errors: ["Run with id=0123456789abcdef0123456789abcdef not found"] });
  });

  it("SearchRuns (query and mutation): filter, order, page size and page token as REST's runs/search", async () => {
    const query = (op: string) =>
      `${op} S($data: MlflowSearchRunsInput!) { mlflowSearchRuns(input: $data) { nextPageToken runs { info { runName } data { params { value } } experiment { name } } } }`;
    const data = { experimentIds: [experimentId], filter: "params.lr != '0.1'", orderBy: ["params.lr DESC"], maxResults: 1, runViewType: "ACTIVE_ONLY" };
    for (const op of ["query", "mutation"]) {
      const first = (await graphql(query(op), { data })).body;
      expect(first.errors).toBeNull();
      expect(first.data.mlflowSearchRuns.runs).toEqual([{ info: { runName: "r2" }, data: { params: [{ value: "0.30000000000000004" }] }, experiment: { name: "gql" } }]);
      const token = first.data.mlflowSearchRuns.nextPageToken;
      expect(token).not.toBe("");
      const second = (await graphql(query(op), { data: { ...data, pageToken: token } })).body;
      expect(second.data.mlflowSearchRuns.runs.map((r: any) => r.info.runName)).toEqual(["r1"]);
      expect(second.data.mlflowSearchRuns.nextPageToken).toBe("");
    }
  });

  it("GetMetricHistoryBulkInterval: points with their run id; the step window and sample size are honoured", async () => {
    const query = `query B($data: MlflowGetMetricHistoryBulkIntervalInput!) { mlflowGetMetricHistoryBulkInterval(input: $data) { metrics { key step runId value timestamp } apiError { code } } }`;
    const all = (await graphql(query, { data: { runIds: runs.slice(0, 2), metricKey: "loss", maxResults: 320, startStep: null, endStep: null } })).body;
    expect(all.errors).toBeNull();
    const metrics = all.data.mlflowGetMetricHistoryBulkInterval.metrics as { runId: string; step: string }[];
    expect(metrics).toHaveLength(40);
    expect(metrics[0]).toEqual({ key: "loss", step: "0", runId: runs[0], value: 1, timestamp: String(T0) });
    const windowed = (await graphql(query, { data: { runIds: [runs[0]], metricKey: "loss", maxResults: 3, startStep: 5, endStep: 10 } })).body;
    const steps = windowed.data.mlflowGetMetricHistoryBulkInterval.metrics.map((m: { step: string }) => Number(m.step));
    expect(steps[0]).toBe(5);
    expect(steps.at(-1)).toBe(10);
    expect(steps.length).toBeLessThanOrEqual(4);
    // A NaN point: its value is null and the envelope says why (MLflow's Float cannot be NaN either).
    const nan = (await graphql(query, { data: { runIds: [runs[0]], metricKey: "odd" } })).body;
    expect(nan.data.mlflowGetMetricHistoryBulkInterval.metrics).toEqual([{ key: "odd", step: "0", runId: runs[0], value: null, timestamp: String(T0) }]);
    expect(nan.errors).toEqual([expect.stringMatching(/^Float cannot represent non numeric value: NaN/)]);
  });

  it("mlflowGetExperiment, mlflowListArtifacts, mlflowSearchModelVersions (LongString input), test, testMutation", async () => {
    const { body } = await graphql(
      `query Q($n: LongString) {
        mlflowGetExperiment(input: {experimentId: "${experimentId}"}) { experiment { name creationTime workspace effectiveTraceArchivalRetention } }
        mlflowListArtifacts(input: {runId: "${runs[0]}"}) { rootUri files { path } nextPageToken }
        mlflowSearchModelVersions(input: {filter: "name = 'gql-model'", maxResults: $n}) { modelVersions { version creationTimestamp } }
        test(inputString: "echo") { output }
      }`,
      { n: "5" },
    );
    expect(body.errors).toBeNull();
    expect(body.data.mlflowGetExperiment.experiment).toMatchObject({ name: "gql", workspace: "", effectiveTraceArchivalRetention: "" });
    expect(body.data.mlflowGetExperiment.experiment.creationTime).toMatch(/^\d+$/);
    expect(body.data.mlflowListArtifacts).toEqual({ rootUri: expect.stringContaining(runs[0]!), files: [], nextPageToken: "" });
    expect(body.data.mlflowSearchModelVersions.modelVersions).toEqual([{ version: "1", creationTimestamp: expect.stringMatching(/^\d+$/) }]);
    expect(body.data.test).toEqual({ output: "echo" });
    const mutation = (await graphql('mutation { testMutation(inputString: "x") { output } }')).body;
    expect(mutation).toEqual({ data: { testMutation: null }, errors: null });
    const badLong = (await graphql("query Q($n: LongString) { mlflowSearchModelVersions(input: {maxResults: $n}) { nextPageToken } }", { n: "many" })).body;
    expect(badLong).toEqual({ data: null, errors: [expect.stringContaining('LongString cannot represent value: "many"')] });
  });

  it("mlflowSearchDatasets: the experiments' dataset summaries, as REST's experiments/search-datasets", async () => {
    const { body } = await graphql(
      "mutation D($data: MlflowSearchDatasetsInput!) { mlflowSearchDatasets(input: $data) { datasetSummaries { experimentId name digest context } apiError { code } } }",
      { data: { experimentIds: [experimentId] } },
    );
    expect(body).toEqual({
      data: { mlflowSearchDatasets: { datasetSummaries: [{ experimentId, name: "prices", digest: "d1", context: "training" }], apiError: null } },
      errors: null,
    });
  });

  it("introspects as MLflow's schema and answers __typename", async () => {
    const { body } = await graphql('{ __schema { queryType { name } mutationType { name } } __type(name: "MlflowRunStatus") { enumValues { name } } }');
    expect(body.data.__schema).toEqual({ queryType: { name: "Query" }, mutationType: { name: "Mutation" } });
    expect(body.data.__type.enumValues.map((v: { name: string }) => v.name)).toEqual(["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]);
  });

  it("puts syntax, validation and limit errors in the envelope with data null", async () => {
    expect((await graphql("query { ")).body).toEqual({ data: null, errors: ["Syntax Error: Expected Name, found <EOF>."] });
    expect((await graphql("{ mlflowGetRun { nope } }")).body).toEqual({ data: null, errors: ['Cannot query field "nope" on type "MlflowGetRunResponse".'] });
    const aliases = Array.from({ length: 11 }, (_, i) => `t${i}: test(inputString: "x") { output }`).join(" ");
    expect((await graphql(`{ ${aliases} }`)).body.errors).toEqual([
      "GraphQL queries should have at most 10 root fields, got 11 root fields. To increase the limit, set the LOGBOOK_GRAPHQL_MAX_ROOT_FIELDS environment variable.",
    ]);
    const huge = `{ ${Array.from({ length: 30_000 }, () => "test").join(" ")} }`;
    expect((await graphql(huge)).body.errors).toEqual([expect.stringMatching(/^Syntax Error: Document contains more tha[nt] 20000 tokens/)]);
  });

  it("refuses what is not one GraphQL operation with MLflow's 400 error body", async () => {
    const raw = async (body: string, headers: Record<string, string> = { "content-type": "application/json" }) => {
      const res = await fetch(`${url}/graphql`, { method: "POST", headers, body });
      return { status: res.status, body: await res.json() };
    };
    expect(await raw('[{"query": "{ test { output } }"}]')).toEqual({
      status: 400,
      body: { error_code: "INVALID_PARAMETER_VALUE", message: "Batched GraphQL requests are not supported: send one operation per request." },
    });
    expect(await raw("{}")).toEqual({ status: 400, body: { error_code: "INVALID_PARAMETER_VALUE", message: "Missing value for required parameter 'query'." } });
    expect((await raw('{"query": "{ test { output } }", "variables": [1]}')).status).toBe(400);
    expect((await raw("{not json")).status).toBe(400);
    expect(await raw('{"query": "{ test { output } }"}', { "content-type": "text/plain" })).toEqual({
      status: 400,
      body: { error_code: "INVALID_PARAMETER_VALUE", message: "Bad Request. Content-Type must be one of ['application/json']." },
    });
  });

  it("answers GET with a JSON body (as MLflow reads it) or with GraphQL-over-HTTP query parameters", async () => {
    const params = new URLSearchParams({ query: "query Q($s: String) { test(inputString: $s) { output } }", variables: JSON.stringify({ s: "q" }) });
    const res = await fetch(`${url}/graphql?${params}`);
    expect(await res.json()).toEqual({ data: { test: { output: "q" } }, errors: null });
    // fetch() sends no GET body; node:http does.
    const body = JSON.stringify({ query: '{ test(inputString: "b") { output } }' });
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request(`${url}/graphql`, { method: "GET", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (r) => {
        let text = "";
        r.on("data", (c: Buffer) => (text += c.toString()));
        r.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.end(body);
    });
    expect(JSON.parse(answer)).toEqual({ data: { test: { output: "b" } }, errors: null });
    const badVariables = await fetch(`${url}/graphql?query=${encodeURIComponent("{ test { output } }")}&variables=%7Bnope`);
    expect(badVariables.status).toBe(400);
  });
});
