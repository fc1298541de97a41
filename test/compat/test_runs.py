"""Runs, params, metrics, tags, batches, inputs and models through the official MlflowClient, on both stores."""

from __future__ import annotations

import json
import math
import re
import time

import pytest
from mlflow.entities import LifecycleStage, Metric, Param, RunStatus, RunTag

from harness import expect_mlflow_error, unique

RUN_ID = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")  # MLflow's run id rule (reference §5)


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def experiment_id(client):
    return client.create_experiment(unique("runs"))


@pytest.fixture
def run_id(client, experiment_id):
    return client.create_run(experiment_id, run_name="fixture-run").info.run_id


def rest_store(client):
    """The client's own RestStore: one request per call, no client-side batching."""
    return client._tracking_client.store


def test_create_run(client, experiment_id):
    run = client.create_run(experiment_id, start_time=1_700_000_000_123, tags={"symbol": "AAPL"}, run_name="first")
    info = run.info
    assert RUN_ID.match(info.run_id)
    assert info.experiment_id == experiment_id
    assert info.run_name == "first"
    assert info.status == "RUNNING"
    assert info.lifecycle_stage == LifecycleStage.ACTIVE
    assert info.start_time == 1_700_000_000_123
    assert info.end_time is None
    assert info.artifact_uri == f"mlflow-artifacts:/{experiment_id}/{info.run_id}/artifacts"
    assert run.data.tags == {"symbol": "AAPL", "mlflow.runName": "first"}
    assert run.data.params == {} and run.data.metrics == {}

    got = client.get_run(info.run_id)
    assert got.info.run_id == info.run_id
    assert got.info.run_name == "first"
    assert got.info.start_time == 1_700_000_000_123
    assert got.data.tags == {"symbol": "AAPL", "mlflow.runName": "first"}
    assert got.inputs.dataset_inputs == []


def test_create_run_defaults(client, experiment_id):
    before = now_ms()
    run = client.create_run(experiment_id)
    after = now_ms()
    assert run.info.run_name, "a run created without a name gets a generated one"
    assert run.data.tags.get("mlflow.runName") == run.info.run_name
    assert before - 5_000 <= run.info.start_time <= after + 5_000


def test_create_run_in_unknown_experiment(client):
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.create_run("987654321")


def test_get_unknown_run(client):
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.get_run("0123456789abcdef0123456789abcdef")


def test_params(client, run_id):
    client.log_param(run_id, "symbol", "AAPL")
    client.log_param(run_id, "window", 20)  # the client sends str(value)
    client.log_param(run_id, "symbol", "AAPL")  # logging the same value again is fine
    assert client.get_run(run_id).data.params == {"symbol": "AAPL", "window": "20"}


def test_changed_param_is_refused(client, run_id):
    client.log_param(run_id, "lr", "0.1")
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.log_param(run_id, "lr", "0.2")
    assert client.get_run(run_id).data.params == {"lr": "0.1"}


def test_long_param_value_round_trips(client, run_id):
    value = "x" * 6000  # MAX_PARAM_VAL_LENGTH
    client.log_param(run_id, "long", value)
    assert client.get_run(run_id).data.params["long"] == value


def test_metrics_with_steps_and_timestamps(client, run_id):
    client.log_metric(run_id, "loss", 0.9, timestamp=1_000, step=0)
    client.log_metric(run_id, "loss", 0.5, timestamp=2_000, step=1)
    client.log_metric(run_id, "loss", 0.25, timestamp=3_000, step=2)
    client.log_metric(run_id, "acc", 0.75)  # timestamp defaults to now, step to 0

    run = client.get_run(run_id)
    assert run.data.metrics == {"loss": 0.25, "acc": 0.75}

    history = client.get_metric_history(run_id, "loss")
    assert [(m.key, m.value, m.timestamp, m.step) for m in history] == [
        ("loss", 0.9, 1_000, 0),
        ("loss", 0.5, 2_000, 1),
        ("loss", 0.25, 3_000, 2),
    ]
    (acc,) = client.get_metric_history(run_id, "acc")
    assert acc.step == 0 and abs(acc.timestamp - now_ms()) < 60_000
    assert client.get_metric_history(run_id, "never-logged") == []


