"""The fluent API (`mlflow.set_experiment`, `mlflow.start_run`, `mlflow.log_*`) against Logbook, on both stores."""

from __future__ import annotations

import math
import time

import pytest
from mlflow.entities import LifecycleStage

from harness import expect_mlflow_error, unique


def now_ms() -> int:
    return int(time.time() * 1000)


def test_set_experiment_creates_then_reuses(fluent):
    name = unique("fluent")
    exp = fluent.set_experiment(name)
    assert exp.name == name and exp.experiment_id.isdigit()
    assert exp.lifecycle_stage == LifecycleStage.ACTIVE
    again = fluent.set_experiment(name)
    assert again.experiment_id == exp.experiment_id
    by_id = fluent.set_experiment(experiment_id=exp.experiment_id)
    assert by_id.name == name
    assert fluent.get_experiment_by_name(name).experiment_id == exp.experiment_id


def test_set_experiment_refuses_a_deleted_one(fluent):
    name = unique("gone")
    exp = fluent.set_experiment(name)
    fluent.delete_experiment(exp.experiment_id)
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        fluent.set_experiment(name)
    fluent.restore_experiment(exp.experiment_id)
    assert fluent.set_experiment(name).experiment_id == exp.experiment_id


def test_run_lifecycle_and_logging(fluent):
    exp = fluent.set_experiment(unique("fluent-run"))
    before = now_ms()
    with fluent.start_run(run_name="train-aapl", tags={"symbol": "AAPL"}, description="a first run") as run:
        run_id = run.info.run_id
        assert fluent.active_run().info.run_id == run_id
        assert run.info.status == "RUNNING"
        fluent.log_param("model", "ridge")
        fluent.log_params({"alpha": 0.5, "window": 20})
        fluent.log_metric("loss", 1.0, step=0, timestamp=1_000)
        fluent.log_metric("loss", 0.5, step=1, timestamp=2_000)
        fluent.log_metrics({"sharpe_ratio": 1.7, "r2": 0.81}, step=1)
        fluent.set_tag("stage", "dev")
        fluent.set_tags({"team": "quant", "stage": "candidate"})
        fluent.set_tag("temporary", "x")
        fluent.delete_tag("temporary")
    assert fluent.active_run() is None

    got = fluent.get_run(run_id)
    assert got.info.status == "FINISHED"
    assert got.info.experiment_id == exp.experiment_id
    assert got.info.run_name == "train-aapl"
    assert got.info.lifecycle_stage == LifecycleStage.ACTIVE
    assert got.info.start_time >= before - 5_000
    assert got.info.end_time is not None and got.info.end_time >= got.info.start_time
    assert got.data.params == {"model": "ridge", "alpha": "0.5", "window": "20"}
    assert got.data.metrics == {"loss": 0.5, "sharpe_ratio": 1.7, "r2": 0.81}
    tags = got.data.tags
    assert tags["symbol"] == "AAPL"
    assert tags["stage"] == "candidate"
    assert tags["team"] == "quant"
    assert "temporary" not in tags
    assert tags["mlflow.runName"] == "train-aapl"
    assert tags["mlflow.note.content"] == "a first run"
    # The client's context tags arrive as sent.
    assert tags.get("mlflow.user")
    assert tags.get("mlflow.source.type")

    from mlflow import MlflowClient

    history = MlflowClient().get_metric_history(run_id, "loss")
    assert [(m.value, m.step, m.timestamp) for m in history] == [(1.0, 0, 1_000), (0.5, 1, 2_000)]
    (sharpe,) = MlflowClient().get_metric_history(run_id, "sharpe_ratio")
    assert sharpe.step == 1


def test_failed_run_on_exception(fluent):
    fluent.set_experiment(unique("fluent-fail"))
    with pytest.raises(RuntimeError):
        with fluent.start_run() as run:
            raise RuntimeError("training blew up")
    assert fluent.get_run(run.info.run_id).info.status == "FAILED"


