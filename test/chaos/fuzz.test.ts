/**
 * Seeded fuzz of every HTTP route and every gRPC method (embedded store, in process): plausible requests, each
 * given one mutation that makes it invalid — a wrong JSON type or bad text for a field, nesting past the limit, a
 * lone surrogate, truncated JSON, bytes that are not UTF-8, a wrong Content-Type, a repeated single-valued query
 * key, a method the path does not take, a malformed percent-escape, traversal in an artifact path; for gRPC,
 * message bytes that do not decode. Every answer must be a 4xx with MLflow's error body (gRPC: INVALID_ARGUMENT),
 * and nothing may change: counts, the seeded run, experiments, registered models and artifact listings.
 * The seed is printed; LOGBOOK_FUZZ_SEED=<seed> replays a run.
 */
import { readFileSync } from "node:fs";
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { Client, credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArtifactServiceService } from "../../gen/ts/logbook/v1/artifact_service.js";
import { RegistryServiceService } from "../../gen/ts/logbook/v1/registry.js";
import { SearchServiceService } from "../../gen/ts/logbook/v1/search_service.js";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { tsProtoKey } from "../../src/gateway/json-codec.js";
import { loadHttpRoutes, registryFromDescriptorSet, type HttpRoute } from "../../src/gateway/routes.js";
import { descriptorSetPath } from "../../src/server/paths.js";
import type { MethodDefinition } from "../../src/services/rpc.js";
import { uploadGrpc } from "../harness/artifacts.js";
import { promiseClient, type PromiseClient } from "../harness/grpc.js";
import { standInUiBundle, startTestLogbook, type TestLogbook } from "../harness/logbook.js";
import { sendRequest } from "../harness/raw-http.js";

const PER_ROUTE = 50;
const SEED = Number(process.env.LOGBOOK_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: small, seeded, good enough to pick mutations reproducibly. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
  };
}
type Rng = ReturnType<typeof prng>;

interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  what: string;
}

const send = (port: number, r: Req) => sendRequest(port, { method: r.method, path: r.path, headers: r.headers, ...(r.body ? { body: r.body } : {}) });

// ---- values -----------------------------------------------------------------------------------------------------

interface Seeded {
  runId: string;
  modelName: string;
  loggedModelId: string;
}

/** A plausible JSON value for a field (what a client would send). */
function plausible(field: DescField, seeded: Seeded, rng: Rng): unknown {
  const name = field.name;
  if (field.fieldKind === "list") return [];
  if (field.fieldKind === "map") return {};
  if (field.fieldKind === "message") return {};
  if (field.fieldKind === "enum") return field.enum.values.find((v) => v.number !== 0)?.name ?? 0;
  if (name === "experiment_id") return "0";
  if (name === "run_id" || name === "run_uuid") return seeded.runId;
  if (name === "model_id") return seeded.loggedModelId;
  if (name === "name" || name === "model_name") return seeded.modelName;
  switch (field.scalar) {
    case ScalarType.STRING:
      return `fuzz-${rng.int(1e6)}`;
    case ScalarType.BOOL:
      return rng.next() < 0.5;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return rng.next();
    case ScalarType.BYTES:
      return "AAEC";
    default:
      return 1 + rng.int(5);
  }
}

/** A JSON value of the wrong type for a field: refused whatever else the request holds. */
function wrongValue(field: DescField, rng: Rng): unknown {
  if (field.fieldKind === "list") return rng.pick(["not a list", 5, { a: 1 }]);
  if (field.fieldKind === "map") return rng.pick([[1], "x", 5]);
  if (field.fieldKind === "message") return rng.pick([5, "str", [], true]);
  if (field.fieldKind === "enum") return rng.pick(["NOT_A_VALUE", {}, 1.5, true]);
  switch (field.scalar) {
    case ScalarType.STRING:
      return rng.pick([{}, [1], true, { $ne: 1 }, { $where: "sleep(1)" }]);
    case ScalarType.BOOL:
      return rng.pick(["maybe", {}, 3, []]);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return rng.pick(["abc", {}, [], true, "1,5"]);
    case ScalarType.BYTES:
      return rng.pick([{}, 5, "!!!"]);
    default:
      return rng.pick(["abc", {}, 1.5, true, [], "1e999", "99999999999999999999999"]);
  }
}

