/**
 * Adapts transport-free service implementations (src/services/rpc.ts) to grpc-js handlers: each call becomes a
 * {@link GrpcCall} that goes through the edge interceptors (interceptors/index.ts) to the service function, with a
 * CallContext whose signal aborts on cancellation or deadline; errors are mapped once through status.ts; server
 * streams are written through the byte-bounded writer (src/edge/stream-writer.ts) and released at once on cancel.
 */
import type { EventEmitter } from "node:events";
import type {
  sendUnaryData,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedServiceImplementation,
} from "@grpc/grpc-js";
import type { Logger } from "pino";
import { AppError, ErrorCode } from "../domain/errors.js";
import { grpcFamilyOf } from "../edge/route-families.js";
import { createBoundedWriter, pump, type StreamObservers } from "../edge/stream-writer.js";
import { callerLogFields } from "../services/auth/principal.js";
import { CallValues } from "../services/call-values.js";
import type { CallContext, MethodDefinition, RegisteredService } from "../services/rpc.js";
import { applyInterceptors, type GrpcCall, type GrpcHandler, type GrpcInterceptor, type GrpcResult } from "./interceptors/index.js";
import { InvalidMessage, serverCodec, type MessageEncoder } from "./message-codec.js";
import { toServiceError } from "./status.js";

export interface AdaptOptions {
  logger: Logger;
  /** The edge steps, outermost first (interceptors/index.ts). */
  interceptors: readonly GrpcInterceptor[];
  /** Per-stream bound on queued response bytes (default: the stream writer's). */
  streamHighWaterMark?: number;
  /** Response encoders by gRPC path (message-codec.ts); methods without one use the generated serializer. */
  encoders?: ReadonlyMap<string, MessageEncoder>;
  /** Observes every server stream (metrics); none when absent. */
  streamObservers?: StreamObservers;
}

/** What to register with grpc-js: the definition (with the server codec) and its handlers. */
export interface AdaptedService {
  definition: Record<string, MethodDefinition>;
  implementation: UntypedServiceImplementation;
}

type AnyCall = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown> | ServerReadableStream<unknown, unknown>;

const cancelledByClient = () => new AppError(ErrorCode.CANCELLED, "Call cancelled by the client");

/** Aborts when grpc-js reports the call cancelled (client cancel, disconnect, deadline) or, for streams, closed. */
function signalOf(call: AnyCall): AbortSignal {
  const controller = new AbortController();
  const abort = () => controller.abort(cancelledByClient());
  if (call.cancelled) abort();
  else {
    (call as EventEmitter).once("cancelled", abort);
    if ("write" in call) (call as EventEmitter).once("close", abort);
  }
  return controller.signal;
}

function report(err: unknown, logger: Logger, method: string): AppError {
  const appError = AppError.from(err);
  if (appError.code === "INTERNAL_ERROR") logger.error({ err: appError.cause ?? err, method }, "internal error");
  else logger.debug({ code: appError.code, method, msg: appError.message }, "call failed");
  return appError;
}

/** A request as the service must see it: an undecodable one is refused here, innermost, after the edge steps. */
function checked(message: unknown): unknown {
  if (message instanceof InvalidMessage) throw message.error;
  return message;
}

async function* checkedStream(messages: AsyncIterable<unknown>): AsyncGenerator<unknown> {
  for await (const message of messages) yield checked(message);
}

