/**
 * The permission table, end to end on both stores with `--auth basic`: every gRPC method and every HTTP route the
 * running server has — enumerated at run time, so a route or RPC added later without a rule fails here — answers
 * 401/UNAUTHENTICATED without credentials (the open routes excepted), 403/PERMISSION_DENIED to a user without the
 * level its rule asks for, and neither to a user with it.
 *
 * Every request names the same resources: an experiment, a run in it, a logged model and a registered model on which
 * `mallory` holds DENY and `owner` MANAGE, and a third user as the target of user calls.
 */
import { randomBytes } from "node:crypto";
import { Client, Metadata, credentials, status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { httpFamilyOf, samplePath } from "../../src/edge/route-families.js";
import { loadHttpRoutes, registryFromDescriptorSet } from "../../src/gateway/routes.js";
import { PERMISSION_RULES, type Rule } from "../../src/services/auth/permission-rules.js";
import { descriptorSetPath } from "../../src/server/paths.js";
import type { MethodDefinition } from "../../src/services/rpc.js";
import { AuthServiceService } from "../../gen/ts/logbook/v1/auth_service.js";
import { ArtifactServiceService } from "../../gen/ts/logbook/v1/artifact_service.js";
import { RegistryServiceService } from "../../gen/ts/logbook/v1/registry.js";
import { SearchServiceService } from "../../gen/ts/logbook/v1/search_service.js";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { readFileSync } from "node:fs";
import { STORE_KINDS, type TestLogbook, startTestLogbook } from "../harness/logbook.js";

const ADMIN_PASSWORD = `admin-${randomBytes(9).toString("base64url")}`;
const PASSWORD = "a-long-password-1";
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const SERVICES = [TrackingServiceService, RegistryServiceService, SearchServiceService, ArtifactServiceService, AuthServiceService] as unknown as Array<
  Record<string, MethodDefinition>
>;

/**
 * The hand-written HTTP routes and what guards them: "open" (no credentials: their route family's `auth` is "open"),
 * or "signed in" (the edge's authentication step; the service functions they call apply their own rules). A route
 * registered but not listed fails the test.
 */
const RAW_ROUTES: Readonly<Record<string, "open" | "signed in">> = {
  "GET /health": "open",
  "GET /readyz": "open",
  "GET /version": "open",
  "GET /metrics": "signed in", // and an admin: test/observability/metrics-endpoint.test.ts
  "GET /api/3.0/mlflow/server-info": "open",
  "GET /ajax-api/3.0/mlflow/server-info": "open",
  "PUT /api/2.0/mlflow-artifacts/artifacts/*": "signed in",
  "GET /api/2.0/mlflow-artifacts/artifacts/*": "signed in",
  "DELETE /api/2.0/mlflow-artifacts/artifacts/*": "signed in",
  "GET /api/2.0/mlflow-artifacts/artifacts": "signed in",
  "PUT /ajax-api/2.0/mlflow-artifacts/artifacts/*": "signed in",
  "GET /ajax-api/2.0/mlflow-artifacts/artifacts/*": "signed in",
  "DELETE /ajax-api/2.0/mlflow-artifacts/artifacts/*": "signed in",
  "GET /ajax-api/2.0/mlflow-artifacts/artifacts": "signed in",
  "GET /get-artifact": "signed in",
  "GET /model-versions/get-artifact": "signed in",
  "GET /ajax-api/2.0/mlflow/logged-models/:modelId/artifacts/files": "signed in",
  "POST /ajax-api/2.0/mlflow/upload-artifact": "signed in",
  "POST /ajax-api/2.0/mlflow/runs/create-promptlab-run": "signed in",
  "GET /ajax-api/2.0/mlflow/metrics/get-history-bulk": "signed in",
  "GET /ajax-api/2.0/mlflow/gateway-proxy": "signed in",
  "POST /ajax-api/2.0/mlflow/gateway-proxy": "signed in",
  "GET /logbook/leaderboard/:symbol": "signed in",
  "GET /graphql": "signed in",
  "POST /graphql": "signed in",
  "GET /ajax-api/3.0/mlflow/ui-telemetry": "signed in",
  "POST /ajax-api/3.0/mlflow/ui-telemetry": "signed in",
  "GET /ajax-api/3.0/mlflow/assistant/config": "signed in",
  "GET /ajax-api/3.0/mlflow/assistant/providers": "signed in",
};

/** Roles and workspaces: 501 for everyone signed in (not-implemented-routes.ts). */
const NOT_IMPLEMENTED_PREFIXES = ["/api/3.0/mlflow/roles/", "/ajax-api/3.0/mlflow/roles/", "/api/3.0/mlflow/users/roles/", "/ajax-api/3.0/mlflow/users/roles/", "/api/3.0/mlflow/workspaces", "/ajax-api/3.0/mlflow/workspaces"];

describe.each(STORE_KINDS)("the permission table on %s", (kind) => {
  let server: TestLogbook;
  let raw: Client;
  const ids = { experiment: "", experimentName: `secret-${randomBytes(4).toString("hex")}`, run: "", loggedModel: "", model: `secret-model-${randomBytes(4).toString("hex")}`, bystander: `bystander-${randomBytes(4).toString("hex")}` };
  const registeredRoutes: Array<{ method: string; url: string }> = [];

  const auth = {
    admin: basic("admin", ADMIN_PASSWORD),
    mallory: basic("mallory", PASSWORD),
    owner: basic("owner", PASSWORD),
  };

  function call(def: MethodDefinition, request: unknown, authorization?: string): Promise<{ code: number; details: string }> {
    const metadata = new Metadata();
    if (authorization) metadata.set("authorization", authorization);
    const done = (err: ServiceError | null) => ({ code: err ? err.code : status.OK, details: err?.details ?? "" });
    return new Promise((resolve) => {
      if (def.requestStream) {
        const stream = raw.makeClientStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, metadata, (err: ServiceError | null) => resolve(done(err)));
        stream.write(request);
        stream.end();
      } else if (def.responseStream) {
        const stream = raw.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, request, metadata);
        // A first message means the call was let through; live watches never end by themselves.
        stream.on("data", () => {
          resolve(done(null));
          stream.cancel();
        });
        stream.on("error", (err: ServiceError) => resolve(done(err)));
        stream.on("end", () => resolve(done(null)));
      } else {
        raw.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, request, metadata, (err: ServiceError | null) => resolve(done(err)));
      }
    });
  }

  /** A complete request of the method's type with every field that names a resource set to the secret ones. */
  function requestFor(def: MethodDefinition): Record<string, unknown> {
    const message = def.requestDeserialize(Buffer.alloc(0)) as Record<string, unknown>;
    const filler: Record<string, unknown> = {
      experimentId: ids.experiment,
      experimentIds: [ids.experiment],
      experimentName: ids.experimentName,
      experimentNames: [ids.experimentName],
      runId: Array.isArray(message.runId) ? [ids.run] : ids.run,
      runUuid: ids.run,
      runIds: [ids.run],
      modelId: ids.loggedModel,
      name: ids.model,
      modelName: ids.model,
      version: "1",
      path: `${ids.experiment}/${ids.run}/artifacts/file.txt`,
      header: { runId: ids.run, path: "file.txt" },
      locations: [{ type: 1, mlflowExperiment: { experimentId: ids.experiment } }],
      username: ids.bystander,
      resourceType: "experiment",
      resourceId: ids.experiment,
      permission: "READ",
      metric: "m",
      symbol: "AAPL",
      metricKey: "m",
    };
    for (const [key, value] of Object.entries(filler)) if (key in message) message[key] = value;
    return message;
  }

  beforeAll(async () => {
    server = await startTestLogbook(kind, {
      label: "permtable",
      config: { auth: "basic", admin: { username: "admin", password: ADMIN_PASSWORD }, authDefaultPermission: "READ" },
    });
    raw = new Client(server.address, credentials.createInsecure());
    // What the HTTP server registered, read back from its router.
    for (const line of server.logbook.httpRoutes()) registeredRoutes.push(line);

    for (const name of ["mallory", "owner", ids.bystander]) expect((await admin(AuthServiceService.createUser, { username: name, password: PASSWORD })).code).toBe(status.OK);
  });

  /** A request of the method's type: its defaults, then `fields`. */
  const message = (def: MethodDefinition, fields: object) => ({ ...(def.requestDeserialize(Buffer.alloc(0)) as object), ...fields });
  const admin = (def: unknown, fields: object) => call(def as MethodDefinition, message(def as MethodDefinition, fields), auth.admin);

  /** Fresh secret resources for each test (the "allowed" calls delete and rename them), and the two users' grants. */
  beforeEach(async () => {
    const suffix = randomBytes(4).toString("hex");
    ids.experimentName = `secret-${suffix}`;
    ids.model = `secret-model-${suffix}`;
    const got = async (def: unknown, fields: object) => {
      const metadata = new Metadata();
      metadata.set("authorization", auth.admin);
      const d = def as MethodDefinition;
      return new Promise<Record<string, any>>((resolve, reject) =>
        raw.makeUnaryRequest(d.path, d.requestSerialize, d.responseDeserialize, message(d, fields), metadata, (err: ServiceError | null, res?: unknown) =>
          err ? reject(err) : resolve(res as Record<string, any>),
        ),
      );
    };
    ids.experiment = String((await got(TrackingServiceService.createExperiment, { name: ids.experimentName })).experimentId);
    ids.run = String((await got(TrackingServiceService.createRun, { experimentId: ids.experiment })).run.info.runId);
    ids.loggedModel = String((await got(TrackingServiceService.createLoggedModel, { experimentId: ids.experiment, name: "lm" })).model.info.modelId);
    await got(RegistryServiceService.createRegisteredModel, { name: ids.model });
    await got(RegistryServiceService.createModelVersion, { name: ids.model, source: "s3://bucket/model", runId: ids.run });
    for (const [resourceType, resourceId] of [
      ["experiment", ids.experiment],
      ["registered_model", ids.model],
    ]) {
      expect((await admin(AuthServiceService.grantUserPermission, { username: "mallory", resourceType, resourceId, permission: "DENY" })).code).toBe(status.OK);
      expect((await admin(AuthServiceService.grantUserPermission, { username: "owner", resourceType, resourceId, permission: "MANAGE" })).code).toBe(status.OK);
    }
  });

  afterAll(async () => {
    raw?.close();
    await server?.close();
  });

  const methods = SERVICES.flatMap((definition) => Object.values(definition));

  it("has a rule for every gRPC method", () => {
    expect(methods.filter((def) => !PERMISSION_RULES[def.path]).map((d) => d.path)).toEqual([]);
  });

  it("refuses every gRPC method without credentials and with wrong ones", async () => {
    // A new forged token each time: repeated failures of one token id from one address are throttled (429).
    const forgedToken = () => `Bearer lbk_${randomBytes(8).toString("hex")}_${randomBytes(32).toString("base64url")}`;
    for (const def of methods) {
      expect((await call(def, requestFor(def))).code, def.path).toBe(status.UNAUTHENTICATED);
      expect((await call(def, requestFor(def), forgedToken())).code, def.path).toBe(status.UNAUTHENTICATED);
    }
    // A wrong password (each check costs a key derivation, so a few methods).
    for (const def of [TrackingServiceService.getRun, SearchServiceService.searchRuns, AuthServiceService.getCurrentUser] as MethodDefinition[]) {
      expect((await call(def, requestFor(def), basic("mallory", "not-the-password"))).code, def.path).toBe(status.UNAUTHENTICATED);
    }
  });

  /** Mallory holds DENY on every resource the requests name: only calls any signed-in user may make pass — except
   * creating a registered model of a name under her DENY (MLflow's create veto). */
  const refusesMallory = (rule: Rule) => rule.kind !== "signedIn" || rule.creates === "registered_model";

  it("answers PERMISSION_DENIED to a user without the level, and lets a user with it through", async () => {
    const denied: string[] = [];
    const wronglyDenied: string[] = [];
    for (const def of methods) {
      const rule = PERMISSION_RULES[def.path]!;
      const mallory = await call(def, requestFor(def), auth.mallory);
      if (refusesMallory(rule) !== (mallory.code === status.PERMISSION_DENIED)) denied.push(`${def.path}: ${status[mallory.code]} ${mallory.details}`);
      expect(mallory.code, def.path).not.toBe(status.UNAUTHENTICATED);
    }
    // Those allowed: the owner (MANAGE on every resource named) for resource rules, the admin for the rest.
    // Calls that remove or rename the resources (and so their grants) go last.
    const stage = (path: string) => (/\/(DeleteRegisteredModel|DeleteExperiment|RenameRegisteredModel|DeleteUser)$/.test(path) ? 2 : /\/(Delete|Restore)[A-Z]/.test(path) ? 1 : 0);
    const ordered = [...methods].sort((a, b) => stage(a.path) - stage(b.path));
    for (const def of ordered) {
      const rule = PERMISSION_RULES[def.path]!;
      const who = rule.kind === "needs" || rule.kind === "signedIn" ? auth.owner : auth.admin;
      const answer = await call(def, requestFor(def), who);
      if (answer.code === status.PERMISSION_DENIED || answer.code === status.UNAUTHENTICATED) wronglyDenied.push(`${def.path}: ${answer.details}`);
    }
    expect(denied).toEqual([]);
    expect(wronglyDenied).toEqual([]);
  });

  it("guards every HTTP route: 401 without credentials but the open ones, the RPC's rule behind each binding", async () => {
    const descriptor = readFileSync(descriptorSetPath());
    const bindings = loadHttpRoutes(registryFromDescriptorSet(descriptor)).filter((r) => PERMISSION_RULES[r.grpcPath] && !r.clientStreaming);
    const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const failures: string[] = [];
    for (const route of bindings) {
      const def = methods.find((d) => d.path === route.grpcPath)!;
      const request = requestFor(def);
      const fields = Object.fromEntries(Object.entries(request).filter(([, v]) => typeof v === "string" || (Array.isArray(v) && v.every((x) => typeof x === "string"))));
      const path = route.template.source.replace(/\{([^}=]+)(=[^}]*)?\}/g, (_m, name: string) => encodeURIComponent(String(fields[name.replace(/_(\w)/g, (_x, c: string) => c.toUpperCase())] || "x")));
      const query = new URLSearchParams();
      const body: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(fields)) {
        if (route.method === "GET") for (const x of [v].flat()) query.append(snake(k), String(x));
        else body[snake(k)] = v;
      }
      // Trace locations name the experiment too.
      if (route.method !== "GET" && Array.isArray(request.locations)) body.locations = [{ type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: ids.experiment } }];
      const send = async (authorization?: string) => {
        const abort = new AbortController();
        const r = await fetch(`${server.httpUrl}${path}${query.size ? `?${query}` : ""}`, {
          method: route.method,
          headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
          ...(route.method === "GET" ? {} : { body: JSON.stringify(body) }),
          signal: abort.signal,
        });
        // A stream let through (a live watch never ends by itself): its status is the answer.
        if (r.status === 200 && route.serverStreaming) {
          abort.abort();
          return { status: r.status, text: "", challenge: r.headers.get("www-authenticate") };
        }
        return { status: r.status, text: await r.text(), challenge: r.headers.get("www-authenticate") };
      };
      const label = `${route.method} ${route.template.source}`;
      const anonymous = await send();
      if (anonymous.status !== 401 || anonymous.challenge !== 'Basic realm="logbook"') failures.push(`${label} without credentials: ${anonymous.status}`);
      const rule = PERMISSION_RULES[route.grpcPath]!;
      const mallory = await send(auth.mallory);
      if (refusesMallory(rule) !== (mallory.status === 403)) failures.push(`${label} as mallory: ${mallory.status} ${mallory.text.slice(0, 200)}`);
      if (mallory.status === 403 && JSON.parse(mallory.text).error_code !== "PERMISSION_DENIED") failures.push(`${label}: 403 without PERMISSION_DENIED`);
    }
    expect(failures).toEqual([]);
  });

  it("lists and guards every hand-written route", async () => {
    const bindingKeys = new Set(
      loadHttpRoutes(registryFromDescriptorSet(readFileSync(descriptorSetPath()))).map((r) => `${r.method} ${r.template.source.replace(/\{[^}]*\}/g, "*")}`),
    );
    const rawRoutes = registeredRoutes.filter((r) => r.url !== "*" && r.method !== "HEAD" && !bindingKeys.has(`${r.method} ${r.url}`));
    const unlisted = rawRoutes
      .map((r) => `${r.method} ${r.url}`)
      .filter((key) => !(key in RAW_ROUTES) && !NOT_IMPLEMENTED_PREFIXES.some((p) => key.split(" ")[1]!.startsWith(p)));
    expect(unlisted, "hand-written routes without a row in RAW_ROUTES").toEqual([]);
    for (const { method, url } of rawRoutes) {
      const key = `${method} ${url}`;
      const open = RAW_ROUTES[key] === "open";
      // The route-family table (src/edge/route-families.ts) decides what is open; this list must agree with it.
      expect(httpFamilyOf(samplePath(url)).auth === "open", key).toBe(open);
      const path = url.replace(/\*$/, `${ids.experiment}/${ids.run}/artifacts/file.txt`).replace(/:(\w+)/g, "x");
      const r = await fetch(`${server.httpUrl}${path}`, { method, headers: { "content-type": "application/json" }, ...(method === "GET" ? {} : { body: "{}" }) });
      await r.arrayBuffer();
      if (open) expect(r.status, key).not.toBe(401);
      else expect(r.status, key).toBe(401);
    }
  });

  it("applies the rules behind the hand-written routes: 403 to a user with DENY, not to the owner", async () => {
    const artifact = `${ids.experiment}/${ids.run}/artifacts/file.txt`;
    const requests: Array<[string, string, RequestInit?]> = [
      ["PUT", `/api/2.0/mlflow-artifacts/artifacts/${artifact}`, { body: "bytes" }],
      ["GET", `/api/2.0/mlflow-artifacts/artifacts/${artifact}`],
      ["GET", `/api/2.0/mlflow-artifacts/artifacts?path=${ids.experiment}/${ids.run}/artifacts`],
      ["GET", `/get-artifact?run_id=${ids.run}&path=file.txt`],
      ["GET", `/model-versions/get-artifact?name=${ids.model}&version=1&path=MLmodel`],
      ["GET", `/ajax-api/2.0/mlflow/logged-models/${ids.loggedModel}/artifacts/files?artifact_file_path=MLmodel`],
      ["GET", `/ajax-api/2.0/mlflow/metrics/get-history-bulk?run_id=${ids.run}&metric_key=m`],
      ["POST", `/ajax-api/2.0/mlflow/upload-artifact?run_uuid=${ids.run}&path=file.txt`, { body: "bytes" }],
      ["POST", "/ajax-api/2.0/mlflow/runs/create-promptlab-run", { headers: { "content-type": "application/json" }, body: JSON.stringify({ experiment_id: ids.experiment, run_name: "p", tags: [], prompt_template: "t", prompt_parameters: [], model_route: "r", model_parameters: [], model_input: "i", model_output: "o", model_output_parameters: [], mlflow_version: "3.17.2", user_id: "u", start_time: 1 }) }],
      ["POST", "/graphql", { headers: { "content-type": "application/json" }, body: JSON.stringify({ query: `{ mlflowGetRun(input: {runId: "${ids.run}"}) { run { info { runId } } } }` }) }],
      ["DELETE", `/api/2.0/mlflow-artifacts/artifacts/${artifact}`],
    ];
    const failures: string[] = [];
    for (const who of ["mallory", "owner"] as const) {
      for (const [method, path, init] of requests) {
        const r = await fetch(`${server.httpUrl}${path}`, { ...init, method, headers: { ...(init?.headers as object), authorization: auth[who] } });
        const text = await r.text();
        // GraphQL answers 200 with the field's error in `errors`.
        const denied = r.status === 403 || (path === "/graphql" && /PERMISSION_DENIED|Permission denied/.test(text));
        if (denied !== (who === "mallory")) failures.push(`${who} ${method} ${path}: ${r.status} ${text.slice(0, 160)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