/** Query text a field cannot take; undefined for strings (any text is a string). */
function wrongText(field: DescField, rng: Rng): string | undefined {
  if (field.fieldKind === "enum") return rng.pick(["NOPE", "1.5", "{}"]);
  if (field.fieldKind !== "scalar" && field.fieldKind !== "list") return undefined;
  const scalar = field.scalar;
  if (scalar === undefined || scalar === ScalarType.STRING || scalar === ScalarType.BYTES) return undefined;
  if (scalar === ScalarType.BOOL) return rng.pick(["maybe", "yes", "2"]);
  if (scalar === ScalarType.DOUBLE || scalar === ScalarType.FLOAT) return rng.pick(["x1", "1,5", "--1"]);
  return rng.pick(["abc", "1.5", "99999999999999999999999", "0x10"]);
}

const leafFields = (m: DescMessage) => m.fields.filter((f) => f.fieldKind === "scalar" || f.fieldKind === "enum" || f.fieldKind === "list");
const deepValue = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

// ---- HTTP mutations ---------------------------------------------------------------------------------------------

function pathOf(route: HttpRoute, seeded: Seeded, badVariable: boolean): string {
  return route.template.source.replace(/\{([^}=]+)(=[^}]*)?\}/g, (_m, name: string) => {
    if (badVariable) return "bad%ZZ%E2%82";
    if (name === "run_id") return seeded.runId;
    if (name === "model_id") return seeded.loggedModelId;
    if (name === "experiment_name") return "Default";
    return encodeURIComponent(name === "model_name" ? seeded.modelName : `fuzz-${name}`);
  });
}

function httpMutation(route: HttpRoute, seeded: Seeded, rng: Rng): Req {
  const fields = route.input.fields;
  const body: Record<string, unknown> = {};
  for (const f of fields) if (rng.next() < 0.6) body[f.name] = plausible(f, seeded, rng);
  const json = (o: unknown) => Buffer.from(JSON.stringify(o));
  const jsonHeaders = { "content-type": "application/json" };
  const path = pathOf(route, seeded, false);
  const readsBody = route.body.kind !== "none"; // "none" routes read the body only when the query is empty
  const kinds = ["wrong-type", "deep", "truncated", "not-utf8", "options"];
  if (fields.some((f) => f.fieldKind === "scalar" && f.scalar === ScalarType.STRING)) kinds.push("surrogate");
  if (["POST", "PUT", "PATCH"].includes(route.method)) kinds.push("content-type");
  if (route.pathFields.length > 0) kinds.push("bad-escape");
  // Query keys for fields the path binds are ignored (grpc-gateway's rule: the path wins), so they prove nothing.
  const bound = new Set(route.pathFields.map((p) => p.name));
  const queryable = route.body.kind !== "all" ? leafFields(route.input).filter((f) => !bound.has(f.name)) : [];
  if (queryable.some((f) => wrongText(f, rng) !== undefined)) kinds.push("query-type");
  if (queryable.some((f) => f.fieldKind !== "list")) kinds.push("query-repeat");
  const kind = rng.pick(kinds);
  const withBody = (b: Buffer, what: string): Req => ({ method: route.method, path, headers: jsonHeaders, body: b, what });
  // A body mutation needs a route that reads the body: `all`, or `none` without a query string (as MLflow reads it).
  const target = fields.length > 0 ? rng.pick(fields) : undefined;
  switch (kind) {
    case "wrong-type":
      if (!target) return withBody(Buffer.from('{"x": '), "truncated (no fields)");
      if (route.body.kind === "field") return withBody(json(wrongValue(route.body.field, rng)), `wrong type for the body field ${route.body.field.name}`);
      return withBody(json({ ...body, [target.name]: wrongValue(target, rng) }), `wrong type for ${target.name}`);
    case "deep":
      return withBody(Buffer.from(JSON.stringify({ ...body, [target?.name ?? "x"]: "@DEEP@" }).replace('"@DEEP@"', deepValue(257 + rng.int(3000)))), "nesting past 256");
    case "surrogate": {
      const f = rng.pick(fields.filter((x) => x.fieldKind === "scalar" && x.scalar === ScalarType.STRING));
      const text = JSON.stringify({ ...body, [f.name]: "@S@" }).replace('"@S@"', rng.pick(['"\\ud800"', '"a\\udfffb"', '"\\udbff"']));
      return withBody(Buffer.from(text), `lone surrogate in ${f.name}`);
    }
    case "truncated": {
      const text = JSON.stringify(body);
      return withBody(Buffer.from(text.slice(0, 1 + rng.int(Math.max(1, text.length - 1)))), "truncated JSON");
    }
    case "not-utf8": {
      const text = JSON.stringify({ ...body, [target?.name ?? "x"]: "@B@" });
      const at = text.indexOf("@B@");
      return withBody(Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([rng.pick([0xff, 0xc3, 0xed, 0x80])]), Buffer.from(text.slice(at + 3))]), "bytes that are not UTF-8");
    }
    case "content-type":
      return { method: route.method, path, headers: { "content-type": rng.pick(["text/plain", "application/x-www-form-urlencoded", "application/jsonx"]) }, body: json(body), what: "wrong Content-Type" };
    case "bad-escape":
      return { method: route.method, path: pathOf(route, seeded, true), headers: jsonHeaders, ...(readsBody ? { body: json(body) } : {}), what: "malformed percent-escape in a path variable" };
    case "options":
      return { method: "OPTIONS", path, headers: {}, what: "a method the path does not take" };
    case "query-type": {
      const f = rng.pick(queryable.filter((x) => wrongText(x, rng) !== undefined));
      return { method: route.method, path: `${path}?${f.name}=${encodeURIComponent(wrongText(f, rng)!)}`, headers: {}, what: `bad text for ${f.name}` };
    }
    default: {
      const f = rng.pick(queryable.filter((x) => x.fieldKind !== "list"));
      const v = String(plausible(f, seeded, rng));
      return { method: route.method, path: `${path}?${f.name}=${encodeURIComponent(v)}&${f.name}=${encodeURIComponent(v)}`, headers: {}, what: `repeated ${f.name}` };
    }
  }
}

