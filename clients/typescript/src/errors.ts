/**
 * gRPC errors as the SDK reports them: the gRPC status code plus the MLflow error code that Logbook puts in
 * the standard rich error model (`grpc-status-details-bin` = google.rpc.Status{details: [ErrorInfo{reason,
 * domain: "logbook"}]}).
 */
import { status as GrpcStatus, type Metadata, type ServiceError } from "@grpc/grpc-js";
import { ErrorInfo } from "../../../gen/ts/google/rpc/error_details.js";
import { Status } from "../../../gen/ts/google/rpc/status.js";

export const ERROR_DOMAIN = "logbook";
const ERROR_INFO_TYPE_URL = "type.googleapis.com/google.rpc.ErrorInfo";

/** gRPC codes after which a call is kept (spooled) and retried later; anything else is reported and dropped. */
export const RETRYABLE_CODES: ReadonlySet<number> = new Set([GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED]);

/** A failed Logbook call: `grpcCode` (e.g. 3 = INVALID_ARGUMENT) and `mlflowCode` (e.g. "INVALID_PARAMETER_VALUE"). */
export class LogbookError extends Error {
  override readonly name = "LogbookError";
  constructor(
    message: string,
    readonly grpcCode: number,
    readonly mlflowCode: string | undefined,
    /** The gRPC method that failed, e.g. "/logbook.v1.TrackingService/LogBatch". */
    readonly method?: string,
  ) {
    super(message);
  }

  /** The gRPC code's name, e.g. "INVALID_ARGUMENT". */
  get grpcCodeName(): string {
    return GrpcStatus[this.grpcCode] ?? String(this.grpcCode);
  }

  get retryable(): boolean {
    return RETRYABLE_CODES.has(this.grpcCode);
  }
}

/** The MLflow error code from a gRPC error's ErrorInfo detail (domain "logbook"), if there is one. */
export function mlflowCodeOf(err: { metadata?: Metadata }): string | undefined {
  const raw = err.metadata?.get("grpc-status-details-bin")[0];
  if (!raw || typeof raw === "string") return undefined;
  try {
    for (const any of Status.decode(raw).details) {
      if (any.typeUrl !== ERROR_INFO_TYPE_URL) continue;
      const info = ErrorInfo.decode(any.value);
      if (info.domain === ERROR_DOMAIN) return info.reason;
    }
  } catch {
    // a malformed detail is no MLflow code
  }
  return undefined;
}

/** Any error from a call → LogbookError (errors that are not gRPC errors count as UNKNOWN). */
export function toLogbookError(err: unknown, method?: string): LogbookError {
  if (err instanceof LogbookError) return err;
  const e = err as Partial<ServiceError> | undefined;
  if (e && typeof e.code === "number") return new LogbookError(e.details ?? e.message ?? "", e.code, mlflowCodeOf(e), method);
  return new LogbookError(err instanceof Error ? err.message : String(err), GrpcStatus.UNKNOWN, undefined, method);
}
