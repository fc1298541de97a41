/**
 * MLflow's raw-byte artifact routes (DESIGN.md §1, "Routes that are not RPC bindings"), registered
 * through the gateway's raw-route mechanism and calling the ArtifactService functions in process:
 *   PUT|GET|DELETE /api/2.0/mlflow-artifacts/artifacts/<path>   raw body in, raw bytes out, delete
 *   GET /api/2.0/mlflow-artifacts/artifacts?path=<dir>          MLflow's listing shape (basenames)
 *   GET /get-artifact?run_id&path                                a run's file, raw bytes
 *   GET /model-versions/get-artifact?name&version&path           a registered model version's file, raw bytes
 *   POST /ajax-api/2.0/mlflow/upload-artifact?run_uuid&path      the MLflow UI's upload of one run file (10 MB at most)
 *   GET /ajax-api/2.0/mlflow/logged-models/<id>/artifacts/files?artifact_file_path   a logged model's file, raw bytes
 *   GET /api/3.0/mlflow/server-info                              multipart uploads/downloads off
 * and the /ajax-api twins where MLflow serves them. Bodies stream both ways with backpressure; an
 * upload the client abandons commits nothing.
 */
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { AppError, ErrorCode } from "../domain/errors.js";
import { limitBody, type BodyLimits } from "../edge/body-limits.js";
import { createBoundedWriter, pump, type StreamObservers } from "../edge/stream-writer.js";
import { baseName, invalidPath, normalizeArtifactPath } from "../artifacts/path.js";
import type { ArtifactServiceFunctions } from "../services/artifact-service.js";
import type { CallContext } from "../services/rpc.js";
import type { UploadArtifactRequest } from "../../gen/ts/logbook/v1/artifact_service.js";
import type { RawRoute } from "./gateway.js";
import { stringifyJson } from "./json-text.js";
import { contextFor, query } from "./raw-call.js";
import { responseSink } from "./response-sink.js";

type ArtifactService = ArtifactServiceFunctions;

const PROXY_PREFIXES = ["/api/2.0/mlflow-artifacts/artifacts", "/ajax-api/2.0/mlflow-artifacts/artifacts"];
/** Upload chunks handed to the service are at most this big (the request stream's own pieces are smaller). */
const UPLOAD_CHUNK_BYTES = 1024 * 1024;
/** MLflow's limit on the UI's upload-artifact. */
const UI_UPLOAD_MAX_BYTES = 10 * 1024 * 1024;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  txt: "text/plain", log: "text/plain", md: "text/markdown", csv: "text/csv", tsv: "text/tab-separated-values",
  json: "application/json", yaml: "text/yaml", yml: "text/yaml", html: "text/html", htm: "text/html",
  xml: "application/xml", py: "text/x-python", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg",
  gif: "image/gif", svg: "image/svg+xml", pdf: "application/pdf", parquet: "application/octet-stream",
  pkl: "application/octet-stream", zip: "application/zip", gz: "application/gzip",
};

/** MLflow's extension-less text files (a model's and a project's descriptions), served as text as MLflow does. */
const TEXT_FILE_NAMES: ReadonlySet<string> = new Set(["MLmodel", "MLproject"]);

/** The Content-Type of a file name, by its extension (text types in UTF-8). */
export function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf(".");
  const byName = TEXT_FILE_NAMES.has(name) ? "text/plain" : undefined;
  const type = byName ?? ((dot > 0 && CONTENT_TYPES[name.slice(dot + 1).toLowerCase()]) || "application/octet-stream");
  return type.startsWith("text/") ? `${type}; charset=utf-8` : type;
}

function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** The artifact path of a proxy URL: the raw path after the prefix, each segment percent-decoded once. */
function proxyPath(rawUrl: string): string {
  const q = rawUrl.indexOf("?");
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const prefix = PROXY_PREFIXES.find((p) => path.startsWith(`${p}/`));
  if (!prefix) throw invalidPath();
  try {
    return path
      .slice(prefix.length + 1)
      .split("/")
      .map((s) => decodeURIComponent(s))
      .join("/");
  } catch {
    throw invalidPath();
  }
}

