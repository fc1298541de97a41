import { describe, expect, it, vi } from "vitest";
import type { Logger } from "pino";
import { AppError, ErrorCode } from "../domain/errors.js";
import { bodyTooLarge, endpointNotFound, errorResponse, methodNotAllowed } from "./errors.js";
import { httpStatusForCode } from "./http-status.js";

describe("httpStatusForCode (MLflow's table)", () => {
  it.each([
    ["BAD_REQUEST", 400],
    ["INVALID_PARAMETER_VALUE", 400],
    ["RESOURCE_ALREADY_EXISTS", 400],
    ["CUSTOMER_UNAUTHORIZED", 401],
    ["UNAUTHENTICATED", 401],
    ["PERMISSION_DENIED", 403],
    ["RESOURCE_DOES_NOT_EXIST", 404],
    ["ENDPOINT_NOT_FOUND", 404],
    ["NOT_FOUND", 404],
    ["ABORTED", 409],
    ["RESOURCE_CONFLICT", 409],
    ["ALREADY_EXISTS", 409],
    ["REQUEST_LIMIT_EXCEEDED", 429],
    ["RESOURCE_EXHAUSTED", 429],
    ["CANCELLED", 499],
    ["INTERNAL_ERROR", 500],
    ["INVALID_STATE", 500],
    ["DATA_LOSS", 500],
    ["FEATURE_DISABLED", 500],
    ["NOT_IMPLEMENTED", 501],
    ["TEMPORARILY_UNAVAILABLE", 503],
    ["DEADLINE_EXCEEDED", 504],
    ["SOMETHING_NEW", 500],
    ["toString", 500],
  ])("%s → %i", (code, status) => expect(httpStatusForCode(code)).toBe(status));

  it("maps every code Logbook uses", () => {
    for (const code of Object.values(ErrorCode)) expect(httpStatusForCode(code)).toBeGreaterThanOrEqual(400);
  });
});

describe("errorResponse", () => {
  const logger = () => ({ error: vi.fn() }) as unknown as Logger & { error: ReturnType<typeof vi.fn> };

  it("keeps an AppError's code and message", () => {
    const log = logger();
    expect(errorResponse(new AppError(ErrorCode.RESOURCE_ALREADY_EXISTS, "Experiment 'x' already exists."), log)).toEqual({
      status: 400,
      headers: {},
      body: { error_code: "RESOURCE_ALREADY_EXISTS", message: "Experiment 'x' already exists." },
    });
    expect(log.error).not.toHaveBeenCalled();
  });

  it("hides a foreign error behind a generic 500 and logs its cause", () => {
    const log = logger();
    const cause = new TypeError("secret driver detail");
    expect(errorResponse(cause, log, { rpc: "X" })).toEqual({
      status: 500,
      headers: {},
      body: { error_code: "INTERNAL_ERROR", message: "Internal error" },
    });
    expect(log.error).toHaveBeenCalledWith(expect.objectContaining({ rpc: "X", err: cause }), expect.any(String));
  });

  it("gives the gateway's own errors their status and headers", () => {
    expect(errorResponse(endpointNotFound("GET", "/api/2.0/mlflow/nope"))).toEqual({
      status: 404,
      headers: {},
      body: { error_code: "ENDPOINT_NOT_FOUND", message: "No endpoint GET /api/2.0/mlflow/nope" },
    });
    expect(errorResponse(methodNotAllowed("POST", "/x", ["GET", "HEAD"]))).toMatchObject({
      status: 405,
      headers: { allow: "GET, HEAD" },
      body: { error_code: "BAD_REQUEST" },
    });
    expect(errorResponse(bodyTooLarge(10))).toMatchObject({ status: 413, headers: { connection: "close" } });
  });

  it("keeps fastify's 4xx errors' status", () => {
    const fst = Object.assign(new Error("Unsupported Media Type"), { code: "FST_ERR_CTP_INVALID_MEDIA_TYPE", statusCode: 415 });
    expect(errorResponse(fst)).toEqual({ status: 415, headers: {}, body: { error_code: "BAD_REQUEST", message: "Unsupported Media Type" } });
  });
});
