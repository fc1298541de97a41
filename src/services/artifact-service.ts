/**
 * ArtifactService: uploads, downloads, listings and deletions of artifact files, in the stores of the
 * server's artifact roots (src/artifacts/roots.ts). Paths are relative to a run's artifact root (its
 * `artifact_uri`: `mlflow-artifacts:/<experiment_id>/<run_id>/artifacts`, or a directory under a local root), to a
 * logged model's root (`…/models/<model_id>/artifacts`) or, without either, to the artifacts destination's root — the
 * root of the mlflow-artifacts:/ URIs the MLflow client uploads to through the proxy routes. Every path is
 * validated before anything is read or written.
 */
import { AppError, ErrorCode, invalidParameter } from "../domain/errors.js";
import { requireLoggedModelId } from "../domain/logged-model-validation.js";
import * as v from "../domain/validation.js";
import { joinArtifactPath, normalizeArtifactPath } from "../artifacts/path.js";
import type { ArtifactRoots } from "../artifacts/roots.js";
import type { ArtifactStore } from "../artifacts/store.js";
import type { Store } from "../store/types.js";
import type { ArtifactServiceService, FileInfo, UploadArtifactRequest } from "../../gen/ts/logbook/v1/artifact_service.js";
import { createArtifactLocator, PROXY_SCHEME, servedRoot } from "./artifact-location.js";
import type { CallContext, ServiceImplementation } from "./rpc.js";

/**
 * Downloads move in chunks of exactly this size (the last one shorter). Small enough that a stream's queue of
 * unsent bytes (64 KiB, src/edge/stream-writer.ts) holds two, so a client that stops reading pins little memory;
 * big enough that per-message costs stay negligible.
 */
export const DOWNLOAD_CHUNK_BYTES = 32 * 1024;
/** Entries per ListArtifacts page. */
export const LIST_PAGE_SIZE = 1000;

export interface ArtifactDeps {
  store: Store;
  roots: ArtifactRoots;
}

const cancelled = () => new AppError(ErrorCode.CANCELLED, "The upload was cancelled by the client");

/** Re-chunks a byte stream into pieces of exactly `size` bytes (the last one shorter). */
export async function* fixedChunks(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of source) {
    let buf = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    while (pendingBytes + buf.length >= size) {
      const take = size - pendingBytes;
      pending.push(buf.subarray(0, take));
      yield pending.length === 1 ? pending[0]! : Buffer.concat(pending, size);
      pending = [];
      pendingBytes = 0;
      buf = buf.subarray(take);
    }
    if (buf.length > 0) {
      pending.push(buf);
      pendingBytes += buf.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

/** The next message, or CANCELLED as soon as the call's signal aborts (a stalled client never hangs the call). */
function nextOrAbort<T>(it: AsyncIterator<T>, signal: AbortSignal): Promise<IteratorResult<T>> {
  if (signal.aborted) return Promise.reject(cancelled());
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(cancelled());
    signal.addEventListener("abort", onAbort, { once: true });
    it.next().then(
      (r) => {
        signal.removeEventListener("abort", onAbort);
        resolve(r);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(signal.aborted ? cancelled() : e);
      },
    );
  });
}

const encodeToken = (name: string) => Buffer.from(JSON.stringify({ after: name })).toString("base64url");
function decodeToken(token: string): string {
  try {
    const after = (JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { after?: unknown }).after;
    if (typeof after === "string") return after;
  } catch {
    // fall through
  }
  throw invalidParameter(`Invalid page token '${token}'`);
}

/** A file of a registered model version, as the raw `/model-versions/get-artifact` route names it. */
export interface ModelVersionArtifactRequest {
  name: string;
  version: string;
  path: string;
}

/** A file of a logged model, as the MLflow UI's raw `logged-models/<id>/artifacts/files` route names it. */
export interface LoggedModelArtifactRequest {
  modelId: string;
  path: string;
}

/** The RPCs, plus the downloads the raw routes need that no RPC offers: a registered version's or a logged model's file. */
export interface ArtifactServiceFunctions extends ServiceImplementation<typeof ArtifactServiceService> {
  downloadModelVersionArtifact(req: ModelVersionArtifactRequest, ctx: CallContext): AsyncGenerator<{ chunk: Buffer }>;
  downloadLoggedModelArtifact(req: LoggedModelArtifactRequest, ctx: CallContext): AsyncGenerator<{ chunk: Buffer }>;
}

/** A file's bytes in chunks of exactly DOWNLOAD_CHUNK_BYTES; the file is closed when the consumer stops. */
async function* download(artifacts: ArtifactStore, path: string): AsyncGenerator<{ chunk: Buffer }> {
  const { stream } = await artifacts.read(path);
  try {
    for await (const chunk of fixedChunks(stream, DOWNLOAD_CHUNK_BYTES)) yield { chunk };
  } finally {
    stream.destroy(); // cancelled or failed: close the file / GridFS cursor now
  }
}

