/**
 * Promise-returning calls over the generated grpc-js definitions (gen/ts), one channel per Tracker, with a
 * deadline on every call. Errors come back as LogbookError (gRPC code + MLflow code).
 */
import { createReadStream } from "node:fs";
import { Client, Metadata, credentials, type ClientOptions, type ServiceError } from "@grpc/grpc-js";
import { ArtifactServiceService, type UploadArtifactRequest, type UploadArtifactResponse } from "../../../gen/ts/logbook/v1/artifact_service.js";
import { RegistryServiceService } from "../../../gen/ts/logbook/v1/registry.js";
import { SearchServiceService } from "../../../gen/ts/logbook/v1/search_service.js";
import { TrackingServiceService } from "../../../gen/ts/logbook/v1/tracking_service.js";
import { toLogbookError } from "./errors.js";

/** The shape of a method in a ts-proto service definition. */
interface MethodDef<Req, Res> {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize(value: Req): Buffer;
  responseDeserialize(value: Buffer): Res;
}

type Unary<D> = {
  [K in keyof D as D[K] extends { requestStream: false; responseStream: false } ? K : never]: D[K] extends MethodDef<infer Req, infer Res>
    ? (request: Req) => Promise<Res>
    : never;
};

export type TrackingCalls = Unary<typeof TrackingServiceService>;
export type RegistryCalls = Unary<typeof RegistryServiceService>;
export type SearchCalls = Unary<typeof SearchServiceService>;

const UPLOAD_CHUNK = 1024 * 1024;

/** How the SDK proves who it is to a Logbook started with `--auth basic`, and whether it speaks TLS. */
export interface RpcCredentials {
  /** A personal access token (`lbk_…`, from `POST /api/2.0/logbook/tokens/create`): sent as `authorization: Bearer <token>`. */
  token?: string;
  /** Connect over TLS (a server started with `--tls-cert-file`); `rootCerts`: PEM of the CA to trust, default the system's. */
  tls?: boolean | { rootCerts?: Buffer };
}

/** One grpc-js channel and typed promise calls for the Tracking, Registry, Search and Artifact services. */
export class LogbookRpc {
  readonly raw: Client;
  readonly tracking: TrackingCalls;
  readonly registry: RegistryCalls;
  readonly search: SearchCalls;
  /** Sent with every call: the credentials. */
  private readonly metadata = new Metadata();

  constructor(
    readonly address: string,
    /** Deadline of each unary call (and of each upload/download), ms. */
    readonly deadlineMs = 10_000,
    channelOptions: Partial<ClientOptions> = {},
    auth: RpcCredentials = {},
  ) {
    if (auth.token) this.metadata.set("authorization", `Bearer ${auth.token}`);
    const channel = auth.tls ? credentials.createSsl(typeof auth.tls === "object" ? (auth.tls.rootCerts ?? null) : null) : credentials.createInsecure();
    // grpc-js's own reconnect backoff goes up to 120 s by default: keep it short, the Tracker's probe paces retries.
    this.raw = new Client(address, channel, {
      "grpc.initial_reconnect_backoff_ms": 200,
      "grpc.max_reconnect_backoff_ms": 2000,
      ...channelOptions,
    });
    this.tracking = this.unary(TrackingServiceService) as TrackingCalls;
    this.registry = this.unary(RegistryServiceService) as RegistryCalls;
    this.search = this.unary(SearchServiceService) as SearchCalls;
  }

  private deadline(ms = this.deadlineMs): Date {
    return new Date(Date.now() + ms);
  }

  private unary(definition: Record<string, MethodDef<never, unknown>>): Record<string, (request: unknown) => Promise<unknown>> {
    const calls: Record<string, (request: unknown) => Promise<unknown>> = {};
    for (const [name, def] of Object.entries(definition)) {
      if (def.requestStream || def.responseStream) continue;
      const d = def as unknown as MethodDef<unknown, unknown>;
      calls[name] = (request: unknown) =>
        new Promise((resolve, reject) => {
          this.raw.makeUnaryRequest(d.path, d.requestSerialize, d.responseDeserialize, request, this.metadata.clone(), { deadline: this.deadline() }, (err: ServiceError | null, res?: unknown) =>
            err ? reject(toLogbookError(err, d.path)) : resolve(res),
          );
        });
    }
    return calls;
  }

  /** Uploads a local file or a buffer as a run artifact (client stream: header, then chunks). */
  uploadArtifact(runId: string, path: string, source: { localPath: string } | { data: Buffer }): Promise<UploadArtifactResponse> {
    const def = ArtifactServiceService.uploadArtifact;
    return new Promise((resolve, reject) => {
      let settled = false;
      const done = (err: unknown, res?: UploadArtifactResponse) => {
        if (settled) return;
        settled = true;
        if (err) reject(toLogbookError(err, def.path));
        else resolve(res!);
      };
      const call = this.raw.makeClientStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, this.metadata.clone(), { deadline: this.deadline(this.deadlineMs * 6) }, (err: ServiceError | null, res?: UploadArtifactResponse) =>
        done(err, res),
      );
      const write = (msg: UploadArtifactRequest) => call.write(msg);
      write({ header: { runId, path } });
      if ("data" in source) {
        for (let at = 0; at < source.data.length; at += UPLOAD_CHUNK) write({ chunk: source.data.subarray(at, at + UPLOAD_CHUNK) });
        call.end();
        return;
      }
      const file = createReadStream(source.localPath, { highWaterMark: UPLOAD_CHUNK });
      file.on("data", (chunk) => {
        if (!write({ chunk: chunk as Buffer })) {
          file.pause();
          call.once("drain", () => file.resume());
        }
      });
      file.on("end", () => call.end());
      file.on("error", (err) => {
        call.cancel();
        done(err);
      });
    });
  }

  /** Downloads a run artifact into memory. */
  async downloadArtifact(runId: string, path: string): Promise<Buffer> {
    const def = ArtifactServiceService.downloadArtifact;
    const stream = this.raw.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, { runId, path }, this.metadata.clone(), {
      deadline: this.deadline(this.deadlineMs * 6),
    });
    const chunks: Buffer[] = [];
    try {
      for await (const msg of stream) chunks.push((msg as { chunk: Buffer }).chunk);
    } catch (err) {
      throw toLogbookError(err, def.path);
    }
    return Buffer.concat(chunks);
  }

  close(): void {
    this.raw.close();
  }
}
