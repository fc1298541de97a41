"""The calls the tracker makes, as plain JSON-able dicts (so that the spool can hold them), and how each is sent.

Every call is safe to send twice, which is what makes replay safe:
- ``create_run``: the experiment by name (get, else create; a lost race is a get), then CreateRun with the
  client-chosen run id — RESOURCE_ALREADY_EXISTS means an earlier attempt made it, and counts as success;
- ``log_batch``: identical metric points are stored once, params and tags are idempotent;
- ``update_run``: sets the same status and end time again;
- ``artifact``: uploads the same bytes to the same path again;
- ``register_model``: CreateRegisteredModel (RESOURCE_ALREADY_EXISTS is fine), then a version with this run and
  source is looked up (SearchModelVersions) before CreateModelVersion makes one.
"""

from __future__ import annotations

import base64
from typing import Callable, Dict, Iterator, Optional

import grpc

from logbook.v1 import (
    artifact_service_pb2,
    artifact_service_pb2_grpc,
    model_registry_pb2,
    registry_pb2,
    registry_pb2_grpc,
    run_pb2,
    search_service_pb2,
    search_service_pb2_grpc,
    tracking_service_pb2,
    tracking_service_pb2_grpc,
)

from ._errors import mlflow_code

# LogBatch's per-call limits (MLflow's): metrics, params, tags and all of them together.
MAX_METRICS = 1000
MAX_PARAMS = 100
MAX_TAGS = 100
MAX_ENTITIES = 1000
ARTIFACT_CHUNK = 1 << 20

RUN_STATUS = {
    "RUNNING": run_pb2.RUN_STATUS_RUNNING,
    "SCHEDULED": run_pb2.RUN_STATUS_SCHEDULED,
    "FINISHED": run_pb2.RUN_STATUS_FINISHED,
    "FAILED": run_pb2.RUN_STATUS_FAILED,
    "KILLED": run_pb2.RUN_STATUS_KILLED,
}


def points_of(op: dict) -> int:
    if op.get("op") != "log_batch":
        return 0
    return len(op.get("metrics", ())) + len(op.get("params", ())) + len(op.get("tags", ()))


def method_of(op: dict) -> str:
    return {
        "create_run": "CreateRun",
        "log_batch": "LogBatch",
        "update_run": "UpdateRun",
        "artifact": "UploadArtifact",
        "register_model": "CreateModelVersion",
    }.get(str(op.get("op")), str(op.get("op")))


def _has_code(error: grpc.RpcError, code: grpc.StatusCode, reason: str) -> bool:
    return error.code() == code and mlflow_code(error) in (reason, None)  # type: ignore[attr-defined]


