/** What hand-written routes share: the query string, and a call context that knows when the client went away. */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { AppError, ErrorCode } from "../domain/errors.js";
import { callerLogFields } from "../services/auth/principal.js";
import { CallValues } from "../services/call-values.js";
import type { CallContext } from "../services/rpc.js";

/** The request's query parameters, from the raw URL (repeated keys kept). */
export function query(request: FastifyRequest): URLSearchParams {
  const rawUrl = request.raw.url ?? request.url;
  const q = rawUrl.indexOf("?");
  return new URLSearchParams(q === -1 ? "" : rawUrl.slice(q + 1));
}

/** A call context whose signal aborts when the client goes away before the exchange is over. */
export function contextFor(request: FastifyRequest, reply: FastifyReply, logger: Logger, route: string): { ctx: CallContext; done(): void } {
  const abort = new AbortController();
  const gone = () => {
    if (!reply.raw.writableFinished) abort.abort(new AppError(ErrorCode.CANCELLED, "The client went away"));
  };
  const requestGone = () => {
    if (!request.raw.complete) gone();
  };
  reply.raw.on("close", gone);
  request.raw.on("close", requestGone);
  request.raw.on("aborted", gone);
  const values = request.callValues ?? new CallValues();
  return {
    ctx: { signal: abort.signal, logger: logger.child({ route, reqId: request.id, ...callerLogFields(values) }), values },
    done: () => {
      reply.raw.off("close", gone);
      request.raw.off("close", requestGone);
      request.raw.off("aborted", gone);
    },
  };
}
