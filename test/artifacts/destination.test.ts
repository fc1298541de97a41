/**
 * --artifacts-destination: the flag and LOGBOOK_ARTIFACTS_DESTINATION (flag wins), a custom file:// directory,
 * a custom GridFS bucket on MongoDB, and refusals (gridfs: without MongoDB, unknown schemes).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Command } from "commander";
import { MongoClient } from "mongodb";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { addServerOptions, defaultServerConfig, resolveConfig, type ServerConfig } from "../../src/server/config.js";
import { startLogbook } from "../../src/server/server.js";
import { uploadGrpc } from "../harness/artifacts.js";
import { promiseClient } from "../harness/grpc.js";
import { tempDir } from "../harness/logbook.js";
import { mongoTestUri } from "../harness/mongo.js";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";

function parse(argv: string[], env: Record<string, string> = {}): ServerConfig {
  const saved = process.env.LOGBOOK_ARTIFACTS_DESTINATION;
  if (env.LOGBOOK_ARTIFACTS_DESTINATION) process.env.LOGBOOK_ARTIFACTS_DESTINATION = env.LOGBOOK_ARTIFACTS_DESTINATION;
  try {
    const cmd = addServerOptions(new Command()).exitOverride();
    cmd.parse(argv, { from: "user" });
    return resolveConfig(cmd.opts());
  } finally {
    if (saved === undefined) delete process.env.LOGBOOK_ARTIFACTS_DESTINATION;
    else process.env.LOGBOOK_ARTIFACTS_DESTINATION = saved;
  }
}

const base = (dataDir: string, store: string, artifactsDestination?: string): ServerConfig => ({
  ...defaultServerConfig(),
  host: "127.0.0.1",
  grpcPort: 0,
  httpPort: 0,
  maxBodyBytes: 1 << 20,
  dataDir,
  store,
  ...(artifactsDestination ? { artifactsDestination } : {}),
  logLevel: "silent",
  healthIntervalMs: 1000,
  shutdownTimeoutS: 5,
  metrics: true,
  logRequests: true,
  slowRequestMs: 1000,
});

describe("--artifacts-destination", () => {
  it("reads the flag, then the environment; unset means the store's default", () => {
    expect(parse([]).artifactsDestination).toBeUndefined();
    expect(parse([], { LOGBOOK_ARTIFACTS_DESTINATION: "gridfs:env" }).artifactsDestination).toBe("gridfs:env");
    expect(parse(["--artifacts-destination", "file:///srv/a"], { LOGBOOK_ARTIFACTS_DESTINATION: "gridfs:env" }).artifactsDestination).toBe("file:///srv/a");
  });

  it("puts files in a custom file:// directory and reports it", async () => {
    const data = tempDir();
    const dest = tempDir();
    const lb = await startLogbook(base(data.path, "sqlite:", pathToFileURL(dest.path).href), pino({ level: "silent" }));
    const tracking = promiseClient(TrackingServiceService, `127.0.0.1:${lb.grpcPort}`);
    try {
      const run = (await tracking.createRun({ experimentId: "0", userId: "u", runName: "r", tags: [] })).run!.info!;
      await uploadGrpc(tracking.raw, { runId: run.runId, path: "f.txt" }, Buffer.from("x"));
      expect(existsSync(join(dest.path, "0", run.runId, "artifacts", "f.txt"))).toBe(true);
      expect(existsSync(join(data.path, "artifacts"))).toBe(false);
      const status = (await (await fetch(`http://127.0.0.1:${lb.httpPort}/mlflow/status`)).json()) as { artifacts: unknown };
      expect(status.artifacts).toEqual({ kind: "file", location: pathToFileURL(dest.path).href });
    } finally {
      tracking.close();
      await lb.close();
      data.remove();
      dest.remove();
    }
  });

  it("uses a custom GridFS bucket in the store's database", async () => {
    const data = tempDir();
    const uri = mongoTestUri("artifacts_bucket");
    const lb = await startLogbook(base(data.path, uri, "gridfs:models"), pino({ level: "silent" }));
    const tracking = promiseClient(TrackingServiceService, `127.0.0.1:${lb.grpcPort}`);
    const mongo = new MongoClient(uri);
    try {
      const run = (await tracking.createRun({ experimentId: "0", userId: "u", runName: "r", tags: [] })).run!.info!;
      await uploadGrpc(tracking.raw, { runId: run.runId, path: "m/w.bin" }, Buffer.from("weights"));
      const files = await mongo.db().collection("models.files").find({}, { projection: { filename: 1, length: 1 } }).toArray();
      expect(files.map((f) => [f.filename, f.length])).toEqual([[`0/${run.runId}/artifacts/m/w.bin`, 7]]);
      expect(lb.artifacts.location).toBe("gridfs:models");
    } finally {
      tracking.close();
      await mongo.close();
      await lb.close();
      data.remove();
    }
  });

  it("refuses gridfs: without MongoDB and unknown schemes", async () => {
    const data = tempDir();
    try {
      await expect(startLogbook(base(data.path, "sqlite:", "gridfs:"), pino({ level: "silent" }))).rejects.toThrow("needs a MongoDB --store");
      await expect(startLogbook(base(data.path, "sqlite:", "s3://bucket/x"), pino({ level: "silent" }))).rejects.toThrow("expected file:///abs/dir");
    } finally {
      data.remove();
    }
  });
});