const TRAVERSALS = ["..", "%2e%2e", "%252e%252e", ".%2E", "a/../..", "..%2f..", "%00", "a%00b", "a%5c..", ".logbook-uploads"];

function artifactMutation(url: string, seeded: Seeded, rng: Rng): Req {
  const bad = rng.pick(TRAVERSALS);
  const root = `0/${seeded.runId}/artifacts`;
  const proxy = rng.pick(["/api/2.0/mlflow-artifacts/artifacts", "/ajax-api/2.0/mlflow-artifacts/artifacts"]);
  const inPath = rng.pick([`${bad}/x.txt`, `${root}/${bad}/x.txt`, `${root}/a/${bad}`, `${bad}`]);
  switch (url) {
    case "/get-artifact":
      return rng.next() < 0.2
        ? { method: "GET", path: `/get-artifact?path=a.txt`, headers: {}, what: "no run_id" }
        : { method: "GET", path: `/get-artifact?run_id=${seeded.runId}&path=${bad}/a.txt`, headers: {}, what: `traversal ${bad}` };
    case "/model-versions/get-artifact":
      return { method: "GET", path: `/model-versions/get-artifact?name=${seeded.modelName}&version=1&path=${bad}/MLmodel`, headers: {}, what: `traversal ${bad}` };
    default:
      if (url.endsWith("/*")) {
        const method = rng.pick(["GET", "PUT", "DELETE"]);
        return { method, path: `${proxy}/${inPath}`, headers: {}, ...(method === "PUT" ? { body: Buffer.from("planted") } : {}), what: `${method} traversal ${bad}` };
      }
      return { method: "GET", path: `${proxy}?path=${encodeURIComponent(`${root}/${bad}`).replace(/%25/g, "%")}`, headers: {}, what: `list traversal ${bad}` };
  }
}