def test_end_run_with_status(fluent):
    fluent.set_experiment(unique("fluent-killed"))
    run = fluent.start_run()
    fluent.end_run(status="KILLED")
    assert fluent.active_run() is None
    assert fluent.get_run(run.info.run_id).info.status == "KILLED"


def test_nested_runs(fluent):
    fluent.set_experiment(unique("fluent-nested"))
    with fluent.start_run(run_name="parent") as parent:
        with fluent.start_run(run_name="child", nested=True) as child:
            fluent.log_metric("x", 1.0)
    child_run = fluent.get_run(child.info.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child_run.info.status == "FINISHED"
    assert fluent.get_parent_run(child.info.run_id).info.run_id == parent.info.run_id


def test_resume_a_finished_run(fluent):
    fluent.set_experiment(unique("fluent-resume"))
    with fluent.start_run() as run:
        fluent.log_param("p", "1")
    first_end = fluent.get_run(run.info.run_id).info.end_time
    with fluent.start_run(run_id=run.info.run_id) as resumed:
        assert resumed.info.run_id == run.info.run_id
        assert fluent.get_run(run.info.run_id).info.status == "RUNNING"
        fluent.log_metric("m", 2.0)
    got = fluent.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.info.end_time >= first_end
    assert got.data.params == {"p": "1"} and got.data.metrics == {"m": 2.0}


def test_nan_metric_via_fluent(fluent):
    fluent.set_experiment(unique("fluent-nan"))
    with fluent.start_run() as run:
        fluent.log_metrics({"nan": float("nan"), "inf": float("inf")})
    metrics = fluent.get_run(run.info.run_id).data.metrics
    assert math.isnan(metrics["nan"])
    assert metrics["inf"] == math.inf  # Logbook keeps ±Infinity (MLflow's SQL store clamps)


def test_log_input_dataset(fluent):
    import pandas as pd

    import mlflow.data

    fluent.set_experiment(unique("fluent-data"))
    df = pd.DataFrame({"x": [1, 2, 3], "y": [0.5, 0.25, 0.125]})
    dataset = mlflow.data.from_pandas(df, name="toy", targets="y")
    with fluent.start_run() as run:
        fluent.log_input(dataset, context="training", tags={"split": "train"})
    (logged,) = fluent.get_run(run.info.run_id).inputs.dataset_inputs
    assert logged.dataset.name == "toy"
    assert logged.dataset.digest == dataset.digest
    assert logged.dataset.source_type == dataset.source._get_source_type()
    assert {t.key: t.value for t in logged.tags} == {"mlflow.data.context": "training", "split": "train"}


def test_experiment_tags_via_fluent(fluent):
    exp = fluent.set_experiment(unique("fluent-tags"))
    fluent.set_experiment_tag("owner", "quant")
    fluent.set_experiment_tags({"region": "eu", "tier": "1"})
    fluent.delete_experiment_tag("tier")
    assert fluent.get_experiment(exp.experiment_id).tags == {"owner": "quant", "region": "eu"}


def test_delete_and_restore_run_via_fluent(fluent):
    fluent.set_experiment(unique("fluent-delete"))
    with fluent.start_run() as run:
        pass
    fluent.delete_run(run.info.run_id)
    assert fluent.get_run(run.info.run_id).info.lifecycle_stage == LifecycleStage.DELETED
    fluent.restore_run(run.info.run_id)
    assert fluent.get_run(run.info.run_id).info.lifecycle_stage == LifecycleStage.ACTIVE


def test_create_experiment_via_fluent(fluent):
    name = unique("fluent-create")
    exp_id = fluent.create_experiment(name, tags={"a": "b"})
    exp = fluent.get_experiment(exp_id)
    assert exp.name == name and exp.tags == {"a": "b"}
    with expect_mlflow_error("RESOURCE_ALREADY_EXISTS"):
        fluent.create_experiment(name)
