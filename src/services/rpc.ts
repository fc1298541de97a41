/**
 * The shape every service implementation has: plain async functions (unary, client-streaming) and
 * async generators (server-streaming) over the generated message types, with no transport in sight.
 * src/grpc/ adapts them to grpc-js; src/gateway/ calls the very same functions for HTTP.
 */
import type { Logger } from "pino";
import type { CallValues } from "./call-values.js";

/** Per-call context handed to service functions by either transport. */
export interface CallContext {
  /** Aborted when the caller cancels, disconnects or its deadline passes. */
  signal: AbortSignal;
  logger: Logger;
  /** Values the edge learned about the call (call-values.ts): the caller (auth/principal.ts PRINCIPAL) with --auth basic. */
  values: CallValues;
}

export type UnaryMethod<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res>;
export type ServerStreamMethod<Req, Res> = (request: Req, ctx: CallContext) => AsyncIterable<Res>;
export type ClientStreamMethod<Req, Res> = (requests: AsyncIterable<Req>, ctx: CallContext) => Promise<Res>;

/** One method of a ts-proto grpc-js service definition (e.g. `TrackingServiceService.getRun`). */
export interface MethodDefinition<Req = any, Res = any> {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize(value: Req): Buffer;
  requestDeserialize(value: Buffer): Req;
  responseSerialize(value: Res): Buffer;
  responseDeserialize(value: Buffer): Res;
}

/** The implementation type a ts-proto service definition asks for, method by method. */
export type ServiceImplementation<D> = {
  [K in keyof D]: D[K] extends MethodDefinition<infer Req, infer Res>
    ? D[K] extends { requestStream: false; responseStream: false }
      ? UnaryMethod<Req, Res>
      : D[K] extends { requestStream: false; responseStream: true }
        ? ServerStreamMethod<Req, Res>
        : D[K] extends { requestStream: true; responseStream: false }
          ? ClientStreamMethod<Req, Res>
          : never
    : never;
};

/** A service as registered with both transports: its full name, generated definition and implementation. */
export interface RegisteredService<D = Record<string, MethodDefinition>> {
  /** Fully qualified, e.g. "logbook.v1.TrackingService". */
  name: string;
  definition: D;
  implementation: ServiceImplementation<D>;
}

/** The implementation of the registered service with that generated definition, typed by it. */
export function implementationOf<D>(services: readonly RegisteredService[], definition: D): ServiceImplementation<D> | undefined {
  return services.find((s) => s.definition === (definition as unknown))?.implementation as ServiceImplementation<D> | undefined;
}

/** Looks a method up by its gRPC path ("/logbook.v1.TrackingService/GetRun") across registered services. */
export function findMethod(
  services: readonly RegisteredService[],
  path: string,
): { definition: MethodDefinition; implementation: (...args: any[]) => any } | undefined {
  for (const s of services) {
    for (const [key, def] of Object.entries(s.definition)) {
      if (def.path === path) {
        return { definition: def, implementation: (s.implementation as Record<string, (...args: any[]) => any>)[key]! };
      }
    }
  }
  return undefined;
}
