/**
 * AppError → gRPC status, in one table, with the MLflow error code carried in the standard rich error
 * model: `grpc-status-details-bin` = google.rpc.Status{details: [google.rpc.ErrorInfo{reason, domain}]}.
 */
import { Metadata, status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { AppError, ErrorCode } from "../domain/errors.js";
import { ErrorInfo } from "../../gen/ts/google/rpc/error_details.js";
import { Status } from "../../gen/ts/google/rpc/status.js";

export const ERROR_DOMAIN = "logbook";
const ERROR_INFO_TYPE_URL = "type.googleapis.com/google.rpc.ErrorInfo";

const GRPC_CODE: Record<ErrorCode, GrpcStatus> = {
  INVALID_PARAMETER_VALUE: GrpcStatus.INVALID_ARGUMENT,
  BAD_REQUEST: GrpcStatus.INVALID_ARGUMENT,
  RESOURCE_DOES_NOT_EXIST: GrpcStatus.NOT_FOUND,
  ENDPOINT_NOT_FOUND: GrpcStatus.UNIMPLEMENTED,
  RESOURCE_ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
  UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  INVALID_STATE: GrpcStatus.FAILED_PRECONDITION,
  RESOURCE_CONFLICT: GrpcStatus.ABORTED,
  REQUEST_LIMIT_EXCEEDED: GrpcStatus.RESOURCE_EXHAUSTED,
  CANCELLED: GrpcStatus.CANCELLED,
  DEADLINE_EXCEEDED: GrpcStatus.DEADLINE_EXCEEDED,
  NOT_IMPLEMENTED: GrpcStatus.UNIMPLEMENTED,
  TEMPORARILY_UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  INTERNAL_ERROR: GrpcStatus.INTERNAL,
};


/** The name of the gRPC status an error is answered with ("NOT_FOUND"), for metric labels and logs. */
export function grpcStatusName(err: AppError): string {
  return GrpcStatus[GRPC_CODE[err.code]];
}

/** The error a grpc-js handler passes to its callback or emits on its stream. */
export function toServiceError(err: AppError): Partial<ServiceError> {
  const code = GRPC_CODE[err.code];
  const details = Status.encode({
    code,
    message: err.message,
    details: [
      {
        typeUrl: ERROR_INFO_TYPE_URL,
        value: Buffer.from(ErrorInfo.encode({ reason: err.code, domain: ERROR_DOMAIN, metadata: {} }).finish()),
      },
    ],
  }).finish();
  const metadata = new Metadata();
  metadata.set("grpc-status-details-bin", Buffer.from(details));
  return { code, details: err.message, metadata };
}

/** Reads the MLflow error code back from a gRPC error (used by clients and tests). */
export function errorCodeOf(err: { metadata?: Metadata }): ErrorCode | undefined {
  const raw = err.metadata?.get("grpc-status-details-bin")[0];
  if (!raw || typeof raw === "string") return undefined;
  for (const any of Status.decode(raw).details) {
    if (any.typeUrl === ERROR_INFO_TYPE_URL) {
      const info = ErrorInfo.decode(any.value);
      if (info.domain === ERROR_DOMAIN && info.reason in ErrorCode) return info.reason as ErrorCode;
    }
  }
  return undefined;
}

export { AppError };