/** The hand-written routes: each with the inputs it reads, made invalid; the rest get a method they do not take. */
function rawRouteMutation(url: string, seeded: Seeded, rng: Rng): Req {
  const bad = rng.pick(TRAVERSALS);
  switch (url) {
    case "/ajax-api/2.0/mlflow/upload-artifact":
      return { method: "POST", path: `${url}?run_uuid=${seeded.runId}&path=${bad}/x.txt`, headers: {}, body: Buffer.from("planted"), what: `upload traversal ${bad}` };
    case "/ajax-api/2.0/mlflow/metrics/get-history-bulk":
      return { method: "GET", path: `${url}?run_id=${seeded.runId}&metric_key=m&max_results=${rng.pick(["abc", "1.5", "1e3x"])}`, headers: {}, what: "bad max_results" };
    case "/ajax-api/2.0/mlflow/runs/create-promptlab-run": {
      const body = rng.pick([
        `{"experiment_id": "0", "run_name": "\\ud800"}`,
        `{"experiment_id": "0", "prompt_template": ${deepValue(300 + rng.int(2000))}}`,
        `{"experiment_id": "0", "run_name": "x"`,
      ]);
      return { method: "POST", path: url, headers: { "content-type": "application/json" }, body: Buffer.from(body), what: "invalid JSON body" };
    }
    case "/ajax-api/2.0/mlflow/logged-models/:modelId/artifacts/files": {
      const base = `/ajax-api/2.0/mlflow/logged-models/${seeded.loggedModelId}/artifacts/files`;
      return rng.pick<Req>([
        { method: "GET", path: base, headers: {}, what: "no artifact_file_path" },
        { method: "GET", path: `${base}?artifact_file_path=${bad}/MLmodel`, headers: {}, what: `traversal ${bad}` },
        { method: "GET", path: `/ajax-api/2.0/mlflow/logged-models/m-nope/artifacts/files?artifact_file_path=MLmodel`, headers: {}, what: "unknown model" },
      ]);
    }
    case "/graphql": {
      const query = JSON.stringify("{ __typename }");
      const body = rng.pick([
        `[{"query": ${query}}]`, // a batch: refused as MLflow refuses it
        `{"query": ${query}, "variables": ${deepValue(300 + rng.int(2000))}}`,
        `{"query": "\\ud800"}`,
        `{"query": ${query}`,
        `"${"x".repeat(rng.int(20))}"`,
      ]);
      return rng.pick<Req>([
        { method: "POST", path: url, headers: { "content-type": "application/json" }, body: Buffer.from(body), what: "invalid GraphQL request body" },
        { method: "POST", path: url, headers: { "content-type": "text/plain" }, body: Buffer.from(`{"query": ${query}}`), what: "wrong Content-Type" },
        { method: "GET", path: `${url}?query=${encodeURIComponent("{ __typename }")}&variables=${encodeURIComponent(rng.pick(["{", "[1,", deepValue(400)]))}`, headers: {}, what: "bad variables" },
      ]);
    }
    case "/static-files/*":
      return { method: "GET", path: `/static-files/${rng.pick(["..", "%2e%2e", "a/../..", "..%2f.."])}/${rng.pick(["index.html", "etc/passwd"])}`, headers: {}, what: "out of the bundle" };
    default:
      if (url.includes("artifact")) return artifactMutation(url, seeded, rng);
      // No input to spoil: a method no route of that path takes (405 from the router, or 404 for one fastify
      // does not route at all).
      return { method: rng.pick(["OPTIONS", "PROPFIND"]), path: url, headers: {}, what: "a method the route does not take" };
  }
}

