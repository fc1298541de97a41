/**
 * SearchService.CompareRuns on both stores, over HTTP (POST /mlflow/runs/compare, MLflow JSON) and gRPC: three runs
 * with differing params, NaN metrics and missing keys; directions; downsampled histories aligned by step; errors.
 */
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MetricDirection, SearchServiceService } from "../../gen/ts/logbook/v1/search_service.js";
import { downsample, stepGrid } from "../../src/domain/downsample.js";
import { expectGrpcError, promiseClient, type PromiseClient } from "../harness/grpc.js";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";

const NOW = 1_700_000_000_000;

describe.each(STORE_KINDS)("CompareRuns on %s", (kind) => {
  let lb: TestLogbook;
  let search: PromiseClient<typeof SearchServiceService>;
  const ids: string[] = [];

  const compare = async (body: unknown) => {
    const res = await fetch(`${lb.httpUrl}/mlflow/runs/compare`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "compare" });
    search = promiseClient(SearchServiceService, lb.address);
    const { experimentId } = await lb.tracking.createExperiment({ name: "compare", artifactLocation: "", tags: [] });
    const runs = [
      { params: { lr: "0.1", window: "20" }, tags: { desk: "a" }, metrics: { sharpe: 1.5, loss: 0.3 } },
      { params: { lr: "0.2", window: "20" }, tags: { desk: "a" }, metrics: { sharpe: Number.NaN, loss: 0.1 } },
      { params: { lr: "0.1" }, tags: {}, metrics: { sharpe: 2.5 } },
    ];
    for (const [i, r] of runs.entries()) {
      const { run } = await lb.tracking.createRun({ experimentId, runName: `r${i}`, tags: [], startTime: BigInt(NOW) } as never);
      const runId = run!.info!.runId;
      ids.push(runId);
      await lb.tracking.logBatch({
        runId,
        params: Object.entries(r.params).map(([key, value]) => ({ key, value })),
        tags: Object.entries(r.tags).map(([key, value]) => ({ key, value })),
        metrics: Object.entries(r.metrics).map(([key, value]) => ({ key, value, timestamp: BigInt(NOW), step: 1000n, runId: "" })),
      });
      // A history of "loss" over steps 0..999 (run 2 has none); run 1 logs only the even steps.
      if (i < 2) {
        for (let b = 0; b < 1000; b += 500) {
          const metrics = Array.from({ length: 500 }, (_, k) => b + k)
            .filter((s) => i === 0 || s % 2 === 0)
            .map((s) => ({ key: "loss", value: s === 250 ? 99 : 1 / (s + 1), timestamp: BigInt(NOW + s), step: BigInt(s), runId: "" }));
          await lb.tracking.logBatch({ runId, metrics, params: [], tags: [] });
        }
      }
    }
  });
  afterAll(async () => {
    search?.close();
    await lb?.close();
  });

  it("lays params, tags and latest metrics out key by key: what differs, which run is best (NaN never), missing keys", async () => {
    const { status: code, body } = await compare({ run_ids: ids, directions: { loss: "MINIMIZE" } });
    expect(code).toBe(200);
    expect(body.runs.map((r: { run_id: string }) => r.run_id)).toEqual(ids);
    expect(body.params).toEqual([
      { key: "lr", values: [{ run_id: ids[0], value: "0.1" }, { run_id: ids[1], value: "0.2" }, { run_id: ids[2], value: "0.1" }], differs: true },
      { key: "window", values: [{ run_id: ids[0], value: "20" }, { run_id: ids[1], value: "20" }], differs: true },
    ]);
    expect(body.tags.find((t: { key: string }) => t.key === "desk")).toEqual({
      key: "desk",
      values: [{ run_id: ids[0], value: "a" }, { run_id: ids[1], value: "a" }],
      differs: true,
    });
    const loss = body.metrics.find((m: { key: string }) => m.key === "loss");
    const sharpe = body.metrics.find((m: { key: string }) => m.key === "sharpe");
    // The latest loss is the step-1000 point of the first batch; MINIMIZE picks the lower.
    expect(loss).toEqual({ key: "loss", values: [{ run_id: ids[0], value: 0.3 }, { run_id: ids[1], value: 0.1 }], best_run_id: ids[1], direction: "MINIMIZE" });
    expect(sharpe).toEqual({
      key: "sharpe",
      values: [{ run_id: ids[0], value: 1.5 }, { run_id: ids[1], value: "NaN" }, { run_id: ids[2], value: 2.5 }],
      best_run_id: ids[2],
      direction: "MAXIMIZE",
    });
    // Two runs only, equal params: nothing differs.
    const two = await compare({ run_ids: [ids[0], ids[2]] });
    expect(two.body.params.find((p: { key: string }) => p.key === "lr").differs).toBe(false);
  });

  it("downsamples histories on one step grid: at most max_points per run, min/max/last per bucket, buckets aligned", async () => {
    const { body } = await compare({ run_ids: ids, metric_keys: ["loss", "absent"], max_points: 10 });
    expect(body.histories.map((h: { key: string; run_id: string }) => [h.key, h.run_id])).toEqual([
      ["loss", ids[0]],
      ["loss", ids[1]],
    ]);
    const [a, b] = body.histories as { points: { step: number; value: number; min: number; max: number }[] }[];
    expect(a!.points).toHaveLength(10);
    expect(b!.points).toHaveLength(10);
    // Steps 0..1000 in 10 buckets; the spike at step 250 survives as the third bucket's max.
    expect(a!.points[2]).toMatchObject({ max: 99 });
    a!.points.forEach((p, i) => expect(Math.floor(p.step / 100.1)).toBe(Math.floor(b!.points[i]!.step / 100.1)));
    expect(a!.points.at(-1)).toMatchObject({ step: 1000, value: 0.3 });
    // Few steps: every step of the run is a point.
    const all = await compare({ run_ids: ids, metric_keys: ["sharpe"] });
    expect(all.body.histories.map((h: { points: unknown[] }) => h.points)).toEqual([
      [{ step: 1000, value: 1.5, min: 1.5, max: 1.5 }],
      [{ step: 1000, value: "NaN", min: "NaN", max: "NaN" }],
      [{ step: 1000, value: 2.5, min: 2.5, max: 2.5 }],
    ]);
  });

  it("names unknown runs (RESOURCE_DOES_NOT_EXIST) and refuses bad requests (INVALID_PARAMETER_VALUE), over HTTP and gRPC", async () => {
    const missing = ["a".repeat(32), "b".repeat(32)];
    const unknown = await compare({ run_ids: [ids[0], ...missing] });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error_code: "RESOURCE_DOES_NOT_EXIST", message: `Runs not found: ${missing.join(", ")}` });
    for (const bad of [
      { run_ids: [ids[0]] },
      { run_ids: Array.from({ length: 101 }, (_, i) => i.toString(16).padStart(32, "0")) },
      { run_ids: [ids[0], ids[0]] },
      { run_ids: ids, max_points: 0 },
      { run_ids: ids, max_points: 5001 },
      { run_ids: ids, metric_keys: Array.from({ length: 21 }, (_, i) => `m${i}`) },
      { run_ids: ids, directions: { loss: "SIDEWAYS" } },
      // More history points than one response carries: 100 × 20 × 1000 > 1,000,000.
      { run_ids: Array.from({ length: 100 }, (_, i) => i.toString(16).padStart(32, "0")), metric_keys: Array.from({ length: 20 }, (_, i) => `m${i}`), max_points: 1000 },
    ]) {
      const res = await compare(bad);
      expect(res.status, JSON.stringify(bad).slice(0, 80)).toBe(400);
      expect(res.body.error_code).toBe("INVALID_PARAMETER_VALUE");
    }
    await expectGrpcError(search.compareRuns({ runIds: [ids[0]!, missing[0]!], metricKeys: [], directions: {} }), {
      grpcCode: status.NOT_FOUND,
      mlflowCode: "RESOURCE_DOES_NOT_EXIST",
      message: missing[0],
    });
    const ok = await search.compareRuns({ runIds: ids, metricKeys: [], directions: { sharpe: MetricDirection.METRIC_DIRECTION_MINIMIZE } });
    expect(ok.metrics.find((m) => m.key === "sharpe")?.bestRunId).toBe(ids[0]);
  });
});

