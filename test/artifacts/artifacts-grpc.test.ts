/**
 * ArtifactService over gRPC on both stores: round trips (empty, small, multi-chunk ≥ 50 MiB) with
 * checksums and fixed 64 KiB download chunks, run-relative paths, nested listings and paging fields,
 * deletion, traversal attempts (nothing written), and an upload cancelled midway (nothing listed).
 */
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ArtifactServiceService } from "../../gen/ts/logbook/v1/artifact_service.js";
import { DOWNLOAD_CHUNK_BYTES } from "../../src/services/artifact-service.js";
import { content, downloadGrpc, MiB, sha256, startUpload, uploadGrpc } from "../harness/artifacts.js";
import { expectGrpcError, promiseClient, type PromiseClient } from "../harness/grpc.js";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";

const INVALID_PATH = { grpcCode: status.INVALID_ARGUMENT, mlflowCode: "INVALID_PARAMETER_VALUE", message: "Invalid path" };

describe.each(STORE_KINDS)("ArtifactService over gRPC on %s", (kind) => {
  let lb: TestLogbook;
  let artifacts: PromiseClient<typeof ArtifactServiceService>;
  let runId: string;
  let experimentId: string;

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "artifacts_grpc" });
    artifacts = promiseClient(ArtifactServiceService, lb.address);
    experimentId = (await lb.tracking.createExperiment({ name: "artifacts", artifactLocation: "", tags: [] })).experimentId;
    runId = (await lb.tracking.createRun({ experimentId, userId: "u", runName: "r", tags: [] })).run!.info!.runId;
  });
  afterAll(async () => {
    artifacts?.close();
    await lb?.close();
  });

  it.each([
    ["empty", 0],
    ["small", 1234],
    ["exactly one chunk", MiB],
    ["multi-chunk 50 MiB + 7", 50 * MiB + 7],
  ])("round-trips a %s file with its checksum", async (_label, size) => {
    const data = content(size);
    const path = `roundtrip/${size}.bin`;
    const res = await uploadGrpc(artifacts.raw, { runId, path, size: BigInt(size) }, data, 300 * 1024);
    expect(res).toEqual({ path: `${experimentId}/${runId}/artifacts/${path}`, fileSize: BigInt(size) });
    const { data: back, chunkSizes } = await downloadGrpc(artifacts.raw, { runId, path });
    expect(back.length).toBe(size);
    expect(sha256(back)).toBe(sha256(data));
    // Fixed chunks, the last one shorter; none for an empty file.
    expect(chunkSizes.slice(0, -1).every((n) => n === DOWNLOAD_CHUNK_BYTES)).toBe(true);
    expect(chunkSizes.length).toBe(Math.ceil(size / DOWNLOAD_CHUNK_BYTES));
    // The same file by its store path (no run).
    const viaRoot = await downloadGrpc(artifacts.raw, { runId: "", path: res.path });
    expect(sha256(viaRoot.data)).toBe(sha256(data));
    // Keep the bucket small for the tests that follow (FerretDB scans chunks on delete).
    await artifacts.deleteArtifact({ runId, path });
    expect((await artifacts.listArtifacts({ runId, runUuid: "", path: "roundtrip", pageToken: "" })).files).toEqual([]);
  });

  it("replaces a file uploaded twice", async () => {
    await uploadGrpc(artifacts.raw, { runId, path: "twice.txt" }, Buffer.from("first version"));
    await uploadGrpc(artifacts.raw, { runId, path: "twice.txt" }, Buffer.from("second"));
    expect((await downloadGrpc(artifacts.raw, { runId, path: "twice.txt" })).data.toString()).toBe("second");
    const { files } = await artifacts.listArtifacts({ runId, runUuid: "", path: "", pageToken: "" });
    expect(files.filter((f) => f.path === "twice.txt")).toEqual([{ path: "twice.txt", isDir: false, fileSize: 6n }]);
  });

  it("lists nested directories relative to the run root, with root_uri", async () => {
    for (const p of ["tree/a.txt", "tree/sub/b.txt", "tree/sub/deeper/c.txt", "tree/z.json"]) {
      await uploadGrpc(artifacts.raw, { runId, path: p }, Buffer.from(p));
    }
    const top = await artifacts.listArtifacts({ runId, runUuid: "", path: "tree", pageToken: "" });
    expect(top.rootUri).toBe(`mlflow-artifacts:/${experimentId}/${runId}/artifacts`);
    expect(top.files).toEqual([
      { path: "tree/a.txt", isDir: false, fileSize: 10n },
      { path: "tree/sub", isDir: true },
      { path: "tree/z.json", isDir: false, fileSize: 11n },
    ]);
    expect(top.nextPageToken).toBe("");
    const sub = await artifacts.listArtifacts({ runId: "", runUuid: runId, path: "tree/sub/", pageToken: "" });
    expect(sub.files).toEqual([
      { path: "tree/sub/b.txt", isDir: false, fileSize: 14n },
      { path: "tree/sub/deeper", isDir: true },
    ]);
    // A file or a missing directory lists as empty.
    expect((await artifacts.listArtifacts({ runId, runUuid: "", path: "tree/a.txt", pageToken: "" })).files).toEqual([]);
    expect((await artifacts.listArtifacts({ runId, runUuid: "", path: "nope", pageToken: "" })).files).toEqual([]);
    // Store-root listing (no run): the experiment's folder holds the run.
    const exp = await artifacts.listArtifacts({ runId: "", runUuid: "", path: experimentId, pageToken: "" });
    expect(exp.files).toContainEqual({ path: `${experimentId}/${runId}`, isDir: true });
  });

  it("deletes files and trees; deleting nothing succeeds", async () => {
    await uploadGrpc(artifacts.raw, { runId, path: "del/x/1.txt" }, Buffer.from("1"));
    await uploadGrpc(artifacts.raw, { runId, path: "del/2.txt" }, Buffer.from("2"));
    await artifacts.deleteArtifact({ runId, path: "del/2.txt" });
    expect((await artifacts.listArtifacts({ runId, runUuid: "", path: "del", pageToken: "" })).files).toEqual([{ path: "del/x", isDir: true }]);
    await artifacts.deleteArtifact({ runId, path: "del" });
    expect((await artifacts.listArtifacts({ runId, runUuid: "", path: "del", pageToken: "" })).files).toEqual([]);
    await artifacts.deleteArtifact({ runId, path: "del" });
    await expectGrpcError(
      new Promise((resolve, reject) => {
        const call = artifacts.raw.makeServerStreamRequest(
          ArtifactServiceService.downloadArtifact.path,
          ArtifactServiceService.downloadArtifact.requestSerialize,
          ArtifactServiceService.downloadArtifact.responseDeserialize,
          { runId, path: "del/2.txt" },
        );
        call.on("data", () => undefined).on("error", reject).on("end", resolve);
      }),
      { grpcCode: status.NOT_FOUND, mlflowCode: "RESOURCE_DOES_NOT_EXIST" },
    );
  });

  it("refuses traversal in every encoding and writes nothing", async () => {
    const before = await artifacts.listArtifacts({ runId: "", runUuid: "", path: "", pageToken: "" });
    for (const path of ["../escape.txt", "a/../../escape.txt", "/etc/escape", "a\\..\\b", "a\u0000b", "%2e%2e/escape", "%252e%252e/escape", "..%2fescape", "C:/escape"]) {
      await expectGrpcError(uploadGrpc(artifacts.raw, { runId, path }, Buffer.from("x")), INVALID_PATH);
      await expectGrpcError(uploadGrpc(artifacts.raw, { runId: "", path }, Buffer.from("x")), INVALID_PATH);
      await expectGrpcError(artifacts.listArtifacts({ runId, runUuid: "", path, pageToken: "" }), INVALID_PATH);
      await expectGrpcError(artifacts.deleteArtifact({ runId: "", path }), INVALID_PATH);
    }
    expect(await artifacts.listArtifacts({ runId: "", runUuid: "", path: "", pageToken: "" })).toEqual(before);
  });

  it("answers errors: unknown run, header missing, size mismatch", async () => {
    await expectGrpcError(artifacts.listArtifacts({ runId: "0123456789abcdef0123456789abcdef", runUuid: "", path: "", pageToken: "" }), {
      grpcCode: status.NOT_FOUND,
      mlflowCode: "RESOURCE_DOES_NOT_EXIST",
    });
    const noHeader = new Promise((resolve, reject) => {
      const call = startUpload(artifacts.raw, (err, res) => (err ? reject(err) : resolve(res)));
      call.write({ chunk: Buffer.from("x") });
      call.end();
    });
    await expectGrpcError(noHeader, { grpcCode: status.INVALID_ARGUMENT, mlflowCode: "INVALID_PARAMETER_VALUE", message: "header" });
    await expectGrpcError(uploadGrpc(artifacts.raw, { runId, path: "short.bin", size: 10n }, Buffer.from("12345")), {
      grpcCode: status.INVALID_ARGUMENT,
      mlflowCode: "INVALID_PARAMETER_VALUE",
      message: "declared",
    });
    expect((await artifacts.listArtifacts({ runId, runUuid: "", path: "", pageToken: "" })).files.map((f) => f.path)).not.toContain("short.bin");
  });

  it("an upload cancelled midway leaves nothing listed", async () => {
    const reads = lb.logbook.artifacts;
    const result = new Promise<unknown>((resolve) => {
      const call = startUpload(artifacts.raw, (err) => resolve(err));
      call.write({ header: { runId, path: "aborted/big.bin" } });
      const chunk = content(MiB);
      let sent = 0;
      const pump = () => {
        while (sent < 8) {
          sent++;
          if (!call.write({ chunk })) return void call.once("drain", pump);
        }
        // Half the file is out; the client gives up.
        setImmediate(() => call.cancel());
      };
      pump();
    });
    expect((await result) as { code: number }).toMatchObject({ code: status.CANCELLED });
    // Wait until the server has cleaned up the partial upload, then check nothing became visible.
    await vi.waitFor(async () => expect(await pendingUploads(lb)).toBe(0), { timeout: 30_000, interval: 100 });
    expect(reads.counters.openReads).toBe(0);
    expect((await artifacts.listArtifacts({ runId, runUuid: "", path: "", pageToken: "" })).files.map((f) => f.path)).not.toContain("aborted");
    expect((await artifacts.listArtifacts({ runId, runUuid: "", path: "aborted", pageToken: "" })).files).toEqual([]);
  });
});

/** In-progress uploads the store still holds: temporary files on disk, or GridFS chunks without a files document. */
async function pendingUploads(lb: TestLogbook): Promise<number> {
  return lb.logbook.artifacts.pendingUploads();
}
