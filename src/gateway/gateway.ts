/**
 * The HTTP/JSON gateway as one fastify plugin: the routes come from the `google.api.http` options
 * in the descriptor set (no hand-written route table), and every call goes to the service
 * functions in process (DESIGN.md §1). Unknown paths answer 404 ENDPOINT_NOT_FOUND, known paths
 * with the wrong method 405 with `Allow`; errors are MLflow JSON bodies (errors.ts).
 *
 * Requests are routed by the gateway's own router (router.ts) behind one fastify catch-all route,
 * not by fastify's: templates need `**`, custom verbs, per-segment percent-decoding and the
 * 404/405 distinction, which find-my-way's syntax does not express. Hand-written routes (raw bytes:
 * /health, artifacts) are ordinary fastify routes, which find-my-way always prefers over the
 * catch-all, so they sit "ahead of the 404 fallback" whatever the registration order.
 */
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, HTTPMethods, RouteHandlerMethod } from "fastify";
import type { Logger } from "pino";
import { AppError, ErrorCode } from "../domain/errors.js";
import type { BodyLimits } from "../edge/body-limits.js";
import type { StreamObservers } from "../edge/stream-writer.js";
import { findMethod, type CallContext, type RegisteredService } from "../services/rpc.js";
import { callerLogFields } from "../services/auth/principal.js";
import { CallValues } from "../services/call-values.js";
import { restateAsWritten } from "./as-written.js";
import { bindRequest } from "./bind.js";
import { checkContentType, contentTypeNotJson, parseBody, readBody } from "./body.js";
import { SECURITY_HEADERS } from "./edge-plugin.js";
import { endpointNotFound, errorResponse, methodNotAllowed } from "./errors.js";
import type { BindingOf } from "./observe-requests.js";
import { parseTemplate, type PathTemplate } from "./http-rule.js";
import { JsonCodec, type ProtoObject } from "./json-codec.js";
import { stringifyJson, type JsonObject, type JsonValue } from "./json-text.js";
import { writeNdjson, writeStreamResponse } from "./ndjson.js";
import { HEARTBEAT, SSE_CONTENT_TYPE, SSE_HEARTBEAT_MS, type SseFraming, acceptsEventStream, formatEvent, lastEventSequence, sseFraming } from "./sse.js";
import { ANY_METHOD, Router } from "./router.js";
import { loadHttpRoutes, registryFromDescriptorSet, type HttpRoute } from "./routes.js";

/** DESIGN.md §4: 32 MiB (`--max-body-bytes`); a maximum-size LogBatch is about 1.7 MB. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

/** A hand-written, non-RPC route: bytes in and out, no JSON rules. */
export interface RawRoute {
  method: HTTPMethods | HTTPMethods[];
  /** fastify URL syntax (`/health`, `/api/2.0/mlflow-artifacts/artifacts/*`). */
  url: string;
  /**
   * An ordinary fastify handler. The body is not parsed or limited: read it as a stream from
   * `request.body` (methods with a body) or `request.raw`. Thrown errors become MLflow JSON errors.
   */
  handler: RouteHandlerMethod;
}

export interface GatewayOptions {
  /** The services to serve; bindings of methods that none of them implements are not routed (404). */
  services: readonly RegisteredService[];
  /** A FileDescriptorSet with imports (gen/descriptor.binpb). */
  descriptorSet: Uint8Array;
  /** Largest JSON body accepted; larger ones get 413. Default {@link DEFAULT_MAX_BODY_BYTES}. */
  maxBodyBytes?: number;
  logger: Logger;
  /** How often a quiet Server-Sent Events stream gets a comment line; default 15 s. */
  sseHeartbeatMs?: number;
  /** Raw routes to register with the gateway (the same as calling `registerRawRoute` for each). */
  rawRoutes?: readonly RawRoute[];
  /** Idle and rate limits of JSON bodies (none when absent). */
  bodyLimits?: BodyLimits;
  /** Observes every NDJSON stream (metrics); none when absent. */
  streamObservers?: StreamObservers;
}

declare module "fastify" {
  interface FastifyInstance {
    /**
     * Registers a hand-written non-RPC route (DESIGN.md §1) in its own context: exempt from the JSON
     * content-type rule and body limit, body left as a stream, errors as MLflow JSON. Known to the
     * gateway's 405 answers. Call before the server is ready. Added by {@link gatewayPlugin}.
     */
    registerRawRoute(route: RawRoute): void;
    /** The path templates of every RPC binding the gateway serves (behind its catch-all route), for the edge's table check. */
    readonly gatewayBindings: readonly string[];
    /** The RPC binding a request's method and raw path route to, if any (to name requests in metrics and logs). */
    readonly gatewayBindingOf: BindingOf;
  }
}

