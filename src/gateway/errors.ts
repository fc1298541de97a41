/**
 * Errors on the HTTP edge: any thrown value → status, headers and MLflow's body
 * `{"error_code": "<NAME>", "message": "…"}`, mapped once, here (STYLE.md item 6).
 * AppErrors keep their code and message; anything else becomes a 500 INTERNAL_ERROR with a generic
 * message, and its cause goes to the log, never to the client.
 */
import type { Logger } from "pino";
import { AppError, ErrorCode } from "../domain/errors.js";
import { BodyTimeoutError } from "../edge/body-limits.js";
import { httpStatusForCode } from "./http-status.js";

/** An error the gateway answers with a fixed status rather than the table's (405, 413, …). */
export class HttpError extends AppError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message);
  }
}

export interface ErrorBody {
  error_code: string;
  message: string;
}

export interface ErrorResponse {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: ErrorBody;
}

/** 404 for a path no route knows; MLflow clients fall back from v3 to v2 endpoints on it. */
export function endpointNotFound(method: string, path: string): HttpError {
  return new HttpError(404, ErrorCode.ENDPOINT_NOT_FOUND, `No endpoint ${method} ${path}`);
}

/** 405 for a known path asked with a method it does not answer. */
export function methodNotAllowed(method: string, path: string, allowed: readonly string[]): HttpError {
  return new HttpError(
    405,
    ErrorCode.BAD_REQUEST,
    `Method ${method} is not allowed for ${path}; allowed: ${allowed.join(", ")}`,
    { allow: allowed.join(", ") },
  );
}

/** 413 for a JSON body above the limit; the connection is closed, as the rest is not read. */
export function bodyTooLarge(limit: number): HttpError {
  return new HttpError(
    413,
    ErrorCode.INVALID_PARAMETER_VALUE,
    `Request body is larger than the limit of ${limit} bytes`,
    { connection: "close" },
  );
}

/** fastify's own errors (FST_ERR_*, with a 4xx statusCode) keep their status. */
function frameworkStatus(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const { statusCode, code } = err as { statusCode?: unknown; code?: unknown };
  if (typeof code === "string" && code.startsWith("FST_") && typeof statusCode === "number") {
    if (statusCode >= 400 && statusCode < 500) return statusCode;
  }
  return undefined;
}

/**
 * The response for any thrown value. Server-side failures (5xx) are logged with their cause;
 * `context` (e.g. `{ rpc }`) is added to the log line.
 */
export function errorResponse(err: unknown, logger?: Logger, context: Record<string, unknown> = {}): ErrorResponse {
  const fst = frameworkStatus(err);
  if (fst !== undefined) {
    const message = (err as Error).message;
    return { status: fst, headers: {}, body: { error_code: ErrorCode.BAD_REQUEST, message } };
  }
  const app = AppError.from(err);
  // A body cut for slowness is the client's fault (408, not the table's 504), and the rest of it is not read.
  if (app instanceof BodyTimeoutError) {
    return { status: 408, headers: { connection: "close" }, body: { error_code: app.code, message: app.message } };
  }
  const status = app instanceof HttpError ? app.status : httpStatusForCode(app.code);
  // NOT_IMPLEMENTED (501) is a deliberate answer (MLflow endpoints Logbook does not have), not a failure to log.
  if (status >= 500 && app.code !== ErrorCode.NOT_IMPLEMENTED) logger?.error({ ...context, err: app.cause ?? app }, `request failed: ${app.message}`);
  return {
    status,
    headers: app instanceof HttpError ? app.headers : challengeHeaders(app),
    body: { error_code: app.code, message: app.message },
  };
}

/** A 401 says how to authenticate (RFC 9110 §11.6.1); a throttled sign-in says when to try again. */
function challengeHeaders(err: AppError): Readonly<Record<string, string>> {
  if (err.code === ErrorCode.UNAUTHENTICATED) return { "www-authenticate": 'Basic realm="logbook"' };
  const retryAfterS = (err as { retryAfterS?: unknown }).retryAfterS;
  if (err.code === ErrorCode.REQUEST_LIMIT_EXCEEDED && typeof retryAfterS === "number") return { "retry-after": String(retryAfterS) };
  return {};
}