// ---- gRPC mutations ---------------------------------------------------------------------------------------------

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** Valid message bytes (strings set) followed or replaced by bytes that cannot decode. */
function grpcMutation(def: MethodDefinition, input: DescMessage, rng: Rng): { bytes: Buffer; what: string } {
  const message = def.requestDeserialize(Buffer.alloc(0)) as Record<string, unknown>;
  const strings = input.fields.filter((f) => f.fieldKind === "scalar" && f.scalar === ScalarType.STRING);
  for (const f of strings) if (rng.next() < 0.7) message[tsProtoKey(f.name)] = `fuzz-${rng.int(1e6)}`;
  const base = def.requestSerialize(message);
  const kinds = ["wire-type", "overlong", "varint", "group"];
  if (strings.length > 0) kinds.push("utf8");
  const kind = rng.pick(kinds);
  const field = 1 + rng.int(15);
  let tail: number[];
  switch (kind) {
    case "wire-type":
      tail = [(field << 3) | rng.pick([6, 7])];
      break;
    case "overlong":
      tail = [(field << 3) | 2, ...varint(50 + rng.int(1000)), 0x61, 0x62];
      break;
    case "varint":
      tail = [(field << 3) | 0, ...new Array(11).fill(0xff)];
      break;
    case "group":
      tail = [(field << 3) | 3, 0x08, 0x01];
      break;
    default: {
      const f = rng.pick(strings);
      const bad = rng.pick([[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xe2, 0x82]]);
      tail = [(f.number << 3) | 2, ...varint(bad.length), ...bad];
    }
  }
  return { bytes: Buffer.concat([rng.next() < 0.5 ? base : Buffer.alloc(0), Buffer.from(tail)]), what: kind };
}

function callRaw(client: Client, def: MethodDefinition, bytes: Buffer): Promise<ServiceError | null> {
  const identity = (b: Buffer) => b;
  return new Promise((resolve) => {
    if (def.requestStream) {
      const call = client.makeClientStreamRequest(def.path, identity, identity, new Metadata(), (err) => resolve(err));
      call.write(bytes);
      call.end();
    } else if (def.responseStream) {
      const call = client.makeServerStreamRequest(def.path, identity, identity, bytes);
      call.on("data", () => undefined);
      call.on("error", (err: ServiceError) => resolve(err));
      call.on("end", () => resolve(null));
    } else {
      client.makeUnaryRequest(def.path, identity, identity, bytes, new Metadata(), (err) => resolve(err));
    }
  });
}

// ---- the suite ----------------------------------------------------------------------------------------------------

