"""
MLflow server parity (issue 14): the endpoints the MLflow UI and MLflow's own server tests call beyond the RPCs —
metrics/get-history-bulk, experiments/search-datasets, upload-artifact, runs/create-promptlab-run, gateway-proxy —
and the server behaviours they check: "Invalid value …" messages echoing the JSON value as written, a relative
experiment artifact_location made absolute, and a run's data in the order it was first logged.

Every expectation holds on MLflow 3.17.2 too (LOGBOOK_COMPAT_REFERENCE=mlflow runs this module against it).
"""

from __future__ import annotations

import json

import pytest
import requests
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

from harness import unique

AJAX = "/ajax-api/2.0/mlflow"


def post(logbook, path: str, body, **kwargs) -> requests.Response:
    return requests.post(logbook.url + path, json=body, timeout=60, **kwargs)


def assert_error(response: requests.Response, message: str, status: int = 400, code: str = "INVALID_PARAMETER_VALUE"):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code, body
    assert message in body["message"], body["message"]


# ---- "Invalid value …" echoes the value as the request wrote it ------------------------------------------------


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"name": "e", "artifact_location": 9.0}, "Invalid value 9.0 for parameter 'artifact_location' supplied"),
        ({"name": "e", "artifact_location": 1e20}, "Invalid value 1e+20 for parameter 'artifact_location' supplied"),
        ({"name": 123}, "Invalid value 123 for parameter 'name' supplied"),
        ({"name": 1.5}, "Invalid value 1.5 for parameter 'name' supplied:  Hint: Value was of type 'float'"),
        ({"name": True}, "Invalid value true for parameter 'name' supplied:  Hint: Value was of type 'bool'"),
        ({"name": "e", "tags": "5"}, "Invalid value \"5\" for parameter 'tags' supplied:  Hint: Value was of type 'str'"),
    ],
)
def test_invalid_values_are_echoed_as_written(logbook, body, expected):
    assert_error(post(logbook, "/api/2.0/mlflow/experiments/create", body), expected)


def test_invalid_value_message_reads_as_mlflow_test_expects_it(logbook):
    # MLflow's own test matches the escaped form in the raw response text.
    r = post(logbook, "/api/2.0/mlflow/experiments/create", {"name": "e", "artifact_location": "x", "tags": "5"})
    assert "Invalid value \\\"5\\\" for parameter 'tags'" in r.text


# ---- experiment artifact_location -----------------------------------------------------------------------------


def test_relative_artifact_location_is_made_absolute_against_the_server_directory(logbook, client):
    experiment_id = client.create_experiment(unique("relative-location"), artifact_location="my_location")
    assert client.get_experiment(experiment_id).artifact_location == str(logbook.cwd / "my_location")


def test_absolute_and_remote_artifact_locations_are_kept(logbook, client):
    for location in ("s3://bucket/some/prefix", str(logbook.cwd / "absolute-location")):
        experiment_id = client.create_experiment(unique("kept-location"), artifact_location=location)
        assert client.get_experiment(experiment_id).artifact_location == location


@pytest.mark.parametrize(
    "location, message",
    [
        ("s3://bucket/x#frag", "'artifact_location' URL can't include fragments or params."),
        ("runs:/abc/model", "Artifact location cannot be a runs:/ URI. Given: 'runs:/abc/model'"),
        ("s3://bucket/x?a=../b", "Invalid query string"),
    ],
)
def test_bad_artifact_locations_are_refused(logbook, location, message):
    assert_error(post(logbook, "/api/2.0/mlflow/experiments/create", {"name": unique("bad"), "artifact_location": location}), message)


# ---- a run's data in first-logged order -----------------------------------------------------------------------


