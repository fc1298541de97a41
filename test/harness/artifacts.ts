/**
 * Artifact helpers for tests: gRPC client-streaming uploads and server-streaming downloads through a
 * raw grpc-js Client (respecting the client side's backpressure), HTTP transfers, and checksums.
 */
import { createHash, randomBytes } from "node:crypto";
import type { EventEmitter } from "node:events";
import { request, type IncomingHttpHeaders } from "node:http";
import type { Client, ClientReadableStream, ClientWritableStream, ServiceError } from "@grpc/grpc-js";
import {
  ArtifactServiceService,
  type DownloadArtifactRequest,
  type DownloadArtifactResponse,
  type UploadArtifactHeader,
  type UploadArtifactRequest,
  type UploadArtifactResponse,
} from "../../gen/ts/logbook/v1/artifact_service.js";

export const MiB = 1024 * 1024;

export const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/** Deterministic-size random content; big buffers are built from one random MiB (fast, still checksummed per byte). */
export function content(size: number): Buffer {
  if (size <= MiB) return randomBytes(size);
  const block = randomBytes(MiB);
  const out = Buffer.allocUnsafe(size);
  for (let at = 0, i = 0; at < size; at += MiB, i++) {
    block.copy(out, at, 0, Math.min(MiB, size - at));
    if (size - at >= 4) out.writeUInt32BE(i, at); // every MiB differs, so a reordered or repeated chunk changes the checksum
  }
  return out;
}

export function startUpload(client: Client, callback: (err: ServiceError | null, res?: UploadArtifactResponse) => void): ClientWritableStream<UploadArtifactRequest> {
  const def = ArtifactServiceService.uploadArtifact;
  return client.makeClientStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, callback);
}

const drain = (call: EventEmitter) => new Promise<void>((resolve) => call.once("drain", resolve));

/** Uploads `data` over gRPC in `chunkSize` pieces after the header. */
export async function uploadGrpc(client: Client, header: UploadArtifactHeader, data: Buffer, chunkSize = MiB): Promise<UploadArtifactResponse> {
  let call!: ClientWritableStream<UploadArtifactRequest>;
  const done = new Promise<UploadArtifactResponse>((resolve, reject) => {
    call = startUpload(client, (err, res) => (err ? reject(err) : resolve(res!)));
  });
  done.catch(() => undefined); // awaited below; the server may answer before the last chunk is sent
  let failed = false;
  void done.catch(() => (failed = true));
  call.write({ header });
  for (let at = 0; at < data.length && !failed; at += chunkSize) {
    if (!call.write({ chunk: data.subarray(at, at + chunkSize) })) await Promise.race([drain(call), done.catch(() => undefined)]);
  }
  call.end();
  return done;
}

export function startDownload(client: Client, request: DownloadArtifactRequest): ClientReadableStream<DownloadArtifactResponse> {
  const def = ArtifactServiceService.downloadArtifact;
  return client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, request);
}

/** Downloads a whole file over gRPC; also returns the chunk sizes seen. */
export async function downloadGrpc(client: Client, request: DownloadArtifactRequest): Promise<{ data: Buffer; chunkSizes: number[] }> {
  const chunks: Buffer[] = [];
  for await (const message of startDownload(client, request) as AsyncIterable<DownloadArtifactResponse>) chunks.push(message.chunk);
  return { data: Buffer.concat(chunks), chunkSizes: chunks.map((c) => c.length) };
}

/** PUT through MLflow's proxy route; returns the response. */
export function putArtifact(httpUrl: string, path: string, body: Buffer): Promise<Response> {
  return fetch(`${httpUrl}/api/2.0/mlflow-artifacts/artifacts/${path}`, { method: "PUT", body });
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One HTTP request with the path sent exactly as given (fetch and URL would resolve `..` and
 * `%2e%2e` before sending, so traversal attempts need node:http).
 */
export async function rawRequest(httpUrl: string, method: string, path: string, body?: Buffer): Promise<RawResponse> {
  const url = new URL(httpUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers: body ? { "content-length": body.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
