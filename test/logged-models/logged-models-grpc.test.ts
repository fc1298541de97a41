/**
 * MLflow 3 logged models over gRPC on both stores: every Tracking RPC of the family with its errors (MLflow's codes and
 * messages), metrics linked through LogBatch's model_id, LogOutputs seen on GetRun, ListLoggedModelArtifacts on the
 * Artifact service, and the registry counts of GetServerStatus.
 */
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArtifactServiceService } from "../../gen/ts/logbook/v1/artifact_service.js";
import { LoggedModelStatus } from "../../gen/ts/logbook/v1/logged_model.js";
import { loggedModelNotFound, loggedModelParamChanged, loggedModelTagNotFound } from "../../src/domain/registry-messages.js";
import { uploadGrpc } from "../harness/artifacts.js";
import { expectGrpcError, promiseClient } from "../harness/grpc.js";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";
import { parseLoggedModelOrderBy } from "../../src/domain/filter/logged-model-search.js";

const INVALID = { grpcCode: status.INVALID_ARGUMENT, mlflowCode: "INVALID_PARAMETER_VALUE" };
const NOT_FOUND = { grpcCode: status.NOT_FOUND, mlflowCode: "RESOURCE_DOES_NOT_EXIST" };
const { LOGGED_MODEL_STATUS_LOGGED_MODEL_PENDING: PENDING, LOGGED_MODEL_STATUS_LOGGED_MODEL_READY: READY } = LoggedModelStatus;
const UPLOAD_FAILED = LoggedModelStatus.LOGGED_MODEL_STATUS_LOGGED_MODEL_UPLOAD_FAILED;
const UNKNOWN_ID = `m-${"0".repeat(32)}`;