def test_run_data_comes_back_in_first_logged_order(logbook, client):
    experiment_id = client.create_experiment(unique("order"))
    run = client.create_run(experiment_id, tags={"zeta": "1", "alpha": "1"})
    run_id = run.info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("z_loss", 1.0, 1000, 0), Metric("b_acc", 0.5, 1000, 0)],
        params=[Param("z", "1"), Param("a", "1")],
        tags=[RunTag("mid", "1")],
    )
    client.log_batch(run_id, metrics=[Metric("b_acc", 0.7, 2000, 1), Metric("a_new", 1.0, 2000, 0)], params=[Param("m", "1")])
    client.set_tag(run_id, "zeta", "changed")
    data = requests.get(f"{logbook.url}/api/2.0/mlflow/runs/get", params={"run_id": run_id}, timeout=60).json()["run"]["data"]
    assert [m["key"] for m in data["metrics"]] == ["z_loss", "b_acc", "a_new"]
    assert [p["key"] for p in data["params"]] == ["z", "a", "m"]
    assert [t["key"] for t in data["tags"]] == ["zeta", "alpha", "mlflow.runName", "mid"]
    assert data["tags"][0]["value"] == "changed"


# ---- GET /ajax-api/2.0/mlflow/metrics/get-history-bulk --------------------------------------------------------


def test_get_history_bulk_answers_every_point_by_run_then_time_step_value(logbook, client):
    experiment_id = client.create_experiment(unique("bulk"))
    runs = sorted(client.create_run(experiment_id).info.run_id for _ in range(2))
    for i, run_id in enumerate(runs):
        client.log_batch(run_id, metrics=[Metric("loss", 3.0 + i, 300, 2), Metric("loss", 1.0 + i, 100, 0), Metric("loss", 2.0 + i, 100, 1), Metric("other", 9.0, 1, 0)])
    url = f"{logbook.url}{AJAX}/metrics/get-history-bulk"
    r = requests.get(url, params={"run_id": list(reversed(runs)), "metric_key": "loss"}, timeout=60)
    assert r.status_code == 200, r.text
    expected = [
        {"key": "loss", "value": 1.0 + i + j, "timestamp": ts, "step": j, "run_id": run_id}
        for i, run_id in enumerate(runs)
        for j, ts in enumerate((100, 100, 300))
    ]
    assert r.json() == {"metrics": expected}
    r = requests.get(url, params={"run_id": runs, "metric_key": "loss", "max_results": 4}, timeout=60)
    assert r.json() == {"metrics": expected[:4]}
    r = requests.get(url, params={"run_id": runs, "metric_key": "never-logged"}, timeout=60)
    assert r.status_code == 200 and r.json() == {"metrics": []}


def test_get_history_bulk_refuses_what_mlflow_refuses(logbook):
    url = f"{logbook.url}{AJAX}/metrics/get-history-bulk"
    assert_error(requests.get(url, params={"metric_key": "loss"}, timeout=60), "GetMetricHistoryBulk request must specify at least one run_id.")
    assert_error(
        requests.get(url, params={"run_id": [f"r{i}" for i in range(101)], "metric_key": "loss"}, timeout=60),
        "GetMetricHistoryBulk request cannot specify more than 100 run_ids. Received 101 run_ids.",
    )
    assert_error(requests.get(url, params={"run_id": "abc"}, timeout=60), "GetMetricHistoryBulk request must specify a metric_key.")


# ---- POST /ajax-api/2.0/mlflow/experiments/search-datasets ----------------------------------------------------


def test_search_datasets_lists_the_datasets_logged_to_the_experiments(logbook, client):
    experiment_id = client.create_experiment(unique("datasets"))
    other_id = client.create_experiment(unique("datasets-other"))
    train = Dataset("train", "d1", "local", "/data/train.csv")
    evaluation = Dataset("eval", "d2", "local", "/data/eval.csv")
    run_a = client.create_run(experiment_id).info.run_id
    run_b = client.create_run(experiment_id).info.run_id
    run_c = client.create_run(other_id).info.run_id
    client.log_inputs(run_a, [DatasetInput(train, [InputTag("mlflow.data.context", "training")]), DatasetInput(evaluation, [])])
    client.log_inputs(run_b, [DatasetInput(train, [InputTag("mlflow.data.context", "training")])])
    client.log_inputs(run_c, [DatasetInput(evaluation, [InputTag("mlflow.data.context", "eval")])])

    r = post(logbook, f"{AJAX}/experiments/search-datasets", {"experiment_ids": [experiment_id]})
    assert r.status_code == 200, r.text
    got = sorted(r.json()["dataset_summaries"], key=lambda s: s["name"])
    assert got == [
        {"experiment_id": experiment_id, "name": "eval", "digest": "d2"},
        {"experiment_id": experiment_id, "name": "train", "digest": "d1", "context": "training"},
    ]
    r = post(logbook, f"{AJAX}/experiments/search-datasets", {"experiment_ids": [experiment_id, other_id]})
    assert len(r.json()["dataset_summaries"]) == 3
    empty = client.create_experiment(unique("datasets-none"))
    assert post(logbook, f"{AJAX}/experiments/search-datasets", {"experiment_ids": [empty]}).json() == {}


