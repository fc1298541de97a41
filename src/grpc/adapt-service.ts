/**
 * Adapts transport-free service implementations (src/services/rpc.ts) to grpc-js handlers:
 * a CallContext per call (its signal aborts on cancellation or deadline), errors mapped once through
 * status.ts, server streams written with backpressure and closed on cancel.
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
import { AppError } from "../domain/errors.js";
import type { CallContext, RegisteredService } from "../services/rpc.js";
import { toServiceError } from "./status.js";

type AnyCall = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown> | ServerReadableStream<unknown, unknown>;

export interface CallTracker {
  /** Called when a call starts and ends, so shutdown can wait for in-flight work. */
  begin(): () => void;
}

function contextFor(call: AnyCall, logger: Logger, method: string): CallContext {
  const controller = new AbortController();
  const abort = () => controller.abort(new AppError("CANCELLED", "Call cancelled by the client"));
  if (call.cancelled) abort();
  else (call as EventEmitter).once("cancelled", abort);
  return { signal: controller.signal, logger: logger.child({ method }) };
}

function report(err: unknown, logger: Logger, method: string): AppError {
  const appError = AppError.from(err);
  if (appError.code === "INTERNAL_ERROR") logger.error({ err: appError.cause ?? err, method }, "internal error");
  else logger.debug({ code: appError.code, method, msg: appError.message }, "call failed");
  return appError;
}

export function adaptService(service: RegisteredService, logger: Logger, tracker: CallTracker): UntypedServiceImplementation {
  const handlers: UntypedServiceImplementation = {};
  const impl = service.implementation as Record<string, (...args: any[]) => any>;
  for (const [key, def] of Object.entries(service.definition)) {
    const fn = impl[key];
    if (!fn) throw new Error(`${service.name}: no implementation for ${def.path}`);
    const method = def.path;
    if (!def.requestStream && !def.responseStream) {
      handlers[key] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        const done = tracker.begin();
        Promise.resolve()
          .then(() => fn(call.request, contextFor(call, logger, method)))
          .then(
            (res) => callback(null, res),
            (err) => callback(toServiceError(report(err, logger, method))),
          )
          .finally(done);
      };
    } else if (!def.requestStream && def.responseStream) {
      handlers[key] = (call: ServerWritableStream<unknown, unknown>) => {
        const done = tracker.begin();
        writeStream(call, fn(call.request, contextFor(call, logger, method)) as AsyncIterable<unknown>)
          .catch((err: unknown) => {
            // grpc-js turns an 'error' event into the call's final status.
            if (!call.cancelled) call.emit("error", toServiceError(report(err, logger, method)));
          })
          .finally(done);
      };
    } else if (def.requestStream && !def.responseStream) {
      handlers[key] = (call: ServerReadableStream<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        const done = tracker.begin();
        Promise.resolve()
          .then(() => fn(call as AsyncIterable<unknown>, contextFor(call, logger, method)))
          .then(
            (res) => callback(null, res),
            (err) => callback(toServiceError(report(err, logger, method))),
          )
          .finally(done);
      };
    } else {
      throw new Error(`${method}: bidirectional streaming is not supported`);
    }
  }
  return handlers;
}

/**
 * Writes a source to a server stream, pulling the next message only when the stream has room.
 * Leaving the loop early (cancel, error) makes for-await call the source's return(), so its finally
 * blocks run (cursors closed).
 */
async function writeStream(call: ServerWritableStream<unknown, unknown>, source: AsyncIterable<unknown>): Promise<void> {
  for await (const message of source) {
    if (call.cancelled) return;
    if (!call.write(message)) await drainOrCancel(call);
  }
  if (!call.cancelled) call.end();
}

/** Waits for 'drain', or rejects when the call is cancelled or closed (grpc-js never drains a cancelled call). */
function drainOrCancel(call: ServerWritableStream<unknown, unknown>): Promise<void> {
  const emitter = call as EventEmitter;
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      emitter.off("drain", onDrain);
      emitter.off("cancelled", onGone);
      emitter.off("close", onGone);
      emitter.off("error", onGone);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onGone = () => {
      cleanup();
      reject(new AppError("CANCELLED", "Call cancelled by the client"));
    };
    emitter.on("drain", onDrain);
    emitter.on("cancelled", onGone);
    emitter.on("close", onGone);
    emitter.on("error", onGone);
  });
}
