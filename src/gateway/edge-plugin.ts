/**
 * The HTTP edge: one fastify plugin whose `onRequest` hook runs for every request, before any body is read. It
 * resolves the request's route family once (src/edge/route-families.ts) and applies that family's checks, in this
 * order:
 *
 * 0. observation (observe-requests.ts): metrics, span and request log of every request, refused ones included,
 *    ended when the response closes;
 * 1. security headers on every answer (`X-Content-Type-Options: nosniff`, `X-Frame-Options: SAMEORIGIN`);
 * 2. the Host check (DNS rebinding) → 403;
 * 3. CORS, only when `--cors-allowed-origins` is set: headers for listed origins, preflights answered 204;
 * 4. the Origin check on state-changing methods → 403;
 * 5. the in-flight cap (shared with gRPC) → 503 with `Retry-After`; the slot is held until the response closes, so
 *    it also bounds the password verifications (scrypt) running at once;
 * 6. authentication (`--auth basic`), for the families that require it: the `Authorization` header (Basic, or a
 *    Bearer access token) names the caller, who goes into the call's values (PRINCIPAL) for the permission table
 *    and the services; otherwise 401 with `WWW-Authenticate: Basic realm="logbook"` (429 with `Retry-After` while
 *    the sign-in is throttled), before any body is read.
 *
 * Refusals use MLflow's error body; the request's family and per-call values are on `request.routeFamily` /
 * `request.callValues`.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from "fastify";
import type { Logger } from "pino";
import { ErrorCode } from "../domain/errors.js";
import { overloaded, RETRY_AFTER_S, type InFlightLimiter } from "../edge/in-flight.js";
import { createHostCheck, createOriginPolicy, STATE_CHANGING_METHODS } from "../edge/host-policy.js";
import { httpFamilyOf, type RouteFamily } from "../edge/route-families.js";
import type { Authenticate } from "../services/auth/authenticator.js";
import { PRINCIPAL } from "../services/auth/principal.js";
import type { CallObserver } from "../observability/call-observer.js";
import { observeRequest } from "./observe-requests.js";
import { CallValues } from "../services/call-values.js";
import { errorResponse } from "./errors.js";
import { stringifyJson } from "./json-text.js";

export type { Authenticate };

/** Headers on every HTTP answer (as MLflow's security middleware sends them). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "SAMEORIGIN",
};

/** MLflow's wording for the two refusals. */
export const INVALID_HOST_MESSAGE = "Invalid Host header - possible DNS rebinding attack detected";
export const CROSS_ORIGIN_MESSAGE = "Cross-origin request blocked";

const CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const PREFLIGHT_MAX_AGE_S = "600";

export interface HttpEdgeOptions {
  /** `--allowed-hosts` entries (already defaulted). */
  allowedHosts: readonly string[];
  /** `--cors-allowed-origins` entries; empty: no CORS headers at all. */
  corsAllowedOrigins: readonly string[];
  inFlight: InFlightLimiter;
  /** With `--auth basic`: who calls (services/auth/authenticator.ts). */
  authenticate?: Authenticate;
  logger: Logger;
  /** Observes every request (metrics, spans, request logs); none when absent. */
  calls?: CallObserver;
}

declare module "fastify" {
  interface FastifyRequest {
    /** The request's route family, resolved by the edge before anything else. */
    routeFamily: RouteFamily;
    /** Per-call values (the caller's identity later), handed to service functions in their CallContext. */
    callValues: CallValues;
  }
}

function refuse(reply: FastifyReply, status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(status).headers(headers).type("application/json").send(stringifyJson({ error_code: code, message }));
}

async function edge(fastify: FastifyInstance, opts: HttpEdgeOptions): Promise<void> {
  const hostAllowed = createHostCheck(opts.allowedHosts);
  const origins = createOriginPolicy(opts.corsAllowedOrigins);
  const cors = opts.corsAllowedOrigins.length > 0;
  const { logger, inFlight } = opts;

  fastify.decorateRequest("routeFamily", null as unknown as RouteFamily);
  fastify.decorateRequest("callValues", null as unknown as CallValues);

  fastify.addHook("onRequest", async (request, reply) => {
    const rawUrl = request.raw.url ?? "/";
    const q = rawUrl.indexOf("?");
    const family = httpFamilyOf(q === -1 ? rawUrl : rawUrl.slice(0, q));
    request.routeFamily = family;
    request.callValues = new CallValues();
    if (opts.calls) observeRequest(opts.calls, request, reply, family, () => fastify.gatewayBindingOf);
    const res = reply.raw;
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);

    const host = request.headers.host;
    if (family.hostCheck && !hostAllowed(host)) {
      logger.warn({ host, url: rawUrl.slice(0, 200) }, "refused a request with a Host header not in --allowed-hosts");
      return refuse(reply, 403, ErrorCode.PERMISSION_DENIED, INVALID_HOST_MESSAGE);
    }

    const origin = request.headers.origin;
    if (origin !== undefined && family.originCheck) {
      if (cors) {
        res.setHeader("vary", "Origin");
        if (origins.listed(origin)) {
          res.setHeader("access-control-allow-origin", origins.any ? "*" : origin);
          if (!origins.any) res.setHeader("access-control-allow-credentials", "true");
          const preflightMethod = request.headers["access-control-request-method"];
          if (request.method === "OPTIONS" && preflightMethod !== undefined) {
            const requested = request.headers["access-control-request-headers"];
            return reply
              .code(204)
              .headers({
                "access-control-allow-methods": CORS_METHODS,
                ...(requested ? { "access-control-allow-headers": requested } : {}),
                "access-control-max-age": PREFLIGHT_MAX_AGE_S,
              })
              .send();
          }
        }
      }
      if (STATE_CHANGING_METHODS.has(request.method) && !origins.mayChangeState(origin, host)) {
        logger.warn({ origin, method: request.method, url: rawUrl.slice(0, 200) }, "refused a cross-origin state-changing request");
        return refuse(reply, 403, ErrorCode.PERMISSION_DENIED, CROSS_ORIGIN_MESSAGE);
      }
    }

    if (family.inFlightCap) {
      const release = inFlight.tryAcquire();
      if (!release) {
        const err = overloaded(inFlight.max);
        return refuse(reply, 503, err.code, err.message, { "retry-after": String(RETRY_AFTER_S) });
      }
      res.once("close", release);
    }

    if (opts.authenticate && family.auth === "required") {
      try {
        request.callValues.set(PRINCIPAL, await opts.authenticate(request.headers.authorization, request.ip));
      } catch (err) {
        const { status, headers, body } = errorResponse(err, logger, { method: request.method, url: rawUrl.slice(0, 200) });
        // The body is not read: the connection cannot carry a next request that would start inside it.
        return reply.code(status).headers({ ...headers, connection: "close" }).type("application/json").send(stringifyJson({ ...body }));
      }
    }
  });
}

/** Register at the root, before any route (fastify's `skip-override`: its hook applies to every route). */
export const edgePlugin: FastifyPluginAsync<HttpEdgeOptions> = Object.assign(edge, {
  [Symbol.for("skip-override")]: true,
  [Symbol.for("fastify.display-name")]: "logbook-edge",
});