/**
 * The upload as the service's client stream: the header, then the body in chunks of at most 1 MiB. `check` sees the
 * running total after each piece and at the end (`done`); what it throws aborts the upload before anything is committed.
 */
async function* uploadMessages(
  header: { runId: string; path: string },
  body: AsyncIterable<Buffer>,
  size: number | undefined,
  check?: (received: number, done: boolean) => void,
): AsyncGenerator<UploadArtifactRequest> {
  yield { header: { ...header, ...(size === undefined ? {} : { size: BigInt(size) }) } };
  let received = 0;
  for await (const piece of body) {
    received += piece.length;
    check?.(received, false);
    for (let at = 0; at < piece.length; at += UPLOAD_CHUNK_BYTES) yield { chunk: piece.subarray(at, at + UPLOAD_CHUNK_BYTES) };
  }
  check?.(received, true);
}

/** A raw request body as a stream of pieces, with the idle and rate limits applied when given. */
function requestBody(request: FastifyRequest, limits: BodyLimits | undefined): AsyncIterable<Buffer> {
  const raw = (request.body instanceof Readable ? request.body : (request.raw as IncomingMessage)) as AsyncIterable<Buffer>;
  return limits ? limitBody(raw, limits, (piece) => piece.length) : raw;
}

const uiUploadError = (message: string) => new AppError(ErrorCode.INVALID_PARAMETER_VALUE, message);

/** MLflow's upload_artifact_handler: its checks in its order and its messages; the file streams to the run's artifacts. */
async function uiUpload(service: ArtifactService, request: FastifyRequest, reply: FastifyReply, opts: ArtifactRoutesOptions): Promise<void> {
  const q = query(request);
  const runId = q.get("run_uuid");
  if (!runId) throw uiUploadError("Request must specify run_uuid.");
  const path = q.get("path");
  if (!path) throw uiUploadError("Request must specify path.");
  normalizeArtifactPath(path); // "Invalid path" before the size checks, as MLflow orders them
  const length = request.headers["content-length"] === undefined ? undefined : Number(request.headers["content-length"]);
  const tooLarge = () => uiUploadError("Artifact size is too large. Max size is 10MB.");
  if (length !== undefined && length > UI_UPLOAD_MAX_BYTES) throw tooLarge();
  if (length === 0) throw uiUploadError("Request must specify data.");
  const body = requestBody(request, opts.bodyLimits);
  const check = (received: number, done: boolean) => {
    if (received > UI_UPLOAD_MAX_BYTES) throw tooLarge();
    if (done && received === 0) throw uiUploadError("Request must specify data.");
  };
  const { ctx, done } = contextFor(request, reply, opts.logger, "upload-artifact");
  try {
    const size = Number.isSafeInteger(length) ? length : undefined;
    await service.uploadArtifact(uploadMessages({ runId, path }, body, size, check), ctx);
  } finally {
    done();
  }
  // MLflow answers an empty body with the JSON content type.
  return reply.code(200).type("application/json").send("");
}

/**
 * Streams a download: the first chunk is pulled before the head is sent, so a missing file is still a
 * normal JSON 404; then one chunk at a time, pulling the next only when the socket has room. When the
 * client goes away the iterator is returned, which closes the file or GridFS stream.
 */
async function sendDownload(
  chunks: AsyncIterable<{ chunk: Buffer }>,
  path: string,
  reply: FastifyReply,
  ctx: CallContext,
  observers: StreamObservers | undefined,
): Promise<void> {
  const iterator = chunks[Symbol.asyncIterator]();
  const result = await iterator.next();
  const name = baseName(path.replace(/\/+$/, "")) || "artifact";
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    "content-type": contentTypeOf(name),
    "content-disposition": contentDisposition(name),
  });
  const observer = observers?.();
  const writer = createBoundedWriter(responseSink(res), { signal: ctx.signal, ...(observer ? { observer } : {}) });
  try {
    const completed = await pump(iterator, result, ({ chunk }) => writer.write(chunk, chunk.length));
    if (completed) res.end();
    else res.destroy();
  } catch (err) {
    ctx.logger.warn({ err }, "download failed after its first byte");
    res.destroy(); // a truncated body must not look complete
  } finally {
    observer?.closed?.();
  }
}