describe.each(STORE_KINDS)("logged models over gRPC on %s", (kind) => {
  let lb: TestLogbook;
  let t: TestLogbook["tracking"];
  let artifacts: ReturnType<typeof promiseClient<typeof ArtifactServiceService>>;
  let experimentId: string;

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "logged_models_grpc" });
    t = lb.tracking;
    artifacts = promiseClient(ArtifactServiceService, lb.address);
    experimentId = (await t.createExperiment({ name: "logged-models", artifactLocation: "", tags: [] })).experimentId;
  });
  afterAll(async () => {
    artifacts?.close();
    await lb?.close();
  });

  const create = async (fields: Partial<Parameters<typeof t.createLoggedModel>[0]> = {}) =>
    (await t.createLoggedModel({ experimentId, name: "", params: [], tags: [], ...fields })).model!;
  const createRun = async () => (await t.createRun({ experimentId, userId: "u", runName: "", tags: [] })).run!.info!.runId;

  it("creates a PENDING model with MLflow's id, artifact location, params and tags, and gets it back whole", async () => {
    const runId = await createRun();
    const before = Date.now();
    const model = await create({
      name: "forest",
      modelType: "sklearn",
      sourceRunId: runId,
      params: [{ key: "depth", value: "3" }, { key: "depth", value: "3" }, { key: "empty" }],
      tags: [{ key: "team", value: "a" }, { key: "team", value: "b" }],
    });
    const info = model.info!;
    expect(info.modelId).toMatch(/^m-[0-9a-f]{32}$/);
    expect(info).toMatchObject({
      experimentId,
      name: "forest",
      modelType: "sklearn",
      sourceRunId: runId,
      status: PENDING,
      artifactUri: `mlflow-artifacts:/${experimentId}/models/${info.modelId}/artifacts`,
      registrations: [],
    });
    expect(Number(info.creationTimestampMs)).toBeGreaterThanOrEqual(before);
    expect(info.lastUpdatedTimestampMs).toBe(info.creationTimestampMs);
    expect(info.tags).toEqual([{ key: "team", value: "b" }]);
    const params = [...model.data!.params].sort((a, b) => a.key.localeCompare(b.key));
    expect(params).toEqual([{ key: "depth", value: "3" }, { key: "empty", value: "" }]);

    const got = (await t.getLoggedModel({ modelId: info.modelId })).model!;
    expect(got.info).toEqual(info);
    expect([...got.data!.params].sort((a, b) => a.key.localeCompare(b.key))).toEqual(params);
    expect(got.data!.metrics).toEqual([]);

    // A second model gets another id; no name means a readable random one, as MLflow's.
    const unnamed = (await create()).info!;
    expect(unnamed.modelId).not.toBe(info.modelId);
    expect(unnamed.name).toMatch(/^[a-z]+-[a-z]+-\d+$/);
  });

  it("refuses bad create requests with MLflow's codes, creating nothing", async () => {
    const search = { experimentIds: [experimentId], filter: [], datasets: [], order: parseLoggedModelOrderBy([]) };
    const count = async () => (await lb.logbook.store.searchLoggedModels(search, { maxResults: 1000 })).items.length;
    const before = await count();
    await expectGrpcError(t.createLoggedModel({ experimentId: "", name: "m", params: [], tags: [] }), {
      ...INVALID,
      message: "Missing value for required parameter 'experiment_id'",
    });
    await expectGrpcError(create({ experimentId: "abc" }), { ...INVALID, message: "Invalid experiment ID 'abc'" });
    await expectGrpcError(create({ experimentId: "987654" }), { ...NOT_FOUND, message: "No Experiment with id=987654 exists" });
    for (const name of ["a/b", "a:b", "a.b", "a%b", 'a"b', "a'b"]) {
      await expectGrpcError(create({ name }), { ...INVALID, message: `Invalid model name ('${name}') provided.` });
    }
    await expectGrpcError(create({ params: [{ key: "../up", value: "1" }] }), { ...INVALID, message: "Invalid parameter name: '../up'" });
    await expectGrpcError(create({ params: [{ key: "", value: "1" }] }), { ...INVALID, message: "'params[0].key'" });
    await expectGrpcError(create({ params: [{ key: "k".repeat(251), value: "1" }] }), { ...INVALID, message: "exceeded length limit of 250" });
    await expectGrpcError(create({ params: [{ key: "p", value: "1" }, { key: "p", value: "2" }] }), {
      ...INVALID,
      message: "Duplicate parameter keys have been submitted: ['p']",
    });
    await expectGrpcError(create({ tags: [{ key: "bad*key", value: "v" }] }), { ...INVALID, message: "Invalid tag name: 'bad*key'" });
    await expectGrpcError(create({ sourceRunId: "no such/run" }), { ...INVALID, message: "Invalid run ID" });
    expect(await count()).toBe(before);

    const gone = (await t.createExperiment({ name: "logged-models-deleted", artifactLocation: "", tags: [] })).experimentId;
    await t.deleteExperiment({ experimentId: gone });
    await expectGrpcError(create({ experimentId: gone }), { ...INVALID, message: "must be in the 'active' state" });
  });

  it("answers an id no model has as MLflow does: not found, malformed or not", async () => {
    for (const modelId of [UNKNOWN_ID, "m-xyz", "not-a-model", "M-" + "A".repeat(32)]) {
      const { message } = loggedModelNotFound(modelId);
      await expectGrpcError(t.getLoggedModel({ modelId }), { ...NOT_FOUND, message });
      await expectGrpcError(t.finalizeLoggedModel({ modelId, status: READY }), { ...NOT_FOUND, message });
      await expectGrpcError(t.deleteLoggedModel({ modelId }), { ...NOT_FOUND, message });
      await expectGrpcError(t.setLoggedModelTags({ modelId, tags: [{ key: "k", value: "v" }] }), { ...NOT_FOUND, message });
      await expectGrpcError(t.deleteLoggedModelTag({ modelId, tagKey: "k" }), { ...NOT_FOUND, message });
      await expectGrpcError(t.logLoggedModelParams({ modelId, params: [{ key: "k", value: "v" }] }), { ...NOT_FOUND, message });
      await expectGrpcError(t.logLoggedModelParams({ modelId, params: [] }), { ...NOT_FOUND, message });
    }
    await expectGrpcError(t.getLoggedModel({ modelId: "" }), { ...INVALID, message: "Missing value for required parameter 'model_id'" });
  });

  it("finalizes to READY or UPLOAD_FAILED only", async () => {
    const id = (await create()).info!.modelId;
    await expectGrpcError(t.finalizeLoggedModel({ modelId: id, status: PENDING }), { ...INVALID, message: "LOGGED_MODEL_PENDING" });
    await expectGrpcError(t.finalizeLoggedModel({ modelId: id, status: LoggedModelStatus.LOGGED_MODEL_STATUS_UNSPECIFIED }), {
      ...INVALID,
      message: "Missing value for required parameter 'status'",
    });
    await expectGrpcError(t.finalizeLoggedModel({ modelId: id, status: 9 as LoggedModelStatus }), { ...INVALID, message: "'status'" });
    expect((await t.getLoggedModel({ modelId: id })).model!.info!.status).toBe(PENDING);

    const created = (await t.getLoggedModel({ modelId: id })).model!.info!;
    await new Promise((r) => setTimeout(r, 5));
    const ready = (await t.finalizeLoggedModel({ modelId: id, status: READY })).model!.info!;
    expect(ready.status).toBe(READY);
    expect(ready.lastUpdatedTimestampMs! > created.lastUpdatedTimestampMs!).toBe(true);
    expect((await t.getLoggedModel({ modelId: id })).model!.info!.status).toBe(READY);
    expect((await t.finalizeLoggedModel({ modelId: id, status: UPLOAD_FAILED })).model!.info!.status).toBe(UPLOAD_FAILED);
  });

  it("sets and deletes tags", async () => {
    const id = (await create({ tags: [{ key: "a", value: "1" }] })).info!.modelId;
    const tagged = (await t.setLoggedModelTags({ modelId: id, tags: [{ key: "a", value: "2" }, { key: "b/c", value: "3" }] })).model!;
    expect([...tagged.info!.tags].sort((x, y) => x.key.localeCompare(y.key))).toEqual([
      { key: "a", value: "2" },
      { key: "b/c", value: "3" },
    ]);
    await expectGrpcError(t.setLoggedModelTags({ modelId: id, tags: [{ key: "", value: "v" }] }), { ...INVALID, message: "'tags[0].key'" });
    await expectGrpcError(t.setLoggedModelTags({ modelId: id, tags: [{ key: "/abs", value: "v" }] }), { ...INVALID, message: "Invalid tag name" });

    await t.deleteLoggedModelTag({ modelId: id, tagKey: "b/c" });
    expect((await t.getLoggedModel({ modelId: id })).model!.info!.tags).toEqual([{ key: "a", value: "2" }]);
    await expectGrpcError(t.deleteLoggedModelTag({ modelId: id, tagKey: "b/c" }), {
      ...NOT_FOUND,
      message: loggedModelTagNotFound(id, "b/c").message,
    });
    await expectGrpcError(t.deleteLoggedModelTag({ modelId: id, tagKey: "" }), { ...INVALID, message: "'tag_key'" });
  });

  it("logs params once: the same value again is accepted, another value refused with nothing of the call written", async () => {
    const id = (await create({ params: [{ key: "lr", value: "0.1" }] })).info!.modelId;
    await t.logLoggedModelParams({ modelId: id, params: [{ key: "lr", value: "0.1" }, { key: "epochs", value: "5" }] });
    await expectGrpcError(t.logLoggedModelParams({ modelId: id, params: [{ key: "new", value: "x" }, { key: "lr", value: "0.2" }] }), {
      ...INVALID,
      message: loggedModelParamChanged(id, "lr", "0.1", "0.2").message,
    });
    await expectGrpcError(t.logLoggedModelParams({ modelId: id, params: [{ key: "bad key!", value: "x" }] }), { ...INVALID, message: "Invalid parameter name" });
    const params = (await t.getLoggedModel({ modelId: id })).model!.data!.params;
    expect([...params].sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { key: "epochs", value: "5" },
      { key: "lr", value: "0.1" },
    ]);
  });

  it("deletes a model: it is gone for every method", async () => {
    const id = (await create()).info!.modelId;
    await t.deleteLoggedModel({ modelId: id });
    const gone = { ...NOT_FOUND, message: loggedModelNotFound(id).message };
    await expectGrpcError(t.getLoggedModel({ modelId: id }), gone);
    await expectGrpcError(t.deleteLoggedModel({ modelId: id }), gone);
    await expectGrpcError(t.finalizeLoggedModel({ modelId: id, status: READY }), gone);
    await expectGrpcError(t.setLoggedModelTags({ modelId: id, tags: [] }), gone);
    await expectGrpcError(artifacts.listLoggedModelArtifacts({ modelId: id, artifactDirectoryPath: "", pageToken: "" }), gone);
  });

  it("links metrics logged with the model's id, each with its run", async () => {
    const id = (await create()).info!.modelId;
    const runA = await createRun();
    const runB = await createRun();
    await t.logBatch({
      runId: runA,
      metrics: [
        { key: "acc", value: 0.5, timestamp: 10n, step: 0n, runId: "", modelId: id, datasetName: "train", datasetDigest: "abc" },
        { key: "acc", value: 0.7, timestamp: 20n, step: 1n, runId: "", modelId: id },
        { key: "loss", value: 1.0, timestamp: 20n, step: 1n, runId: "" },
      ],
      params: [],
      tags: [],
    });
    await t.logMetric({ runId: runB, runUuid: "", key: "acc", value: 0.9, timestamp: 30n, step: 0n, modelId: id });
    const metrics = (await t.getLoggedModel({ modelId: id })).model!.data!.metrics;
    const summary = metrics.map((m) => [m.key, m.value, m.runId, m.modelId]).sort((a, b) => String(a[2]).localeCompare(String(b[2])) || Number(a[1]) - Number(b[1]));
    expect(summary).toEqual(
      [
        ["acc", 0.5, runA, id],
        ["acc", 0.7, runA, id],
        ["acc", 0.9, runB, id],
      ].sort((a, b) => String(a[2]).localeCompare(String(b[2])) || Number(a[1]) - Number(b[1])),
    );
    expect(metrics.find((m) => m.value === 0.5)).toMatchObject({ timestamp: 10n, step: 0n, datasetName: "train", datasetDigest: "abc" });
  });

  it("LogOutputs links models to a run; GetRun shows them", async () => {
    const runId = await createRun();
    const id = (await create({ sourceRunId: runId })).info!.modelId;
    await t.logOutputs({ runId, models: [{ modelId: id, step: 3n }, { modelId: id }] });
    await t.logOutputs({ runId, models: [{ modelId: id, step: 3n }] });
    // As MLflow: a well-formed id is recorded without being looked up.
    await t.logOutputs({ runId, models: [{ modelId: UNKNOWN_ID, step: 1n }] });
    const outputs = (await t.getRun({ runId, runUuid: "" })).run!.outputs!.modelOutputs;
    const key = (o: { modelId: string; step?: bigint }) => `${o.modelId}@${o.step}`;
    expect(outputs.map(key).sort()).toEqual([`${id}@0`, `${id}@3`, `${UNKNOWN_ID}@1`].sort());

    await expectGrpcError(t.logOutputs({ runId: "", models: [] }), { ...INVALID, message: "'run_id'" });
    await expectGrpcError(t.logOutputs({ runId, models: [{ modelId: "" }] }), { ...INVALID, message: "'models[0].model_id'" });
    await expectGrpcError(t.logOutputs({ runId, models: [{ modelId: "m-nope" }] }), { ...INVALID, message: "'models[0].model_id'" });
    await expectGrpcError(t.logOutputs({ runId, models: [{ modelId: id, step: 2n ** 60n }] }), { ...INVALID, message: "'models[0].step'" });
    const unknownRun = "f".repeat(32);
    await expectGrpcError(t.logOutputs({ runId: unknownRun, models: [{ modelId: id, step: 0n }] }), { ...NOT_FOUND, message: `Run with id=${unknownRun} not found` });
    await t.deleteRun({ runId });
    await expectGrpcError(t.logOutputs({ runId, models: [{ modelId: id, step: 9n }] }), { ...INVALID, message: "must be in the 'active' state" });
    expect((await t.getRun({ runId, runUuid: "" })).run!.outputs!.modelOutputs).toHaveLength(3);
  });

  it("lists a model's artifacts relative to its root, paged", async () => {
    const model = (await create()).info!;
    const root = model.artifactUri.replace(/^mlflow-artifacts:\//, "");
    for (const path of ["MLmodel", "data/model.pkl", "data/inner/x.txt"]) {
      await uploadGrpc(artifacts.raw, { runId: "", path: `${root}/${path}` }, Buffer.from(path));
    }
    const top = await artifacts.listLoggedModelArtifacts({ modelId: model.modelId, artifactDirectoryPath: "", pageToken: "" });
    expect(top).toEqual({
      rootUri: model.artifactUri,
      files: [
        { path: "MLmodel", isDir: false, fileSize: 7n },
        { path: "data", isDir: true },
      ],
      nextPageToken: "",
    });
    const data = await artifacts.listLoggedModelArtifacts({ modelId: model.modelId, artifactDirectoryPath: "data", pageToken: "" });
    expect(data.files).toEqual([
      { path: "data/inner", isDir: true },
      { path: "data/model.pkl", isDir: false, fileSize: 14n },
    ]);
    const none = await artifacts.listLoggedModelArtifacts({ modelId: model.modelId, artifactDirectoryPath: "missing", pageToken: "" });
    expect(none.files).toEqual([]);
    await expectGrpcError(artifacts.listLoggedModelArtifacts({ modelId: model.modelId, artifactDirectoryPath: "../..", pageToken: "" }), {
      ...INVALID,
      message: "Invalid path",
    });
    await expectGrpcError(artifacts.listLoggedModelArtifacts({ modelId: model.modelId, artifactDirectoryPath: "", pageToken: "junk!" }), {
      ...INVALID,
      message: "Invalid page token",
    });
    await expectGrpcError(artifacts.listLoggedModelArtifacts({ modelId: UNKNOWN_ID, artifactDirectoryPath: "", pageToken: "" }), NOT_FOUND);
  });

  // Paging is the service's, over any store's listing; 1003 GridFS files on FerretDB take minutes to write.
  it.runIf(kind === "sqlite")("pages a listing of more than 1000 entries", async () => {
    const model = (await create()).info!;
    const root = model.artifactUri.replace(/^mlflow-artifacts:\//, "");
    const names = Array.from({ length: 1003 }, (_, i) => `f${String(i).padStart(4, "0")}`);
    // Written straight into the artifact store: the listing is what is under test, not 1003 uploads.
    for (let at = 0; at < names.length; at += 100) {
      await Promise.all(names.slice(at, at + 100).map((name) => lb.logbook.artifacts.write(`${root}/many/${name}`, (async function* () {})())));
    }
    const first = await artifacts.listLoggedModelArtifacts({ modelId: model.modelId, artifactDirectoryPath: "many", pageToken: "" });
    expect(first.files).toHaveLength(1000);
    expect(first.nextPageToken).not.toBe("");
    const second = await artifacts.listLoggedModelArtifacts({ modelId: model.modelId, artifactDirectoryPath: "many", pageToken: first.nextPageToken });
    expect(second.nextPageToken).toBe("");
    expect([...first.files, ...second.files].map((f) => f.path)).toEqual(names.map((n) => `many/${n}`));
  });

  it("GetServerStatus counts registered models and model versions", async () => {
    const counts = async () => (await t.getServerStatus({})).counts!;
    const before = await counts();
    const store = lb.logbook.store;
    const name = `counted-${kind}`;
    await store.createRegisteredModel({ name, description: "", userId: "u", tags: [], now: Date.now() });
    const model = (await create()).info!;
    for (let i = 0; i < 2; i++) {
      await store.createModelVersion({
        name, source: `models:/${model.modelId}`, runId: "", runLink: "", description: "", userId: "u", tags: [],
        modelId: model.modelId, storageLocation: model.artifactUri, now: Date.now(),
      });
    }
    const after = await counts();
    expect(after.registeredModels).toBe((before.registeredModels ?? 0n) + 1n);
    expect(after.modelVersions).toBe((before.modelVersions ?? 0n) + 2n);
    expect(after.experiments).toBe(before.experiments);
  });
});
