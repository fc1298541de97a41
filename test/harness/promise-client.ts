import { Client, credentials, type ServiceError } from "@grpc/grpc-js";
import type { MethodDefinition } from "../../src/services/rpc.js";

/** Unary methods of a ts-proto service definition as promise-returning functions. */
export type PromiseClient<D> = {
  [K in keyof D as D[K] extends { requestStream: false; responseStream: false } ? K : never]: D[K] extends MethodDefinition<infer Req, infer Res>
    ? (request: Req) => Promise<Res>
    : never;
} & { close(): void; raw: Client };

/** A promise client for any generated service definition, e.g. `promiseClient(TrackingServiceService, addr)`. */
export function promiseClient<D extends Record<string, MethodDefinition>>(definition: D, address: string): PromiseClient<D> {
  const raw = new Client(address, credentials.createInsecure());
  const client: Record<string, unknown> = { close: () => raw.close(), raw };
  for (const [key, def] of Object.entries(definition)) {
    if (def.requestStream || def.responseStream) continue;
    client[key] = (request: unknown) =>
      new Promise((resolve, reject) =>
        raw.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, request, (err: ServiceError | null, res?: unknown) =>
          err ? reject(err) : resolve(res),
        ),
      );
  }
  return client as PromiseClient<D>;
}
