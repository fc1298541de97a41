/**
 * Artifact throughput: one file uploaded then downloaded, over gRPC (UploadArtifact / DownloadArtifact)
 * and over HTTP (MLflow's PUT/GET /api/2.0/mlflow-artifacts/artifacts/<path>), on the embedded store
 * (filesystem) and on MongoDB (GridFS; MONGODB_URI, else FerretDB — a correctness stand-in, not a speed
 * reference). Prints MiB/s and the server's peak RSS; checks the bytes with sha256.
 *   npx tsx bench/artifacts.ts [--mib N] [--mongo-mib N] [--stores sqlite,mongodb]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startMongoForTests } from "../scripts/ferretdb.mjs";
import { TrackingServiceService } from "../gen/ts/logbook/v1/tracking_service.js";
import { content, downloadGrpc, MiB, sha256, uploadGrpc } from "../test/harness/artifacts.js";
import { promiseClient } from "../test/harness/promise-client.js";
import { spawnLogbook } from "../test/harness/logbook-process.js";
import { machine, rssMiB } from "./stats.js";

const { values } = parseArgs({
  options: {
    mib: { type: "string", default: "256" },
    "mongo-mib": { type: "string", default: "64" },
    stores: { type: "string", default: "sqlite,mongodb" },
  },
});

const rate = (bytes: number, ms: number) => Number((bytes / MiB / (ms / 1000)).toFixed(1));

async function measure(label: string, storeArgs: string[], mib: number) {
  const proc = await spawnLogbook(storeArgs);
  const tracking = promiseClient(TrackingServiceService, proc.address);
  try {
    const { experimentId } = await tracking.createExperiment({ name: `bench-artifacts-${Date.now()}`, artifactLocation: "", tags: [] });
    const runId = (await tracking.createRun({ experimentId, userId: "bench", runName: "r", tags: [] })).run!.info!.runId;
    const data = content(mib * MiB);
    const digest = sha256(data);

    let t0 = performance.now();
    await uploadGrpc(tracking.raw, { runId, path: "grpc.bin", size: BigInt(data.length) }, data);
    const grpcUp = performance.now() - t0;
    t0 = performance.now();
    const down = await downloadGrpc(tracking.raw, { runId, path: "grpc.bin" });
    const grpcDown = performance.now() - t0;
    if (sha256(down.data) !== digest) throw new Error("gRPC round trip corrupted the file");

    const url = `${proc.httpUrl}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/http.bin`;
    t0 = performance.now();
    const put = await fetch(url, { method: "PUT", body: data });
    if (put.status !== 200) throw new Error(`PUT answered ${put.status}`);
    const httpUp = performance.now() - t0;
    t0 = performance.now();
    const got = Buffer.from(await (await fetch(url)).arrayBuffer());
    const httpDown = performance.now() - t0;
    if (sha256(got) !== digest) throw new Error("HTTP round trip corrupted the file");

    return {
      store: label,
      "file MiB": mib,
      "gRPC up MiB/s": rate(data.length, grpcUp),
      "gRPC down MiB/s": rate(data.length, grpcDown),
      "HTTP up MiB/s": rate(data.length, httpUp),
      "HTTP down MiB/s": rate(data.length, httpDown),
      "peak RSS MiB": Number(rssMiB(proc.child.pid!).peak.toFixed(0)),
    };
  } finally {
    tracking.close();
    await proc.stop();
  }
}

console.log("Artifact upload/download throughput, one file per direction and transport, loopback");
console.log(`machine: ${machine()}`);
const stores = values.stores.split(",");
if (stores.includes("sqlite")) {
  const dir = mkdtempSync(join(tmpdir(), "logbook-bench-"));
  try {
    console.table([await measure("sqlite (filesystem artifacts)", ["--data-dir", dir], Number(values.mib))]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (stores.includes("mongodb")) {
  const mongo = await startMongoForTests();
  try {
    const label = process.env.MONGODB_URI ? "mongodb (GridFS, MONGODB_URI)" : "mongodb (GridFS on FerretDB 1.24/SQLite: stand-in, not a speed reference)";
    console.table([await measure(label, ["--store", `${new URL(`/logbook_bench_artifacts_${Date.now()}`, mongo.uri)}`], Number(values["mongo-mib"]))]);
  } finally {
    await mongo.stop();
  }
}