export function createArtifactService(deps: ArtifactDeps): ArtifactServiceFunctions {
  const { store, roots } = deps;
  const locator = createArtifactLocator(store, roots);

  /**
   * The store and path of (run, path): validated, under the run's root when a run is given; without one, in the
   * artifacts destination (the proxy routes' `mlflow-artifacts:/` paths).
   */
  async function resolve(runId: string, path: string, allowRoot: boolean): Promise<{ artifacts: ArtifactStore; full: string; rel: string; rootUri: string }> {
    const rel = normalizeArtifactPath(path, { allowRoot });
    if (!runId) return { artifacts: roots.destination, full: rel, rel, rootUri: `${PROXY_SCHEME}/` };
    v.validateRunId(runId);
    const rootUri = (await store.getRun(runId)).info.artifactUri;
    const root = servedRoot(roots, rootUri, `run '${runId}'`);
    return { artifacts: root.store, full: joinArtifactPath(root.path, rel), rel, rootUri };
  }

  /** One page of the directory `full`, its entries named by `rel` (their path relative to the listed root). */
  async function listPage(artifacts: ArtifactStore, full: string, rel: string, pageToken: string): Promise<{ files: FileInfo[]; nextPageToken: string }> {
    const after = pageToken ? decodeToken(pageToken) : undefined;
    const entries = (await artifacts.list(full)).filter((e) => after === undefined || e.name > after);
    const page = entries.slice(0, LIST_PAGE_SIZE);
    const files: FileInfo[] = page.map((e) =>
      e.isDir
        ? { path: joinArtifactPath(rel, e.name), isDir: true }
        : { path: joinArtifactPath(rel, e.name), isDir: false, fileSize: BigInt(e.size ?? 0) },
    );
    return { files, nextPageToken: entries.length > LIST_PAGE_SIZE ? encodeToken(page.at(-1)!.name) : "" };
  }

  return {
    async uploadArtifact(requests, ctx) {
      const it = requests[Symbol.asyncIterator]();
      const first = await nextOrAbort(it, ctx.signal);
      const header = first.done ? undefined : (first.value as UploadArtifactRequest).header;
      if (!header) throw invalidParameter("The first message of an upload must be its header");
      const { artifacts, full } = await resolve(header.runId, header.path, false);
      const expected = header.size === undefined ? undefined : Number(header.size);
      if (expected !== undefined && (!Number.isSafeInteger(expected) || expected < 0)) throw invalidParameter(`Invalid size ${header.size}`);
      let received = 0;
      async function* chunks(): AsyncGenerator<Uint8Array> {
        for (;;) {
          const next = await nextOrAbort(it, ctx.signal);
          if (next.done) break;
          if (next.value.header) throw invalidParameter("Only the first message of an upload may be a header");
          const chunk = next.value.chunk;
          if (chunk && chunk.length > 0) {
            received += chunk.length;
            if (expected !== undefined && received > expected) throw invalidParameter(`The upload is longer than its declared size ${expected}`);
            yield chunk;
          }
        }
        // The stream ended; a cancel that raced its end still must not commit a partial file.
        if (ctx.signal.aborted) throw cancelled();
        if (expected !== undefined && received !== expected) {
          throw invalidParameter(`The upload ended after ${received} of its declared ${expected} bytes`);
        }
      }
      const size = await artifacts.write(full, chunks());
      return { path: full, fileSize: BigInt(size) };
    },

    async *downloadArtifact(req) {
      const { artifacts, full } = await resolve(req.runId, req.path, false);
      yield* download(artifacts, full);
    },

    async listArtifacts(req) {
      const runId = req.runId || req.runUuid;
      const { artifacts, full, rel, rootUri } = await resolve(runId, req.path, true);
      return { rootUri, ...(await listPage(artifacts, full, rel, req.pageToken)) };
    },

    async listLoggedModelArtifacts(req) {
      const modelId = requireLoggedModelId(req.modelId);
      const rel = normalizeArtifactPath(req.artifactDirectoryPath, { allowRoot: true });
      const model = await store.getLoggedModel(modelId);
      const root = servedRoot(roots, model.artifactUri, `logged model '${modelId}'`);
      return { rootUri: model.artifactUri, ...(await listPage(root.store, joinArtifactPath(root.path, rel), rel, req.pageToken)) };
    },

    async deleteArtifact(req) {
      const { artifacts, full } = await resolve(req.runId, req.path, !!req.runId);
      if (!full) throw invalidParameter("Invalid path");
      await artifacts.delete(full);
      return {};
    },

    async *downloadModelVersionArtifact(req) {
      v.requireField(req.name, "name");
      v.requireField(req.version, "version");
      const rel = normalizeArtifactPath(req.path);
      if (!/^[0-9]+$/.test(req.version)) throw invalidParameter(`Model version must be an integer, got '${req.version}'`);
      const version = await store.getModelVersion(req.name, Number(req.version));
      const root = await locator.locate(version.storageLocation ?? version.source);
      yield* download(root.store, joinArtifactPath(root.path, rel));
    },

    async *downloadLoggedModelArtifact(req) {
      const modelId = requireLoggedModelId(req.modelId);
      const rel = normalizeArtifactPath(req.path);
      const model = await store.getLoggedModel(modelId);
      const root = servedRoot(roots, model.artifactUri, `logged model '${modelId}'`);
      yield* download(root.store, joinArtifactPath(root.path, rel));
    },
  };
}
