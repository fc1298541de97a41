/**
 * JSON request bodies: the Content-Type rule, the size limit, and text → JSON value.
 */
import type { Readable } from "node:stream";
import { AppError, ErrorCode } from "../domain/errors.js";
import { checkBodyRate, idleTimeout, type BodyLimits } from "../edge/body-limits.js";
import { bodyTooLarge } from "./errors.js";
import { JsonSyntaxError, parseJson, type JsonValue } from "./json-text.js";

/** Methods whose JSON routes need `Content-Type: application/json` (MLflow checks POST and PUT; PATCH too here). */
const NEEDS_JSON_CONTENT_TYPE = new Set(["POST", "PUT", "PATCH"]);

/** MLflow's 400 for a body that is not declared as JSON. */
export function contentTypeNotJson(): AppError {
  return new AppError(ErrorCode.INVALID_PARAMETER_VALUE, "Bad Request. Content-Type must be one of ['application/json'].");
}

/** Throws {@link contentTypeNotJson} when a POST/PUT/PATCH does not say its body is JSON. */
export function checkContentType(method: string, contentType: string | undefined): void {
  if (!NEEDS_JSON_CONTENT_TYPE.has(method)) return;
  const mediaType = contentType?.split(";", 1)[0]!.trim().toLowerCase();
  if (mediaType !== "application/json") throw contentTypeNotJson();
}

/** How long, and how much beyond the limit, a refused body is read and dropped before the 413. */
const DRAIN_MS = 2000;

/**
 * Reads a whole body, refusing more than `limit` bytes with a 413 (which closes the connection).
 * Before refusing, the rest of the body is read and dropped — up to another `limit` bytes or
 * {@link DRAIN_MS} — so the socket closes with nothing unread: closing with unread input makes the
 * kernel send a reset, and the client then loses the 413 it had not read yet (nginx's "lingering
 * close"). A body announced larger than twice the limit is refused at once. With `limits`, a body that sends
 * nothing for the idle timeout, or arrives below the minimum rate, is refused (408) and the connection closed.
 */
export function readBody(stream: Readable, limit: number, contentLength: string | undefined, limits?: BodyLimits): Promise<Buffer> {
  const announced = contentLength === undefined ? undefined : Number(contentLength);
  if (announced !== undefined && announced > 2 * limit) return Promise.reject(bodyTooLarge(limit));
  if (stream.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    let drainTimer: NodeJS.Timeout | undefined;
    let idleTimer: NodeJS.Timeout | undefined;
    const started = performance.now();
    const cleanup = () => {
      clearTimeout(drainTimer);
      clearTimeout(idleTimer);
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      stream.off("close", onClose);
    };
    const refuse = () => {
      cleanup();
      stream.pause();
      reject(bodyTooLarge(limit));
    };
    const tooSlow = (err: unknown) => {
      cleanup();
      stream.pause();
      reject(err);
    };
    const armIdle = () => {
      if (!limits || refused) return;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => tooSlow(idleTimeout(limits)), limits.idleTimeoutMs);
    };
    const onData = (chunk: Buffer | string) => {
      const length = typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
      size += length;
      if (refused) {
        if (size > 2 * limit) refuse();
        return;
      }
      if (size > limit) {
        refused = true;
        clearTimeout(idleTimer);
        chunks.length = 0;
        drainTimer = setTimeout(refuse, DRAIN_MS);
        return;
      }
      chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
      if (limits) {
        try {
          checkBodyRate(size, performance.now() - started, limits);
        } catch (err) {
          tooSlow(err);
          return;
        }
        armIdle();
      }
    };
    const onEnd = () => {
      if (refused) return refuse();
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new AppError(ErrorCode.CANCELLED, "The request body could not be read", { cause: err }));
    };
    const onClose = () => {
      if (refused) return refuse();
      cleanup();
      reject(new AppError(ErrorCode.CANCELLED, "The client closed the request before sending its body"));
    };
    if (announced !== undefined && announced > limit) {
      refused = true;
      drainTimer = setTimeout(refuse, DRAIN_MS);
    }
    armIdle();
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("error", onError);
    stream.on("close", onClose);
  });
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Body bytes as a JSON value; undefined for an empty (or whitespace-only) body, which means `{}`. */
export function parseBody(bytes: Uint8Array): JsonValue | undefined {
  if (bytes.length === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (cause) {
    throw new AppError(ErrorCode.INVALID_PARAMETER_VALUE, "The request body is not valid UTF-8", { cause });
  }
  if (text.trim() === "") return undefined;
  try {
    return parseJson(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) {
      throw new AppError(ErrorCode.INVALID_PARAMETER_VALUE, `The request body is not valid JSON: ${err.message}`);
    }
    throw err;
  }
}