// Long histories are read page by page and bucketed in a second read (memory bounded by the buckets): the result is the
// same as downsampling the whole histories at once. SQLite only: 120,000 points are too slow to log on FerretDB.
describe("CompareRuns over histories longer than it keeps in memory (sqlite)", () => {
  let lb: TestLogbook;
  afterAll(async () => lb?.close());

  it("downsamples 2 × 60,000 points read page by page as the whole histories would be", async () => {
    lb = await startTestLogbook("sqlite", { label: "compare-long" });
    const { experimentId } = await lb.tracking.createExperiment({ name: "long", artifactLocation: "", tags: [] });
    const histories: { key: string; value: number; timestamp: number; step: number }[][] = [];
    const ids: string[] = [];
    for (let r = 0; r < 2; r++) {
      const { run } = await lb.tracking.createRun({ experimentId, runName: `long${r}`, tags: [], startTime: BigInt(NOW) } as never);
      ids.push(run!.info!.runId);
      // Run 1 starts later and logs every other step twice (two values): buckets still line up.
      const points = Array.from({ length: 60_000 }, (_, i) => {
        const step = r === 0 ? i : 10_000 + Math.floor(i / 2) * 2;
        return { key: "loss", value: Math.sin(i / 97) * (i % 7919 === 0 ? 50 : 1), timestamp: NOW + i, step };
      });
      histories.push(points);
      for (let b = 0; b < points.length; b += 1000) {
        const metrics = points.slice(b, b + 1000).map((p) => ({ ...p, timestamp: BigInt(p.timestamp), step: BigInt(p.step), runId: "" }));
        await lb.tracking.logBatch({ runId: ids[r]!, metrics, params: [], tags: [] });
      }
    }
    const res = await fetch(`${lb.httpUrl}/mlflow/runs/compare`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ run_ids: ids, metric_keys: ["loss"], max_points: 300 }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { histories: { run_id: string; points: { step: number; value: number; min: number; max: number }[] }[] };
    const grid = stepGrid(histories, 300);
    expect(body.histories.map((h) => h.run_id)).toEqual(ids);
    body.histories.forEach((h, r) => expect(h.points).toEqual(downsample(histories[r]!, grid)));
    // Steps 0..69,998 in 300 buckets: run 0 (steps up to 59,999) fills the first 258 of them, run 1 the last 258.
    expect(body.histories.map((h) => h.points.length)).toEqual([258, 258]);
    expect(body.histories[1]!.points.at(-1)!.step).toBe(69_998);
  });
});
