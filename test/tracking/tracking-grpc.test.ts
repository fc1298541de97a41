/**
 * Every TrackingService RPC through the generated TypeScript client against a real server, on both
 * stores: success paths, validation messages, and the MLflow error code carried in google.rpc.ErrorInfo.
 */
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunStatus } from "../../gen/ts/logbook/v1/run.js";
import { expectGrpcError } from "../harness/grpc.js";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";

const INVALID = { grpcCode: status.INVALID_ARGUMENT, mlflowCode: "INVALID_PARAMETER_VALUE" };
const NOT_FOUND = { grpcCode: status.NOT_FOUND, mlflowCode: "RESOURCE_DOES_NOT_EXIST" };

describe.each(STORE_KINDS)("TrackingService over gRPC on %s", (kind) => {
  let lb: TestLogbook;
  let t: TestLogbook["tracking"];

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "tracking" });
    t = lb.tracking;
  });
  afterAll(async () => {
    await lb?.close();
  });

  const createExperiment = async (name: string) =>
    (await t.createExperiment({ name, artifactLocation: "", tags: [] })).experimentId;
  const createRun = async (experimentId: string, runName = "") =>
    (await t.createRun({ experimentId, userId: "u", runName, tags: [] })).run!;

  it("has the Default experiment", async () => {
    const { experiment } = await t.getExperiment({ experimentId: "0" });
    expect(experiment).toMatchObject({ experimentId: "0", name: "Default", lifecycleStage: "active", artifactLocation: "mlflow-artifacts:/0" });
  });

  it("creates, gets, renames, tags, deletes and restores experiments", async () => {
    const id = await createExperiment("exp/one");
    expect(id).toMatch(/^[1-9][0-9]*$/);
    const byName = await t.getExperimentByName({ experimentName: "exp/one" });
    expect(byName.experiment).toMatchObject({ experimentId: id, artifactLocation: `mlflow-artifacts:/${id}` });
    expect(typeof byName.experiment!.creationTime).toBe("bigint");

    await t.updateExperiment({ experimentId: id, newName: "exp/renamed" });
    expect((await t.getExperiment({ experimentId: id })).experiment!.name).toBe("exp/renamed");

    await t.setExperimentTag({ experimentId: id, key: "team", value: "quant" });
    await t.setExperimentTag({ experimentId: id, key: "team", value: "ml" });
    expect((await t.getExperiment({ experimentId: id })).experiment!.tags).toEqual([{ key: "team", value: "ml" }]);
    await t.deleteExperimentTag({ experimentId: id, key: "team" });
    expect((await t.getExperiment({ experimentId: id })).experiment!.tags).toEqual([]);
    await expectGrpcError(t.deleteExperimentTag({ experimentId: id, key: "team" }), NOT_FOUND);

    await t.deleteExperiment({ experimentId: id });
    expect((await t.getExperiment({ experimentId: id })).experiment!.lifecycleStage).toBe("deleted");
    const notActive = { ...INVALID, message: "must be in the 'active' state" };
    await expectGrpcError(t.setExperimentTag({ experimentId: id, key: "k", value: "v" }), notActive);
    await expectGrpcError(t.updateExperiment({ experimentId: id, newName: "while-deleted" }), notActive);
    await t.restoreExperiment({ experimentId: id });
    expect((await t.getExperiment({ experimentId: id })).experiment!.lifecycleStage).toBe("active");
  });

  it("keeps a custom artifact location and experiment tags given at creation", async () => {
    const { experimentId } = await t.createExperiment({
      name: "custom-location",
      artifactLocation: "s3://bucket/prefix",
      tags: [{ key: "k", value: "v" }],
    });
    const { experiment } = await t.getExperiment({ experimentId });
    expect(experiment).toMatchObject({ artifactLocation: "s3://bucket/prefix", tags: [{ key: "k", value: "v" }] });
  });

  it("rejects bad experiment requests with MLflow's codes and messages", async () => {
    await createExperiment("dup");
    await expectGrpcError(t.createExperiment({ name: "dup", artifactLocation: "", tags: [] }), {
      grpcCode: status.ALREADY_EXISTS,
      mlflowCode: "RESOURCE_ALREADY_EXISTS",
      message: "dup",
    });
    await expectGrpcError(t.createExperiment({ name: "", artifactLocation: "", tags: [] }), {
      ...INVALID,
      message: "Missing value for required parameter 'name'",
    });
    await expectGrpcError(t.updateExperiment({ experimentId: "0" }), {
      ...INVALID,
      message: "Missing value for required parameter 'new_name'",
    });
    await expectGrpcError(t.createExperiment({ name: "x".repeat(501), artifactLocation: "", tags: [] }), {
      ...INVALID,
      message: "Experiment name exceeds the maximum length of 500 characters",
    });
    await expectGrpcError(t.getExperiment({ experimentId: "abc" }), {
      ...INVALID,
      message: "Invalid experiment ID 'abc'. Experiment ID must be a valid integer.",
    });
    await expectGrpcError(t.getExperiment({ experimentId: "987654" }), { ...NOT_FOUND, message: "987654" });
    await expectGrpcError(t.getExperimentByName({ experimentName: "nope" }), {
      ...NOT_FOUND,
      message: "Could not find experiment with name 'nope'",
    });
    await expectGrpcError(t.getExperimentByName({ experimentName: "" }), {
      ...INVALID,
      message: "Missing value for required parameter 'experiment_name'",
    });
    const other = await createExperiment("taken-later");
    await expectGrpcError(t.updateExperiment({ experimentId: other, newName: "dup" }), {
      grpcCode: status.ALREADY_EXISTS,
      mlflowCode: "RESOURCE_ALREADY_EXISTS",
    });
    await expectGrpcError(t.setExperimentTag({ experimentId: other, key: "bad$key", value: "v" }), {
      ...INVALID,
      message: "Invalid tag name: 'bad$key'",
    });
    await expectGrpcError(t.setExperimentTag({ experimentId: other, key: "k" }), {
      ...INVALID,
      message: "Missing value for required parameter 'value'",
    });
    await expectGrpcError(t.deleteExperiment({ experimentId: "424242" }), NOT_FOUND);
  });

  it("creates runs with MLflow's defaults and reads them back", async () => {
    const exp = await createExperiment("runs");
    const before = Date.now();
    const { run } = await t.createRun({
      experimentId: exp,
      userId: "alice",
      runName: "",
      tags: [{ key: "source", value: "test" }],
    });
    const info = run!.info!;
    expect(info.runId).toMatch(/^[0-9a-f]{32}$/);
    expect(info.runUuid).toBe(info.runId);
    expect(info).toMatchObject({
      experimentId: exp,
      userId: "alice",
      status: RunStatus.RUN_STATUS_RUNNING,
      lifecycleStage: "active",
      artifactUri: `mlflow-artifacts:/${exp}/${info.runId}/artifacts`,
    });
    expect(info.runName).toMatch(/^[a-z]+-[a-z]+-\d+$/);
    expect(Number(info.startTime)).toBeGreaterThanOrEqual(before);
    expect(info.endTime).toBeUndefined();
    expect(run!.data!.tags).toEqual(
      expect.arrayContaining([{ key: "source", value: "test" }, { key: "mlflow.runName", value: info.runName }]),
    );

    const got = await t.getRun({ runId: "", runUuid: info.runId });
    expect(got.run!.info).toEqual(info);

    const named = await t.createRun({ experimentId: exp, userId: "", runName: "given", startTime: 1234n, tags: [] });
    expect(named.run!.info).toMatchObject({ runName: "given", startTime: 1234n });
  });

  it("rejects bad run requests", async () => {
    await expectGrpcError(t.createRun({ experimentId: "777777", userId: "", runName: "", tags: [] }), NOT_FOUND);
    const deletedExp = await createExperiment("deleted-for-runs");
    await t.deleteExperiment({ experimentId: deletedExp });
    await expectGrpcError(t.createRun({ experimentId: deletedExp, userId: "", runName: "", tags: [] }), {
      ...INVALID,
      message: `The experiment ${deletedExp} must be in the 'active' state. Current state is deleted.`,
    });
    await expectGrpcError(t.getRun({ runId: "0123456789abcdef0123456789abcdef", runUuid: "" }), {
      ...NOT_FOUND,
      message: "Run with id=0123456789abcdef0123456789abcdef not found",
    });
    await expectGrpcError(t.getRun({ runId: "", runUuid: "" }), { ...INVALID, message: "'run_id'" });
    await expectGrpcError(t.getRun({ runId: "../etc", runUuid: "" }), { ...INVALID, message: "Invalid run ID: '../etc'" });
    await expectGrpcError(
      t.createRun({
        experimentId: "0",
        userId: "",
        runName: "a",
        tags: [{ key: "mlflow.runName", value: "b" }],
      }),
      { ...INVALID, message: "different values" },
    );
  });

  it("takes a client-chosen run id once: a replayed CreateRun is refused and changes nothing", async () => {
    const exp = await createExperiment("client-run-id");
    const runId = "00000000000000000000000000c0ffee";
    const { run } = await t.createRun({ experimentId: exp, userId: "", runName: "first", tags: [], runId });
    expect(run!.info!.runId).toBe(runId);
    await expectGrpcError(t.createRun({ experimentId: exp, userId: "", runName: "again", tags: [], runId }), {
      grpcCode: status.ALREADY_EXISTS,
      mlflowCode: "RESOURCE_ALREADY_EXISTS",
    });
    expect((await t.getRun({ runId, runUuid: "" })).run!.info!.runName).toBe("first");
    await expectGrpcError(t.createRun({ experimentId: exp, userId: "", runName: "", tags: [], runId: "NOT-HEX" }), { ...INVALID, message: "'run_id'" });
  });

  it("updates, deletes and restores runs", async () => {
    const exp = await createExperiment("lifecycle");
    const run = await createRun(exp, "first");
    const runId = run.info!.runId;
    const { runInfo } = await t.updateRun({
      runId,
      runUuid: "",
      status: RunStatus.RUN_STATUS_FINISHED,
      endTime: 99_000n,
    });
    expect(runInfo).toMatchObject({ status: RunStatus.RUN_STATUS_FINISHED, endTime: 99_000n, runName: "first" });
    const renamed = await t.updateRun({ runId, runUuid: "", status: 0, runName: "second" });
    expect(renamed.runInfo).toMatchObject({ status: RunStatus.RUN_STATUS_FINISHED, endTime: 99_000n, runName: "second" });
    const got = (await t.getRun({ runId, runUuid: "" })).run!;
    expect(got.data!.tags).toContainEqual({ key: "mlflow.runName", value: "second" });

    await t.setTag({ runId, runUuid: "", key: "mlflow.runName", value: "third" });
    expect((await t.getRun({ runId, runUuid: "" })).run!.info!.runName).toBe("third");

    await t.deleteRun({ runId });
    expect((await t.getRun({ runId, runUuid: "" })).run!.info!.lifecycleStage).toBe("deleted");
    await expectGrpcError(
      t.logParam({ runId, runUuid: "", key: "p", value: "1" }),
      { ...INVALID, message: `The run ${runId} must be in the 'active' state. Current state is deleted.` },
    );
    await t.restoreRun({ runId });
    await t.logParam({ runId, runUuid: "", key: "p", value: "1" });
    await expectGrpcError(t.deleteRun({ runId: "ffffffffffffffffffffffffffffffff" }), NOT_FOUND);
  });

  it("logs metrics, params and tags, and keeps param values immutable", async () => {
    const exp = await createExperiment("logging");
    const runId = (await createRun(exp)).info!.runId;
    await t.logMetric({ runId, runUuid: "", key: "loss", value: 0.5, timestamp: 10n, step: 1n });
    await t.logMetric({ runId, runUuid: "", key: "loss", value: 0, timestamp: 11n });
    await t.logMetric({ runId, runUuid: "", key: "loss", value: 0.25, timestamp: 12n, step: 2n });
    await t.logParam({ runId, runUuid: "", key: "alpha", value: "0.1" });
    await t.logParam({ runId, runUuid: "", key: "alpha", value: "0.1" });
    await t.logParam({ runId, runUuid: "", key: "empty", value: "" });
    await t.setTag({ runId, runUuid: "", key: "stage", value: "a" });
    await t.setTag({ runId, runUuid: "", key: "stage", value: "b" });

    await expectGrpcError(t.logParam({ runId, runUuid: "", key: "alpha", value: "0.2" }), {
      ...INVALID,
      message: "Changing param values is not allowed. Param with key='alpha' was already logged with value='0.1'",
    });

    const run = (await t.getRun({ runId, runUuid: "" })).run!;
    expect(run.data!.metrics).toEqual([
      { key: "loss", value: 0.25, timestamp: 12n, step: 2n, runId: "", modelId: undefined, datasetName: undefined, datasetDigest: undefined },
    ]);
    expect(run.data!.params).toEqual(
      expect.arrayContaining([
        { key: "alpha", value: "0.1" },
        { key: "empty", value: "" },
      ]),
    );
    expect(run.data!.tags).toContainEqual({ key: "stage", value: "b" });

    await t.deleteTag({ runId, key: "stage" });
    expect((await t.getRun({ runId, runUuid: "" })).run!.data!.tags.map((x) => x.key)).not.toContain("stage");
    await expectGrpcError(t.deleteTag({ runId, key: "stage" }), NOT_FOUND);

    // MLflow's history order: timestamp, then step, then value (the step-0 point was logged at timestamp 11).
    const history = await t.getMetricHistory({ runId, runUuid: "", metricKey: "loss", pageToken: "" });
    expect(history.metrics.map((m) => [m.timestamp, m.step, m.value])).toEqual([
      [10n, 1n, 0.5],
      [11n, 0n, 0],
      [12n, 2n, 0.25],
    ]);
    expect(history.nextPageToken).toBe("");
  });

  it("validates metrics and params with MLflow's messages", async () => {
    const runId = (await createRun("0")).info!.runId;
    await expectGrpcError(t.logMetric({ runId, runUuid: "", key: "m", timestamp: 1n }), {
      ...INVALID,
      message: "Missing value for required parameter 'value'",
    });
    await expectGrpcError(t.logMetric({ runId, runUuid: "", key: "m", value: 1 }), {
      ...INVALID,
      message: "Missing value for required parameter 'timestamp'",
    });
    await expectGrpcError(t.logMetric({ runId, runUuid: "", key: "m", value: 1, timestamp: -5n }), {
      ...INVALID,
      message: "Got invalid timestamp -5 for metric 'm'",
    });
    await expectGrpcError(t.logMetric({ runId, runUuid: "", key: "bad*key", value: 1, timestamp: 1n }), {
      ...INVALID,
      message: "Invalid metric name: 'bad*key'",
    });
    await expectGrpcError(t.logParam({ runId, runUuid: "", key: "p" }), {
      ...INVALID,
      message: "Missing value for required parameter 'value'",
    });
    await expectGrpcError(t.logParam({ runId, runUuid: "", key: "a/../b", value: "v" }), {
      ...INVALID,
      message: "This name would resolve to 'b'",
    });
  });

  it("log-batch validates the whole batch first and writes nothing when it fails", async () => {
    const runId = (await createRun("0")).info!.runId;
    await t.logParam({ runId, runUuid: "", key: "fixed", value: "1" });
    const metric = (i: number) => ({ key: "m", value: i, timestamp: 1n, step: BigInt(i), runId: "" });
    await expectGrpcError(
      t.logBatch({ runId, metrics: Array.from({ length: 1001 }, (_, i) => metric(i)), params: [], tags: [] }),
      { ...INVALID, message: "A batch logging request can contain at most 1000 metrics. Got 1001 metrics." },
    );
    await expectGrpcError(
      t.logBatch({
        runId,
        metrics: [metric(1)],
        params: [{ key: "fixed", value: "2" }],
        tags: [{ key: "t", value: "x" }],
      }),
      { ...INVALID, message: "Changing param values is not allowed" },
    );
    await expectGrpcError(
      t.logBatch({ runId, metrics: [metric(1), { key: "m2", timestamp: 1n, runId: "" }], params: [], tags: [] }),
      { ...INVALID, message: "'metrics[1].value'" },
    );
    const run = (await t.getRun({ runId, runUuid: "" })).run!;
    expect(run.data!.metrics).toEqual([]);
    expect(run.data!.tags.map((x) => x.key)).not.toContain("t");

    await t.logBatch({
      runId,
      metrics: [metric(3), metric(1), metric(3), { key: "nan", value: Number.NaN, timestamp: 2n, step: 0n, runId: "" }],
      params: [{ key: "fixed", value: "1" }, { key: "long", value: "x".repeat(7000) }],
      tags: [{ key: "t", value: "y".repeat(9000) }],
    });
    const after = (await t.getRun({ runId, runUuid: "" })).run!;
    const byKey = Object.fromEntries(after.data!.metrics.map((m) => [m.key, m]));
    expect(byKey.m).toMatchObject({ value: 3, step: 3n });
    expect(byKey.nan!.value).toBeNaN();
    expect(after.data!.params.find((p) => p.key === "long")!.value).toHaveLength(6000);
    expect(after.data!.tags.find((x) => x.key === "t")!.value).toHaveLength(8000);
    const history = await t.getMetricHistory({ runId, runUuid: "", metricKey: "m", pageToken: "" });
    expect(history.metrics.map((m) => m.step)).toEqual([1n, 3n]); // the repeated identical point is stored once
  });

  it("pages metric history", async () => {
    const runId = (await createRun("0")).info!.runId;
    const metrics = Array.from({ length: 250 }, (_, i) => ({ key: "acc", value: i / 250, timestamp: BigInt(1000 + i), step: BigInt(i), runId: "" }));
    await t.logBatch({ runId, metrics, params: [], tags: [] });
    const seen: bigint[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await t.getMetricHistory({ runId, runUuid: "", metricKey: "acc", pageToken, maxResults: 100 });
      seen.push(...page.metrics.map((m) => m.step!));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken);
    expect(pages).toBe(3);
    expect(seen).toEqual(metrics.map((m) => m.step));
    await expectGrpcError(t.getMetricHistory({ runId, runUuid: "", metricKey: "acc", pageToken: "garbage!" }), INVALID);
    await expectGrpcError(t.getMetricHistory({ runId, runUuid: "", metricKey: "acc", pageToken: "", maxResults: 25001 }), {
      ...INVALID,
      message: "max_results",
    });
    await expectGrpcError(t.getMetricHistory({ runId, runUuid: "", metricKey: "", pageToken: "" }), {
      ...INVALID,
      message: "'metric_key'",
    });
  });

  it("logs inputs and model history", async () => {
    const runId = (await createRun("0")).info!.runId;
    const dataset = { name: "prices", digest: "abc123", sourceType: "local", source: "/data/prices.csv", schema: '{"a":1}' };
    await t.logInputs({
      runId,
      datasets: [{ tags: [{ key: "mlflow.data.context", value: "training" }], dataset }],
      models: [{ modelId: "m-0123" }],
    });
    await t.logInputs({ runId, datasets: [{ tags: [], dataset }], models: [] });
    const run = (await t.getRun({ runId, runUuid: "" })).run!;
    expect(run.inputs!.datasetInputs).toHaveLength(1);
    expect(run.inputs!.datasetInputs[0]!.dataset).toMatchObject({ name: "prices", digest: "abc123", source: "/data/prices.csv" });
    expect(run.inputs!.modelInputs).toEqual([{ modelId: "m-0123" }]);
    await expectGrpcError(t.logInputs({ runId, datasets: [{ tags: [], dataset: { ...dataset, digest: "" } }], models: [] }), {
      ...INVALID,
      message: "'datasets[0].dataset.digest'",
    });

    const model = { artifact_path: "model", flavors: { python_function: {} }, utc_time_created: "2026-01-01", run_id: runId };
    await t.logModel({ runId, modelJson: JSON.stringify(model) });
    await t.logModel({ runId, modelJson: JSON.stringify({ ...model, artifact_path: "model2" }) });
    const tags = (await t.getRun({ runId, runUuid: "" })).run!.data!.tags;
    const history = JSON.parse(tags.find((x) => x.key === "mlflow.log-model.history")!.value!) as { artifact_path: string }[];
    expect(history.map((h) => h.artifact_path)).toEqual(["model", "model2"]);
    await expectGrpcError(t.logModel({ runId, modelJson: "{not json" }), { ...INVALID, message: "is not a valid JSON" });
    await expectGrpcError(t.logModel({ runId, modelJson: '{"flavors":{}}' }), {
      ...INVALID,
      message: "Model json is missing mandatory fields",
    });
  });

  it("reports server status with counts that rise after creates", async () => {
    const before = await t.getServerStatus({});
    expect(before).toMatchObject({
      status: "ok",
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      store: { kind: kind, reachable: true },
      grpcPort: Number(lb.address.split(":")[1]),
    });
    expect(before.store!.location).not.toMatch(/@/); // never credentials
    const exp = await createExperiment("counted");
    await createRun(exp);
    await createRun(exp);
    const after = await t.getServerStatus({});
    expect(after.counts!.experiments).toBe(before.counts!.experiments! + 1n);
    expect(after.counts!.runs).toBe(before.counts!.runs! + 2n);
    expect(after.counts).toMatchObject({ registeredModels: 0n, modelVersions: 0n });
  });

  it("answers unknown ids and malformed requests without changing state", async () => {
    const runId = "abcdefabcdefabcdefabcdefabcdef00";
    await expectGrpcError(t.logBatch({ runId, metrics: [], params: [{ key: "a", value: "b" }], tags: [] }), NOT_FOUND);
    await expectGrpcError(t.updateRun({ runId, runUuid: "", status: RunStatus.RUN_STATUS_FAILED }), NOT_FOUND);
    // As MLflow does: the history of an unknown run is empty, not an error.
    expect(await t.getMetricHistory({ runId, runUuid: "", metricKey: "x", pageToken: "" })).toMatchObject({ metrics: [], nextPageToken: "" });
  });
});
