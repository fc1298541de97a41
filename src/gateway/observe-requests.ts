/**
 * The HTTP edge's first step: every request is observed (src/observability/call-observer.ts) from its `onRequest`
 * until its response closes — answered, refused by a later edge step, failed, hijacked for a stream, or abandoned by
 * the client (status 499). It is named when it ends, with bounded values only:
 * - an RPC binding: its service and RPC name, and the binding's path template;
 * - a hand-written route: its route family and fastify's route pattern (the route the router chose, also when its
 *   handler hands the request to the not-found handler: a missing UI file is `/static-files/*` 404);
 * - anything else: its route family and `unmatched`.
 * The gateway runs its handlers inside `request.observation.run`, so store spans are children of the request's span.
 */
import type { Socket } from "node:net";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { RouteFamily } from "../edge/route-families.js";
import type { CallName, CallObservation, CallObserver } from "../observability/call-observer.js";
import { callerLogFields } from "../services/auth/principal.js";

declare module "fastify" {
  interface FastifyRequest {
    /** This request's metrics, span and log line (absent when nothing observes requests). */
    observation?: CallObservation;
  }
}

/** What the gateway knows of a path: the RPC binding it routes to, if any. */
export type BindingOf = (method: string, rawPath: string) => { grpcPath: string; template: string; serverStreaming: boolean } | undefined;

/** The gateway's catch-all route, behind which the RPC bindings are routed. */
const CATCH_ALL = "*";

/** Bytes a socket had moved when its previous request ended (keep-alive connections carry one request at a time). */
const socketTotals = new WeakMap<Socket, { read: number; written: number }>();

function header(request: FastifyRequest): (name: string) => string | undefined {
  return (name) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
}

/** `pattern`: the route pattern the router chose for the request (undefined for the not-found handler). */
export function nameOf(request: FastifyRequest, pattern: string | undefined, family: RouteFamily, bindingOf: BindingOf | undefined): CallName {
  if (pattern !== undefined && pattern !== CATCH_ALL) {
    // Artifact routes move bodies of any size: never "slow".
    return { service: family.name, method: pattern, route: pattern, rpc: false, streaming: family.name === "artifacts" };
  }
  const rawUrl = request.raw.url ?? "/";
  const q = rawUrl.indexOf("?");
  const binding = bindingOf?.(request.method, q === -1 ? rawUrl : rawUrl.slice(0, q));
  if (!binding) return { service: family.name, method: "unmatched", rpc: false };
  const slash = binding.grpcPath.lastIndexOf("/");
  return {
    service: binding.grpcPath.slice(1, slash),
    method: binding.grpcPath.slice(slash + 1),
    route: binding.template,
    rpc: true,
    streaming: binding.serverStreaming,
  };
}

/** Starts observing `request`; it ends when the response closes. */
export function observeRequest(calls: CallObserver, request: FastifyRequest, reply: FastifyReply, family: RouteFamily, bindingOf: () => BindingOf | undefined): void {
  const observation = calls.begin({ transport: "http", httpMethod: request.method, header: header(request) });
  request.observation = observation;
  // Routing is done before onRequest; read now, as a handler may yet pass the request to the not-found handler.
  const pattern = request.routeOptions.url;
  const res = reply.raw;
  res.once("close", () => {
    observation.name(nameOf(request, pattern, family, bindingOf()));
    const socket = request.raw.socket as Socket | null;
    let bytes = {};
    if (socket) {
      const before = socketTotals.get(socket) ?? { read: 0, written: 0 };
      const now = { read: socket.bytesRead, written: socket.bytesWritten };
      socketTotals.set(socket, now);
      bytes = { bytesIn: now.read - before.read, bytesOut: now.written - before.written };
    }
    // The caller's username, once the edge's authentication step has named them (never a credential).
    observation.end({ code: res.writableFinished ? String(res.statusCode) : "499", ...bytes, ...(request.callValues ? callerLogFields(request.callValues) : {}) });
  });
}
