/**
 * Symbolic links planted in a run's artifact directory (by anyone with access to the data dir) never let a client
 * read, list, write or delete outside the artifact root: every route and RPC refuses with "Invalid path", and the
 * files outside stay as they were. A link to a file is replaced, not written through, by an upload.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArtifactServiceService } from "../../gen/ts/logbook/v1/artifact_service.js";
import { RegistryServiceService } from "../../gen/ts/logbook/v1/registry.js";
import { downloadGrpc, rawRequest, uploadGrpc } from "../harness/artifacts.js";
import { expectGrpcError, promiseClient, type PromiseClient } from "../harness/grpc.js";
import { startTestLogbook, tempDir, type TestLogbook } from "../harness/logbook.js";

const PROXY = "/api/2.0/mlflow-artifacts/artifacts";
const INVALID = { grpcCode: status.INVALID_ARGUMENT, mlflowCode: "INVALID_PARAMETER_VALUE", message: "Invalid path" };

describe("symbolic links out of the artifact root (filesystem store)", () => {
  let lb: TestLogbook;
  let artifacts: PromiseClient<typeof ArtifactServiceService>;
  let registry: PromiseClient<typeof RegistryServiceService>;
  const outside = tempDir("logbook-outside-");
  let runId: string;
  let runRoot: string;
  let snapshot: () => string;

  beforeAll(async () => {
    lb = await startTestLogbook("sqlite");
    artifacts = promiseClient(ArtifactServiceService, lb.address);
    registry = promiseClient(RegistryServiceService, lb.address);
    const experimentId = (await lb.tracking.createExperiment({ name: "links", artifactLocation: "", tags: [] })).experimentId;
    runId = (await lb.tracking.createRun({ experimentId, userId: "u", runName: "r", tags: [] })).run!.info!.runId;
    runRoot = `${experimentId}/${runId}/artifacts`;
    const dir = join(lb.dataDir, "artifacts", experimentId, runId, "artifacts");
    mkdirSync(join(dir, "model"), { recursive: true });
    writeFileSync(join(dir, "model", "MLmodel"), "flavors: {}\n");
    writeFileSync(join(outside.path, "secret.txt"), "outside secret");
    symlinkSync(outside.path, join(dir, "link")); // a folder link
    symlinkSync(join(outside.path, "secret.txt"), join(dir, "filelink")); // a file link
    symlinkSync(outside.path, join(dir, "model", "link"));
    snapshot = () => JSON.stringify(readdirSync(outside.path, { recursive: true }).sort()) + readFileSync(join(outside.path, "secret.txt"), "utf8");
  });
  afterAll(async () => {
    artifacts?.close();
    registry?.close();
    await lb?.close();
    outside.remove();
  });

  const expectInvalid = async (res: { status: number; body: Buffer }) => {
    expect(res.status, res.body.toString()).toBe(400);
    expect(JSON.parse(res.body.toString())).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE", message: expect.stringMatching(/Invalid path/) });
  };

  it("refuses reads and listings through a link over HTTP", async () => {
    const before = snapshot();
    for (const path of [
      `${PROXY}/${runRoot}/link/secret.txt`,
      `${PROXY}/${runRoot}/filelink`,
      `${PROXY}?path=${encodeURIComponent(`${runRoot}/link`)}`,
      `/get-artifact?run_id=${runId}&path=link/secret.txt`,
      `/get-artifact?run_id=${runId}&path=filelink`,
      `/api/2.0/mlflow/artifacts/list?run_id=${runId}&path=link`,
    ]) {
      const res = await rawRequest(lb.httpUrl, "GET", path);
      expect(res.body.toString()).not.toContain("outside secret");
      await expectInvalid(res);
    }
    expect(snapshot()).toBe(before);
  });

  it("refuses a model version's file reached through a link", async () => {
    const name = "linked-model";
    await registry.createRegisteredModel({ name, tags: [], description: "" });
    const mv = await registry.createModelVersion({ name, source: `runs:/${runId}/model`, runId, tags: [], runLink: "", description: "" });
    const ok = await fetch(`${lb.httpUrl}/model-versions/get-artifact?name=${name}&version=${mv.modelVersion!.version}&path=MLmodel`);
    expect(ok.status).toBe(200);
    await expectInvalid(await rawRequest(lb.httpUrl, "GET", `/model-versions/get-artifact?name=${name}&version=${mv.modelVersion!.version}&path=link/secret.txt`));
  });

  it("refuses writes and deletes through a link over HTTP, creating and removing nothing outside", async () => {
    const before = snapshot();
    await expectInvalid(await rawRequest(lb.httpUrl, "PUT", `${PROXY}/${runRoot}/link/new.txt`, Buffer.from("planted")));
    await expectInvalid(await rawRequest(lb.httpUrl, "PUT", `${PROXY}/${runRoot}/link/sub/new.txt`, Buffer.from("planted")));
    await expectInvalid(await rawRequest(lb.httpUrl, "DELETE", `${PROXY}/${runRoot}/link/secret.txt`));
    expect(snapshot()).toBe(before);
    expect(existsSync(join(outside.path, "sub"))).toBe(false);
  });

  it("refuses the same over gRPC", async () => {
    const before = snapshot();
    await expectGrpcError(downloadGrpc(artifacts.raw, { runId, path: "link/secret.txt" }), INVALID);
    await expectGrpcError(artifacts.listArtifacts({ runId, runUuid: "", path: "link", pageToken: "" }), INVALID);
    await expectGrpcError(uploadGrpc(artifacts.raw, { runId, path: "link/grpc.txt" }, Buffer.from("planted")), INVALID);
    await expectGrpcError(artifacts.deleteArtifact({ runId, path: "link/secret.txt" }), INVALID);
    expect(snapshot()).toBe(before);
  });

  it("replaces a file link by an upload (never writing through it) and unlinks a link on delete", async () => {
    const before = snapshot();
    expect((await rawRequest(lb.httpUrl, "PUT", `${PROXY}/${runRoot}/filelink`, Buffer.from("replaced"))).status).toBe(200);
    expect(await (await fetch(`${lb.httpUrl}${PROXY}/${runRoot}/filelink`)).text()).toBe("replaced");
    expect((await rawRequest(lb.httpUrl, "DELETE", `${PROXY}/${runRoot}/link`)).status).toBe(200);
    expect(snapshot()).toBe(before);
    const listed = (await artifacts.listArtifacts({ runId, runUuid: "", path: "", pageToken: "" })).files.map((f) => f.path);
    expect(listed).toEqual(["filelink", "model"]);
  });
});