type Target = { kind: "rpc"; route: HttpRoute; call: (...args: any[]) => unknown; sse?: SseFraming } | { kind: "raw" };

async function gateway(fastify: FastifyInstance, opts: GatewayOptions): Promise<void> {
  const { logger } = opts;
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const codec = new JsonCodec();
  const router = new Router<Target>();

  const bindings: string[] = [];
  const unserved: string[] = [];
  for (const route of loadHttpRoutes(registryFromDescriptorSet(opts.descriptorSet))) {
    const found = findMethod(opts.services, route.grpcPath);
    if (!found || typeof found.implementation !== "function" || route.clientStreaming) {
      if (!route.derived) unserved.push(route.rpc);
      continue;
    }
    if (found.definition.responseStream !== route.serverStreaming) {
      throw new Error(`${route.rpc}: the service definition and the descriptor set disagree on streaming`);
    }
    if (route.method !== ANY_METHOD && !fastify.supportedMethods.includes(route.method)) {
      fastify.addHttpMethod(route.method, { hasBody: true });
    }
    const target: Target = { kind: "rpc", route, call: found.implementation, ...(route.serverStreaming ? { sse: sseFraming(route.output) } : {}) };
    router.add(route.method, route.template, target, `${route.rpc} (${route.method} ${route.template.source})`);
    bindings.push(route.template.source);
  }
  logger.debug({ routes: bindings.length, unserved: [...new Set(unserved)] }, "HTTP gateway routes loaded");
  fastify.decorate("gatewayBindings", bindings);
  fastify.decorate("gatewayBindingOf", ((method, rawPath) => {
    const lookup = router.lookup(method, rawPath);
    if (lookup.kind !== "found" || lookup.target.kind !== "rpc") return undefined;
    const { route } = lookup.target;
    return { grpcPath: route.grpcPath, template: route.template.source, serverStreaming: route.serverStreaming };
  }) satisfies BindingOf);

  fastify.decorate("registerRawRoute", function (this: FastifyInstance, route: RawRoute) {
    registerRaw(this, router, route, logger);
  });
  for (const route of opts.rawRoutes ?? []) registerRaw(fastify, router, route, logger);

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const rawUrl = request.raw.url ?? request.url;
    const q = rawUrl.indexOf("?");
    const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const method = request.method;
    const lookup = router.lookup(method, rawPath);
    if (lookup.kind === "method-not-allowed") throw methodNotAllowed(method, rawPath, lookup.allowed);
    if (lookup.kind === "not-found" || lookup.target.kind === "raw") throw endpointNotFound(method, rawPath);
    const { route, call, sse } = lookup.target;

    checkContentType(method, request.headers["content-type"]);
    const stream = request.body instanceof Readable ? request.body : request.raw;
    const bytes = await readBody(stream, maxBodyBytes, request.headers["content-length"], opts.bodyLimits);
    const body = parseBody(bytes);
    const query = new URLSearchParams(q === -1 ? "" : rawUrl.slice(q + 1));
    let message: ProtoObject;
    try {
      message = bindRequest(codec, route, { params: lookup.params, query, body });
    } catch (err) {
      throw restateAsWritten(err, bytes);
    }
    const eventStream = sse !== undefined && acceptsEventStream(request.headers.accept);
    if (eventStream) resumeAfterLastEvent(codec, route, message, request.headers["last-event-id"]);

    // The call's signal aborts when the client goes away before the call is over.
    const abort = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) abort.abort(new AppError(ErrorCode.CANCELLED, "The client went away"));
    };
    reply.raw.on("close", onClose);
    const values = request.callValues ?? new CallValues();
    const ctx: CallContext = { signal: abort.signal, logger: logger.child({ rpc: route.rpc, reqId: request.id, ...callerLogFields(values) }), values };
    const encode = (res: unknown): JsonValue => {
      const obj = (res ?? {}) as ProtoObject;
      if (!route.responseBody) return codec.encodeMessage(route.output, obj);
      return codec.encodeField(route.responseBody, obj[codec.plan(route.output).byName.get(route.responseBody.name)!.key]);
    };

    if (route.serverStreaming) {
      try {
        const iterator = (call(message, ctx) as AsyncIterable<unknown>)[Symbol.asyncIterator]();
        const first = await iterator.next(); // a failure here is still a normal JSON error with a status
        if (eventStream && first.done) return reply.code(204).send(); // over already: an EventSource stops here
        reply.hijack();
        // Both framings: one observer (stream metrics) per stream, closed by the write loop when it is over.
        const shared = {
          signal: abort.signal,
          onCleanupError: (err: unknown) => ctx.logger.warn({ err }, "closing the stream failed"),
          ...(opts.streamObservers ? { observer: opts.streamObservers() } : {}),
        };
        if (eventStream) {
          await writeStreamResponse(reply.raw, iterator, first, {
            ...shared,
            contentType: `${SSE_CONTENT_TYPE}; charset=utf-8`,
            headers: { "x-accel-buffering": "no" },
            heartbeat: { everyMs: opts.sseHeartbeatMs ?? SSE_HEARTBEAT_MS, text: HEARTBEAT },
            encodeItem: (item) => {
              const json = encode(item) as JsonObject;
              return formatEvent({ event: sse.event(json), id: sse.id(json), data: stringifyJson(json) });
            },
            encodeError: (err) => formatEvent({ event: "error", data: stringifyJson({ ...errorResponse(err, logger, { rpc: route.rpc }).body }) }),
          });
          return;
        }
        await writeNdjson(reply.raw, iterator, first, {
          ...shared,
          encodeItem: (item) => stringifyJson({ result: encode(item) }),
          encodeError: (err) => stringifyJson({ error: { ...errorResponse(err, logger, { rpc: route.rpc }).body } }),
        });
        return;
      } finally {
        reply.raw.off("close", onClose);
      }
    }
    let response: unknown;
    try {
      response = await (call(message, ctx) as Promise<unknown>);
    } finally {
      reply.raw.off("close", onClose);
    }
    return reply.code(200).type("application/json").send(stringifyJson(encode(response)));
  };

  fastify.register(async (json) => {
    useRawBodies(json);
    json.setErrorHandler((err, request, reply) => {
      // A Content-Type header fastify cannot even parse: the JSON routes' 400, not fastify's 415.
      const e = (err as { code?: string }).code === "FST_ERR_CTP_INVALID_MEDIA_TYPE" ? contentTypeNotJson() : err;
      sendError(reply, e, logger, request);
    });
    json.route({ method: json.supportedMethods as HTTPMethods[], url: "*", handler: observed(handle) });
  });
  // Methods the catch-all does not take (PROPFIND, …) reach fastify's 404, and so does what a raw route hands to
  // `reply.callNotFound()` (a UI file that is not there): MLflow's shape there too.
  fastify.setNotFoundHandler((request, reply) => {
    const rawUrl = request.raw.url ?? request.url;
    const q = rawUrl.indexOf("?");
    sendError(reply, endpointNotFound(request.method, q === -1 ? rawUrl : rawUrl.slice(0, q)), logger, request);
  });
}

