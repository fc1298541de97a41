/**
 * The gateway plugin end to end through fastify.inject() (no ports): routes from the descriptor
 * sets, binding, codec, errors, NDJSON, raw routes. Streaming backpressure and client
 * disconnects need a real socket: gateway-stream.test.ts.
 */
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import Fastify, { type FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { AppError, ErrorCode } from "../../src/domain/errors.js";
import { gatewayFrameworkErrors, gatewayPlugin } from "../../src/gateway/gateway.js";
import type { RegisteredService, ServiceImplementation } from "../../src/services/rpc.js";
import { createLibraryService, type LibraryState } from "./library-service.js";

const logbookSet = readFileSync(new URL("../../gen/descriptor.binpb", import.meta.url));
const testSet = readFileSync(new URL("../gen/descriptor.binpb", import.meta.url));

/** A few Tracking methods, enough to drive MLflow routes; the others stay unimplemented (→ 404). */
function fakeTracking(): RegisteredService {
  const implementation: Partial<ServiceImplementation<typeof TrackingServiceService>> = {
    async getExperiment(req) {
      if (req.experimentId !== "1") throw new AppError(ErrorCode.RESOURCE_DOES_NOT_EXIST, `No Experiment with id=${req.experimentId} exists`);
      return {
        experiment: {
          experimentId: "1",
          name: "team/forecast",
          artifactLocation: "mlflow-artifacts:/1",
          lifecycleStage: "active",
          creationTime: 1700000000000n,
          lastUpdateTime: 1700000000000n,
          tags: [],
        },
      };
    },
    async createExperiment(req) {
      if (req.name === "") throw new AppError(ErrorCode.INVALID_PARAMETER_VALUE, "Missing value for required parameter 'name'.");
      if (req.name === "taken") throw new AppError(ErrorCode.RESOURCE_ALREADY_EXISTS, "Experiment 'taken' already exists.");
      return { experimentId: String(req.tags.length) };
    },
    async getRun(req) {
      return { run: { info: { runId: req.runId, runUuid: req.runId, runName: "", experimentId: "0", userId: "", status: 1, artifactUri: "", lifecycleStage: "active" } } };
    },
    async logMetric(req) {
      lastMetric = req;
      return {};
    },
  };
  return { name: "logbook.v1.TrackingService", definition: TrackingServiceService, implementation } as unknown as RegisteredService;
}
let lastMetric: unknown;

interface Setup {
  app: FastifyInstance;
  state: LibraryState;
  logs: string[];
}

/** Two gateways, one per descriptor set, on one fastify instance would conflict; one app per set. */
async function start(descriptorSet: Uint8Array, maxBodyBytes = 1024): Promise<Setup> {
  const logs: string[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void logs.push(line) });
  const library = createLibraryService();
  const app = Fastify({ frameworkErrors: gatewayFrameworkErrors });
  await app.register(gatewayPlugin, { services: [library.service, fakeTracking()], descriptorSet, maxBodyBytes, logger });
  app.registerRawRoute({ method: "GET", url: "/health", handler: async (_req, reply) => reply.type("text/plain").send("OK") });
  app.registerRawRoute({
    method: ["PUT", "GET"],
    url: "/raw/upload/*",
    handler: async (request, reply) => {
      if ((request.params as Record<string, string>)["*"] === "fail") throw new AppError(ErrorCode.PERMISSION_DENIED, "nope");
      let size = 0;
      for await (const chunk of (request.body as Readable | undefined) ?? request.raw) size += (chunk as Buffer).length;
      return reply.type("text/plain").send(`${size}`);
    },
  });
  await app.ready();
  return { app, state: library.state, logs };
}

const json = { "content-type": "application/json" };