def test_latest_metric_is_highest_step_then_timestamp_then_value(client, run_id):
    # reference §7 "Confirmed": the latest of these is 1.0.
    client.log_metric(run_id, "m", 1.0, timestamp=1, step=5)
    client.log_metric(run_id, "m", 2.0, timestamp=10, step=3)
    client.log_metric(run_id, "m", 0.5, timestamp=1, step=5)
    assert client.get_run(run_id).data.metrics["m"] == 1.0
    assert len(client.get_metric_history(run_id, "m")) == 3


def test_nan_and_infinity_metrics_round_trip(client, run_id):
    client.log_metric(run_id, "nan", float("nan"), timestamp=1, step=0)
    client.log_metric(run_id, "pos", float("inf"), timestamp=1, step=0)
    client.log_metric(run_id, "neg", float("-inf"), timestamp=1, step=0)
    metrics = client.get_run(run_id).data.metrics
    assert math.isnan(metrics["nan"])
    # MLflow's SQL store clamps ±Infinity to ±1.797e308; Logbook keeps them (reference §7).
    assert metrics["pos"] == math.inf
    assert metrics["neg"] == -math.inf
    (nan_point,) = client.get_metric_history(run_id, "nan")
    assert math.isnan(nan_point.value)
    (pos_point,) = client.get_metric_history(run_id, "pos")
    assert pos_point.value == math.inf


def test_bad_metric_key(client, run_id):
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.log_metric(run_id, "bad key?!", 1.0)
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.log_metric(run_id, "../escape", 1.0)
    assert client.get_run(run_id).data.metrics == {}


def test_metric_on_unknown_run(client):
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.log_metric("0123456789abcdef0123456789abcdef", "m", 1.0)


def test_tags(client, run_id):
    client.set_tag(run_id, "stage", "dev")
    client.set_tag(run_id, "stage", "prod")  # overwrite
    client.set_tag(run_id, "empty", "")
    client.set_tag(run_id, "dots.and/slashes", "ok")
    tags = client.get_run(run_id).data.tags
    assert tags["stage"] == "prod"
    assert tags["empty"] == ""
    assert tags["dots.and/slashes"] == "ok"

    client.delete_tag(run_id, "stage")
    assert "stage" not in client.get_run(run_id).data.tags


def test_delete_missing_tag(client, run_id):
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.delete_tag(run_id, "never-set")


def test_log_batch(client, run_id):
    client.log_batch(
        run_id,
        metrics=[Metric("rmse", 0.5, 1_000, 0), Metric("rmse", 0.4, 2_000, 1), Metric("r2", 0.8, 1_000, 0)],
        params=[Param("model", "ridge"), Param("alpha", "0.5")],
        tags=[RunTag("symbol", "MSFT"), RunTag("team", "quant")],
    )
    run = client.get_run(run_id)
    assert run.data.metrics == {"rmse": 0.4, "r2": 0.8}
    assert run.data.params == {"model": "ridge", "alpha": "0.5"}
    assert run.data.tags["symbol"] == "MSFT" and run.data.tags["team"] == "quant"
    assert [(m.value, m.step) for m in client.get_metric_history(run_id, "rmse")] == [(0.5, 0), (0.4, 1)]


