"""Artifacts with the official client against Logbook, on both stores: the fluent `log_artifact`,
`log_artifacts` (a directory tree), `log_text`, `log_dict`, `log_image`, `MlflowClient.list_artifacts`,
`MlflowClient.download_artifacts` and `mlflow.artifacts.download_artifacts` — all through MLflow's
proxied `mlflow-artifacts:` URIs (PUT/GET/list on /api/2.0/mlflow-artifacts/artifacts)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import requests

from harness import unique


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def list_under(run, path: str):
    """A sub-directory's listing through the run's mlflow-artifacts: root (the proxy's list route).

    `MlflowClient.list_artifacts(run_id, <sub-path>)` also asks `POST logged-models/search` for a logged
    model of that name (MLflow 3's RunsArtifactRepository), which the Search issue serves:
    test_client_lists_sub_directories below goes that way."""
    import mlflow

    return mlflow.artifacts.list_artifacts(artifact_uri=f"{run.info.artifact_uri}/{path}")


@pytest.fixture
def run(fluent):
    fluent.set_experiment(unique("artifacts"))
    with fluent.start_run() as active:
        yield active


def test_run_artifact_uri_is_proxied(run, logbook):
    exp_id, run_id = run.info.experiment_id, run.info.run_id
    assert run.info.artifact_uri == f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts"
    info = requests.get(f"{logbook.url}/api/3.0/mlflow/server-info", timeout=10).json()
    assert info["multipart_uploads_enabled"] is False and info["multipart_downloads_enabled"] is False


def test_log_artifact_then_list_and_download(fluent, run, client, tmp_path):
    src = tmp_path / "report.txt"
    src.write_text("sharpe 1.42\n")
    blob = tmp_path / "weights.bin"
    blob.write_bytes(os.urandom(3 * 1024 * 1024 + 17))  # several 1 MiB chunks
    fluent.log_artifact(str(src))
    fluent.log_artifact(str(blob), artifact_path="model")
    run_id = run.info.run_id

    top = {f.path: f for f in client.list_artifacts(run_id)}
    assert set(top) == {"report.txt", "model"}
    assert not top["report.txt"].is_dir and top["report.txt"].file_size == len("sharpe 1.42\n")
    assert top["model"].is_dir
    inner = list_under(run, "model")
    assert [(f.path, f.is_dir, f.file_size) for f in inner] == [("model/weights.bin", False, blob.stat().st_size)]

    out = Path(client.download_artifacts(run_id, "model/weights.bin", str(tmp_path / "dl1")))
    assert sha256(out) == sha256(blob)
    out2 = Path(fluent.artifacts.download_artifacts(run_id=run_id, artifact_path="report.txt", dst_path=str(tmp_path / "dl2")))
    assert out2.read_text() == "sharpe 1.42\n"


def test_log_artifacts_directory_round_trip(fluent, run, client, tmp_path):
    tree = tmp_path / "eval"
    (tree / "plots" / "deep").mkdir(parents=True)
    (tree / "summary.json").write_text('{"auc": 0.91}')
    (tree / "plots" / "roc.csv").write_text("fpr,tpr\n0,0\n1,1\n")
    (tree / "plots" / "deep" / "empty.txt").write_bytes(b"")
    fluent.log_artifacts(str(tree), artifact_path="evaluation")
    run_id = run.info.run_id

    assert [(f.path, f.is_dir) for f in list_under(run, "evaluation")] == [
        ("evaluation/plots", True),
        ("evaluation/summary.json", False),
    ]
    whole = Path(fluent.artifacts.download_artifacts(artifact_uri=f"runs:/{run_id}/evaluation", dst_path=str(tmp_path / "dl")))
    got = sorted(p.relative_to(whole).as_posix() for p in whole.rglob("*") if p.is_file())
    assert got == ["plots/deep/empty.txt", "plots/roc.csv", "summary.json"]
    for rel in got:
        assert (whole / rel).read_bytes() == (tree / rel).read_bytes()
    # The whole run root, via the client.
    root = Path(client.download_artifacts(run_id, "", str(tmp_path / "dl-root")))
    assert (root / "evaluation" / "plots" / "roc.csv").read_text() == "fpr,tpr\n0,0\n1,1\n"


def test_log_text_and_dict(fluent, run):
    run_id = run.info.run_id
    fluent.log_text("hello, ünïcode\n", "notes/hello.txt")
    fluent.log_dict({"a": 1, "b": [1, 2]}, "config.json")
    fluent.log_dict({"lr": 0.01}, "config.yaml")
    assert fluent.artifacts.load_text(f"runs:/{run_id}/notes/hello.txt") == "hello, ünïcode\n"
    assert fluent.artifacts.load_dict(f"runs:/{run_id}/config.json") == {"a": 1, "b": [1, 2]}
    assert fluent.artifacts.load_text(f"runs:/{run_id}/config.yaml").strip() == "lr: 0.01"


def test_log_image(fluent, run):
    import numpy as np

    image = np.zeros((8, 8, 3), dtype=np.uint8)
    image[2:6, 2:6] = 255
    fluent.log_image(image, "images/square.png")
    files = list_under(run, "images")
    assert [f.path for f in files] == ["images/square.png"] and files[0].file_size > 0
    loaded = fluent.artifacts.load_image(f"runs:/{run.info.run_id}/images/square.png")
    assert loaded.size == (8, 8)


def test_traversal_is_refused(logbook, run):
    base = f"{logbook.url}/api/2.0/mlflow-artifacts/artifacts"
    for path in ["%2e%2e/escape.txt", "%252e%252e/escape.txt", "a/%2e%2e/%2e%2e/escape.txt", "a%5c..%5cescape.txt"]:
        res = requests.put(f"{base}/{path}", data=b"x", timeout=10)
        assert res.status_code == 400, path
        assert res.json() == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"}


def test_client_lists_sub_directories(fluent, run, client, tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("a")
    fluent.log_artifact(str(src), artifact_path="sub")
    assert [(f.path, f.is_dir) for f in client.list_artifacts(run.info.run_id, "sub")] == [("sub/a.txt", False)]