def test_search_datasets_refuses_what_mlflow_refuses(logbook):
    url = f"{AJAX}/experiments/search-datasets"
    assert_error(post(logbook, url, {"experiment_ids": []}), "SearchDatasets request must specify at least one experiment_id.")
    assert_error(
        post(logbook, url, {"experiment_ids": [str(i) for i in range(21)]}),
        "SearchDatasets request cannot specify more than 20 experiment_ids. Received 21 experiment_ids.",
    )


# ---- POST /ajax-api/2.0/mlflow/upload-artifact ----------------------------------------------------------------


def test_upload_artifact_writes_a_run_file(logbook, client, tmp_path):
    run_id = client.create_run(client.create_experiment(unique("upload"))).info.run_id
    r = requests.post(f"{logbook.url}{AJAX}/upload-artifact", params={"run_uuid": run_id, "path": "dir/a.txt"}, data=b"hello", timeout=60)
    assert r.status_code == 200, r.text
    assert [f.path for f in client.list_artifacts(run_id, "dir")] == ["dir/a.txt"]
    assert (pathlib_read(client.download_artifacts(run_id, "dir/a.txt", str(tmp_path)))) == "hello"


def pathlib_read(path: str) -> str:
    with open(path) as f:
        return f.read()


def test_upload_artifact_refuses_what_mlflow_refuses(logbook, client):
    run_id = client.create_run(client.create_experiment(unique("upload-bad"))).info.run_id
    url = f"{logbook.url}{AJAX}/upload-artifact"
    assert_error(requests.post(url, params={"path": "a.txt"}, data=b"x", timeout=60), "Request must specify run_uuid.")
    assert_error(requests.post(url, params={"run_uuid": run_id}, data=b"x", timeout=60), "Request must specify path.")
    assert_error(requests.post(url, params={"run_uuid": run_id, "path": "../a.txt"}, data=b"x", timeout=60), "Invalid path")
    assert_error(requests.post(url, params={"run_uuid": run_id, "path": "a.txt"}, data=b"", timeout=60), "Request must specify data.")
    too_big = b"x" * (10 * 1024 * 1024 + 1)
    assert_error(requests.post(url, params={"run_uuid": run_id, "path": "a.txt"}, data=too_big, timeout=60), "Artifact size is too large. Max size is 10MB.")
    assert client.list_artifacts(run_id) == []


# ---- POST /ajax-api/2.0/mlflow/runs/create-promptlab-run ------------------------------------------------------


PROMPTLAB = {
    "run_name": "prompt-run",
    "prompt_template": "Hi {{ name }}",
    "prompt_parameters": [{"key": "name", "value": "Bob"}],
    "model_route": "chat",
    "model_parameters": [{"key": "temperature", "value": 0.5}, {"key": "max_tokens", "value": 10}],
    "model_input": "Hi Bob",
    "model_output": "Hello",
    "model_output_parameters": [{"key": "latency", "value": 100}],
    "mlflow_version": "3.17.2",
    "user_id": "ada",
    "start_time": 1700000000000,
}


