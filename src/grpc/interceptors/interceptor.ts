/**
 * gRPC edge steps as connect-es-style interceptors: `(next) => (call) => result`. Each step sees the call before
 * the service does and the result after it; a step that refuses a call throws an AppError (mapped once, by
 * status.ts). For server streams the result is the stream itself, so a step that must last as long as the call
 * (the in-flight cap, metrics) wraps it (see {@link onStreamEnd}). The list and its order live in index.ts; the
 * adapter (adapt-service.ts) applies them to unary, server-streaming and client-streaming calls alike.
 */
import type { Metadata } from "@grpc/grpc-js";
import type { CallValues } from "../../services/call-values.js";
import type { RouteFamily } from "../../edge/route-families.js";

export type MethodKind = "unary" | "server-streaming" | "client-streaming";

interface CallBase {
  readonly transport: "grpc";
  /** Fully qualified service, e.g. "logbook.v1.TrackingService". */
  readonly service: string;
  /** The method's name, e.g. "GetRun". */
  readonly method: string;
  /** The gRPC path, e.g. "/logbook.v1.TrackingService/GetRun". */
  readonly path: string;
  /** The route family (src/edge/route-families.ts): which edge policies apply. */
  readonly family: RouteFamily;
  readonly metadata: Metadata;
  /** The client's address as grpc-js reports it ("ipv4:127.0.0.1:53412"). */
  readonly peer: string;
  /** Aborted when the client cancels or goes away, or the deadline passes. */
  readonly signal: AbortSignal;
  readonly values: CallValues;
  /**
   * Serializes a response message. A step may return the bytes in place of a unary response (the adapter sends bytes
   * as they are): the observing step does, to know the response's size without serializing twice.
   */
  readonly serialize: (response: unknown) => Buffer;
  /** Bytes of the server stream's messages the adapter has handed to grpc-js so far (the observing step logs them). */
  readonly sent: { bytes: number };
}

export type GrpcCall = CallBase &
  ({ readonly kind: "unary" | "server-streaming"; readonly request: unknown } | { readonly kind: "client-streaming"; readonly requests: AsyncIterable<unknown> });

export type GrpcResult =
  | { readonly kind: "unary" | "client-streaming"; readonly response: unknown }
  | { readonly kind: "server-streaming"; readonly responses: AsyncIterable<unknown> };

export type GrpcHandler = (call: GrpcCall) => Promise<GrpcResult>;
export type GrpcInterceptor = (next: GrpcHandler) => GrpcHandler;

/** `handler` wrapped by `interceptors`; the first interceptor is the outermost (it sees the call first). */
export function applyInterceptors(handler: GrpcHandler, interceptors: readonly GrpcInterceptor[]): GrpcHandler {
  return interceptors.reduceRight((next, interceptor) => interceptor(next), handler);
}

/**
 * A stream that calls `onEnd` exactly once when it is over: ended, failed, or `return()`ed — also when it is
 * abandoned before its first item (an async generator's `finally` would not run then). The adapter always either
 * drains a server stream or calls `return()` on it.
 */
export function onStreamEnd<T>(stream: AsyncIterable<T>, onEnd: () => void): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const it = stream[Symbol.asyncIterator]();
      let ended = false;
      const end = () => {
        if (!ended) {
          ended = true;
          onEnd();
        }
      };
      return {
        async next() {
          try {
            const result = await it.next();
            if (result.done) end();
            return result;
          } catch (err) {
            end();
            throw err;
          }
        },
        async return(value?: unknown) {
          try {
            return (await it.return?.(value)) ?? { done: true, value: undefined };
          } finally {
            end();
          }
        },
      };
    },
  };
}