describe("gateway on the test service", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await start(testSet);
  });
  afterAll(() => s.app.close());

  it("serves {name=shelves/*} with JSON out", async () => {
    const res = await s.app.inject({ method: "GET", url: "/v1/shelves/s%201" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json\b/);
    expect(res.body).toBe('{"shelf":{"name":"shelves/s 1","theme":"sci-fi"}}');
  });

  it("gives the service a CallContext with a live signal and a logger", async () => {
    await s.app.inject({ method: "GET", url: "/v1/shelves/s1" });
    expect(s.state.lastContext!.signal.aborted).toBe(false);
    expect(typeof s.state.lastContext!.logger.info).toBe("function");
  });

  it("serves a custom verb with body: *", async () => {
    const res = await s.app.inject({ method: "POST", url: "/v1/shelves/s1:archive", headers: json, payload: '{"reason":"old"}' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: "shelves/s1", reason: "old" });
  });

  it("serves body: field with nested path fields and query parameters", async () => {
    const res = await s.app.inject({
      method: "PATCH",
      url: "/v1/shelves/s1/books/b1?update_mask=title",
      headers: json,
      payload: '{"title":"Dune","pages":"412"}',
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('{"book":{"shelf_id":"s1","book_id":"b1","title":"Dune","pages":412},"update_mask":"title"}');
  });

  it("serves ** variables and bare ** bindings", async () => {
    expect((await s.app.inject({ method: "GET", url: "/v1/files/a/b%2Fc/d.txt" })).json()).toEqual({ path: "a/b%2Fc/d.txt" });
    expect((await s.app.inject({ method: "GET", url: "/v1/raw/r/x/y" })).json()).toEqual({ root: "r" });
  });

  it("honours response_body", async () => {
    const res = await s.app.inject({ method: "GET", url: "/v1/books/b7/title" });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('"Title of b7"');
  });

  it("answers HEAD on a GET binding like GET, without a body", async () => {
    const res = await s.app.inject({ method: "HEAD", url: "/v1/shelves/s1" });
    expect([res.statusCode, res.body]).toEqual([200, ""]);
    expect(res.headers["content-type"]).toMatch(/^application\/json\b/);
  });

  it("serves a custom HEAD binding", async () => {
    const ok = await s.app.inject({ method: "HEAD", url: "/v1/books/b1" });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe("");
    expect((await s.app.inject({ method: "HEAD", url: "/v1/books/missing" })).statusCode).toBe(404);
  });

  it("reads JSON bodies on DELETE and on GET without query parameters, with or without Content-Type", async () => {
    const del = await s.app.inject({ method: "DELETE", url: "/v1/books/b1", payload: '{"force": true}' });
    expect(del.json()).toEqual({ book_id: "b1", force: true });
    const get = await s.app.inject({ method: "GET", url: "/v1/echo", headers: json, payload: '{"text":"from body","i64":"5"}' });
    expect(get.json()).toEqual({ request: { text: "from body", i64: 5 } });
  });

  it("binds query parameters of every kind", async () => {
    const res = await s.app.inject({
      method: "GET",
      url: "/v1/echo?text=a+b&i64=9007199254740993&dbl=-Infinity&flag=True&color=GREEN&tags=x&tags=y&note.child.lines=l&maybe_count=0",
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(
      '{"request":{"text":"a b","i64":9007199254740993,"dbl":"-Infinity","flag":true,"color":"GREEN","tags":["x","y"],' +
        '"maybe_count":0,"note":{"child":{"lines":["l"]}}}}',
    );
  });

  it("serves every additional binding and the /ajax-api/ twin", async () => {
    for (const url of ["/v1/echo/hi", "/api/2.0/test/echo?text=hi", "/ajax-api/2.0/test/echo?text=hi"]) {
      const res = await s.app.inject({ method: "GET", url });
      expect([url, res.statusCode, res.json()]).toEqual([url, 200, { request: { text: "hi" } }]);
    }
    const post = await s.app.inject({ method: "POST", url: "/v1/echo", headers: json, payload: '{"dbl": NaN, "flt": Infinity}' });
    expect(post.body).toBe('{"request":{"dbl":"NaN","flt":"Infinity"}}');
  });

  it("answers 404 ENDPOINT_NOT_FOUND for unknown paths and for bindings nobody implements", async () => {
    for (const url of ["/v1/nothing", "/api/2.0/mlflow/runs/search", "/api/2.0/mlflow/runs/get", "/"]) {
      const res = await s.app.inject({ method: "GET", url });
      expect(res.statusCode).toBe(404);
      expect(res.headers["content-type"]).toMatch(/^application\/json\b/);
      expect(res.json()).toEqual({ error_code: "ENDPOINT_NOT_FOUND", message: `No endpoint GET ${url}` });
    }
  });

  it("answers 405 with Allow and a JSON body for a known path with the wrong method", async () => {
    const res = await s.app.inject({ method: "POST", url: "/v1/books/b1/title", headers: json, payload: "{}" });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe("GET, HEAD");
    expect(res.json()).toEqual({ error_code: "BAD_REQUEST", message: "Method POST is not allowed for /v1/books/b1/title; allowed: GET, HEAD" });
    const raw = await s.app.inject({ method: "POST", url: "/health" });
    expect([raw.statusCode, raw.headers.allow]).toEqual([405, "GET, HEAD"]);
  });

  it.each([
    ["no Content-Type", {}],
    ["text/plain", { "content-type": "text/plain" }],
    ["a malformed Content-Type", { "content-type": "???" }],
    ["form data", { "content-type": "application/x-www-form-urlencoded" }],
  ])("refuses a POST with %s", async (_name, headers) => {
    const res = await s.app.inject({ method: "POST", url: "/v1/echo", headers, payload: '{"text":"x"}' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error_code: "INVALID_PARAMETER_VALUE", message: "Bad Request. Content-Type must be one of ['application/json']." });
  });

  it("accepts application/json with parameters, and an empty body as {}", async () => {
    const res = await s.app.inject({ method: "POST", url: "/v1/echo", headers: { "content-type": "Application/JSON; charset=utf-8" }, payload: "" });
    expect([res.statusCode, res.body]).toEqual([200, '{"request":{}}']);
  });

  it("refuses malformed JSON and wrong types with 400 INVALID_PARAMETER_VALUE", async () => {
    const bad = await s.app.inject({ method: "POST", url: "/v1/echo", headers: json, payload: '{"text": "x",}' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({
      error_code: "INVALID_PARAMETER_VALUE",
      message: "The request body is not valid JSON: Unexpected character '}' at position 13, expected a property name in double quotes",
    });
    const wrong = await s.app.inject({ method: "POST", url: "/v1/echo", headers: json, payload: '{"text": 5}' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().message).toMatch(/^Invalid value 5 for parameter 'text' supplied:  Hint: Value was of type 'int'\./);
    const utf = await s.app.inject({ method: "POST", url: "/v1/echo", headers: json, payload: Buffer.from([0x7b, 0xff, 0x7d]) });
    expect(utf.json()).toEqual({ error_code: "INVALID_PARAMETER_VALUE", message: "The request body is not valid UTF-8" });
  });

  it("refuses bodies above maxBodyBytes with 413 and a JSON body, by Content-Length or by counting", async () => {
    const big = JSON.stringify({ text: "x".repeat(2000) });
    const res = await s.app.inject({ method: "POST", url: "/v1/echo", headers: json, payload: big });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error_code: "INVALID_PARAMETER_VALUE", message: "Request body is larger than the limit of 1024 bytes" });
    const chunked = await s.app.inject({
      method: "POST",
      url: "/v1/echo",
      headers: { ...json, "transfer-encoding": "chunked" },
      payload: Readable.from([Buffer.from(big.slice(0, 600)), Buffer.from(big.slice(600))]),
    });
    expect(chunked.statusCode).toBe(413);
    expect(chunked.json().message).toBe("Request body is larger than the limit of 1024 bytes");
    const fits = await s.app.inject({ method: "POST", url: "/v1/echo", headers: json, payload: JSON.stringify({ text: "x".repeat(1000) }) });
    expect(fits.statusCode).toBe(200);
  });

  it("maps service errors through the table, and hides foreign errors behind a logged 500", async () => {
    const missing = await s.app.inject({ method: "GET", url: "/v1/shelves/missing" });
    expect([missing.statusCode, missing.json()]).toEqual([404, { error_code: "RESOURCE_DOES_NOT_EXIST", message: "Shelf shelves/missing not found" }]);
    const boom = await s.app.inject({ method: "GET", url: "/v1/echo?text=boom" });
    expect([boom.statusCode, boom.json()]).toEqual([500, { error_code: "INTERNAL_ERROR", message: "Internal error" }]);
    expect(s.logs.some((l) => l.includes("secret internal detail") && l.includes('"level":50'))).toBe(true);
  });

  it("refuses malformed percent-encoding in a path with 400", async () => {
    // Caught by fastify's router before the gateway: the answer comes from gatewayFrameworkErrors.
    const res = await s.app.inject({ method: "GET", url: "/v1/shelves/%E2%82" });
    expect([res.statusCode, res.json()]).toEqual([400, { error_code: "INVALID_PARAMETER_VALUE", message: "Malformed URL: /v1/shelves/%E2%82" }]);
  });

  describe("server streaming as NDJSON", () => {
    it("writes one {result} line per message", async () => {
      const res = await s.app.inject({ method: "GET", url: "/v1/shelves/s1/books:stream?count=3" });
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toBe("application/x-ndjson");
      expect(res.body.split("\n")).toEqual([
        '{"result":{"book":{"shelf_id":"s1","book_id":"b1","title":"Book 1","pages":1}}}',
        '{"result":{"book":{"shelf_id":"s1","book_id":"b2","title":"Book 2","pages":2}}}',
        '{"result":{"book":{"shelf_id":"s1","book_id":"b3","title":"Book 3","pages":3}}}',
        "",
      ]);
    });

    it("ends with an {error} line when the stream fails after its first message", async () => {
      const res = await s.app.inject({ method: "GET", url: "/v1/shelves/s1/books:stream?count=5&fail_at=3" });
      expect(res.statusCode).toBe(200);
      const lines = res.body.trim().split("\n").map((l) => JSON.parse(l));
      expect(lines).toHaveLength(3);
      expect(lines[2]).toEqual({ error: { error_code: "RESOURCE_DOES_NOT_EXIST", message: "Book 3 not found" } });
    });

    it("answers a normal JSON error with its status when the stream fails before its first message", async () => {
      const res = await s.app.inject({ method: "GET", url: "/v1/shelves/s1/books:stream?count=5&fail_at=1" });
      expect(res.statusCode).toBe(404);
      expect(res.headers["content-type"]).toMatch(/^application\/json\b/);
      expect(res.json()).toEqual({ error_code: "RESOURCE_DOES_NOT_EXIST", message: "Book 1 not found" });
    });

    it("answers an empty stream with 200 and no lines", async () => {
      const res = await s.app.inject({ method: "GET", url: "/v1/shelves/s1/books:stream?count=-1" });
      expect([res.statusCode, res.body]).toEqual([200, ""]);
    });
  });

  describe("raw routes", () => {
    it("serve bytes ahead of the 404 fallback", async () => {
      const res = await s.app.inject({ method: "GET", url: "/health" });
      expect([res.statusCode, res.headers["content-type"], res.body]).toEqual([200, "text/plain", "OK"]);
    });

    it("are exempt from the JSON content-type rule and the body limit, with the body as a stream", async () => {
      const payload = Buffer.alloc(5000, 1);
      const res = await s.app.inject({ method: "PUT", url: "/raw/upload/a/b.bin", headers: { "content-type": "application/octet-stream" }, payload });
      expect([res.statusCode, res.body]).toEqual([200, "5000"]);
      const none = await s.app.inject({ method: "PUT", url: "/raw/upload/x", payload: "abc" });
      expect([none.statusCode, none.body]).toEqual([200, "3"]);
    });

    it("answer thrown errors as MLflow JSON", async () => {
      const res = await s.app.inject({ method: "GET", url: "/raw/upload/fail" });
      expect([res.statusCode, res.json()]).toEqual([403, { error_code: "PERMISSION_DENIED", message: "nope" }]);
    });

    it("take part in 405 answers", async () => {
      const res = await s.app.inject({ method: "DELETE", url: "/raw/upload/a" });
      expect([res.statusCode, res.headers.allow]).toEqual([405, "GET, HEAD, PUT"]);
    });
  });
});

describe("gateway on Logbook's MLflow routes", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await start(logbookSet, 32 * 1024 * 1024);
  });
  afterAll(() => s.app.close());

  const experiment =
    '{"experiment":{"experiment_id":"1","name":"team/forecast","artifact_location":"mlflow-artifacts:/1","lifecycle_stage":"active",' +
    '"last_update_time":1700000000000,"creation_time":1700000000000}}';

  it.each(["/api/2.0/mlflow/experiments/get?experiment_id=1", "/ajax-api/2.0/mlflow/experiments/get?experiment_id=1"])("GET %s", async (url) => {
    const res = await s.app.inject({ method: "GET", url });
    expect([res.statusCode, res.body]).toEqual([200, experiment]);
  });

  it("reads the experiment id from a JSON body on GET too, as a number", async () => {
    const res = await s.app.inject({ method: "GET", url: "/api/2.0/mlflow/experiments/get", payload: '{"experiment_id": 1}' });
    expect([res.statusCode, res.body]).toEqual([200, experiment]);
  });

  it("maps MLflow's codes: RESOURCE_DOES_NOT_EXIST → 404, RESOURCE_ALREADY_EXISTS → 400", async () => {
    const missing = await s.app.inject({ method: "GET", url: "/api/2.0/mlflow/experiments/get?experiment_id=9" });
    expect([missing.statusCode, missing.json().error_code]).toEqual([404, "RESOURCE_DOES_NOT_EXIST"]);
    const taken = await s.app.inject({ method: "POST", url: "/api/2.0/mlflow/experiments/create", headers: json, payload: '{"name":"taken"}' });
    expect([taken.statusCode, taken.json()]).toEqual([400, { error_code: "RESOURCE_ALREADY_EXISTS", message: "Experiment 'taken' already exists." }]);
  });

  it("accepts camelCase and snake_case input", async () => {
    const res = await s.app.inject({
      method: "POST",
      url: "/ajax-api/2.0/mlflow/experiments/create",
      headers: json,
      payload: '{"name":"e","artifactLocation":"s3://x","tags":[{"key":"a"},{"key":"b"}]}',
    });
    expect([res.statusCode, res.body]).toEqual([200, '{"experiment_id":"2"}']);
  });

  it("reads Python's bare NaN in a log-metric body", async () => {
    const res = await s.app.inject({
      method: "POST",
      url: "/api/2.0/mlflow/runs/log-metric",
      headers: json,
      payload: '{"run_id": "r", "key": "m", "value": NaN, "timestamp": 1700000000000, "step": 0}',
    });
    expect([res.statusCode, res.body]).toEqual([200, "{}"]);
    expect(lastMetric).toMatchObject({ runId: "r", key: "m", value: NaN, timestamp: 1700000000000n, step: 0n });
  });

  it.each([
    ['{"name": "e", "artifact_location": 9.0}', "Invalid value 9.0 for parameter 'artifact_location' supplied:  Hint: Value was of type 'float'."],
    ['{"name": "e", "artifact_location": 1e2}', "Invalid value 100.0 for parameter 'artifact_location' supplied:  Hint: Value was of type 'float'."],
    ['{"name": "e", "artifact_location": 9}', "Invalid value 9 for parameter 'artifact_location' supplied:  Hint: Value was of type 'int'."],
    ['{"name": false}', "Invalid value false for parameter 'name' supplied:  Hint: Value was of type 'bool'."],
    ['{"name": {"b": 1.0, "a": "é"}}', 'Invalid value {"a":"\\u00e9","b":1.0} for parameter \'name\' supplied:  Hint: Value was of type \'dict\'.'],
    ['{"name": "e", "tags": [{"key": 2.50}]}', "Invalid value 2.5 for parameter 'tags[0].key' supplied:  Hint: Value was of type 'float'."],
    ['{"name": "e", "tags": "5"}', 'Invalid value "5" for parameter \'tags\' supplied:  Hint: Value was of type \'str\'.'],
  ])("echoes a wrongly typed value as the body wrote it, as MLflow does: %s", async (payload, message) => {
    const res = await s.app.inject({ method: "POST", url: "/api/2.0/mlflow/experiments/create", headers: json, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain(message);
  });

  it("decodes %2F in a one-segment path variable", async () => {
    const res = await s.app.inject({ method: "GET", url: "/mlflow/runs/a%2Fb" });
    expect(res.json().run.info).toMatchObject({ run_id: "a/b", status: "RUNNING" });
  });

  it("answers 404 ENDPOINT_NOT_FOUND under /api/2.0/mlflow/ and 405 on a POST-only path", async () => {
    const nf = await s.app.inject({ method: "GET", url: "/api/2.0/mlflow/not-a-thing" });
    expect([nf.statusCode, nf.json().error_code]).toEqual([404, "ENDPOINT_NOT_FOUND"]);
    const na = await s.app.inject({ method: "GET", url: "/api/2.0/mlflow/experiments/create" });
    expect([na.statusCode, na.headers.allow]).toEqual([405, "POST"]);
  });
});

describe("gateway start-up", () => {
  it("refuses a service whose streaming shape disagrees with the descriptors", async () => {
    const library = createLibraryService();
    const def = { ...(library.service.definition as Record<string, object>) };
    def.listBooks = { ...(def.listBooks as object), responseStream: false };
    const app = Fastify();
    await expect(
      app.register(gatewayPlugin, {
        services: [{ ...library.service, definition: def } as RegisteredService],
        descriptorSet: testSet,
        logger: pino({ level: "silent" }),
      }),
    ).rejects.toThrow("logbook.test.v1.LibraryService.ListBooks: the service definition and the descriptor set disagree on streaming");
    await app.close();
  });
});
