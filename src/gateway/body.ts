/**
 * JSON request bodies: the Content-Type rule, the size limit, and text → JSON value.
 */
import type { Readable } from "node:stream";
import { AppError, ErrorCode } from "../domain/errors.js";
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

/**
 * Reads a whole body, refusing more than `limit` bytes (413; at once when Content-Length says so).
 * On refusal the rest is left unread (the 413 closes the connection) rather than destroying the
 * request, which would take the socket, and the 413, with it.
 */
export function readBody(stream: Readable, limit: number, contentLength: string | undefined): Promise<Buffer> {
  if (contentLength !== undefined && Number(contentLength) > limit) return Promise.reject(bodyTooLarge(limit));
  if (stream.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      stream.off("close", onClose);
    };
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size > limit) {
        cleanup();
        stream.pause();
        reject(bodyTooLarge(limit));
        return;
      }
      chunks.push(buf);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new AppError(ErrorCode.CANCELLED, "The request body could not be read", { cause: err }));
    };
    const onClose = () => {
      cleanup();
      reject(new AppError(ErrorCode.CANCELLED, "The client closed the request before sending its body"));
    };
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
