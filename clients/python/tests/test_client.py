"""The generated Python client (package `logbook.v1`, installed from clients/python) against a live Logbook.

Each test runs once per store (conftest.py): tracking round trip, the two server streams of SearchService,
artifact upload (client stream) and download (server stream), the rich error model, and the model registry.
"""

from __future__ import annotations

import os
import time

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from logbook.v1 import (
    artifact_service_pb2,
    artifact_service_pb2_grpc,
    registry_pb2,
    registry_pb2_grpc,
    run_pb2,
    search_service_pb2,
    search_service_pb2_grpc,
    tracking_service_pb2,
    tracking_service_pb2_grpc,
)

TIMEOUT = 30  # seconds, per call


@pytest.fixture
def tracking(channel: grpc.Channel) -> tracking_service_pb2_grpc.TrackingServiceStub:
    return tracking_service_pb2_grpc.TrackingServiceStub(channel)


def now_ms() -> int:
    return int(time.time() * 1000)


def create_experiment(tracking, name: str) -> str:
    response = tracking.CreateExperiment(tracking_service_pb2.CreateExperimentRequest(name=name), timeout=TIMEOUT)
    assert response.experiment_id
    return response.experiment_id


def create_run(tracking, experiment_id: str, run_name: str) -> run_pb2.Run:
    response = tracking.CreateRun(
        tracking_service_pb2.CreateRunRequest(experiment_id=experiment_id, run_name=run_name, start_time=now_ms()),
        timeout=TIMEOUT,
    )
    assert response.run.info.run_id
    return response.run


def test_create_log_batch_and_read_back(tracking, unique):
    experiment_id = create_experiment(tracking, unique)
    run = create_run(tracking, experiment_id, "train")
    run_id = run.info.run_id
    assert run.info.experiment_id == experiment_id
    assert run.info.status == run_pb2.RUN_STATUS_RUNNING

    ts = now_ms()
    tracking.LogBatch(
        tracking_service_pb2.LogBatchRequest(
            run_id=run_id,
            metrics=[run_pb2.Metric(key="loss", value=1.0 / (step + 1), timestamp=ts, step=step) for step in range(5)],
            params=[run_pb2.Param(key="lr", value="0.01"), run_pb2.Param(key="optimizer", value="adam")],
            tags=[run_pb2.RunTag(key="team", value="research")],
        ),
        timeout=TIMEOUT,
    )

    got = tracking.GetRun(tracking_service_pb2.GetRunRequest(run_id=run_id), timeout=TIMEOUT).run
    assert got.info.run_id == run_id
    assert got.info.run_name == "train"
    assert {p.key: p.value for p in got.data.params} == {"lr": "0.01", "optimizer": "adam"}
    assert {t.key: t.value for t in got.data.tags}["team"] == "research"
    # GetRun carries each metric's latest value (highest step).
    latest = {m.key: m for m in got.data.metrics}
    assert latest["loss"].step == 4
    assert latest["loss"].value == pytest.approx(0.2)


def test_stream_search_runs_and_leaderboard(channel, tracking, unique):
    search = search_service_pb2_grpc.SearchServiceStub(channel)
    experiment_id = create_experiment(tracking, unique)
    scores = {"alpha": 1.5, "beta": 2.5, "gamma": 0.5}
    run_ids = {}
    for name, sharpe in scores.items():
        run_id = create_run(tracking, experiment_id, name).info.run_id
        run_ids[name] = run_id
        tracking.LogBatch(
            tracking_service_pb2.LogBatchRequest(
                run_id=run_id,
                metrics=[run_pb2.Metric(key="sharpe", value=sharpe, timestamp=now_ms(), step=0)],
                params=[run_pb2.Param(key="symbol", value=unique)],
            ),
            timeout=TIMEOUT,
        )

    streamed = list(
        search.StreamSearchRuns(
            search_service_pb2.StreamSearchRunsRequest(
                experiment_ids=[experiment_id], filter="metrics.sharpe > 1", order_by=["metrics.sharpe DESC"]
            ),
            timeout=TIMEOUT,
        )
    )
    assert [r.run.info.run_id for r in streamed] == [run_ids["beta"], run_ids["alpha"]]

    board = list(
        search.Leaderboard(
            search_service_pb2.LeaderboardRequest(symbol=unique, metric="sharpe", experiment_ids=[experiment_id]),
            timeout=TIMEOUT,
        )
    )
    assert [(e.rank, e.run_name, e.value) for e in board] == [(1, "beta", 2.5), (2, "alpha", 1.5), (3, "gamma", 0.5)]
    assert board[0].run_id == run_ids["beta"]
    assert board[0].params["symbol"] == unique


