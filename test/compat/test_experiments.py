"""Experiments through the official MlflowClient, on both stores."""

from __future__ import annotations

import time

from mlflow.entities import LifecycleStage

from harness import expect_mlflow_error, unique


def now_ms() -> int:
    return int(time.time() * 1000)


def test_default_experiment_exists(client):
    exp = client.get_experiment("0")
    assert exp.experiment_id == "0"
    assert exp.name == "Default"
    assert exp.lifecycle_stage == LifecycleStage.ACTIVE
    by_name = client.get_experiment_by_name("Default")
    assert by_name is not None and by_name.experiment_id == "0"


def test_create_and_get_experiment(client):
    name = unique("team/forecast")  # a '/' in a name is fine (and goes into query strings)
    before = now_ms()
    exp_id = client.create_experiment(name, tags={"owner": "quant", "symbol": "AAPL"})
    after = now_ms()
    assert isinstance(exp_id, str) and exp_id.isdigit() and exp_id != "0"

    exp = client.get_experiment(exp_id)
    assert exp.experiment_id == exp_id
    assert exp.name == name
    assert exp.lifecycle_stage == LifecycleStage.ACTIVE
    assert exp.tags == {"owner": "quant", "symbol": "AAPL"}
    assert exp.artifact_location == f"mlflow-artifacts:/{exp_id}"
    assert isinstance(exp.creation_time, int) and before - 5_000 <= exp.creation_time <= after + 5_000
    assert isinstance(exp.last_update_time, int) and exp.last_update_time >= exp.creation_time

    by_name = client.get_experiment_by_name(name)
    assert by_name is not None
    assert by_name.experiment_id == exp_id
    assert by_name.tags == exp.tags


def test_create_with_artifact_location(client):
    exp_id = client.create_experiment(unique("located"), artifact_location="s3://bucket/some/where")
    assert client.get_experiment(exp_id).artifact_location == "s3://bucket/some/where"


def test_get_experiment_by_unknown_name_is_none(client):
    assert client.get_experiment_by_name(unique("never-created")) is None


def test_get_unknown_experiment(client):
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.get_experiment("987654321")


def test_duplicate_experiment_name(client):
    name = unique("dup")
    client.create_experiment(name)
    with expect_mlflow_error("RESOURCE_ALREADY_EXISTS"):
        client.create_experiment(name)


def test_create_experiment_with_empty_name(client):
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.create_experiment("")


def test_rename_experiment(client):
    old, new = unique("old-name"), unique("new-name")
    exp_id = client.create_experiment(old)
    client.rename_experiment(exp_id, new)
    assert client.get_experiment(exp_id).name == new
    assert client.get_experiment_by_name(old) is None
    assert client.get_experiment_by_name(new).experiment_id == exp_id


def test_rename_to_a_taken_name(client):
    taken = unique("taken")
    client.create_experiment(taken)
    other = client.create_experiment(unique("other"))
    with expect_mlflow_error("RESOURCE_ALREADY_EXISTS"):
        client.rename_experiment(other, taken)


def test_delete_and_restore_experiment(client):
    name = unique("short-lived")
    exp_id = client.create_experiment(name)
    run = client.create_run(exp_id)

    client.delete_experiment(exp_id)
    exp = client.get_experiment(exp_id)  # deleted experiments can still be read
    assert exp.lifecycle_stage == LifecycleStage.DELETED
    assert client.get_experiment_by_name(name).lifecycle_stage == LifecycleStage.DELETED
    assert client.get_run(run.info.run_id).info.lifecycle_stage == LifecycleStage.DELETED
    # The name stays taken while the experiment is deleted.
    with expect_mlflow_error("RESOURCE_ALREADY_EXISTS"):
        client.create_experiment(name)

    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == LifecycleStage.ACTIVE
    assert client.get_run(run.info.run_id).info.lifecycle_stage == LifecycleStage.ACTIVE


def test_delete_unknown_experiment(client):
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.delete_experiment("987654321")


def test_experiment_tags(client):
    exp_id = client.create_experiment(unique("tagged"), tags={"keep": "1"})
    client.set_experiment_tag(exp_id, "stage", "research")
    client.set_experiment_tag(exp_id, "stage", "production")  # overwrite
    client.set_experiment_tag(exp_id, "note", "a\nmulti-line\nvalue with ünïcode")
    assert client.get_experiment(exp_id).tags == {
        "keep": "1",
        "stage": "production",
        "note": "a\nmulti-line\nvalue with ünïcode",
    }
    client.delete_experiment_tag(exp_id, "stage")
    assert client.get_experiment(exp_id).tags == {"keep": "1", "note": "a\nmulti-line\nvalue with ünïcode"}


def test_experiment_tag_on_unknown_experiment(client):
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.set_experiment_tag("987654321", "k", "v")


def test_experiment_tag_bad_key(client):
    exp_id = client.create_experiment(unique("badkey"))
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        client.set_experiment_tag(exp_id, "../escape", "v")
