/**
 * A user with DENY on one experiment (and one registered model) sees them in no answer — searches, streams, the
 * leaderboard, the service endpoints, GraphQL, the status counts — over gRPC and HTTP on both stores, and pages stay
 * full: the restriction is inside the store's query, not a filter applied to a page afterwards.
 */
import { Client, Metadata, credentials, status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MethodDefinition } from "../../src/services/rpc.js";
import { AuthServiceService } from "../../gen/ts/logbook/v1/auth_service.js";
import { RegistryServiceService } from "../../gen/ts/logbook/v1/registry.js";
import { SearchServiceService } from "../../gen/ts/logbook/v1/search_service.js";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { STORE_KINDS, type TestLogbook, startTestLogbook } from "../harness/logbook.js";

const ADMIN = { username: "admin", password: "admin-password-123" };
const BOB = { username: "bob", password: "bob-password-1234" };
const basic = (u: { username: string; password: string }) => `Basic ${Buffer.from(`${u.username}:${u.password}`).toString("base64")}`;
const RUNS_PER_EXPERIMENT = 4;

describe.each(STORE_KINDS)("DENY on %s", (kind) => {
  let server: TestLogbook;
  let raw: Client;
  const experiments: Record<"hidden" | "open1" | "open2", string> = { hidden: "", open1: "", open2: "" };
  const runsOf: Record<string, string[]> = {};

  function call<T = Record<string, any>>(def: unknown, fields: object, who = ADMIN): Promise<T> {
    const d = def as MethodDefinition;
    const metadata = new Metadata();
    metadata.set("authorization", basic(who));
    const request = { ...(d.requestDeserialize(Buffer.alloc(0)) as object), ...fields };
    return new Promise((resolve, reject) =>
      raw.makeUnaryRequest(d.path, d.requestSerialize, d.responseDeserialize, request, metadata, (err: ServiceError | null, res?: unknown) =>
        err ? reject(err) : resolve(res as T),
      ),
    );
  }

  function stream(def: unknown, fields: object, who = BOB): Promise<Record<string, any>[]> {
    const d = def as MethodDefinition;
    const metadata = new Metadata();
    metadata.set("authorization", basic(who));
    const items: Record<string, any>[] = [];
    const s = raw.makeServerStreamRequest(d.path, d.requestSerialize, d.responseDeserialize, { ...(d.requestDeserialize(Buffer.alloc(0)) as object), ...fields }, metadata);
    return new Promise((resolve, reject) => {
      s.on("data", (m: Record<string, any>) => items.push(m));
      s.on("error", reject);
      s.on("end", () => resolve(items));
    });
  }

  /** The first message of a stream that does not end by itself (a live watch), then the call is cancelled. */
  function firstOf(def: unknown, fields: object, who = BOB): Promise<Record<string, any>> {
    const d = def as MethodDefinition;
    const metadata = new Metadata();
    metadata.set("authorization", basic(who));
    const s = raw.makeServerStreamRequest(d.path, d.requestSerialize, d.responseDeserialize, { ...(d.requestDeserialize(Buffer.alloc(0)) as object), ...fields }, metadata);
    return new Promise((resolve, reject) => {
      s.on("data", (m: Record<string, any>) => {
        resolve(m);
        s.cancel();
      });
      s.on("error", (err: { code?: number }) => (err.code === 1 ? undefined : reject(err)));
    });
  }

  const http = async (path: string, init: { method?: string; body?: unknown } = {}, who = BOB) => {
    const r = await fetch(`${server.httpUrl}${path}`, {
      method: init.method ?? "GET",
      headers: { authorization: basic(who), "content-type": "application/json" },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    return { status: r.status, json: async (): Promise<any> => r.json(), text: () => r.text() };
  };

  beforeAll(async () => {
    server = await startTestLogbook(kind, { label: "deny", config: { auth: "basic", admin: ADMIN } });
    raw = new Client(server.address, credentials.createInsecure());
    await call(AuthServiceService.createUser, BOB);
    let t = 1_700_000_000_000;
    for (const name of ["hidden", "open1", "open2"] as const) {
      experiments[name] = (await call(TrackingServiceService.createExperiment, { name: `deny-${name}` })).experimentId;
      runsOf[name] = [];
      for (let i = 0; i < RUNS_PER_EXPERIMENT; i++) {
        const run = (await call(TrackingServiceService.createRun, { experimentId: experiments[name], startTime: BigInt(++t), runName: `${name}-${i}` })).run;
        runsOf[name]!.push(run.info.runId);
        await call(TrackingServiceService.logBatch, {
          runId: run.info.runId,
          metrics: [{ key: "sharpe", value: t % 97, timestamp: BigInt(t), step: 0n }],
          params: [{ key: "symbol", value: "AAPL" }],
        });
      }
      await call(TrackingServiceService.createLoggedModel, { experimentId: experiments[name], name: `lm-${name}` });
      await call(RegistryServiceService.createRegisteredModel, { name: `model-${name}` });
      await call(RegistryServiceService.createModelVersion, { name: `model-${name}`, source: "s3://bucket/m", runId: runsOf[name]![0] });
    }
    await call(AuthServiceService.grantUserPermission, { username: "bob", resourceType: "experiment", resourceId: experiments.hidden, permission: "DENY" });
    await call(AuthServiceService.grantUserPermission, { username: "bob", resourceType: "registered_model", resourceId: "model-hidden", permission: "DENY" });
  });

  afterAll(async () => {
    raw?.close();
    await server?.close();
  });

  const visibleRuns = () => new Set([...runsOf.open1!, ...runsOf.open2!]);

  it("gRPC SearchRuns: no hidden run, in full pages", async () => {
    const ids = Object.values(experiments);
    const seen: string[] = [];
    let pageToken = "";
    for (let pages = 0; pages < 10; pages++) {
      const page = await call(SearchServiceService.searchRuns, { experimentIds: ids, maxResults: 3, pageToken, orderBy: ["metrics.sharpe DESC"] }, BOB);
      seen.push(...page.runs.map((r: any) => r.info.runId));
      if (!page.nextPageToken) break;
      expect(page.runs).toHaveLength(3);
      pageToken = page.nextPageToken;
    }
    expect(seen).toHaveLength(2 * RUNS_PER_EXPERIMENT);
    expect(new Set(seen)).toEqual(visibleRuns());
  });

  it("gRPC streams and the leaderboard: no hidden run, no version of the hidden model", async () => {
    const streamed = await stream(SearchServiceService.streamSearchRuns, { experimentIds: Object.values(experiments) });
    expect(new Set(streamed.map((m) => m.run.info.runId))).toEqual(visibleRuns());
    const board = await stream(SearchServiceService.leaderboard, { symbol: "AAPL", metric: "sharpe", limit: 100 });
    expect(new Set(board.map((e) => e.runId))).toEqual(visibleRuns());
    expect(board.flatMap((e) => e.modelVersions.map((v: any) => v.name)).sort()).toEqual(["model-open1", "model-open2"]);
    const adminBoard = await stream(SearchServiceService.leaderboard, { symbol: "AAPL", metric: "sharpe", limit: 100 }, ADMIN);
    expect(adminBoard).toHaveLength(3 * RUNS_PER_EXPERIMENT);
    // The live board: the caller's board (not the admin's, though both watch the same query).
    const adminLive = await firstOf(SearchServiceService.watchLeaderboard, { symbol: "AAPL", metric: "sharpe", limit: 100 }, ADMIN);
    expect(adminLive.snapshot.entries).toHaveLength(3 * RUNS_PER_EXPERIMENT);
    const live = await firstOf(SearchServiceService.watchLeaderboard, { symbol: "AAPL", metric: "sharpe", limit: 100 });
    expect(new Set(live.snapshot.entries.map((e: { runId: string }) => e.runId))).toEqual(visibleRuns());
    expect(live.snapshot.entries.flatMap((e: any) => e.modelVersions.map((v: any) => v.name)).sort()).toEqual(["model-open1", "model-open2"]);
  });

  it("gRPC entity searches and reads", async () => {
    const exps = await call(SearchServiceService.searchExperiments, { maxResults: 1000n }, BOB);
    expect(exps.experiments.map((e: any) => e.experimentId)).not.toContain(experiments.hidden);
    expect(exps.experiments.map((e: any) => e.experimentId)).toEqual(expect.arrayContaining([experiments.open1, experiments.open2]));
    const models = await call(SearchServiceService.searchRegisteredModels, { maxResults: 1n }, BOB);
    expect(models.registeredModels).toHaveLength(1);
    const allModels = await call(SearchServiceService.searchRegisteredModels, {}, BOB);
    expect(allModels.registeredModels.map((m: any) => m.name).sort()).toEqual(["model-open1", "model-open2"]);
    const versions = await call(SearchServiceService.searchModelVersions, {}, BOB);
    expect(versions.modelVersions.map((v: any) => v.name).sort()).toEqual(["model-open1", "model-open2"]);
    const logged = await call(SearchServiceService.searchLoggedModels, { experimentIds: Object.values(experiments) }, BOB);
    expect(logged.models.map((m: any) => m.info.name).sort()).toEqual(["lm-open1", "lm-open2"]);
    const denied = await call(TrackingServiceService.getRun, { runId: runsOf.hidden![0] }, BOB).catch((e: ServiceError) => e);
    expect((denied as ServiceError).code).toBe(status.PERMISSION_DENIED);
  });

  it("HTTP: MLflow's searches, the service endpoints and the status counts", async () => {
    const runs = await (await http("/api/2.0/mlflow/runs/search", { method: "POST", body: { experiment_ids: Object.values(experiments), max_results: 5 } })).json();
    expect(runs.runs).toHaveLength(5);
    expect(runs.runs.map((r: any) => r.info.experiment_id)).not.toContain(experiments.hidden);
    const seed = await (await http("/mlflow/search", { method: "POST", body: { experiment_ids: Object.values(experiments), max_results: 100 } })).json();
    expect(new Set(seed.runs.map((r: any) => r.info.run_id))).toEqual(visibleRuns());
    const list = await (await http("/mlflow/experiments")).json();
    expect(list.experiments.map((e: any) => e.name)).not.toContain("deny-hidden");
    expect((await http(`/mlflow/experiments/deny-hidden/runs`)).status).toBe(403);
    const board = (await (await http("/mlflow/leaderboard/AAPL?metric=sharpe&limit=100")).text()).trim().split("\n").map((l) => JSON.parse(l).result);
    expect(new Set(board.map((e: any) => e.run_id))).toEqual(visibleRuns());
    const models = await (await http("/mlflow/models")).json();
    expect(models.registered_models.map((m: any) => m.name).sort()).toEqual(["model-open1", "model-open2"]);
    expect((await http("/mlflow/models/model-hidden")).status).toBe(403);

    const status = await (await http("/mlflow/status")).json();
    const adminStatus = await (await http("/mlflow/status", {}, ADMIN)).json();
    expect(status.counts).toEqual({
      experiments: adminStatus.counts.experiments - 1,
      runs: adminStatus.counts.runs - RUNS_PER_EXPERIMENT,
      registered_models: adminStatus.counts.registered_models - 1,
      model_versions: adminStatus.counts.model_versions - 1,
    });
  });

  it("GraphQL: searches leave the hidden runs out, reads of them are refused", async () => {
    const query = `mutation { mlflowSearchRuns(input: {experimentIds: ["${experiments.hidden}", "${experiments.open1}"]}) { runs { info { runId experimentId } modelVersions { name } } } }`;
    const answer = await (await http("/graphql", { method: "POST", body: { query } })).json();
    const runs = answer.data.mlflowSearchRuns.runs;
    expect(new Set(runs.map((r: any) => r.info.runId))).toEqual(new Set(runsOf.open1));
    const read = await (await http("/graphql", { method: "POST", body: { query: `{ mlflowGetRun(input: {runId: "${runsOf.hidden![0]}"}) { run { info { runId } } } }` } })).json();
    expect(read.data.mlflowGetRun).toBeNull();
    expect(read.errors.join(" ")).toMatch(/Permission denied/);
  });
});