export interface ArtifactRoutesOptions {
  service: ArtifactService;
  /** false (`--no-serve-artifacts`): the proxy routes answer 503 with MLflow's text. Default true. */
  serveArtifacts?: boolean;
  /** "sqlite" or "mongodb", reported by server-info. */
  storeKind: string;
  logger: Logger;
  /** Idle and rate limits of upload bodies (none when absent). */
  bodyLimits?: BodyLimits;
  /** Observes every download stream (metrics); none when absent. */
  streamObservers?: StreamObservers;
}

/**
 * MLflow 3.17.2's answers on the proxy routes with `--no-serve-artifacts`: its FastAPI artifact router (file uploads
 * and downloads) answers JSON, its Flask handlers (deletion, listing) text naming the route's rule.
 */
const ROUTER_DISABLED = JSON.stringify({ detail: "Artifact serving is disabled. Run `mlflow server` with `--serve-artifacts` to enable." });
const routerDisabled: RawRoute["handler"] = async (_request, reply) => reply.code(503).type("application/json").send(ROUTER_DISABLED);

function handlerDisabled(rule: string): RawRoute["handler"] {
  const text =
    `Endpoint: ${rule} disabled due to the mlflow server running with \`--no-serve-artifacts\`. ` +
    "To enable artifacts server functionality, run `mlflow server` with `--serve-artifacts`";
  return async (_request, reply) => reply.code(503).type("text/html; charset=utf-8").send(text);
}

