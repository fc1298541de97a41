"""log_complete_experiment end to end against the shared Logbook of each store."""

from __future__ import annotations

import json

import grpc
import pytest
from sdk_support import authenticated_channel, get_run, metric_history

from logbook.sdk import ModelSpec, Tracker, log_complete_experiment, table_to_csv
from logbook.sdk import financial_metrics as fm
from logbook.v1 import (
    artifact_service_pb2,
    artifact_service_pb2_grpc,
    registry_pb2,
    registry_pb2_grpc,
    run_pb2,
    tracking_service_pb2,
    tracking_service_pb2_grpc,
)


@pytest.fixture
def reader(address, token):
    with authenticated_channel(address, token) as channel:
        yield channel


def download(channel, run_id: str, path: str) -> bytes:
    stub = artifact_service_pb2_grpc.ArtifactServiceStub(channel)
    request = artifact_service_pb2.DownloadArtifactRequest(run_id=run_id, path=path)
    return b"".join(part.chunk for part in stub.DownloadArtifact(request, timeout=30))


def test_log_complete_experiment_records_everything(address, token, reader, tmp_path, unique):
    returns = [0.01, -0.02, 0.015, 0.003, -0.007, 0.02]
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"\x00\x01\x02")
    record = log_complete_experiment(
        address,
        f"{unique}-eval",
        spool_path=tmp_path / "spool.jsonl",
        token=token,
        run_name="aapl-lstm",
        tags={"symbol": "AAPL", "stage": "evaluation"},
        params={"window": 20, "lr": 0.001},
        metrics={
            **fm.summary(returns),
            "loss": [0.9, 0.5, 0.3],  # a step series: steps 0, 1, 2
            "val_loss": [(10, 0.6), (20, 0.4)],  # explicit steps
        },
        artifacts={
            "model/weights.bin": weights,
            "report/summary.json": {"sharpe": 1.5, "symbols": ["AAPL"]},
            "report/trades.csv": [{"day": 1, "pnl": 0.5}, {"day": 2, "pnl": -0.25}],
            "report/features.csv": {"feature": ["rsi", "macd"], "importance": [0.7, 0.3]},
        },
        model=ModelSpec(name=f"{unique}-model", artifact_path="model", tags={"symbol": "AAPL"}),
    )
    assert record.synced and record.experiment_name == f"{unique}-eval"
    assert record.model_name == f"{unique}-model" and record.model_version == "1"

    run = get_run(reader, record.run_id)
    assert run.info.status == run_pb2.RUN_STATUS_FINISHED
    assert run.info.run_name == "aapl-lstm"
    tracking = tracking_service_pb2_grpc.TrackingServiceStub(reader)
    experiment = tracking.GetExperimentByName(
        tracking_service_pb2.GetExperimentByNameRequest(experiment_name=f"{unique}-eval"), timeout=30
    ).experiment
    assert run.info.experiment_id == experiment.experiment_id
    assert {t.key: t.value for t in run.data.tags}["symbol"] == "AAPL"
    assert {p.key: p.value for p in run.data.params} == {"window": "20", "lr": "0.001"}
    latest = {m.key: m.value for m in run.data.metrics}
    assert latest["sharpe_ratio"] == pytest.approx(fm.sharpe_ratio(returns))
    assert latest["hit_rate"] == pytest.approx(4 / 6)
    assert sorted((m.step, m.value) for m in metric_history(reader, record.run_id, "loss")) == [
        (0, 0.9), (1, 0.5), (2, 0.3)]
    assert sorted((m.step, m.value) for m in metric_history(reader, record.run_id, "val_loss")) == [
        (10, 0.6), (20, 0.4)]

    assert download(reader, record.run_id, "model/weights.bin") == b"\x00\x01\x02"
    assert json.loads(download(reader, record.run_id, "report/summary.json")) == {"sharpe": 1.5, "symbols": ["AAPL"]}
    assert download(reader, record.run_id, "report/trades.csv") == b"day,pnl\n1,0.5\n2,-0.25\n"
    assert download(reader, record.run_id, "report/features.csv") == b"feature,importance\nrsi,0.7\nmacd,0.3\n"

    registry = registry_pb2_grpc.RegistryServiceStub(reader)
    version = registry.GetModelVersion(
        registry_pb2.GetModelVersionRequest(name=f"{unique}-model", version="1"), timeout=30
    ).model_version
    assert version.source == f"runs:/{record.run_id}/model"
    assert version.run_id == record.run_id


def test_an_existing_experiment_and_model_are_reused(address, token, reader, tmp_path, unique):
    with Tracker(address, spool_path=tmp_path / "spool.jsonl", token=token) as tracker:
        first = tracker.log_complete_experiment(unique, metrics={"sharpe": 1.0}, model=f"{unique}-m")
        second = tracker.log_complete_experiment(unique, metrics={"sharpe": 2.0}, model={"name": f"{unique}-m"})
    assert (first.model_version, second.model_version) == ("1", "2")
    assert get_run(reader, first.run_id).info.experiment_id == get_run(reader, second.run_id).info.experiment_id


def test_table_to_csv_without_pandas():
    assert table_to_csv([{"a": 1}, {"a": 2, "b": "x,y"}]) == b'a,b\n1,\n2,"x,y"\n'
    assert table_to_csv({"a": [1, 2], "b": [3, 4]}) == b"a,b\n1,3\n2,4\n"
    with pytest.raises(ValueError):
        table_to_csv({"a": [1], "b": [1, 2]})
