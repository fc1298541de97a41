/**
 * The server side of `--auth basic` and TLS, in process: both ports over TLS with a certificate made in the test,
 * the safe default (no `--auth none` on a network address without `--insecure-no-auth`), the first admin from the
 * environment, health and reflection open, HTTP's 401/429 answers, and access tokens used by the TypeScript SDK.
 */
import { request as httpsRequest } from "node:https";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client, Metadata, credentials, status, type ServiceError } from "@grpc/grpc-js";
import { Writable } from "node:stream";
import { Command } from "commander";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addServerOptions, defaultServerConfig, resolveConfig } from "../../src/server/config.js";
import { startLogbook } from "../../src/server/server.js";
import type { MethodDefinition } from "../../src/services/rpc.js";
import { AuthServiceService } from "../../gen/ts/logbook/v1/auth_service.js";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { Tracker } from "../../clients/typescript/src/index.js";
import type { LogbookError } from "../../clients/typescript/src/errors.js";
import { type TestLogbook, startTestLogbook, tempDir } from "../harness/logbook.js";
import { makeTestCertificate } from "../harness/tls.js";

const ADMIN = { username: "admin", password: "admin-password-123" };
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;

function unary(raw: Client, def: unknown, fields: object, authorization?: string): Promise<{ code: number; res?: Record<string, any>; details?: string }> {
  const d = def as MethodDefinition;
  const metadata = new Metadata();
  if (authorization) metadata.set("authorization", authorization);
  return new Promise((resolve) =>
    raw.makeUnaryRequest(d.path, d.requestSerialize, d.responseDeserialize, { ...(d.requestDeserialize(Buffer.alloc(0)) as object), ...fields }, metadata, (err: ServiceError | null, res?: unknown) =>
      resolve(err ? { code: err.code, details: err.details } : { code: status.OK, res: res as Record<string, any> }),
    ),
  );
}

describe("TLS on both ports", () => {
  const cert = makeTestCertificate();
  let server: TestLogbook;

  beforeAll(async () => {
    server = await startTestLogbook("sqlite", { config: { auth: "basic", admin: ADMIN, tlsCertFile: cert.certFile, tlsKeyFile: cert.keyFile } });
  });
  afterAll(async () => {
    await server?.close();
  });

  const get = (path: string, ca?: Buffer) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(
        { host: "127.0.0.1", port: server.logbook.httpPort, path, servername: "localhost", headers: { authorization: basic(ADMIN.username, ADMIN.password) }, ...(ca ? { ca } : {}) },
        (res) => {
          let body = "";
          res.on("data", (c) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      req.end();
    });

  it("serves HTTPS with the certificate, and refuses clients that do not trust it or speak plain HTTP", async () => {
    const ok = await get("/api/2.0/mlflow/experiments/get?experiment_id=0", cert.cert);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).experiment.name).toBe("Default");
    await expect(get("/health")).rejects.toThrow(/self-signed|certificate/i);
    await expect(fetch(`http://127.0.0.1:${server.logbook.httpPort}/health`)).rejects.toThrow();
  });

  it("serves gRPC over TLS, with credentials in the metadata; a plaintext channel fails", async () => {
    const secure = new Client(`localhost:${server.logbook.grpcPort}`, credentials.createSsl(cert.cert));
    const plain = new Client(`127.0.0.1:${server.logbook.grpcPort}`, credentials.createInsecure());
    try {
      const got = await unary(secure, TrackingServiceService.getExperiment, { experimentId: "0" }, basic(ADMIN.username, ADMIN.password));
      expect(got.res?.experiment.name).toBe("Default");
      expect((await unary(secure, TrackingServiceService.getExperiment, { experimentId: "0" })).code).toBe(status.UNAUTHENTICATED);
      expect((await unary(plain, TrackingServiceService.getExperiment, { experimentId: "0" }, basic(ADMIN.username, ADMIN.password))).code).toBe(status.UNAVAILABLE);
    } finally {
      secure.close();
      plain.close();
    }
  });
});

