/**
 * GetMetricHistoryBulkInterval (MLflow's GET metrics/get-history-bulk-interval) over gRPC on both stores and over
 * HTTP with repeated `run_ids` query keys: MLflow's step sampling (max_results sampled steps plus the last, each
 * run's first and last step in the window added back), the step window, runs in the order given, and MLflow's errors.
 */
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GetMetricHistoryBulkIntervalRequest, SearchServiceService } from "../../gen/ts/logbook/v1/search_service.js";
import type { Metric } from "../../src/domain/entities.js";
import { expectGrpcError, promiseClient } from "../harness/grpc.js";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";

const INVALID = { grpcCode: status.INVALID_ARGUMENT, mlflowCode: "INVALID_PARAMETER_VALUE" };
const range = (from: number, to: number, by = 1) => Array.from({ length: Math.floor((to - from) / by) + 1 }, (_, i) => from + i * by);

describe.each(STORE_KINDS)("GetMetricHistoryBulkInterval on %s", (kind) => {
  let lb: TestLogbook;
  let search: ReturnType<typeof promiseClient<typeof SearchServiceService>>;

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "bulk-interval" });
    search = promiseClient(SearchServiceService, lb.address);
    const store = lb.logbook.store;
    const experimentId = await store.createExperiment({ name: "bulk-interval", tags: [], now: 1 });
    for (const runId of ["r1", "r2"]) {
      await store.createRun({ runId, experimentId, userId: "u", runName: runId, startTime: 1, tags: [] });
    }
    // r1: steps 0..999 (timestamp 1000 + step), and a second, earlier point at step 900; another key at every step.
    const r1: Metric[] = range(0, 999).map((step) => ({ key: "loss", value: step, timestamp: 1000 + step, step }));
    r1.push({ key: "loss", value: -1, timestamp: 5, step: 900 });
    r1.push(...range(0, 999).map((step) => ({ key: "acc", value: 0, timestamp: 1, step })));
    for (let i = 0; i < r1.length; i += 500) await lb.logbook.store.logBatch("r1", { metrics: r1.slice(i, i + 500), params: [], tags: [] });
    // r2: steps 3, 5 and 7 only.
    await store.logBatch("r2", {
      metrics: [3, 5, 7].map((step) => ({ key: "loss", value: step / 10, timestamp: 10, step })),
      params: [],
      tags: [],
    });
  });

  afterAll(async () => {
    search?.close();
    await lb?.close();
  });

  const request = (req: Partial<GetMetricHistoryBulkIntervalRequest>): GetMetricHistoryBulkIntervalRequest => ({
    runIds: [],
    metricKey: "loss",
    ...req,
  });
  const points = async (req: Partial<GetMetricHistoryBulkIntervalRequest>) =>
    (await search.getMetricHistoryBulkInterval(request(req))).metrics.map((m) => [m.runId, Number(m.step), Number(m.timestamp), m.value]);
  const stepsOf = (ps: unknown[][]) => [...new Set(ps.map((p) => p[1] as number))];

  it("samples max_results evenly spaced steps plus the last, min and max included, every point of them in step then time order", async () => {
    const ps = await points({ runIds: ["r1"], maxResults: 10 });
    const steps = stepsOf(ps);
    expect(steps).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 999]);
    expect(steps).toContain(0);
    expect(steps).toContain(999);
    // Step 900 has two points: the earlier one first.
    expect(ps.filter((p) => p[1] === 900)).toEqual([
      ["r1", 900, 5, -1],
      ["r1", 900, 1900, 900],
    ]);
    expect(ps).toHaveLength(12);
    // A zero step/value/timestamp is still written; fewer steps than max_results: all of them (default 2500).
    const all = await points({ runIds: ["r1"] });
    expect(stepsOf(all)).toEqual(range(0, 999));
    expect(all[0]).toEqual(["r1", 0, 1000, 0]);
  });

  it("keeps to the step window", async () => {
    expect(stepsOf(await points({ runIds: ["r1"], startStep: 100n, endStep: 199n, maxResults: 10 }))).toEqual([...range(100, 190, 10), 199]);
    expect(stepsOf(await points({ runIds: ["r1"], startStep: 995n, endStep: 5000n, maxResults: 10 }))).toEqual(range(995, 999));
    expect(await points({ runIds: ["r1"], startStep: 2000n, endStep: 3000n })).toEqual([]);
    expect(stepsOf(await points({ runIds: ["r1"], startStep: 0n, endStep: 0n }))).toEqual([0]);
  });

  it("answers runs in the order given, sampling over all their steps and adding back each run's first and last", async () => {
    const ps = await points({ runIds: ["r2", "nope", "r1"], maxResults: 10 });
    expect(ps.filter((p) => p[0] === "r2")).toEqual([
      ["r2", 3, 10, 0.3],
      ["r2", 7, 10, 0.7],
    ]);
    expect(ps.slice(0, 2).map((p) => p[0])).toEqual(["r2", "r2"]);
    expect(stepsOf(ps.filter((p) => p[0] === "r1"))).toEqual([0, 3, 7, 100, 200, 300, 400, 500, 600, 700, 800, 900, 999]);
    expect(await points({ runIds: ["nope"] })).toEqual([]);
    expect(await points({ runIds: ["r1"], metricKey: "nothing" })).toEqual([]);
  });

  it("answers bad requests with MLflow's INVALID_PARAMETER_VALUE messages", async () => {
    const call = (req: Partial<GetMetricHistoryBulkIntervalRequest>) => search.getMetricHistoryBulkInterval(request(req));
    await expectGrpcError(call({}), { ...INVALID, message: /Missing value for required parameter 'run_ids'/ });
    const many = range(1, 101).map((i) => `run${i}`);
    await expectGrpcError(call({ runIds: many }), {
      ...INVALID,
      message: "GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received 101 run_ids.",
    });
    await expect(call({ runIds: many.slice(0, 100) })).resolves.toEqual({ metrics: [] });
    await expectGrpcError(call({ runIds: ["r1"], metricKey: "" }), { ...INVALID, message: /Missing value for required parameter 'metric_key'/ });
    await expectGrpcError(call({ runIds: ["r1"], startStep: 1n }), {
      ...INVALID,
      message: "If either start step or end step are specified, both must be specified.",
    });
    await expectGrpcError(call({ runIds: ["r1"], endStep: 1n }), {
      ...INVALID,
      message: "If either start step or end step are specified, both must be specified.",
    });
    await expectGrpcError(call({ runIds: ["r1"], startStep: 5n, endStep: 4n }), {
      ...INVALID,
      message: "end_step must be greater than start_step. Found start_step=5 and end_step=4.",
    });
    for (const maxResults of [0, 2501, -1]) {
      await expectGrpcError(call({ runIds: ["r1"], maxResults }), { ...INVALID, message: "max_results must be between 1 and 2500." });
    }
    await expect(call({ runIds: ["r1"], maxResults: 2500, startStep: 0n, endStep: 0n })).resolves.toMatchObject({ metrics: [{ step: 0n }] });
  });

  it("is served at GET /api/2.0/mlflow/metrics/get-history-bulk-interval with repeated run_ids", async () => {
    const get = async (query: string) => {
      const res = await fetch(`${lb.httpUrl}/api/2.0/mlflow/metrics/get-history-bulk-interval?${query}`);
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const ok = await get("run_ids=r2&run_ids=r1&metric_key=loss&start_step=0&end_step=5&max_results=3");
    expect(ok.status).toBe(200);
    // Window 0..5: distinct steps 0..5 sampled to indexes 0, 2, 4 plus the last (5); r2's 3 added back.
    expect(ok.body.metrics).toEqual([
      { key: "loss", value: 0.3, timestamp: 10, step: 3, run_id: "r2" },
      { key: "loss", value: 0.5, timestamp: 10, step: 5, run_id: "r2" },
      { key: "loss", value: 0, timestamp: 1000, step: 0, run_id: "r1" },
      { key: "loss", value: 2, timestamp: 1002, step: 2, run_id: "r1" },
      { key: "loss", value: 3, timestamp: 1003, step: 3, run_id: "r1" },
      { key: "loss", value: 4, timestamp: 1004, step: 4, run_id: "r1" },
      { key: "loss", value: 5, timestamp: 1005, step: 5, run_id: "r1" },
    ]);
    const bad = await get("run_ids=r1&metric_key=loss&start_step=3");
    expect(bad).toEqual({
      status: 400,
      body: { error_code: "INVALID_PARAMETER_VALUE", message: "If either start step or end step are specified, both must be specified." },
    });
    expect((await get("metric_key=loss")).status).toBe(400);
  });
});
