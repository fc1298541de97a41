/**
 * ArtifactService: uploads, downloads, listings and deletions of artifact files, over an
 * ArtifactStore (src/artifacts/). Paths are relative to a run's artifact root (resolved from the
 * run's `mlflow-artifacts:/<experiment_id>/<run_id>/artifacts` URI) or, without a run, to the store's
 * root — the root of the mlflow-artifacts:/ URIs the MLflow client uploads to through the proxy
 * routes. Every path is validated before anything is read or written.
 */
import { AppError, ErrorCode, invalidParameter } from "../domain/errors.js";
import * as v from "../domain/validation.js";
import { joinArtifactPath, normalizeArtifactPath } from "../artifacts/path.js";
import type { ArtifactStore } from "../artifacts/store.js";
import type { Store } from "../store/types.js";
import type { ArtifactServiceService, FileInfo, UploadArtifactRequest } from "../../gen/ts/logbook/v1/artifact_service.js";
import type { ServiceImplementation } from "./rpc.js";

/** Downloads move in chunks of exactly this size (the last one shorter), as MLflow streams them. */
export const DOWNLOAD_CHUNK_BYTES = 1024 * 1024;
/** Entries per ListArtifacts page. */
export const LIST_PAGE_SIZE = 1000;
export const PROXY_SCHEME = "mlflow-artifacts:";

export interface ArtifactDeps {
  store: Store;
  artifacts: ArtifactStore;
}

const cancelled = () => new AppError(ErrorCode.CANCELLED, "The upload was cancelled by the client");

/** The store path of a proxied artifact URI (`mlflow-artifacts:/1/abc/artifacts`, also with a `//host` authority). */
export function proxiedPath(uri: string): string | undefined {
  if (!uri.startsWith(PROXY_SCHEME)) return undefined;
  let rest = uri.slice(PROXY_SCHEME.length);
  if (rest.startsWith("//")) {
    const slash = rest.indexOf("/", 2);
    rest = slash === -1 ? "" : rest.slice(slash);
  }
  return rest.replace(/^\/+/, "");
}

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

export function createArtifactService(deps: ArtifactDeps): ServiceImplementation<typeof ArtifactServiceService> {
  const { store, artifacts } = deps;

  /** The run's artifact root in the store, and its URI. */
  async function runRoot(runId: string): Promise<{ root: string; rootUri: string }> {
    v.validateRunId(runId);
    const run = await store.getRun(runId);
    const rootUri = run.info.artifactUri;
    const proxied = proxiedPath(rootUri);
    if (proxied === undefined) {
      throw invalidParameter(`The artifact root '${rootUri}' of run '${runId}' is not served by this server`);
    }
    return { root: normalizeArtifactPath(proxied, { allowRoot: true }), rootUri };
  }

  /** The store path of (run, path): validated, under the run's root when a run is given. */
  async function resolve(runId: string, path: string, allowRoot: boolean): Promise<{ full: string; rel: string; rootUri: string }> {
    const rel = normalizeArtifactPath(path, { allowRoot });
    if (!runId) return { full: rel, rel, rootUri: `${PROXY_SCHEME}/` };
    const { root, rootUri } = await runRoot(runId);
    return { full: joinArtifactPath(root, rel), rel, rootUri };
  }

  return {
    async uploadArtifact(requests, ctx) {
      const it = requests[Symbol.asyncIterator]();
      const first = await nextOrAbort(it, ctx.signal);
      const header = first.done ? undefined : (first.value as UploadArtifactRequest).header;
      if (!header) throw invalidParameter("The first message of an upload must be its header");
      const { full } = await resolve(header.runId, header.path, false);
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
      const { full } = await resolve(req.runId, req.path, false);
      const { stream } = await artifacts.read(full);
      try {
        for await (const chunk of fixedChunks(stream, DOWNLOAD_CHUNK_BYTES)) yield { chunk };
      } finally {
        stream.destroy(); // cancelled or failed: close the file / GridFS cursor now
      }
    },

    async listArtifacts(req) {
      const runId = req.runId || req.runUuid;
      const { full, rel, rootUri } = await resolve(runId, req.path, true);
      const after = req.pageToken ? decodeToken(req.pageToken) : undefined;
      const entries = (await artifacts.list(full)).filter((e) => after === undefined || e.name > after);
      const page = entries.slice(0, LIST_PAGE_SIZE);
      const files: FileInfo[] = page.map((e) =>
        e.isDir
          ? { path: joinArtifactPath(rel, e.name), isDir: true }
          : { path: joinArtifactPath(rel, e.name), isDir: false, fileSize: BigInt(e.size ?? 0) },
      );
      const nextPageToken = entries.length > LIST_PAGE_SIZE ? encodeToken(page.at(-1)!.name) : "";
      return { rootUri, files, nextPageToken };
    },

    async deleteArtifact(req) {
      const { full } = await resolve(req.runId, req.path, !!req.runId);
      if (!full) throw invalidParameter("Invalid path");
      await artifacts.delete(full);
      return {};
    },
  };
}
