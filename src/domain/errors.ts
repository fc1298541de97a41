/**
 * The one error type that crosses layers. It carries an MLflow error code; the gRPC and HTTP
 * edges map that code to their status once (src/grpc/status.ts, the gateway's table).
 */

/** MLflow's error codes (the names it puts on the wire), the closed set Logbook uses. */
export const ErrorCode = {
  INVALID_PARAMETER_VALUE: "INVALID_PARAMETER_VALUE",
  BAD_REQUEST: "BAD_REQUEST",
  RESOURCE_DOES_NOT_EXIST: "RESOURCE_DOES_NOT_EXIST",
  RESOURCE_ALREADY_EXISTS: "RESOURCE_ALREADY_EXISTS",
  ENDPOINT_NOT_FOUND: "ENDPOINT_NOT_FOUND",
  PERMISSION_DENIED: "PERMISSION_DENIED",
  UNAUTHENTICATED: "UNAUTHENTICATED",
  INVALID_STATE: "INVALID_STATE",
  RESOURCE_CONFLICT: "RESOURCE_CONFLICT",
  REQUEST_LIMIT_EXCEEDED: "REQUEST_LIMIT_EXCEEDED",
  CANCELLED: "CANCELLED",
  DEADLINE_EXCEEDED: "DEADLINE_EXCEEDED",
  NOT_IMPLEMENTED: "NOT_IMPLEMENTED",
  TEMPORARILY_UNAVAILABLE: "TEMPORARILY_UNAVAILABLE",
  INTERNAL_ERROR: "INTERNAL_ERROR",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class AppError extends Error {
  override readonly name = "AppError";
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /**
   * Any thrown value as an AppError. Foreign errors become INTERNAL_ERROR with a generic message;
   * the original is kept as `cause` for the logs and never sent to a client.
   */
  static from(err: unknown): AppError {
    if (err instanceof AppError) return err;
    return new AppError(ErrorCode.INTERNAL_ERROR, "Internal error", { cause: err });
  }
}

export const invalidParameter = (message: string) => new AppError(ErrorCode.INVALID_PARAMETER_VALUE, message);
export const notFound = (message: string) => new AppError(ErrorCode.RESOURCE_DOES_NOT_EXIST, message);
export const unavailable = (message: string, cause?: unknown) =>
  new AppError(ErrorCode.TEMPORARILY_UNAVAILABLE, message, { cause });
