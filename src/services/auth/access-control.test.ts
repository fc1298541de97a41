import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { sqliteBackend } from "../../../test/harness/sqlite-backend.js";
import { AppError, ErrorCode } from "../../domain/errors.js";
import type { Grant, PermissionName } from "../../domain/permission.js";
import type { Store } from "../../store/types.js";
import type { CallContext } from "../rpc.js";
import { createAccessControl } from "./access-control.js";
import { PERMISSION_RULES } from "./permission-rules.js";
import { PRINCIPAL, type Principal } from "./principal.js";
import { CallValues } from "../call-values.js";

const logger = pino({ level: "silent" });
const T = "/logbook.v1.TrackingService/";
const R = "/logbook.v1.RegistryService/";
const U = "/logbook.v1.AuthService/";
const A = "/logbook.v1.ArtifactService/";

describe("access control (the permission table applied, on a real SQLite store)", () => {
  let store: Store;
  let open: string;
  let secret: string;
  let openRun: string;
  let secretRun: string;
  let secretModel: string;

  beforeAll(async () => {
    store = await sqliteBackend.open();
    await store.init();
    open = await store.createExperiment({ name: "open", tags: [], now: 1 });
    secret = await store.createExperiment({ name: "secret", tags: [], now: 1 });
    openRun = randomBytes(16).toString("hex");
    secretRun = randomBytes(16).toString("hex");
    await store.createRun({ runId: openRun, experimentId: open, userId: "u", runName: "a", startTime: 1, tags: [] });
    await store.createRun({ runId: secretRun, experimentId: secret, userId: "u", runName: "b", startTime: 1, tags: [] });
    secretModel = (await store.createLoggedModel({ modelId: `m-${randomBytes(16).toString("hex")}`, experimentId: secret, name: "lm", now: 1, params: [], tags: [] } as never)).modelId;
  });

  afterAll(async () => {
    await store.close();
  });

  const principal = (grants: Array<Omit<Grant, "userId">>, isAdmin = false): Principal => ({
    userId: 7,
    username: "bob",
    isAdmin,
    method: "password",
    grants: grants.map((g) => ({ ...g, userId: 7 })),
  });
  const ctx = (p: Principal | undefined): CallContext => ({ signal: new AbortController().signal, logger, values: new CallValues().set(PRINCIPAL, p) });

  async function decide(path: string, request: unknown, p: Principal | undefined, defaultPermission: PermissionName = "READ"): Promise<string> {
    const access = createAccessControl({ store, defaultPermission });
    try {
      await access.authorize(PERMISSION_RULES[path]!, request, ctx(p));
      return "allowed";
    } catch (err) {
      if (err instanceof AppError) return err.code;
      throw err;
    }
  }

  const denySecret = () => principal([{ resourceType: "experiment", resourceId: secret, permission: "DENY" }]);

  it("refuses a call without a principal", async () => {
    expect(await decide(`${T}GetExperiment`, { experimentId: open }, undefined)).toBe(ErrorCode.UNAUTHENTICATED);
  });

  it("reads with the default READ, changes with EDIT, deletes with MANAGE", async () => {
    const none = principal([]);
    expect(await decide(`${T}GetExperiment`, { experimentId: open }, none)).toBe("allowed");
    expect(await decide(`${T}SetExperimentTag`, { experimentId: open }, none)).toBe(ErrorCode.PERMISSION_DENIED);
    const editor = principal([{ resourceType: "experiment", resourceId: open, permission: "EDIT" }]);
    expect(await decide(`${T}SetExperimentTag`, { experimentId: open }, editor)).toBe("allowed");
    expect(await decide(`${T}DeleteExperiment`, { experimentId: open }, editor)).toBe(ErrorCode.PERMISSION_DENIED);
    const manager = principal([{ resourceType: "experiment", resourceId: open, permission: "MANAGE" }]);
    expect(await decide(`${T}DeleteExperiment`, { experimentId: open }, manager)).toBe("allowed");
    expect(await decide(`${T}GetExperiment`, { experimentId: open }, none, "NO_PERMISSIONS")).toBe(ErrorCode.PERMISSION_DENIED);
  });

  it("lets admins do everything, DENY or not", async () => {
    const admin = principal([{ resourceType: "experiment", resourceId: secret, permission: "DENY" }], true);
    expect(await decide(`${T}DeleteExperiment`, { experimentId: secret }, admin, "NO_PERMISSIONS")).toBe("allowed");
    expect(await decide(`${U}CreateUser`, { username: "x" }, admin)).toBe("allowed");
    expect(await decide(`${U}GrantUserPermission`, { username: "x", resourceType: "experiment", resourceId: "*", permission: "READ" }, admin)).toBe("allowed");
  });

  it("resolves runs, logged models and names to their experiment", async () => {
    const p = denySecret();
    expect(await decide(`${T}GetRun`, { runId: openRun }, p)).toBe("allowed");
    expect(await decide(`${T}GetRun`, { runId: "", runUuid: secretRun }, p)).toBe(ErrorCode.PERMISSION_DENIED);
    expect(await decide(`${T}LogBatch`, { runId: secretRun, metrics: [] }, p)).toBe(ErrorCode.PERMISSION_DENIED);
    expect(await decide(`${T}GetLoggedModel`, { modelId: secretModel }, p)).toBe(ErrorCode.PERMISSION_DENIED);
    expect(await decide(`${T}GetExperimentByName`, { experimentName: "secret" }, p)).toBe(ErrorCode.PERMISSION_DENIED);
    expect(await decide(`${T}GetExperimentByName`, { experimentName: "no such" }, p)).toBe("allowed");
    expect(await decide(`/logbook.v1.SearchService/GetMetricHistoryBulk`, { runId: [openRun, secretRun] }, p)).toBe(ErrorCode.PERMISSION_DENIED);
  });

  it("refuses a run that does not exist unless the caller may act on every experiment (no oracle of ids)", async () => {
    const missing = randomBytes(16).toString("hex");
    expect(await decide(`${T}GetRun`, { runId: missing }, denySecret())).toBe(ErrorCode.PERMISSION_DENIED);
    expect(await decide(`${T}GetRun`, { runId: missing }, principal([]))).toBe("allowed");
  });

  it("needs EDIT on the models a write links, and READ on a new version's sources", async () => {
    const editor = principal([
      { resourceType: "experiment", resourceId: open, permission: "EDIT" },
      { resourceType: "registered_model", resourceId: "reg", permission: "EDIT" },
    ]);
    expect(await decide(`${T}LogBatch`, { runId: openRun, metrics: [{ modelId: secretModel }] }, editor)).toBe(ErrorCode.PERMISSION_DENIED);
    expect(await decide(`${T}LogBatch`, { runId: openRun, metrics: [{}] }, editor)).toBe("allowed");
    const denied = principal([
      { resourceType: "experiment", resourceId: secret, permission: "DENY" },
      { resourceType: "registered_model", resourceId: "reg", permission: "EDIT" },
    ]);
    expect(await decide(`${R}CreateModelVersion`, { name: "reg", source: "s3://b/m", runId: openRun }, denied)).toBe("allowed");
    expect(await decide(`${R}CreateModelVersion`, { name: "reg", source: `runs:/${secretRun}/model` }, denied)).toBe(ErrorCode.PERMISSION_DENIED);
    expect(await decide(`${R}CreateModelVersion`, { name: "reg", source: `models:/${secretModel}` }, denied)).toBe(ErrorCode.PERMISSION_DENIED);
    expect(await decide(`${R}CreateModelVersion`, { name: "other", source: "s3://b/m" }, denied)).toBe(ErrorCode.PERMISSION_DENIED);
  });

  it("reads the experiment of a proxy artifact path from its first segment", async () => {
    const p = denySecret();
    expect(await decide(`${A}DownloadArtifact`, { runId: "", path: `${open}/${openRun}/artifacts/a.txt` }, p)).toBe("allowed");
    expect(await decide(`${A}DownloadArtifact`, { runId: "", path: `${secret}/${secretRun}/artifacts/a.txt` }, p)).toBe(ErrorCode.PERMISSION_DENIED);
    expect(await decide(`${A}UploadArtifact`, { header: { runId: "", path: `${open}/x` } }, p)).toBe(ErrorCode.PERMISSION_DENIED);
    expect(await decide(`${A}DeleteArtifact`, { runId: "", path: `${open}/x` }, principal([{ resourceType: "experiment", resourceId: open, permission: "EDIT" }]))).toBe(
      ErrorCode.PERMISSION_DENIED,
    );
    expect(await decide(`${A}ListArtifacts`, { runId: "", path: "" }, p)).toBe("allowed");
    expect(await decide(`${A}ListArtifacts`, { runId: "", path: "" }, p, "NO_PERMISSIONS")).toBe(ErrorCode.PERMISSION_DENIED);
    expect(await decide(`${A}DownloadArtifact`, { runId: "", path: `../${open}` }, p)).toBe(ErrorCode.INVALID_PARAMETER_VALUE);
  });

  it("lets users see themselves, and grant only where they MANAGE (\"*\": admins)", async () => {
    const p = principal([{ resourceType: "registered_model", resourceId: "reg", permission: "MANAGE" }]);
    expect(await decide(`${U}GetUser`, { username: "bob" }, p)).toBe("allowed");
    expect(await decide(`${U}GetUser`, { username: "alice" }, p)).toBe(ErrorCode.PERMISSION_DENIED);
    expect(await decide(`${U}CreateUser`, { username: "x" }, p)).toBe(ErrorCode.PERMISSION_DENIED);
    const grant = (resourceType: string, resourceId: string) => ({ username: "alice", resourceType, resourceId, permission: "READ" });
    expect(await decide(`${U}GrantUserPermission`, grant("registered_model", "reg"), p)).toBe("allowed");
    expect(await decide(`${U}GrantUserPermission`, grant("registered_model", "other"), p)).toBe(ErrorCode.PERMISSION_DENIED);
    expect(await decide(`${U}GrantUserPermission`, grant("registered_model", "*"), p)).toBe(ErrorCode.PERMISSION_DENIED);
    expect(await decide(`${U}GrantUserPermission`, grant("prompt", "reg"), p)).toBe(ErrorCode.INVALID_PARAMETER_VALUE);
  });

  it("vetoes creation under a DENY on every resource of the type (a registered model: or on its name)", async () => {
    expect(await decide(`${T}CreateExperiment`, { name: "n" }, principal([]), "NO_PERMISSIONS")).toBe("allowed");
    expect(await decide(`${T}CreateExperiment`, { name: "n" }, principal([{ resourceType: "experiment", resourceId: "*", permission: "DENY" }]))).toBe(ErrorCode.PERMISSION_DENIED);
    const p = principal([{ resourceType: "registered_model", resourceId: "taken", permission: "DENY" }]);
    expect(await decide(`${R}CreateRegisteredModel`, { name: "taken" }, p)).toBe(ErrorCode.PERMISSION_DENIED);
    expect(await decide(`${R}CreateRegisteredModel`, { name: "free" }, p)).toBe("allowed");
  });
});
