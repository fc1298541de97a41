/** logExperiment end to end against a live in-process Logbook: experiment, run, params, series, artifacts, model version. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client, credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryServiceService } from "../../../gen/ts/logbook/v1/registry.js";
import { downloadGrpc } from "../../../test/harness/artifacts.js";
import { startTestLogbook, tempDir, type TestLogbook } from "../../../test/harness/logbook.js";
import { promiseClient } from "../../../test/harness/promise-client.js";
import { financialMetrics, logExperiment, Tracker } from "../src/index.js";
import { metricHistory } from "./helpers.js";

let lb: TestLogbook;
let dir: { path: string; remove(): void };

beforeAll(async () => {
  lb = await startTestLogbook("sqlite");
  dir = tempDir("logbook-sdk-exp-");
});
afterAll(async () => {
  await lb.close();
  dir.remove();
});

describe("logExperiment", () => {
  it("records a complete experiment in one call: run, tags, params, metric series, JSON/CSV/file artifacts and a model version", async () => {
    const modelFile = join(dir.path, "weights.bin");
    writeFileSync(modelFile, Buffer.from([0, 1, 2, 3, 255]));
    const returns = [0.01, -0.02, 0.015, 0.003, -0.004, 0.02];
    const fm = financialMetrics(returns);
    const result = await logExperiment(
      {
        experimentName: "sdk-e2e/aapl-momentum",
        runName: "eval-1",
        tags: { symbol: "AAPL", kind: "evaluation" },
        params: { lookback: 20, model: "momentum", use_volume: true },
        metrics: { sharpe_ratio: fm.sharpeRatio, max_drawdown: fm.maxDrawdown, equity: [1, 1.01, 0.99, 1.005], loss: [{ value: 0.5, step: 10 }, { value: 0.25, step: 20 }] },
        artifacts: {
          files: { "model/weights.bin": modelFile },
          dicts: { "report/summary.json": { symbol: "AAPL", sharpe: fm.sharpeRatio, features: ["rsi", "macd"] } },
          tables: { "report/predictions.csv": [{ date: "2026-01-02", pred: 0.1, note: "a, \"quoted\"" }, { date: "2026-01-03", pred: -0.2 }] },
        },
        model: { name: "sdk-e2e-momentum", artifactPath: "model", description: "from the SDK test" },
      },
      { address: lb.address, spoolPath: join(dir.path, "e2e.jsonl"), handleProcessExit: false },
    );
    expect(result.spooled).toBe(false);
    expect(result.experimentId).toBeTruthy();

    const exp = await lb.tracking.getExperimentByName({ experimentName: "sdk-e2e/aapl-momentum" });
    expect(exp.experiment!.experimentId).toBe(result.experimentId);
    const run = (await lb.tracking.getRun({ runId: result.runId, runUuid: "" })).run!;
    expect(run.info!.experimentId).toBe(result.experimentId);
    expect(run.info!.runName).toBe("eval-1");
    expect(run.info!.status).toBe(3); // FINISHED
    expect(Object.fromEntries(run.data!.params.map((p) => [p.key, p.value]))).toEqual({ lookback: "20", model: "momentum", use_volume: "true" });
    expect(Object.fromEntries(run.data!.tags.map((t) => [t.key, t.value]))).toMatchObject({ symbol: "AAPL", kind: "evaluation" });
    const latest = Object.fromEntries(run.data!.metrics.map((m) => [m.key, m.value]));
    expect(latest.sharpe_ratio).toBeCloseTo(fm.sharpeRatio, 12);
    expect(latest.equity).toBe(1.005);
    const equity = await metricHistory(lb.address, result.runId, "equity");
    expect(equity.map((m) => [Number(m.step), m.value])).toEqual([[0, 1], [1, 1.01], [2, 0.99], [3, 1.005]]);
    expect((await metricHistory(lb.address, result.runId, "loss")).map((m) => Number(m.step))).toEqual([10, 20]);

    const raw = new Client(lb.address, credentials.createInsecure());
    try {
      const json = await downloadGrpc(raw, { runId: result.runId, path: "report/summary.json" });
      expect(JSON.parse(json.data.toString("utf8"))).toEqual({ symbol: "AAPL", sharpe: fm.sharpeRatio, features: ["rsi", "macd"] });
      const csv = await downloadGrpc(raw, { runId: result.runId, path: "report/predictions.csv" });
      expect(csv.data.toString("utf8")).toBe('date,pred,note\n2026-01-02,0.1,"a, ""quoted"""\n2026-01-03,-0.2,\n');
      const bin = await downloadGrpc(raw, { runId: result.runId, path: "model/weights.bin" });
      expect([...bin.data]).toEqual([0, 1, 2, 3, 255]);
    } finally {
      raw.close();
    }

    expect(result.modelVersion).toMatchObject({ name: "sdk-e2e-momentum", version: "1", source: `runs:/${result.runId}/model`, runId: result.runId });
    const registry = promiseClient(RegistryServiceService, lb.address);
    try {
      const mv = await registry.getModelVersion({ name: "sdk-e2e-momentum", version: "1" });
      expect(mv.modelVersion).toMatchObject({ source: `runs:/${result.runId}/model`, runId: result.runId, description: "from the SDK test" });
    } finally {
      registry.close();
    }
  });

  it("reuses the experiment and the registered model: a second record makes run 2 and version 2; replaying the same run id adds nothing", async () => {
    const tracker = new Tracker({ address: lb.address, spoolPath: join(dir.path, "e2e-2.jsonl"), handleProcessExit: false });
    const record = { experimentName: "sdk-e2e/aapl-momentum", params: { lookback: 30 }, metrics: { hit_rate: 0.55 }, model: { name: "sdk-e2e-momentum" }, timestamp: 1_790_000_000_000 };
    const second = await tracker.logExperiment({ ...record, runId: "cd".repeat(16) });
    const again = await tracker.logExperiment({ ...record, runId: "cd".repeat(16) });
    await tracker.close();
    expect(second.modelVersion?.version).toBe("2");
    expect(again.modelVersion?.version).toBe("2");
    expect(again.experimentId).toBe(second.experimentId);
    expect(tracker.stats().errors).toBe(0);
    expect(await metricHistory(lb.address, second.runId, "hit_rate")).toHaveLength(1);
  });
});
