"""
MLflow's artifact modes (issue 14): a server started with `--default-artifact-root <dir>` (clients read and write the
run files themselves; the server serves them from that directory too) and one started with `--no-serve-artifacts`
(the artifact proxy routes answer 503). Each mode gets its own server per store; every expectation also holds on
MLflow 3.17.2 (LOGBOOK_COMPAT_REFERENCE=mlflow).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from conftest import REFERENCE
from harness import STORES, MlflowServer, start_logbook, unique


@pytest.fixture(scope="module", params=("mlflow",) if REFERENCE else STORES)
def store_kind(request):
    return request.param


def _start(store_kind: str, tmp_path_factory, label: str, args: tuple[str, ...]):
    if store_kind == "mlflow":
        return MlflowServer(tmp_path_factory.mktemp(f"mlflow-{label}"), args).start()
    return start_logbook(store_kind, tmp_path_factory, label, args)


@pytest.fixture(scope="module")
def local_root(store_kind, tmp_path_factory):
    """A server whose default artifact root is a directory; yields (server, root)."""
    root = tmp_path_factory.mktemp("artifact-root")
    server = _start(store_kind, tmp_path_factory, "local_root", ("--default-artifact-root", str(root)))
    try:
        yield server, root
    finally:
        server.stop()


@pytest.fixture(scope="module")
def not_serving(store_kind, tmp_path_factory):
    server = _start(store_kind, tmp_path_factory, "no_serve", ("--no-serve-artifacts",))
    try:
        yield server
    finally:
        server.stop()


def client_of(server):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=server.url)


def test_locations_below_a_directory_root(local_root):
    server, root = local_root
    client = client_of(server)
    assert client.get_experiment("0").artifact_location == f"{root}/0"
    experiment_id = client.create_experiment(unique("root"))
    assert client.get_experiment(experiment_id).artifact_location == f"{root}/{experiment_id}"
    run = client.create_run(experiment_id)
    assert run.info.artifact_uri == f"{root}/{experiment_id}/{run.info.run_id}/artifacts"


def test_clients_write_run_files_there_and_the_server_serves_them(local_root):
    server, root = local_root
    client = client_of(server)
    run = client.create_run(client.create_experiment(unique("direct")))
    run_id = run.info.run_id
    client.log_text(run_id, "hello", "dir/a.txt")
    on_disk = Path(run.info.artifact_uri) / "dir" / "a.txt"
    assert on_disk.read_text() == "hello"
    listing = requests.get(f"{server.url}/api/2.0/mlflow/artifacts/list", params={"run_id": run_id, "path": "dir"}, timeout=60).json()
    assert listing["root_uri"] == run.info.artifact_uri
    assert listing["files"] == [{"path": "dir/a.txt", "is_dir": False, "file_size": 5}]
    r = requests.get(f"{server.url}/get-artifact", params={"run_id": run_id, "path": "dir/a.txt"}, timeout=60)
    assert (r.status_code, r.text) == (200, "hello")
    r = requests.post(f"{server.url}/ajax-api/2.0/mlflow/upload-artifact", params={"run_uuid": run_id, "path": "up/b.txt"}, data=b"uploaded", timeout=60)
    assert r.status_code == 200, r.text
    assert (Path(run.info.artifact_uri) / "up" / "b.txt").read_text() == "uploaded"


def test_model_version_sources_must_lie_in_the_runs_directory(local_root):
    server, root = local_root
    client = client_of(server)
    run = client.create_run(client.create_experiment(unique("sources")))
    client.log_text(run.info.run_id, "flavors: {}\n", "model/MLmodel")
    name = unique("model")
    client.create_registered_model(name)
    version = client.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    assert version.source == f"{run.info.artifact_uri}/model"
    r = requests.get(f"{server.url}/model-versions/get-artifact", params={"name": name, "version": version.version, "path": "MLmodel"}, timeout=60)
    assert (r.status_code, r.text) == (200, "flavors: {}\n")
    outside = f"{root}/elsewhere"
    r = requests.post(
        f"{server.url}/api/2.0/mlflow/model-versions/create",
        json={"name": name, "source": outside, "run_id": run.info.run_id},
        timeout=60,
    )
    assert r.status_code == 400, r.text
    assert "To use a local path as a model version source, the run_id request parameter has to be specified" in r.json()["message"]


ROUTER_DISABLED = {"detail": "Artifact serving is disabled. Run `mlflow server` with `--serve-artifacts` to enable."}


def test_no_serve_artifacts_turns_the_proxy_off(not_serving):
    server = not_serving
    file_route = "/api/2.0/mlflow-artifacts/artifacts/1/x.txt"
    for method in ("PUT", "GET"):
        r = requests.request(method, server.url + file_route, data=b"x" if method == "PUT" else None, timeout=60)
        assert (r.status_code, r.json()) == (503, ROUTER_DISABLED), (method, r.text)
    for method, path, rule in (
        ("DELETE", file_route, "/api/2.0/mlflow-artifacts/artifacts/<path:artifact_path>"),
        ("GET", "/api/2.0/mlflow-artifacts/artifacts", "/api/2.0/mlflow-artifacts/artifacts"),
    ):
        r = requests.request(method, server.url + path, timeout=60)
        assert r.status_code == 503, (method, r.text)
        assert r.text == (
            f"Endpoint: {rule} disabled due to the mlflow server running with `--no-serve-artifacts`. "
            "To enable artifacts server functionality, run `mlflow server` with `--serve-artifacts`"
        )


def test_no_serve_artifacts_gives_runs_local_directories(not_serving):
    server = not_serving
    client = client_of(server)
    experiment_id = client.create_experiment(unique("no-serve"))
    location = client.get_experiment(experiment_id).artifact_location
    assert os.path.isabs(location) and location.startswith(str(server.cwd)), location
    run = client.create_run(experiment_id)
    client.log_text(run.info.run_id, "local", "a.txt")
    listing = requests.get(f"{server.url}/api/2.0/mlflow/artifacts/list", params={"run_id": run.info.run_id}, timeout=60).json()
    assert listing["files"] == [{"path": "a.txt", "is_dir": False, "file_size": 5}]