export function artifactRawRoutes(opts: ArtifactRoutesOptions): RawRoute[] {
  const { service, logger } = opts;
  const routes: RawRoute[] = [];
  for (const prefix of PROXY_PREFIXES) {
    if (opts.serveArtifacts === false) {
      routes.push(
        { method: "PUT", url: `${prefix}/*`, handler: routerDisabled },
        { method: "GET", url: `${prefix}/*`, handler: routerDisabled },
        { method: "DELETE", url: `${prefix}/*`, handler: handlerDisabled(`${prefix}/<path:artifact_path>`) },
        { method: "GET", url: prefix, handler: handlerDisabled(prefix) },
      );
      continue;
    }
    routes.push(
      {
        method: "PUT",
        url: `${prefix}/*`,
        handler: async (request, reply) => {
          const path = proxyPath(request.raw.url ?? request.url);
          const length = request.headers["content-length"];
          const size = length === undefined ? undefined : Number(length);
          const body = requestBody(request, opts.bodyLimits);
          const { ctx, done } = contextFor(request, reply, logger, "PUT artifact");
          try {
            await service.uploadArtifact(uploadMessages({ runId: "", path }, body, Number.isSafeInteger(size) ? size : undefined), ctx);
          } finally {
            done();
          }
          return reply.code(200).type("application/json").send("{}");
        },
      },
      {
        method: "GET",
        url: `${prefix}/*`,
        handler: async (request, reply) => {
          const path = proxyPath(request.raw.url ?? request.url);
          const { ctx, done } = contextFor(request, reply, logger, "GET artifact");
          try {
            await sendDownload(service.downloadArtifact({ runId: "", path }, ctx), path, reply, ctx, opts.streamObservers);
          } finally {
            done();
          }
        },
      },
      {
        method: "DELETE",
        url: `${prefix}/*`,
        handler: async (request, reply) => {
          const path = proxyPath(request.raw.url ?? request.url);
          const { ctx, done } = contextFor(request, reply, logger, "DELETE artifact");
          try {
            await service.deleteArtifact({ runId: "", path }, ctx);
          } finally {
            done();
          }
          return reply.code(200).type("application/json").send("{}");
        },
      },
      {
        method: "GET",
        url: prefix,
        handler: async (request, reply) => {
          const dir = query(request).get("path") ?? "";
          const { ctx, done } = contextFor(request, reply, logger, "list artifacts");
          const files: { path: string; is_dir: boolean; file_size?: number }[] = [];
          try {
            let pageToken = "";
            do {
              const page = await service.listArtifacts({ runId: "", runUuid: "", path: dir, pageToken }, ctx);
              for (const f of page.files) {
                files.push(f.isDir ? { path: baseName(f.path), is_dir: true } : { path: baseName(f.path), is_dir: false, file_size: Number(f.fileSize ?? 0) });
              }
              pageToken = page.nextPageToken;
            } while (pageToken);
          } finally {
            done();
          }
          return reply.code(200).type("application/json").send(stringifyJson({ files }));
        },
      },
    );
  }
  routes.push({
    method: "GET",
    url: "/get-artifact",
    handler: async (request, reply) => {
      const q = query(request);
      const runId = q.get("run_id") || q.get("run_uuid") || "";
      const path = q.get("path") ?? "";
      const { ctx, done } = contextFor(request, reply, logger, "get-artifact");
      try {
        if (!runId) throw new AppError(ErrorCode.INVALID_PARAMETER_VALUE, "Missing value for required parameter 'run_id'.");
        await sendDownload(service.downloadArtifact({ runId, path }, ctx), path, reply, ctx, opts.streamObservers);
      } finally {
        done();
      }
    },
  });
  // MLflow serves this one without an /ajax-api twin.
  routes.push({
    method: "GET",
    url: "/model-versions/get-artifact",
    handler: async (request, reply) => {
      const q = query(request);
      const { ctx, done } = contextFor(request, reply, logger, "model-versions/get-artifact");
      try {
        const req = { name: q.get("name") ?? "", version: q.get("version") ?? "", path: q.get("path") ?? "" };
        await sendDownload(service.downloadModelVersionArtifact(req, ctx), req.path, reply, ctx, opts.streamObservers);
      } finally {
        done();
      }
    },
  });
  // The MLflow UI's preview of a logged model's file; MLflow serves it only under /ajax-api.
  routes.push({
    method: "GET",
    url: "/ajax-api/2.0/mlflow/logged-models/:modelId/artifacts/files",
    handler: async (request, reply) => {
      const path = query(request).get("artifact_file_path");
      if (!path) throw new AppError(ErrorCode.BAD_REQUEST, 'Request must include the "artifact_file_path" query parameter.');
      const { modelId } = request.params as { modelId: string };
      const { ctx, done } = contextFor(request, reply, logger, "logged-models/artifacts/files");
      try {
        await sendDownload(service.downloadLoggedModelArtifact({ modelId, path }, ctx), path, reply, ctx, opts.streamObservers);
      } finally {
        done();
      }
    },
  });
  routes.push({ method: "POST", url: "/ajax-api/2.0/mlflow/upload-artifact", handler: (request, reply) => uiUpload(service, request, reply, opts) });
  // MLflow 3.17.2's fields, with Logbook's truth: no workspaces, no trace archival, single-request uploads and
  // downloads (no multipart, no presigned URLs), no AI gateway.
  const serverInfo = JSON.stringify({
    store_type: opts.storeKind === "mongodb" ? "MongoStore" : "SqlStore",
    workspaces_enabled: false,
    trace_archival_enabled: false,
    multipart_uploads_enabled: false,
    multipart_downloads_enabled: false,
    presigned_upload_run_id_supported: false,
    presigned_upload_model_id_supported: false,
    features_enabled: { gateway: false },
  });
  for (const url of ["/api/3.0/mlflow/server-info", "/ajax-api/3.0/mlflow/server-info"]) {
    routes.push({ method: "GET", url, handler: async (_request, reply) => reply.code(200).type("application/json").send(serverInfo) });
  }
  return routes;
}