def test_log_batch_maximum_size(client, run_id):
    # One request with the largest batch MLflow allows: 100 params × 6000 chars, 100 tags × 8000, 800 metrics.
    store = rest_store(client)
    store.log_batch(
        run_id,
        metrics=[Metric(f"m{i % 8}", float(i), 1_000 + i, i // 8) for i in range(800)],
        params=[Param(f"p{i}", "v" * 6000) for i in range(100)],
        tags=[RunTag(f"t{i}", "w" * 8000) for i in range(100)],
    )
    run = client.get_run(run_id)
    assert len(run.data.params) == 100 and run.data.params["p99"] == "v" * 6000
    assert run.data.tags["t0"] == "w" * 8000
    assert run.data.metrics["m7"] == 799.0
    assert len(client.get_metric_history(run_id, "m3")) == 100


def test_log_batch_too_many_metrics(client, run_id):
    # MlflowClient.log_batch splits big batches itself; the store call sends one request as given.
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        rest_store(client).log_batch(run_id, metrics=[Metric("m", 1.0, 1, i) for i in range(1001)], params=[], tags=[])
    assert client.get_run(run_id).data.metrics == {}


def test_log_batch_too_many_params(client, run_id):
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        rest_store(client).log_batch(run_id, metrics=[], params=[Param(f"p{i}", "v") for i in range(101)], tags=[])
    assert client.get_run(run_id).data.params == {}


def test_log_batch_is_all_or_nothing(client, run_id):
    client.log_param(run_id, "fixed", "1")
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.log_batch(run_id, metrics=[Metric("good", 1.0, 1, 0)], params=[Param("fixed", "2")])
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.log_batch(run_id, metrics=[Metric("good", 1.0, 1, 0), Metric("bad key?!", 1.0, 1, 0)])
    run = client.get_run(run_id)
    assert run.data.params == {"fixed": "1"}
    assert "good" not in run.data.metrics


def test_log_batch_large_history_pages(client, run_id):
    # More points than one get-history page (25,000): the client follows next_page_token.
    n = 25_050
    client.log_batch(run_id, metrics=[Metric("long", float(i), 1_000_000 + i, i) for i in range(n)])
    history = client.get_metric_history(run_id, "long")
    assert len(history) == n
    assert [m.step for m in history] == list(range(n))
    assert client.get_run(run_id).data.metrics["long"] == float(n - 1)


def test_set_terminated_and_update_run(client, run_id):
    client.set_terminated(run_id, status="FAILED", end_time=1_800_000_000_000)
    info = client.get_run(run_id).info
    assert info.status == "FAILED"
    assert info.end_time == 1_800_000_000_000

    client.update_run(run_id, name="renamed")  # status untouched
    run = client.get_run(run_id)
    assert run.info.run_name == "renamed"
    assert run.info.status == "FAILED"
    assert run.data.tags["mlflow.runName"] == "renamed"

    client.update_run(run_id, status="KILLED")
    assert client.get_run(run_id).info.status == "KILLED"
    client.set_terminated(run_id)  # FINISHED, end time now
    info = client.get_run(run_id).info
    assert info.status == RunStatus.to_string(RunStatus.FINISHED)
    assert abs(info.end_time - now_ms()) < 60_000


def test_delete_and_restore_run(client, run_id):
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED
    client.restore_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == LifecycleStage.ACTIVE


def test_deleted_run_refuses_writes(client, run_id):
    client.delete_run(run_id)
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.log_metric(run_id, "m", 1.0)
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.log_param(run_id, "p", "v")
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.set_tag(run_id, "t", "v")


def test_delete_unknown_run(client):
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.delete_run("0123456789abcdef0123456789abcdef")


def test_log_inputs_with_a_pandas_dataset(client, run_id):
    import pandas as pd

    import mlflow.data
    from mlflow.entities import DatasetInput, InputTag

    df = pd.DataFrame({"close": [1.0, 2.0, 3.5], "symbol": ["AAPL", "AAPL", "MSFT"]})
    dataset = mlflow.data.from_pandas(df, source="s3://bucket/prices.parquet", name="prices", targets="close")
    entity = dataset._to_mlflow_entity()
    client.log_inputs(run_id, [DatasetInput(entity, tags=[InputTag("mlflow.data.context", "training")])])
    client.log_inputs(run_id, [DatasetInput(entity, tags=[InputTag("mlflow.data.context", "training")])])  # idempotent

    (logged,) = client.get_run(run_id).inputs.dataset_inputs
    assert logged.dataset.name == "prices"
    assert logged.dataset.digest == entity.digest
    assert logged.dataset.source_type == "s3"
    assert json.loads(logged.dataset.source) == json.loads(entity.source)
    assert json.loads(logged.dataset.schema) == json.loads(entity.schema)
    assert json.loads(logged.dataset.profile) == json.loads(entity.profile)
    assert [(t.key, t.value) for t in logged.tags] == [("mlflow.data.context", "training")]


def test_log_model_history_tag(client, run_id):
    from mlflow.models import Model

    model = Model(artifact_path="model", run_id=run_id, flavors={"python_function": {"loader_module": "x"}})
    rest_store(client).record_logged_model(run_id, model)
    rest_store(client).record_logged_model(run_id, Model(artifact_path="model2", run_id=run_id, flavors={}))
    history = json.loads(client.get_run(run_id).data.tags["mlflow.log-model.history"])
    assert [h["artifact_path"] for h in history] == ["model", "model2"]
    assert history[0]["run_id"] == run_id
    assert history[0]["flavors"] == {"python_function": {"loader_module": "x"}}