def test_upload_and_download_artifact(channel, tracking, unique):
    artifacts = artifact_service_pb2_grpc.ArtifactServiceStub(channel)
    run_id = create_run(tracking, create_experiment(tracking, unique), "artifacts").info.run_id
    payload = os.urandom(200_000)
    chunk = 64 * 1024

    def requests():
        yield artifact_service_pb2.UploadArtifactRequest(
            header=artifact_service_pb2.UploadArtifactHeader(run_id=run_id, path="model/weights.bin", size=len(payload))
        )
        for offset in range(0, len(payload), chunk):
            yield artifact_service_pb2.UploadArtifactRequest(chunk=payload[offset : offset + chunk])

    uploaded = artifacts.UploadArtifact(requests(), timeout=TIMEOUT)
    assert uploaded.path.endswith("/model/weights.bin")  # relative to the artifact store root
    assert uploaded.file_size == len(payload)

    downloaded = b"".join(
        part.chunk
        for part in artifacts.DownloadArtifact(
            artifact_service_pb2.DownloadArtifactRequest(run_id=run_id, path="model/weights.bin"), timeout=TIMEOUT
        )
    )
    assert downloaded == payload


def test_error_carries_status_code_and_mlflow_error_code(tracking):
    with pytest.raises(grpc.RpcError) as raised:
        tracking.GetRun(tracking_service_pb2.GetRunRequest(run_id="0" * 32), timeout=TIMEOUT)
    error = raised.value
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details()

    # grpc-status-details-bin → google.rpc.Status → google.rpc.ErrorInfo{reason: <MLflow code>, domain: "logbook"}
    status = rpc_status.from_call(error)
    assert status is not None
    assert status.code == grpc.StatusCode.NOT_FOUND.value[0]
    infos = []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            infos.append(info)
    assert [(i.reason, i.domain) for i in infos] == [("RESOURCE_DOES_NOT_EXIST", "logbook")]


def test_register_and_promote_model_version(channel, tracking, unique):
    registry = registry_pb2_grpc.RegistryServiceStub(channel)
    run = create_run(tracking, create_experiment(tracking, unique), "candidate")

    model = registry.CreateRegisteredModel(registry_pb2.CreateRegisteredModelRequest(name=unique), timeout=TIMEOUT)
    assert model.registered_model.name == unique

    version = registry.CreateModelVersion(
        registry_pb2.CreateModelVersionRequest(
            name=unique, source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id
        ),
        timeout=TIMEOUT,
    ).model_version
    assert version.version == "1"
    assert version.current_stage == "None"

    promoted = registry.TransitionModelVersionStage(
        registry_pb2.TransitionModelVersionStageRequest(
            name=unique, version=version.version, stage="Production", archive_existing_versions=True
        ),
        timeout=TIMEOUT,
    ).model_version
    assert promoted.current_stage == "Production"
    got = registry.GetModelVersion(
        registry_pb2.GetModelVersionRequest(name=unique, version=version.version), timeout=TIMEOUT
    ).model_version
    assert got.current_stage == "Production"
    assert got.run_id == run.info.run_id