/** The status of a reflection call listing the services (OK, or UNIMPLEMENTED when reflection is off). */
function reflectionStatus(address: string): Promise<number> {
  const client = new Client(address, credentials.createInsecure());
  return new Promise<number>((resolve) => {
    const call = client.makeBidiStreamRequest("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", (b: Buffer) => b, (b: Buffer) => b);
    call.on("data", () => call.end());
    call.on("error", (err: ServiceError) => resolve(err.code));
    call.on("status", (s: { code: number }) => resolve(s.code));
    // ServerReflectionRequest{list_services: ""}: field 7, length-delimited, empty.
    call.write(Buffer.from([0x3a, 0x00]));
  }).finally(() => client.close());
}

/** Flags and environment through commander, as the CLI reads them. */
function configOf(argv: string[], env: Record<string, string> = {}) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const cmd = addServerOptions(new Command()).exitOverride();
    cmd.parse(argv, { from: "user" });
    return resolveConfig(cmd.opts(), process.env);
  } finally {
    for (const key of Object.keys(env)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

describe("start-up", () => {
  it("reads the auth and TLS flags, each also from LOGBOOK_<FLAG>, the flag first", () => {
    expect(configOf([])).toMatchObject({ auth: "none", authDefaultPermission: "READ", insecureNoAuth: false, grpcReflection: true });
    expect(configOf(["--auth", "basic", "--auth-default-permission", "NO_PERMISSIONS", "--grpc-reflection=false", "--insecure-no-auth"])).toMatchObject({
      auth: "basic",
      authDefaultPermission: "NO_PERMISSIONS",
      grpcReflection: false,
      insecureNoAuth: true,
    });
    const env = { LOGBOOK_AUTH: "basic", LOGBOOK_AUTH_DEFAULT_PERMISSION: "EDIT", LOGBOOK_GRPC_REFLECTION: "false", LOGBOOK_TLS_CERT_FILE: "/c.pem", LOGBOOK_TLS_KEY_FILE: "/k.pem" };
    expect(configOf([], env)).toMatchObject({ auth: "basic", authDefaultPermission: "EDIT", grpcReflection: false, tlsCertFile: "/c.pem", tlsKeyFile: "/k.pem" });
    expect(configOf(["--auth", "none", "--auth-default-permission", "USE"], env)).toMatchObject({ auth: "none", authDefaultPermission: "USE" });
    // DENY is a grant, not a default; unknown modes are refused.
    expect(() => configOf(["--auth-default-permission", "DENY"])).toThrow(/Allowed choices/);
    expect(() => configOf(["--auth", "oauth"])).toThrow(/Allowed choices/);
  });

  it("refuses a TLS certificate without its key", async () => {
    const cert = makeTestCertificate();
    await expect(startTestLogbook("sqlite", { config: { tlsCertFile: cert.certFile } })).rejects.toThrow(/go together/);
  });

  it("keeps reflection open with --auth basic, and off with --grpc-reflection=false", async () => {
    const open = await startTestLogbook("sqlite", { config: { auth: "basic", admin: ADMIN } });
    try {
      expect(await reflectionStatus(open.address)).toBe(status.OK);
    } finally {
      await open.close();
    }
    const closed = await startTestLogbook("sqlite", { config: { auth: "basic", admin: ADMIN, grpcReflection: false } });
    try {
      expect(await reflectionStatus(closed.address)).toBe(status.UNIMPLEMENTED);
    } finally {
      await closed.close();
    }
  });

  it("refuses --auth none on a network address unless --insecure-no-auth, before listening", async () => {
    await expect(startTestLogbook("sqlite", { config: { host: "0.0.0.0" } })).rejects.toThrow(/--insecure-no-auth/);
  });

  it("needs an admin with --auth basic, creates it once from the environment, never resets its password", async () => {
    const data = tempDir();
    try {
      const store = `sqlite:${join(data.path, "auth.db")}`;
      await expect(startTestLogbook("sqlite", { store, config: { auth: "basic" } })).rejects.toThrow(/LOGBOOK_ADMIN_USERNAME/);
      const first = await startTestLogbook("sqlite", { store, config: { auth: "basic", admin: ADMIN } });
      await first.close();
      const again = await startTestLogbook("sqlite", { store, config: { auth: "basic", admin: { username: "admin", password: "another-password-9" } } });
      const raw = new Client(again.address, credentials.createInsecure());
      try {
        expect((await unary(raw, AuthServiceService.getCurrentUser, {}, basic(ADMIN.username, ADMIN.password))).res?.user).toMatchObject({ username: "admin", isAdmin: true });
        expect((await unary(raw, AuthServiceService.getCurrentUser, {}, basic("admin", "another-password-9"))).code).toBe(status.UNAUTHENTICATED);
      } finally {
        raw.close();
        await again.close();
      }
      // Later starts need no environment: the store has an admin.
      const later = await startTestLogbook("sqlite", { store, config: { auth: "basic" } });
      await later.close();
    } finally {
      data.remove();
    }
  });

  it("reads the admin password from a file and refuses half a configuration", () => {
    const data = tempDir();
    try {
      const file = join(data.path, "pw");
      writeFileSync(file, "from-a-file-password\n");
      expect(resolveConfig({}, { LOGBOOK_ADMIN_USERNAME: "root", LOGBOOK_ADMIN_PASSWORD_FILE: file }).admin).toEqual({ username: "root", password: "from-a-file-password" });
      expect(() => resolveConfig({}, { LOGBOOK_ADMIN_USERNAME: "root" })).toThrow(/neither LOGBOOK_ADMIN_PASSWORD/);
      expect(() => resolveConfig({}, { LOGBOOK_ADMIN_PASSWORD: "x" })).toThrow(/LOGBOOK_ADMIN_USERNAME is not/);
      expect(() => resolveConfig({}, { LOGBOOK_ADMIN_USERNAME: "r", LOGBOOK_ADMIN_PASSWORD: "x", LOGBOOK_ADMIN_PASSWORD_FILE: file })).toThrow(/not both/);
      expect(() => resolveConfig({}, { LOGBOOK_ADMIN_USERNAME: "r", LOGBOOK_ADMIN_PASSWORD_FILE: join(data.path, "missing") })).toThrow(/ENOENT/);
    } finally {
      data.remove();
    }
  });
});

describe("a server with --auth basic", () => {
  let server: TestLogbook;
  let raw: Client;

  beforeAll(async () => {
    server = await startTestLogbook("sqlite", { config: { auth: "basic", admin: ADMIN } });
    raw = new Client(server.address, credentials.createInsecure());
    await unary(raw, AuthServiceService.createUser, { username: "carol", password: "carol-password-1" }, basic(ADMIN.username, ADMIN.password));
  });
  afterAll(async () => {
    raw?.close();
    await server?.close();
  });

  it("keeps gRPC health open", async () => {
    const health = new Client(server.address, credentials.createInsecure());
    try {
      const answer = await new Promise<number>((resolve) =>
        health.makeUnaryRequest("/grpc.health.v1.Health/Check", () => Buffer.alloc(0), (b: Buffer) => b, {}, (err: ServiceError | null) => resolve(err ? err.code : status.OK)),
      );
      expect(answer).toBe(status.OK);
    } finally {
      health.close();
    }
  });

  it("answers 401 with MLflow's JSON error and a challenge, then 429 with Retry-After after repeated failures from one address", async () => {
    const url = `${server.httpUrl}/api/2.0/mlflow/experiments/get?experiment_id=0`;
    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Basic realm="logbook"');
    expect(await anonymous.json()).toMatchObject({ error_code: "UNAUTHENTICATED" });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await fetch(url, { headers: { authorization: basic("carol", `wrong-${i}-password`) } })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const throttled = await fetch(url, { headers: { authorization: basic("carol", "carol-password-1") } });
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await throttled.json()).toMatchObject({ error_code: "REQUEST_LIMIT_EXCEEDED" });
    // Another account from the same address is not affected.
    expect((await fetch(url, { headers: { authorization: basic(ADMIN.username, ADMIN.password) } })).status).toBe(200);
  });

  it("lets the TypeScript SDK log with an access token, and reports a revoked one instead of retrying", async () => {
    const created = await unary(raw, AuthServiceService.createAccessToken, { name: "sdk" }, basic(ADMIN.username, ADMIN.password));
    const token = created.res!.token as string;
    const spool = tempDir();
    const errors: LogbookError[] = [];
    const tracker = new Tracker({ address: server.address, token, spoolPath: join(spool.path, "s.jsonl"), handleProcessExit: false, onError: (e) => errors.push(e) });
    try {
      const run = tracker.startRun({ experimentName: "sdk-with-token" });
      run.logMetric("loss", 0.5);
      run.end("FINISHED");
      await tracker.drain();
      expect(errors).toEqual([]);
      const found = await unary(raw, TrackingServiceService.getExperimentByName, { experimentName: "sdk-with-token" }, `Bearer ${token}`);
      expect(found.code).toBe(status.OK);

      await unary(raw, AuthServiceService.revokeAccessToken, { tokenId: created.res!.tokenId }, basic(ADMIN.username, ADMIN.password));
      const after = tracker.startRun({ experimentName: "sdk-with-token" });
      after.end("FINISHED");
      await tracker.drain();
      expect(errors.map((e) => e.grpcCodeName)).toContain("UNAUTHENTICATED");
    } finally {
      await tracker.close();
      spool.remove();
    }
  });
});

describe("logs", () => {
  it("never carry a password or a token, whatever the outcome of the call", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const data = tempDir();
    const logbook = await startLogbook(
      {
        ...defaultServerConfig(),
        host: "127.0.0.1",
        grpcPort: 0,
        httpPort: 0,
        maxBodyBytes: 1 << 20,
        dataDir: data.path,
        store: "sqlite:",
        logLevel: "trace",
        healthIntervalMs: 1000,
        shutdownTimeoutS: 5,
        auth: "basic",
        admin: { username: "root", password: "root-secret-password-1" },
      },
      pino({ level: "trace" }, sink),
    );
    const url = `http://127.0.0.1:${logbook.httpPort}`;
    const raw = new Client(`127.0.0.1:${logbook.grpcPort}`, credentials.createInsecure());
    const root = basic("root", "root-secret-password-1");
    const post = (path: string, body: object, authorization?: string) =>
      fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) }, body: JSON.stringify(body) });
    let token = "";
    try {
      expect((await post("/api/2.0/mlflow/users/create", { username: "dave", password: "dave-secret-password-2" }, root)).status).toBe(200);
      const created = (await (await post("/api/2.0/logbook/tokens/create", { name: "ci" }, basic("dave", "dave-secret-password-2"))).json()) as { token: string };
      token = created.token;
      // Failures of every kind: wrong passwords (HTTP and gRPC), a forged token, a bad password change, a refused call.
      await post("/api/2.0/mlflow/experiments/create", { name: "x" }, basic("dave", "wrong-secret-password-3"));
      await unary(raw, TrackingServiceService.createExperiment, { name: "x" }, basic("root", "wrong-secret-password-4"));
      await unary(raw, TrackingServiceService.createExperiment, { name: "x" }, `Bearer ${created.token.slice(0, -4)}AAAA`);
      await fetch(`${url}/api/2.0/mlflow/users/update-password`, {
        method: "PATCH",
        headers: { "content-type": "application/json", authorization: `Bearer ${created.token}` },
        body: JSON.stringify({ username: "dave", password: "new-secret-password-5", current_password: "wrong-secret-password-6" }),
      });
      await post("/api/2.0/mlflow/users/create", { username: "eve", password: "eve-secret-password-7" }, `Bearer ${created.token}`);
      await post("/api/2.0/mlflow/runs/create", { experiment_id: "0" }, `Bearer ${created.token}`);
    } finally {
      raw.close();
      await logbook.close();
      data.remove();
    }
    const log = lines.join("");
    expect(log).toContain("admin user created"); // the capture works
    expect(token).toMatch(/^lbk_/);
    for (const secret of ["secret-password", token.split("_")[2]!]) expect(log).not.toContain(secret);
    expect(log).not.toMatch(/lbk_[0-9a-f]{16}_/);
    expect(log).not.toMatch(/Basic [A-Za-z0-9+/=]{8,}/i);
  });
});
