"""How the SDK classifies and reports gRPC errors (DESIGN.md §1: status code + google.rpc.ErrorInfo{reason})."""

from __future__ import annotations

import dataclasses
from typing import Optional

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

# The server is away (unreachable, restarting, overloaded or too slow): the call is spooled and replayed later.
RETRYABLE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


@dataclasses.dataclass(frozen=True)
class ReportedError:
    """A call the server refused for good (never retried): what was lost and why.

    ``grpc_code`` is the gRPC status code's name (``"INVALID_ARGUMENT"``), ``mlflow_code`` the MLflow error code
    from the ``google.rpc.ErrorInfo`` detail (``"INVALID_PARAMETER_VALUE"``), or None when the server sent none;
    ``points`` counts the metrics, params and tags the call carried.
    """

    operation: str
    run_id: Optional[str]
    grpc_code: str
    mlflow_code: Optional[str]
    message: str
    points: int = 0


def mlflow_code(error: grpc.RpcError) -> Optional[str]:
    """The ErrorInfo reason (the MLflow error code) of a failed call, read the standard way (grpc_status)."""
    try:
        status = rpc_status.from_call(error)  # type: ignore[arg-type]
    except (ValueError, AttributeError, TypeError):
        return None
    if status is None:
        return None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info.reason or None
    return None


def status_code(error: grpc.RpcError) -> grpc.StatusCode:
    code = getattr(error, "code", None)
    try:
        return code() if callable(code) else grpc.StatusCode.UNKNOWN
    except Exception:  # noqa: BLE001 - a broken error object is still an error
        return grpc.StatusCode.UNKNOWN


def is_retryable(error: grpc.RpcError) -> bool:
    return status_code(error) in RETRYABLE_CODES


def describe(error: grpc.RpcError, operation: str, run_id: Optional[str], points: int) -> ReportedError:
    details = getattr(error, "details", None)
    try:
        message = details() if callable(details) else str(error)
    except Exception:  # noqa: BLE001
        message = str(error)
    return ReportedError(operation, run_id, status_code(error).name, mlflow_code(error), message or "", points)
