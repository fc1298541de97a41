"""Logbook's Python client.

- ``logbook.v1``: messages and gRPC stubs generated from ``proto/logbook/v1`` (e.g.
  ``from logbook.v1 import tracking_service_pb2, tracking_service_pb2_grpc``); errors carry the MLflow error code
  in a ``google.rpc.ErrorInfo`` detail (read it with ``grpc_status.rpc_status.from_call``).
- ``logbook.sdk``: the hand-written tracking SDK over the generated client — ``Tracker`` (non-blocking, batched,
  with an offline spool), ``log_complete_experiment`` and ``financial_metrics``.
"""

__version__ = "0.1.0"
