"""
Logbook's service endpoints (README, "HTTP"): `GET /mlflow/runs/{run_id}`
and `GET /mlflow/status`, read with plain `requests` after writing through the official client, on both stores.
"""

from __future__ import annotations

import requests

from harness import unique


def test_run_by_path_matches_runs_get(logbook, client):
    exp_id = client.create_experiment(unique("svc"))
    run = client.create_run(exp_id, run_name="svc-run", tags={"symbol": "AAPL"})
    run_id = run.info.run_id
    client.log_param(run_id, "window", "20")
    client.log_metric(run_id, "sharpe_ratio", 1.25, timestamp=5, step=2)

    by_path = requests.get(f"{logbook.url}/mlflow/runs/{run_id}", timeout=30)
    assert by_path.status_code == 200, by_path.text
    assert by_path.headers["content-type"].startswith("application/json")
    body = by_path.json()
    mlflow_route = requests.get(f"{logbook.url}/api/2.0/mlflow/runs/get", params={"run_id": run_id}, timeout=30).json()
    assert body == mlflow_route
    info = body["run"]["info"]
    assert info["run_id"] == run_id and info["experiment_id"] == exp_id and info["status"] == "RUNNING"
    assert body["run"]["data"]["params"] == [{"key": "window", "value": "20"}]
    assert body["run"]["data"]["metrics"] == [{"key": "sharpe_ratio", "value": 1.25, "timestamp": 5, "step": 2}]


def test_run_by_path_unknown(logbook):
    r = requests.get(f"{logbook.url}/mlflow/runs/0123456789abcdef0123456789abcdef", timeout=30)
    assert r.status_code == 404
    assert r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_status(logbook, client):
    def status():
        r = requests.get(f"{logbook.url}/mlflow/status", timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    before = status()
    assert before["status"] == "ok"
    assert isinstance(before["version"], str) and before["version"]
    assert isinstance(before["uptime_seconds"], (int, float)) and before["uptime_seconds"] >= 0
    assert before["store"]["kind"] == logbook.store_kind
    assert before["store"]["reachable"] is True
    assert isinstance(before["store"]["location"], str) and "@" not in before["store"]["location"]
    assert before["http_port"] == logbook.http_port
    assert before["grpc_port"] == logbook.grpc_port
    counts = before["counts"]
    for key in ("experiments", "runs", "registered_models", "model_versions"):
        assert isinstance(counts.get(key, 0), int), key

    exp_id = client.create_experiment(unique("counted"))
    client.create_run(exp_id)
    client.create_run(exp_id)
    after = status()["counts"]
    assert after["experiments"] == counts.get("experiments", 0) + 1
    assert after["runs"] == counts.get("runs", 0) + 2