describe(`seeded fuzz of every route and RPC (seed ${SEED})`, () => {
  let lb: TestLogbook;
  let artifacts: PromiseClient<typeof ArtifactServiceService>;
  let registry: PromiseClient<typeof RegistryServiceService>;
  let search: PromiseClient<typeof SearchServiceService>;
  let seeded: Seeded;
  const registryOfTypes = registryFromDescriptorSet(readFileSync(descriptorSetPath()));
  const ui = standInUiBundle();

  beforeAll(async () => {
    console.log(`fuzz seed: ${SEED} (LOGBOOK_FUZZ_SEED=${SEED} replays it)`);
    // With a (stand-in) UI bundle, so that --ui's routes are fuzzed too.
    lb = await startTestLogbook("sqlite", { config: { ui: true, uiDir: ui.path } });
    artifacts = promiseClient(ArtifactServiceService, lb.address);
    registry = promiseClient(RegistryServiceService, lb.address);
    search = promiseClient(SearchServiceService, lb.address);
    const { run } = await lb.tracking.createRun({ experimentId: "0", userId: "u", runName: "target", tags: [{ key: "t", value: "1" }] });
    const runId = run!.info!.runId;
    await lb.tracking.logBatch({ runId, metrics: [{ key: "m", value: 1, timestamp: 1n, step: 0n, runId: "" }], params: [{ key: "p", value: "1" }], tags: [] });
    await uploadGrpc(artifacts.raw, { runId, path: "model/MLmodel" }, Buffer.from("flavors: {}\n"));
    await registry.createRegisteredModel({ name: "fuzz-model", tags: [], description: "" });
    await registry.createModelVersion({ name: "fuzz-model", source: `runs:/${runId}/model`, runId, tags: [], runLink: "", description: "" });
    const model = await lb.tracking.createLoggedModel({ experimentId: "0", name: "lm", modelType: "", sourceRunId: runId, params: [], tags: [] });
    seeded = { runId, modelName: "fuzz-model", loggedModelId: model.model!.info!.modelId };
  });
  afterAll(async () => {
    for (const c of [artifacts, registry, search]) c?.close();
    await lb?.close();
    ui.remove();
  });

  async function snapshot() {
    const { runId } = seeded;
    const bigints = (_key: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);
    return JSON.stringify({
      counts: (await lb.tracking.getServerStatus({})).counts,
      run: (await lb.tracking.getRun({ runId, runUuid: "" })).run,
      experiments: (await search.searchExperiments({ maxResults: 1000n, pageToken: "", filter: "", orderBy: [], viewType: 3 })).experiments,
      models: (await search.searchRegisteredModels({ maxResults: 1000n, pageToken: "", filter: "", orderBy: [] })).registeredModels,
      loggedModel: (await lb.tracking.getLoggedModel({ modelId: seeded.loggedModelId })).model,
      root: (await artifacts.listArtifacts({ runId: "", runUuid: "", path: "", pageToken: "" })).files,
      runArtifacts: (await artifacts.listArtifacts({ runId, runUuid: "", path: "", pageToken: "" })).files,
      modelFiles: (await artifacts.listArtifacts({ runId, runUuid: "", path: "model", pageToken: "" })).files,
    }, bigints);
  }

  it(`answers ${PER_ROUTE} invalid requests per HTTP route with 4xx and MLflow's error body, changing nothing`, async () => {
    const rng = prng(SEED);
    const routes = loadHttpRoutes(registryOfTypes);
    const raw = lb.logbook.routes.http.filter((url) => !routes.some((r) => r.template.source === url));
    const before = await snapshot();
    const failures: string[] = [];
    let sent = 0;
    const check = async (label: string, r: Req) => {
      const res = await send(lb.logbook.httpPort, r).catch((e: Error) => ({ status: 0, body: e.message }));
      sent++;
      let body: { error_code?: unknown; message?: unknown } = {};
      try {
        body = JSON.parse(res.body) as typeof body;
      } catch {
        // reported below
      }
      const ok = res.status >= 400 && res.status < 500 && typeof body.error_code === "string" && typeof body.message === "string";
      if (!ok) failures.push(`${label} [${r.what}] ${r.method} ${r.path.slice(0, 150)} ${r.body?.toString("latin1").slice(0, 150) ?? ""} → ${res.status} ${res.body.slice(0, 200)}`);
    };
    for (const route of routes) {
      for (let i = 0; i < PER_ROUTE; i++) await check(`${route.rpc} ${route.method} ${route.template.source}`, httpMutation(route, seeded, rng));
    }
    for (const url of raw) {
      for (let i = 0; i < PER_ROUTE; i++) await check(url, rawRouteMutation(url, seeded, rng));
    }
    console.log(`HTTP fuzz: ${sent} requests over ${routes.length} RPC bindings and ${raw.length} raw routes, ${failures.length} failures`);
    expect(failures.slice(0, 20)).toEqual([]);
    expect(await snapshot()).toBe(before);
    expect((await fetch(`${lb.httpUrl}/health`)).status).toBe(200);
  });

  it(`answers ${PER_ROUTE} undecodable messages per gRPC method with INVALID_ARGUMENT, changing nothing`, async () => {
    const rng = prng(SEED ^ 0x5eed);
    const client = new Client(lb.address, credentials.createInsecure());
    const before = await snapshot();
    const failures: string[] = [];
    let sent = 0;
    for (const definition of [TrackingServiceService, RegistryServiceService, SearchServiceService, ArtifactServiceService]) {
      for (const def of Object.values(definition) as MethodDefinition[]) {
        const [, service, method] = def.path.split("/");
        const input = registryOfTypes.getService(service!)!.methods.find((m) => m.name === method)!.input;
        for (let i = 0; i < PER_ROUTE; i++) {
          const { bytes, what } = grpcMutation(def, input, rng);
          const err = await callRaw(client, def, bytes);
          sent++;
          if (err?.code !== status.INVALID_ARGUMENT) failures.push(`${def.path} [${what}] ${bytes.toString("hex").slice(0, 80)} → ${err ? `${err.code} ${err.details}` : "OK"}`);
        }
      }
    }
    client.close();
    console.log(`gRPC fuzz: ${sent} calls, ${failures.length} failures`);
    expect(failures.slice(0, 20)).toEqual([]);
    expect(await snapshot()).toBe(before);
  });
});