export function adaptService(service: RegisteredService, options: AdaptOptions): AdaptedService {
  const { logger } = options;
  const definition: Record<string, MethodDefinition> = {};
  const implementation: UntypedServiceImplementation = {};
  const impl = service.implementation as Record<string, (request: unknown, ctx: CallContext) => unknown>;
  for (const [key, rawDef] of Object.entries(service.definition)) {
    const fn = impl[key];
    if (!fn) throw new Error(`${service.name}: no implementation for ${rawDef.path}`);
    const def = serverCodec(rawDef, options.encoders?.get(rawDef.path));
    definition[key] = def;
    const path = def.path;
    const family = grpcFamilyOf(path);
    if (!family) throw new Error(`${path}: its service has no route family (src/edge/route-families.ts)`);
    const methodLogger = logger.child({ method: path });
    const context = (call: GrpcCall): CallContext => {
      const caller = callerLogFields(call.values);
      return { signal: call.signal, logger: caller.user === undefined ? methodLogger : methodLogger.child(caller), values: call.values };
    };

    const inner: GrpcHandler = async (call): Promise<GrpcResult> => {
      if (call.kind === "client-streaming") {
        return { kind: call.kind, response: await fn.call(impl, checkedStream(call.requests), context(call)) };
      }
      const request = checked(call.request);
      if (call.kind === "unary") return { kind: call.kind, response: await fn.call(impl, request, context(call)) };
      return { kind: call.kind, responses: fn.call(impl, request, context(call)) as AsyncIterable<unknown> };
    };
    const handle = applyInterceptors(inner, options.interceptors);
    const base = (call: AnyCall) => ({
      transport: "grpc" as const,
      service: service.name,
      method: path.slice(path.lastIndexOf("/") + 1),
      path,
      family,
      metadata: call.metadata,
      peer: call.getPeer(),
      signal: signalOf(call),
      values: new CallValues(),
      serialize: def.responseSerialize,
      sent: { bytes: 0 },
    });
    const fail = (err: unknown) => toServiceError(report(err, logger, path));

    if (!def.requestStream && !def.responseStream) {
      implementation[key] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        handle({ ...base(call), kind: "unary", request: call.request }).then(
          (result) => callback(null, (result as { response: unknown }).response),
          (err: unknown) => callback(fail(err)),
        );
      };
    } else if (!def.requestStream && def.responseStream) {
      implementation[key] = (call: ServerWritableStream<unknown, unknown>) => {
        const grpcCall: GrpcCall = { ...base(call), kind: "server-streaming", request: call.request };
        handle(grpcCall)
          .then((result) => writeStream(call, def, (result as { responses: AsyncIterable<unknown> }).responses, grpcCall, options, methodLogger))
          // grpc-js turns an 'error' event into the call's final status.
          .catch((err: unknown) => {
            if (!call.cancelled) call.emit("error", fail(err));
          });
      };
    } else if (def.requestStream && !def.responseStream) {
      implementation[key] = (call: ServerReadableStream<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        handle({ ...base(call), kind: "client-streaming", requests: call as AsyncIterable<unknown> }).then(
          (result) => callback(null, (result as { response: unknown }).response),
          (err: unknown) => callback(fail(err)),
        );
      };
    } else {
      throw new Error(`${path}: bidirectional streaming is not supported`);
    }
  }
  return { definition, implementation };
}

/**
 * Writes a server stream: each message is serialized here (its exact size bounds what the call may have queued)
 * and pulled from the source only when there is room. On cancel the source is returned at once, so its `finally`
 * blocks run (files, cursors) and nothing of the call is held.
 */
async function writeStream(
  call: ServerWritableStream<unknown, unknown>,
  def: MethodDefinition,
  responses: AsyncIterable<unknown>,
  { signal, sent }: GrpcCall,
  options: AdaptOptions,
  logger: Logger,
): Promise<void> {
  const observer = options.streamObservers?.();
  const writer = createBoundedWriter<Buffer>((bytes, flushed) => call.write(bytes, flushed), {
    signal,
    ...(options.streamHighWaterMark === undefined ? {} : { highWaterMark: options.streamHighWaterMark }),
    ...(observer ? { observer } : {}),
  });
  try {
    const completed = await pump(
      responses[Symbol.asyncIterator](),
      undefined,
      (message) => {
        const bytes = def.responseSerialize(message);
        sent.bytes += bytes.length;
        return writer.write(bytes, bytes.length);
      },
      (err) => logger.warn({ err }, "closing the stream's source failed"),
    );
    if (completed && !call.cancelled) call.end();
  } finally {
    observer?.closed?.();
  }
}
