import type { Metadata, ServiceError } from "@grpc/grpc-js";
import { expect } from "vitest";
import { errorCodeOf } from "../../src/grpc/status.js";

export { promiseClient, type PromiseClient } from "./promise-client.js";

/** Asserts a call fails with the gRPC code, MLflow error code (from google.rpc.ErrorInfo) and message text. */
export async function expectGrpcError(
  promise: Promise<unknown>,
  expected: { grpcCode: number; mlflowCode: string; message?: string | RegExp },
): Promise<void> {
  const err = (await promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  )) as ServiceError & { metadata: Metadata };
  expect(err.code, err.details).toBe(expected.grpcCode);
  expect(errorCodeOf(err)).toBe(expected.mlflowCode);
  if (expected.message) {
    if (typeof expected.message === "string") expect(err.details).toContain(expected.message);
    else expect(err.details).toMatch(expected.message);
  }
}
