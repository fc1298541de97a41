/**
 * Authentication on the HTTP port (`--auth basic`): a fastify onRequest hook, before any body is read, that turns
 * the `Authorization` header into the caller (request.principal) or answers 401 with `WWW-Authenticate: Basic
 * realm="logbook"` and MLflow's JSON error. Open without credentials, as the issue and MLflow keep them: the probes
 * (`/health`, `/readyz`, `/version`), `server-info` (clients read it before signing in) and the web UI's own files
 * (`/`, `/static-files/*`), which carry no data. What a signed-in caller may do is the services' permission table's
 * business (src/services/auth/).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { Principal } from "../services/auth/principal.js";
import { errorResponse } from "./errors.js";
import { stringifyJson } from "./json-text.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The authenticated caller (with `--auth basic`). */
    principal?: Principal;
  }
}

/** The fastify route URLs answered without credentials. */
export const OPEN_ROUTES: ReadonlySet<string> = new Set([
  "/health",
  "/readyz",
  "/version",
  "/api/3.0/mlflow/server-info",
  "/ajax-api/3.0/mlflow/server-info",
  "/",
  "/static-files/*",
]);

export type Authenticate = (authorization: string | undefined, clientAddress: string) => Promise<Principal>;

export function addAuthHook(app: FastifyInstance, authenticate: Authenticate, logger: Logger): void {
  app.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
    if (OPEN_ROUTES.has(request.routeOptions.url ?? "")) return;
    try {
      request.principal = await authenticate(request.headers.authorization, request.ip);
    } catch (err) {
      const { status, headers, body } = errorResponse(err, logger, { method: request.method, url: request.url });
      // The body is not read: the connection cannot be reused for a next request that would start inside it.
      return reply.code(status).headers({ ...headers, connection: "close" }).type("application/json").send(stringifyJson({ ...body }));
    }
  });
}