class CallSender:
    """Sends one call dict through the generated stubs; raises grpc.RpcError as the server answered."""

    def __init__(self, channel: grpc.Channel, timeout_s: float) -> None:
        self.channel = channel
        self.timeout = timeout_s
        self.tracking = tracking_service_pb2_grpc.TrackingServiceStub(channel)
        self.registry = registry_pb2_grpc.RegistryServiceStub(channel)
        self.search = search_service_pb2_grpc.SearchServiceStub(channel)
        self.artifacts = artifact_service_pb2_grpc.ArtifactServiceStub(channel)
        self.experiment_ids: Dict[str, str] = {}
        self.results: Dict[str, str] = {}  # register_model call id → model version
        self._send: Dict[str, Callable[[dict], None]] = {
            "create_run": self._create_run,
            "log_batch": self._log_batch,
            "update_run": self._update_run,
            "artifact": self._artifact,
            "register_model": self._register_model,
        }

    def send(self, op: dict) -> None:
        handler = self._send.get(str(op.get("op")))
        if handler is None:
            raise ValueError(f"unknown call in spool: {op.get('op')!r}")
        handler(op)

    # -- experiment and run --------------------------------------------------------------------------------------
    def experiment_id(self, name: str) -> str:
        cached = self.experiment_ids.get(name)
        if cached:
            return cached
        try:
            got = self.tracking.GetExperimentByName(
                tracking_service_pb2.GetExperimentByNameRequest(experiment_name=name), timeout=self.timeout
            )
            experiment_id = got.experiment.experiment_id
        except grpc.RpcError as error:
            if not _has_code(error, grpc.StatusCode.NOT_FOUND, "RESOURCE_DOES_NOT_EXIST"):
                raise
            try:
                experiment_id = self.tracking.CreateExperiment(
                    tracking_service_pb2.CreateExperimentRequest(name=name), timeout=self.timeout
                ).experiment_id
            except grpc.RpcError as race:
                if not _has_code(race, grpc.StatusCode.ALREADY_EXISTS, "RESOURCE_ALREADY_EXISTS"):
                    raise
                experiment_id = self.tracking.GetExperimentByName(
                    tracking_service_pb2.GetExperimentByNameRequest(experiment_name=name), timeout=self.timeout
                ).experiment.experiment_id
        self.experiment_ids[name] = experiment_id
        return experiment_id

    def _create_run(self, op: dict) -> None:
        experiment_id = op.get("experiment_id") or ""
        if not experiment_id and op.get("experiment_name"):
            experiment_id = self.experiment_id(op["experiment_name"])
        request = tracking_service_pb2.CreateRunRequest(
            experiment_id=experiment_id or "0",
            run_name=op.get("run_name") or "",
            start_time=op["start_time"],
            tags=[run_pb2.RunTag(key=t["key"], value=t["value"]) for t in op.get("tags", ())],
            run_id=op["run_id"],
        )
        try:
            self.tracking.CreateRun(request, timeout=self.timeout)
        except grpc.RpcError as error:
            # An earlier attempt (lost answer, replayed spool) made this very run: nothing to do.
            if not _has_code(error, grpc.StatusCode.ALREADY_EXISTS, "RESOURCE_ALREADY_EXISTS"):
                raise

    def _log_batch(self, op: dict) -> None:
        self.tracking.LogBatch(
            tracking_service_pb2.LogBatchRequest(
                run_id=op["run_id"],
                metrics=[
                    run_pb2.Metric(key=m["key"], value=m["value"], timestamp=m["timestamp"], step=m["step"])
                    for m in op.get("metrics", ())
                ],
                params=[run_pb2.Param(key=p["key"], value=p["value"]) for p in op.get("params", ())],
                tags=[run_pb2.RunTag(key=t["key"], value=t["value"]) for t in op.get("tags", ())],
            ),
            timeout=self.timeout,
        )

    def _update_run(self, op: dict) -> None:
        self.tracking.UpdateRun(
            tracking_service_pb2.UpdateRunRequest(
                run_id=op["run_id"], status=RUN_STATUS[op["status"]], end_time=op["end_time"]
            ),
            timeout=self.timeout,
        )

    # -- artifacts -----------------------------------------------------------------------------------------------
    def _artifact(self, op: dict) -> None:
        data = base64.b64decode(op["data"])

        def requests() -> Iterator[artifact_service_pb2.UploadArtifactRequest]:
            yield artifact_service_pb2.UploadArtifactRequest(
                header=artifact_service_pb2.UploadArtifactHeader(run_id=op["run_id"], path=op["path"], size=len(data))
            )
            for offset in range(0, len(data), ARTIFACT_CHUNK):
                yield artifact_service_pb2.UploadArtifactRequest(chunk=data[offset : offset + ARTIFACT_CHUNK])

        self.artifacts.UploadArtifact(requests(), timeout=self.timeout)

    # -- model registry ------------------------------------------------------------------------------------------
    def _register_model(self, op: dict) -> None:
        name, run_id, source = op["name"], op["run_id"], op["source"]
        try:
            self.registry.CreateRegisteredModel(
                registry_pb2.CreateRegisteredModelRequest(name=name), timeout=self.timeout
            )
        except grpc.RpcError as error:
            if not _has_code(error, grpc.StatusCode.ALREADY_EXISTS, "RESOURCE_ALREADY_EXISTS"):
                raise
        existing = self._version_of(name, run_id, source)
        if existing is None:
            request = registry_pb2.CreateModelVersionRequest(
                name=name,
                source=source,
                run_id=run_id,
                tags=[model_registry_pb2.ModelVersionTag(key=t["key"], value=t["value"]) for t in op.get("tags", ())],
            )
            if op.get("description") is not None:
                request.description = op["description"]
            existing = self.registry.CreateModelVersion(request, timeout=self.timeout).model_version.version
        if op.get("id"):
            self.results[op["id"]] = existing

    def _version_of(self, name: str, run_id: str, source: str) -> Optional[str]:
        quoted = name.replace("\\", "\\\\").replace("'", "\\'")
        found = self.search.SearchModelVersions(
            search_service_pb2.SearchModelVersionsRequest(filter=f"name = '{quoted}' AND run_id = '{run_id}'"),
            timeout=self.timeout,
        )
        for version in found.model_versions:
            if version.source == source:
                return version.version
        return None