/**
 * An EventSource reconnecting sends the id of the last event it received: a request with an `after_sequence` field
 * (WatchRun) resumes after it, unless the URL set one. Ids that are not sequences are ignored (a fresh start).
 */
function resumeAfterLastEvent(codec: JsonCodec, route: HttpRoute, message: ProtoObject, header: string | string[] | undefined): void {
  const field = codec.plan(route.input).byName.get("after_sequence");
  const sequence = lastEventSequence(header);
  if (field === undefined || sequence === undefined || message[field.key] !== undefined) return;
  message[field.key] = sequence;
}

/**
 * For fastify's `frameworkErrors` server option: fastify answers a URL it cannot decode (and a few
 * other router-level failures) before any route or plugin runs, so only this option can give those
 * answers the MLflow JSON error shape: `Fastify({ frameworkErrors: gatewayFrameworkErrors })`.
 */
export function gatewayFrameworkErrors(error: Error, request: FastifyRequest, reply: FastifyReply): void {
  const message = (error as { code?: string }).code === "FST_ERR_BAD_URL" ? `Malformed URL: ${request.url}` : error.message;
  const status = (error as { statusCode?: number }).statusCode ?? 400;
  void reply.code(status).type("application/json").send(stringifyJson({ error_code: ErrorCode.INVALID_PARAMETER_VALUE, message }));
}

