/**
 * RegistryService over gRPC on both stores: every RPC, its answers and its errors (gRPC code and the MLflow code
 * carried in google.rpc.ErrorInfo), with MLflow 3.17's messages.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryServiceService, type CreateModelVersionRequest } from "../../gen/ts/logbook/v1/registry.js";
import { ModelVersionStatus } from "../../gen/ts/logbook/v1/model_registry.js";
import { expectGrpcError, promiseClient, type PromiseClient } from "../harness/grpc.js";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";

type Registry = PromiseClient<typeof RegistryServiceService>;

const INVALID = { grpcCode: status.INVALID_ARGUMENT, mlflowCode: "INVALID_PARAMETER_VALUE" };
const NOT_FOUND = { grpcCode: status.NOT_FOUND, mlflowCode: "RESOURCE_DOES_NOT_EXIST" };
const EXISTS = { grpcCode: status.ALREADY_EXISTS, mlflowCode: "RESOURCE_ALREADY_EXISTS" };
const RELATIVE =
  "If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present.";

describe.each(STORE_KINDS)("RegistryService over gRPC on %s", (kind) => {
  let lb: TestLogbook;
  let r: Registry;
  let seq = 0;
  /** A fresh model name per test, so tests do not depend on each other. */
  const fresh = (base: string) => `${base}-${++seq}`;
  const model = async (name: string) => {
    await r.createRegisteredModel({ name, tags: [] });
    return name;
  };
  const version = (name: string, extra: Partial<CreateModelVersionRequest> = {}) =>
    r.createModelVersion({ name, source: "s3://bucket/path/model", tags: [], ...extra }).then((res) => res.modelVersion!);
  const stageOf = async (name: string, v: string) => (await r.getModelVersion({ name, version: v })).modelVersion!.currentStage;
  const run = async (experimentId = "0") =>
    (await lb.tracking.createRun({ experimentId, userId: "", runName: "r", tags: [] })).run!.info!;

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "registry" });
    r = promiseClient(RegistryServiceService, lb.address);
  });
  afterAll(async () => {
    r?.close();
    await lb?.close();
  });

  describe("registered models", () => {
    it("CreateRegisteredModel answers the model, keeping the last value of a repeated tag key", async () => {
      const name = fresh("create");
      const before = Date.now();
      const { registeredModel: m } = await r.createRegisteredModel({
        name,
        description: "forecasts",
        tags: [{ key: "team", value: "a" }, { key: "team", value: "b" }, { key: "empty" }],
      });
      expect(m).toMatchObject({ name, description: "forecasts", latestVersions: [], aliases: [] });
      expect(m!.tags.map((t) => [t.key, t.value]).sort()).toEqual([["empty", ""], ["team", "b"]]);
      expect(Number(m!.creationTimestamp)).toBeGreaterThanOrEqual(before);
      expect(m!.lastUpdatedTimestamp).toBe(m!.creationTimestamp);
      expect(m!.userId).toBeUndefined();
    });

    it("CreateRegisteredModel refuses a taken name, a missing or bad name and bad tags", async () => {
      const name = await model(fresh("dup"));
      await expectGrpcError(r.createRegisteredModel({ name, tags: [] }), { ...EXISTS, message: `Registered Model (name=${name}) already exists.` });
      await expectGrpcError(r.createRegisteredModel({ name: "", tags: [] }), { ...INVALID, message: "Missing value for required parameter 'name'." });
      await expectGrpcError(r.createRegisteredModel({ name: "a/b", tags: [] }), { ...INVALID, message: "Names cannot contain '/' or ':'." });
      await expectGrpcError(r.createRegisteredModel({ name: fresh("t"), tags: [{ key: "a*b", value: "" }] }), {
        ...INVALID,
        message: `Invalid value "a*b" for parameter 'key' supplied`,
      });
      await expectGrpcError(r.createRegisteredModel({ name: fresh("t"), tags: [{ key: "k", value: "v".repeat(5001) }] }), {
        ...INVALID,
        message: "'value' exceeds the maximum length of 5000 characters",
      });
    });

    it("GetRegisteredModel answers latest versions per stage and aliases; an unknown name is 404", async () => {
      const name = await model(fresh("get"));
      for (let i = 0; i < 3; i++) await version(name);
      await r.transitionModelVersionStage({ name, version: "1", stage: "production", archiveExistingVersions: false });
      await r.setRegisteredModelAlias({ name, alias: "champion", version: "1" });
      const { registeredModel: m } = await r.getRegisteredModel({ name });
      expect(m!.latestVersions.map((v) => [v.currentStage, v.version])).toEqual([["None", "3"], ["Production", "1"]]);
      expect(m!.aliases).toEqual([{ alias: "champion", version: "1" }]);
      await expectGrpcError(r.getRegisteredModel({ name: "never-created" }), { ...NOT_FOUND, message: "Registered Model with name=never-created not found" });
      await expectGrpcError(r.getRegisteredModel({ name: " " }), { ...INVALID, message: "Missing value for required parameter 'name'." });
    });

    it("RenameRegisteredModel moves versions, tags and aliases; refuses taken, unknown and bad names", async () => {
      const name = await model(fresh("old"));
      await version(name);
      await r.setRegisteredModelTag({ name, key: "k", value: "v" });
      await r.setRegisteredModelAlias({ name, alias: "a", version: "1" });
      const newName = fresh("new");
      const { registeredModel: m } = await r.renameRegisteredModel({ name, newName });
      expect(m).toMatchObject({ name: newName, tags: [{ key: "k", value: "v" }], aliases: [{ alias: "a", version: "1" }] });
      expect((await r.getModelVersion({ name: newName, version: "1" })).modelVersion).toMatchObject({ name: newName, aliases: ["a"] });
      await expectGrpcError(r.getRegisteredModel({ name }), NOT_FOUND);
      const other = await model(fresh("other"));
      await expectGrpcError(r.renameRegisteredModel({ name: newName, newName: other }), EXISTS);
      await expectGrpcError(r.renameRegisteredModel({ name: "never-created", newName: fresh("x") }), NOT_FOUND);
      await expectGrpcError(r.renameRegisteredModel({ name: newName, newName: "" }), {
        ...INVALID,
        message: "Missing value for required parameter 'new_name'.",
      });
      await expectGrpcError(r.renameRegisteredModel({ name: newName, newName: "a:b" }), { ...INVALID, message: "Invalid model name 'a:b'." });
    });

    it("UpdateRegisteredModel sets the description and the last-updated time", async () => {
      const name = await model(fresh("upd"));
      const created = (await r.getRegisteredModel({ name })).registeredModel!;
      await new Promise((done) => setTimeout(done, 5));
      const { registeredModel: m } = await r.updateRegisteredModel({ name, description: "new text" });
      expect(m!.description).toBe("new text");
      expect(m!.lastUpdatedTimestamp! > created.lastUpdatedTimestamp!).toBe(true);
      await expectGrpcError(r.updateRegisteredModel({ name: "never-created", description: "x" }), NOT_FOUND);
    });

    it("DeleteRegisteredModel removes the model with its versions; an unknown name is 404", async () => {
      const name = await model(fresh("del"));
      await version(name);
      await r.deleteRegisteredModel({ name });
      await expectGrpcError(r.getRegisteredModel({ name }), NOT_FOUND);
      await expectGrpcError(r.getModelVersion({ name, version: "1" }), NOT_FOUND);
      await expectGrpcError(r.deleteRegisteredModel({ name }), NOT_FOUND);
      // The name is free again, and numbering starts over with the new model.
      await model(name);
      expect((await version(name)).version).toBe("1");
    });

    it("Set/DeleteRegisteredModelTag upsert and remove; deleting an unset key is no error", async () => {
      const name = await model(fresh("tags"));
      await r.setRegisteredModelTag({ name, key: "k", value: "1" });
      await r.setRegisteredModelTag({ name, key: "k", value: "2" });
      await r.setRegisteredModelTag({ name, key: "novalue" });
      const tags = (await r.getRegisteredModel({ name })).registeredModel!.tags;
      expect(tags.map((t) => [t.key, t.value]).sort()).toEqual([["k", "2"], ["novalue", ""]]);
      await r.deleteRegisteredModelTag({ name, key: "k" });
      await r.deleteRegisteredModelTag({ name, key: "never-set" });
      expect((await r.getRegisteredModel({ name })).registeredModel!.tags.map((t) => t.key)).toEqual(["novalue"]);
      await expectGrpcError(r.setRegisteredModelTag({ name: "never-created", key: "k", value: "v" }), NOT_FOUND);
      await expectGrpcError(r.deleteRegisteredModelTag({ name: "never-created", key: "k" }), NOT_FOUND);
      await expectGrpcError(r.setRegisteredModelTag({ name, key: "", value: "v" }), { ...INVALID, message: "Missing value for required parameter 'key'." });
      await expectGrpcError(r.setRegisteredModelTag({ name, key: "../k", value: "v" }), { ...INVALID, message: "This name would resolve to '../k'" });
      await expectGrpcError(r.setRegisteredModelTag({ name, key: "k".repeat(251), value: "v" }), {
        ...INVALID,
        message: "'key' exceeds the maximum length of 250 characters",
      });
      await expectGrpcError(r.deleteRegisteredModelTag({ name, key: "a$b" }), INVALID);
    });

    it("GetLatestVersions answers the newest version per requested stage, stages in any case", async () => {
      const name = await model(fresh("latest"));
      for (let i = 0; i < 4; i++) await version(name);
      await r.transitionModelVersionStage({ name, version: "1", stage: "Staging", archiveExistingVersions: false });
      await r.transitionModelVersionStage({ name, version: "2", stage: "Staging", archiveExistingVersions: false });
      await r.transitionModelVersionStage({ name, version: "3", stage: "Production", archiveExistingVersions: false });
      const all = await r.getLatestVersions({ name, stages: [] });
      expect(all.modelVersions.map((v) => [v.currentStage, v.version])).toEqual([["None", "4"], ["Staging", "2"], ["Production", "3"]]);
      const some = await r.getLatestVersions({ name, stages: ["STAGING", "archived"] });
      expect(some.modelVersions.map((v) => v.version)).toEqual(["2"]);
      await expectGrpcError(r.getLatestVersions({ name, stages: ["Prod"] }), {
        ...INVALID,
        message: "Invalid Model Version stage: Prod. Value must be one of None, Staging, Production, Archived.",
      });
      await expectGrpcError(r.getLatestVersions({ name: "never-created", stages: [] }), NOT_FOUND);
    });
  });

  describe("model versions", () => {
    it("CreateModelVersion numbers versions 1, 2, 3 and answers MLflow's fields", async () => {
      const name = await model(fresh("mv"));
      const info = await run();
      const v1 = await version(name, {
        source: `runs:/${info.runId}/model`,
        runId: info.runId,
        runLink: "http://link",
        description: "first",
        tags: [{ key: "k", value: "v" }],
      });
      expect(v1).toMatchObject({
        name,
        version: "1",
        currentStage: "None",
        status: ModelVersionStatus.MODEL_VERSION_STATUS_READY,
        source: `runs:/${info.runId}/model`,
        runId: info.runId,
        runLink: "http://link",
        description: "first",
        tags: [{ key: "k", value: "v" }],
        aliases: [],
      });
      expect(v1.userId).toBeUndefined();
      expect([(await version(name)).version, (await version(name)).version]).toEqual(["2", "3"]);
    });

    it("CreateModelVersion refuses an unknown model, a missing source and bad tags", async () => {
      await expectGrpcError(version("never-created"), { ...NOT_FOUND, message: "Registered Model with name=never-created not found" });
      const name = await model(fresh("mv-bad"));
      await expectGrpcError(version(name, { source: "" }), { ...INVALID, message: "Missing value for required parameter 'source'." });
      await expectGrpcError(version(name, { tags: [{ key: "a*", value: "v" }] }), INVALID);
      await expectGrpcError(version(name, { tags: [{ key: "k", value: "v".repeat(5001) }] }), INVALID);
      // Nothing was written by the refused calls.
      expect((await version(name)).version).toBe("1");
    });

    it.each([
      "s3://bucket/a/../../etc",
      "mlflow-artifacts://host/..%2f..%2fsecret",
      "http://host/api/2.0/mlflow-artifacts/artifacts/%252e%252e/x",
      "s3://bucket/x%00",
      "s3://bucket",
    ])("CreateModelVersion refuses the relative source %s", async (source) => {
      const name = await model(fresh("rel"));
      await expectGrpcError(version(name, { source }), { ...INVALID, message: `Invalid model version source: '${source}'. ${RELATIVE}` });
    });

    it("a local source must lie inside the artifact directory of the run named by run_id", async () => {
      const name = await model(fresh("local"));
      const root = join(lb.dataDir, "local-artifacts");
      mkdirSync(root, { recursive: true });
      const { experimentId } = await lb.tracking.createExperiment({ name: fresh("local-exp"), artifactLocation: root, tags: [] });
      const info = await run(experimentId);
      expect(info.artifactUri).toBe(`${root}/${info.runId}/artifacts`);
      const inside = `${info.artifactUri}/model`;
      expect((await version(name, { source: inside, runId: info.runId })).source).toBe(inside);
      expect((await version(name, { source: `file://${inside}`, runId: info.runId })).version).toBe("2");
      const outside = `${root}/other/model`;
      await expectGrpcError(version(name, { source: outside, runId: info.runId }), {
        ...INVALID,
        message: `Invalid model version source: '${outside}'. To use a local path as a model version source, the run_id request parameter has to be specified`,
      });
      await expectGrpcError(version(name, { source: `${info.artifactUri}/../../escape`, runId: info.runId }), INVALID);
      await expectGrpcError(version(name, { source: inside }), { ...INVALID, message: "the run_id request parameter has to be specified" });
      // MLflow 3.17.2 answers this one 500 INTERNAL_ERROR (its server tests expect it).
      await expectGrpcError(version(name, { source: "file://elsewhere/tmp/x", runId: info.runId }), {
        grpcCode: status.INTERNAL,
        mlflowCode: "INTERNAL_ERROR",
        message: "is not a valid remote uri",
      });
      // A run whose artifacts are not local cannot vouch for a local path.
      const proxied = await run();
      await expectGrpcError(version(name, { source: "/tmp/model", runId: proxied.runId }), INVALID);
    });

    it("runs:/ and mlflow-artifacts: sources must belong to the run named by run_id", async () => {
      const name = await model(fresh("runsrc"));
      const a = await run();
      const b = await run();
      expect((await version(name, { source: `runs:/${a.runId}/model`, runId: a.runId })).version).toBe("1");
      const notOfRun = "The run_id request parameter must identify the resource that contains the source.";
      await expectGrpcError(version(name, { source: `runs:/${a.runId}/model`, runId: b.runId }), { ...INVALID, message: notOfRun });
      await expectGrpcError(version(name, { source: `runs:/${a.runId}/model` }), { ...INVALID, message: notOfRun });
      expect(a.artifactUri).toMatch(/^mlflow-artifacts:\//);
      expect((await version(name, { source: `${a.artifactUri}/model`, runId: a.runId })).version).toBe("2");
      await expectGrpcError(version(name, { source: `${a.artifactUri}/model`, runId: b.runId }), { ...INVALID, message: notOfRun });
      await expectGrpcError(version(name, { source: `${a.artifactUri}/model`, runId: "0123456789abcdef0123456789abcdef" }), {
        ...INVALID,
        message: notOfRun,
      });
      // Other object stores are the client's business.
      expect((await version(name, { source: "gs://bucket/model" })).version).toBe("3");
    });

    it("a version made from a logged model keeps its id, and downloads from its artifact location", async () => {
      const name = await model(fresh("logged"));
      const info = await run();
      const modelId = `m-${randomBytes(16).toString("hex")}`;
      const logged = await lb.logbook.store.createLoggedModel({
        modelId,
        experimentId: "0",
        name: "clf",
        sourceRunId: info.runId,
        params: [],
        tags: [],
        now: Date.now(),
      });
      const v = await version(name, { source: `models:/${modelId}`, modelId });
      expect(v).toMatchObject({ source: `models:/${modelId}`, modelId, runId: info.runId });
      expect((await r.getModelVersionDownloadUri({ name, version: v.version })).artifactUri).toBe(logged.artifactUri);
      expect((await lb.logbook.store.getLoggedModel(modelId)).registrations).toEqual([{ name, version: "1" }]);

      const notOfModel = "The model_id request parameter must identify the resource that contains the source.";
      await expectGrpcError(version(name, { source: `models:/${modelId}` }), { ...INVALID, message: notOfModel });
      await expectGrpcError(version(name, { source: `runs:/${info.runId}/model`, modelId }), { ...INVALID, message: notOfModel });
      const unknown = `m-${"0".repeat(32)}`;
      await expectGrpcError(version(name, { source: `models:/${unknown}`, modelId: unknown }), {
        ...NOT_FOUND,
        message: `Logged model with ID '${unknown}' not found.`,
      });
      await expectGrpcError(version(name, { source: `models:/${unknown}`, modelId }), { ...INVALID, message: notOfModel });
      // A source elsewhere stays the download location.
      const other = await version(name, { source: "s3://bucket/copy", modelId });
      expect((await r.getModelVersionDownloadUri({ name, version: other.version })).artifactUri).toBe("s3://bucket/copy");
    });

    it("a models:/<name>/<version> source inherits the referenced version's lineage and location", async () => {
      const origin = await model(fresh("origin"));
      const info = await run();
      await version(origin, { source: `runs:/${info.runId}/model`, runId: info.runId });
      await r.setRegisteredModelAlias({ name: origin, alias: "best", version: "1" });
      const copy = await model(fresh("copy"));
      for (const source of [`models:/${origin}/1`, `models:/${origin}@best`, `models:/${origin}/latest`, `models:/${origin}/None`]) {
        const v = await version(copy, { source });
        expect(v).toMatchObject({ source: `models:/${origin}/1`, runId: info.runId });
        expect((await r.getModelVersionDownloadUri({ name: copy, version: v.version })).artifactUri).toBe(`runs:/${info.runId}/model`);
      }
      await expectGrpcError(version(copy, { source: `models:/${origin}/1`, runId: "someotherrun" }), {
        ...INVALID,
        message: "The run_id and model_id request parameters must match the referenced model version.",
      });
      await expectGrpcError(version(copy, { source: `models:/${origin}/7` }), NOT_FOUND);
      await expectGrpcError(version(copy, { source: `models:/${origin}/Production` }), {
        ...NOT_FOUND,
        message: `No versions of model with name '${origin}' and stage 'Production' found`,
      });
      await expectGrpcError(version(copy, { source: "models:/never-created/1" }), NOT_FOUND);
      await expectGrpcError(version(copy, { source: `models://host/${origin}/1` }), { ...INVALID, message: "must use the active model registry" });
    });

    it("GetModelVersion reads a version; a non-integer or unknown version is refused", async () => {
      const name = await model(fresh("getmv"));
      await version(name);
      expect((await r.getModelVersion({ name, version: "1" })).modelVersion!.version).toBe("1");
      expect((await r.getModelVersion({ name, version: " 01 " })).modelVersion!.version).toBe("1");
      await expectGrpcError(r.getModelVersion({ name, version: "one" }), { ...INVALID, message: "Parameter 'version' must be an integer, got 'one'." });
      await expectGrpcError(r.getModelVersion({ name, version: "" }), { ...INVALID, message: "Missing value for required parameter 'version'." });
      await expectGrpcError(r.getModelVersion({ name, version: "9" }), { ...NOT_FOUND, message: `Model Version (name=${name}, version=9) not found` });
      await expectGrpcError(r.getModelVersion({ name: "never-created", version: "1" }), NOT_FOUND);
    });

    it("UpdateModelVersion sets the description", async () => {
      const name = await model(fresh("updmv"));
      await version(name, { description: "old" });
      const { modelVersion } = await r.updateModelVersion({ name, version: "1", description: "new" });
      expect(modelVersion!.description).toBe("new");
      expect((await r.getModelVersion({ name, version: "1" })).modelVersion!.description).toBe("new");
      await expectGrpcError(r.updateModelVersion({ name, version: "2", description: "x" }), NOT_FOUND);
      await expectGrpcError(r.updateModelVersion({ name, version: "x", description: "x" }), INVALID);
    });

    it("DeleteModelVersion removes the version and its aliases; its number is not reused", async () => {
      const name = await model(fresh("delmv"));
      await version(name);
      await version(name);
      await r.setRegisteredModelAlias({ name, alias: "gone", version: "2" });
      await r.deleteModelVersion({ name, version: "2" });
      await expectGrpcError(r.getModelVersion({ name, version: "2" }), NOT_FOUND);
      // MLflow answers an alias that is not set with INVALID_PARAMETER_VALUE.
      await expectGrpcError(r.getModelVersionByAlias({ name, alias: "gone" }), { ...INVALID, message: "Registered model alias gone not found." });
      expect((await r.getRegisteredModel({ name })).registeredModel!.aliases).toEqual([]);
      expect((await version(name)).version).toBe("3");
      await expectGrpcError(r.deleteModelVersion({ name, version: "2" }), NOT_FOUND);
    });

    it("Set/DeleteModelVersionTag upsert and remove", async () => {
      const name = await model(fresh("mvtags"));
      await version(name);
      await r.setModelVersionTag({ name, version: "1", key: "k", value: "1" });
      await r.setModelVersionTag({ name, version: "1", key: "k", value: "2" });
      expect((await r.getModelVersion({ name, version: "1" })).modelVersion!.tags).toEqual([{ key: "k", value: "2" }]);
      await r.deleteModelVersionTag({ name, version: "1", key: "k" });
      await r.deleteModelVersionTag({ name, version: "1", key: "k" });
      expect((await r.getModelVersion({ name, version: "1" })).modelVersion!.tags).toEqual([]);
      await expectGrpcError(r.setModelVersionTag({ name, version: "2", key: "k", value: "v" }), NOT_FOUND);
      await expectGrpcError(r.deleteModelVersionTag({ name, version: "2", key: "k" }), NOT_FOUND);
      await expectGrpcError(r.setModelVersionTag({ name, version: "1", key: "", value: "v" }), INVALID);
      await expectGrpcError(r.setModelVersionTag({ name, version: "1", key: "k", value: "v".repeat(5001) }), INVALID);
    });

    it("TransitionModelVersionStage moves a version, archiving the others in the stage on request", async () => {
      const name = await model(fresh("stage"));
      for (let i = 0; i < 3; i++) await version(name);
      const moved = await r.transitionModelVersionStage({ name, version: "1", stage: "PRODUCTION", archiveExistingVersions: false });
      expect(moved.modelVersion!.currentStage).toBe("Production");
      // Absent archive_existing_versions reads as false, as MLflow's handler reads it.
      await r.transitionModelVersionStage({ name, version: "2", stage: "production" });
      expect([await stageOf(name, "1"), await stageOf(name, "2")]).toEqual(["Production", "Production"]);
      await r.transitionModelVersionStage({ name, version: "3", stage: "Production", archiveExistingVersions: true });
      expect([await stageOf(name, "1"), await stageOf(name, "2"), await stageOf(name, "3")]).toEqual(["Archived", "Archived", "Production"]);
      await expectGrpcError(r.transitionModelVersionStage({ name, version: "1", stage: "live", archiveExistingVersions: false }), {
        ...INVALID,
        message: "Invalid Model Version stage: live. Value must be one of None, Staging, Production, Archived.",
      });
      await expectGrpcError(r.transitionModelVersionStage({ name, version: "1", stage: "none", archiveExistingVersions: true }), {
        ...INVALID,
        message: "because 'none' is not an Active stage. Valid stages are ['Staging', 'Production']",
      });
      await expectGrpcError(r.transitionModelVersionStage({ name, version: "1", stage: "", archiveExistingVersions: false }), {
        ...INVALID,
        message: "Missing value for required parameter 'stage'.",
      });
      await expectGrpcError(r.transitionModelVersionStage({ name, version: "7", stage: "Staging", archiveExistingVersions: false }), NOT_FOUND);
    });

    it("GetModelVersionDownloadUri answers the source; unknown versions are 404", async () => {
      const name = await model(fresh("dl"));
      await version(name, { source: "s3://bucket/exact/model" });
      expect(await r.getModelVersionDownloadUri({ name, version: "1" })).toEqual({ artifactUri: "s3://bucket/exact/model" });
      await expectGrpcError(r.getModelVersionDownloadUri({ name, version: "2" }), NOT_FOUND);
      await expectGrpcError(r.getModelVersionDownloadUri({ name, version: "v2" }), INVALID);
    });
  });

  describe("aliases", () => {
    it("set, read, move and delete an alias", async () => {
      const name = await model(fresh("alias"));
      await version(name);
      await version(name);
      await r.setRegisteredModelAlias({ name, alias: "champion", version: "1" });
      await r.setRegisteredModelAlias({ name, alias: "shadow", version: "1" });
      const byAlias = (await r.getModelVersionByAlias({ name, alias: "champion" })).modelVersion!;
      expect(byAlias).toMatchObject({ version: "1", aliases: ["champion", "shadow"] });
      await r.setRegisteredModelAlias({ name, alias: "champion", version: "2" });
      expect((await r.getModelVersionByAlias({ name, alias: "champion" })).modelVersion!.version).toBe("2");
      expect((await r.getRegisteredModel({ name })).registeredModel!.aliases).toEqual([
        { alias: "champion", version: "2" },
        { alias: "shadow", version: "1" },
      ]);
      await r.deleteRegisteredModelAlias({ name, alias: "champion" });
      await r.deleteRegisteredModelAlias({ name, alias: "never-set" });
      expect((await r.getModelVersion({ name, version: "2" })).modelVersion!.aliases).toEqual([]);
      await expectGrpcError(r.getModelVersionByAlias({ name, alias: "champion" }), {
        ...INVALID,
        message: "Registered model alias champion not found.",
      });
    });

    it("`latest` reads the highest version", async () => {
      const name = await model(fresh("latest-alias"));
      await expectGrpcError(r.getModelVersionByAlias({ name, alias: "latest" }), {
        ...NOT_FOUND,
        message: `Latest version not found for model ${name}.`,
      });
      for (let i = 0; i < 3; i++) await version(name);
      await r.transitionModelVersionStage({ name, version: "3", stage: "Archived", archiveExistingVersions: false });
      expect((await r.getModelVersionByAlias({ name, alias: "Latest" })).modelVersion!.version).toBe("3");
    });

    it("refuses reserved and malformed aliases, unknown models and versions", async () => {
      const name = await model(fresh("alias-bad"));
      await version(name);
      await expectGrpcError(r.setRegisteredModelAlias({ name, alias: "latest", version: "1" }), {
        ...INVALID,
        message: "'latest' alias name (case insensitive) is reserved.",
      });
      await expectGrpcError(r.setRegisteredModelAlias({ name, alias: "v1", version: "1" }), {
        ...INVALID,
        message: "Version alias name 'v1' is reserved.",
      });
      await expectGrpcError(r.setRegisteredModelAlias({ name, alias: "a.b", version: "1" }), {
        ...INVALID,
        message: "Invalid alias name: 'a.b'. Names may only contain alphanumerics, underscores (_), and dashes (-).",
      });
      await expectGrpcError(r.setRegisteredModelAlias({ name, alias: "x".repeat(256), version: "1" }), INVALID);
      await expectGrpcError(r.setRegisteredModelAlias({ name, alias: "ok", version: "one" }), INVALID);
      await expectGrpcError(r.setRegisteredModelAlias({ name, alias: "ok", version: "5" }), NOT_FOUND);
      await expectGrpcError(r.setRegisteredModelAlias({ name: "never-created", alias: "ok", version: "1" }), NOT_FOUND);
      await expectGrpcError(r.deleteRegisteredModelAlias({ name: "never-created", alias: "ok" }), NOT_FOUND);
      await expectGrpcError(r.getModelVersionByAlias({ name: "never-created", alias: "ok" }), NOT_FOUND);
      await expectGrpcError(r.getModelVersionByAlias({ name, alias: "" }), { ...INVALID, message: "Missing value for required parameter 'alias'." });
    });
  });

  describe("service endpoints", () => {
    it("GetModelDetails answers the model with every version, newest first", async () => {
      const name = await model(fresh("details"));
      for (let i = 0; i < 3; i++) await version(name);
      await r.deleteModelVersion({ name, version: "2" });
      const details = await r.getModelDetails({ modelName: name });
      expect(details.registeredModel!.name).toBe(name);
      expect(details.modelVersions.map((v) => v.version)).toEqual(["3", "1"]);
      await expectGrpcError(r.getModelDetails({ modelName: "never-created" }), NOT_FOUND);
      await expectGrpcError(r.getModelDetails({ modelName: "" }), { ...INVALID, message: "parameter 'model_name'" });
    });

    it("PromoteModelVersion takes the stage in any case and archives only on request", async () => {
      const name = await model(fresh("promote"));
      for (let i = 0; i < 3; i++) await version(name);
      const promoted = await r.promoteModelVersion({ name, version: "1", stage: "staging", archiveExistingVersions: false });
      expect(promoted.modelVersion).toMatchObject({ version: "1", currentStage: "Staging" });
      await r.promoteModelVersion({ name, version: "2", stage: "STAGING", archiveExistingVersions: false });
      expect([await stageOf(name, "1"), await stageOf(name, "2")]).toEqual(["Staging", "Staging"]);
      await r.promoteModelVersion({ name, version: "3", stage: "Staging", archiveExistingVersions: true });
      expect([await stageOf(name, "1"), await stageOf(name, "2"), await stageOf(name, "3")]).toEqual(["Archived", "Archived", "Staging"]);
      await expectGrpcError(r.promoteModelVersion({ name, version: "1", stage: "gold", archiveExistingVersions: false }), {
        ...INVALID,
        message: "Invalid Model Version stage: gold.",
      });
      await expectGrpcError(r.promoteModelVersion({ name, version: "9", stage: "Production", archiveExistingVersions: false }), NOT_FOUND);
      await expectGrpcError(r.promoteModelVersion({ name: "never-created", version: "1", stage: "Production", archiveExistingVersions: false }), NOT_FOUND);
    });
  });
});