def test_create_promptlab_run_makes_the_run_mlflow_makes(logbook, client, tmp_path):
    experiment_id = client.create_experiment(unique("promptlab"))
    r = post(logbook, f"{AJAX}/runs/create-promptlab-run", {"experiment_id": experiment_id, **PROMPTLAB})
    assert r.status_code == 200, r.text
    run = r.json()["run"]
    info = run["info"]
    assert (info["status"], info["run_name"], info["user_id"], info["start_time"]) == ("FINISHED", "prompt-run", "ada", 1700000000000)
    assert info["end_time"] >= info["start_time"]
    assert run["data"]["params"] == [
        {"key": "temperature", "value": "0.5"},
        {"key": "max_tokens", "value": "10"},
        {"key": "model_route", "value": "chat"},
        {"key": "prompt_template", "value": "Hi {{ name }}"},
    ]
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags["mlflow.loggedArtifacts"] == '[{"path": "eval_results_table.json", "type": "table"}]'
    assert tags["mlflow.runSourceType"] == "PROMPT_ENGINEERING"
    (model,) = json.loads(tags["mlflow.log-model.history"])
    assert (model["run_id"], model["artifact_path"], model["flavors"]) == (info["run_id"], "model", {})
    run_id = info["run_id"]
    assert sorted(f.path for f in client.list_artifacts(run_id)) == ["eval_results_table.json", "model"]
    assert sorted(f.path for f in client.list_artifacts(run_id, "model")) == [
        "model/MLmodel", "model/conda.yaml", "model/input_example.json", "model/parameters.yaml",
        "model/python_env.yaml", "model/requirements.txt", "model/serving_input_example.json",
    ]
    table = pathlib_read(client.download_artifacts(run_id, "eval_results_table.json", str(tmp_path)))
    assert table == '{"columns": ["name", "prompt", "output", "latency"], "data": [["Bob", "Hi Bob", "Hello", "100"]]}'
    parameters = pathlib_read(client.download_artifacts(run_id, "model/parameters.yaml", str(tmp_path)))
    assert parameters == "model_parameters:\n  max_tokens: '10'\n  temperature: '0.5'\nmodel_route: chat\nprompt_parameters:\n  name: Bob\nprompt_template: Hi {{ name }}\n"
    import yaml

    mlmodel = yaml.safe_load(pathlib_read(client.download_artifacts(run_id, "model/MLmodel", str(tmp_path))))
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "mlflow.prompt.promptlab_model"
    assert (mlmodel["run_id"], mlmodel["model_uuid"], mlmodel["utc_time_created"]) == (run_id, model["model_uuid"], model["utc_time_created"])


@pytest.mark.parametrize("missing", ["experiment_id", "prompt_template", "prompt_parameters", "model_route", "model_input", "mlflow_version"])
def test_create_promptlab_run_requires_mlflows_fields(logbook, client, missing):
    body = {"experiment_id": client.create_experiment(unique("promptlab-bad")), **PROMPTLAB}
    del body[missing]
    assert_error(post(logbook, f"{AJAX}/runs/create-promptlab-run", body), f"CreatePromptlabRun request must specify {missing}.")


# ---- /ajax-api/2.0/mlflow/gateway-proxy -----------------------------------------------------------------------


def test_gateway_proxy_answers_an_empty_gateway(logbook):
    url = f"{logbook.url}{AJAX}/gateway-proxy"
    for r in (
        requests.get(url, timeout=60),
        requests.get(url, params={"gateway_path": "api/2.0/endpoints"}, timeout=60),
        requests.post(url, json={"gateway_path": "gateway/chat/invocations", "json_data": {}}, timeout=60),
    ):
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/json")
        assert r.json() == {"endpoints": []}


# ---- details MLflow's own server tests check ------------------------------------------------------------------


def test_duplicate_slashes_are_merged_as_mlflow_does(logbook):
    r = requests.get(f"{logbook.url}//model-versions/get-artifact", params={"name": "m", "version": 1, "path": "../x"}, timeout=60)
    assert_error(r, "Invalid path")


def test_a_version_made_from_a_logged_model_is_listed_on_it(logbook, client):
    name = unique("from-logged-model")
    client.create_registered_model(name)
    model = client.create_logged_model(experiment_id=client.create_experiment(unique("lm")))
    client.create_model_version(name=name, source=model.artifact_location, model_id=model.model_id)
    assert client.get_logged_model(model.model_id).tags["mlflow.modelVersions"] == json.dumps([{"name": name, "version": 1}])
    client.create_model_version(name=name, source=model.artifact_location, model_id=model.model_id)
    assert client.get_logged_model(model.model_id).tags["mlflow.modelVersions"] == json.dumps(
        [{"name": name, "version": 1}, {"name": name, "version": 2}]
    )