const CLIENT_ERROR_STATUS: Readonly<Record<string, [number, string, ErrorCode]>> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, "Request Timeout", ErrorCode.DEADLINE_EXCEEDED],
  HPE_HEADER_OVERFLOW: [431, "Request Header Fields Too Large", ErrorCode.BAD_REQUEST],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, "Content Too Large", ErrorCode.BAD_REQUEST],
};

/**
 * For fastify's `clientErrorHandler` server option: requests Node's HTTP parser refuses before fastify sees them
 * (a bad Content-Length, Content-Length with Transfer-Encoding, an unknown method, headers too large or too slow)
 * get MLflow's error body too, written on the socket, which is then closed.
 */
export function gatewayClientErrors(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const [status, reason, code] = CLIENT_ERROR_STATUS[err.code ?? ""] ?? [400, "Bad Request", ErrorCode.BAD_REQUEST];
  const message =
    status === 408 ? "The request headers did not arrive in time" : status === 431 ? "The request headers are too large" : `Malformed HTTP request (${err.code ?? "unknown"})`;
  const body = stringifyJson({ error_code: code, message });
  // A response already under way on this socket cannot be replaced: just close it.
  const inProgress = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (socket.writable && !inProgress) {
    const headers = Object.entries({ ...SECURITY_HEADERS, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), connection: "close" })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    socket.end(`HTTP/1.1 ${status} ${reason}\r\n${headers}\r\n${body}`);
  }
  socket.destroySoon();
}

/** A handler that runs inside its request's observation (so the spans of what it calls are the request's children). */
function observed(handler: RouteHandlerMethod): RouteHandlerMethod {
  return function (this: FastifyInstance, request, reply) {
    return request.observation ? request.observation.run(() => handler.call(this, request, reply)) : handler.call(this, request, reply);
  };
}

/** Bodies are left unread: the gateway and raw handlers read the stream themselves. */
function useRawBodies(instance: FastifyInstance): void {
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
}

function sendError(reply: FastifyReply, err: unknown, logger: Logger, request: FastifyRequest): void {
  const { status, headers, body } = errorResponse(err, logger, { method: request.method, url: request.url });
  if (reply.sent || reply.raw.headersSent) return;
  void reply.code(status).headers(headers).type("application/json").send(stringifyJson({ ...body }));
}

function registerRaw(instance: FastifyInstance, router: Router<Target>, route: RawRoute, logger: Logger): void {
  instance.register(async (raw) => {
    useRawBodies(raw);
    raw.setErrorHandler((err, request, reply) => sendError(reply, err, logger, request));
    raw.route({ method: route.method, url: route.url, handler: observed(route.handler) });
  });
  const template = templateOfFastifyUrl(route.url);
  if (!template) return;
  for (const m of Array.isArray(route.method) ? route.method : [route.method]) {
    if (!router.has(m, template)) router.add(m, template, { kind: "raw" }, `raw route ${m} ${route.url}`);
  }
}

/**
 * A fastify URL as a path template, for the 405 answers: `:param` → `*`, a trailing `*` → `**`.
 * Undefined for shapes it cannot express (then a wrong method on that path answers 404).
 */
export function templateOfFastifyUrl(url: string): PathTemplate | undefined {
  const segs = url.split("/").slice(1);
  const mapped = segs.map((s, i) => {
    if (s === "*") return i === segs.length - 1 ? "**" : undefined;
    if (s.startsWith(":")) return "*";
    return s.includes("*") || s.includes(":") ? undefined : s;
  });
  if (!url.startsWith("/") || mapped.some((s) => s === undefined)) return undefined;
  try {
    return parseTemplate(`/${mapped.join("/")}`);
  } catch {
    return undefined;
  }
}

/**
 * The gateway plugin. Register it at the root (`await app.register(gatewayPlugin, options)`); it
 * adds `app.registerRawRoute()`, so it is not encapsulated (fastify's `skip-override`), while its
 * JSON catch-all route and raw routes live in child contexts of their own (content-type parsers,
 * error handlers). Paths are the annotations' own: a `prefix` option does not apply.
 */
export const gatewayPlugin: FastifyPluginAsync<GatewayOptions> = Object.assign(gateway, {
  [Symbol.for("skip-override")]: true,
  [Symbol.for("fastify.display-name")]: "logbook-gateway",
});
