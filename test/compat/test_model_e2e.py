"""The model lifecycle end to end with the official client against Logbook, on both stores: train a scikit-learn
model on a synthetic price-returns dataset inside a run (params; sharpe_ratio, max_drawdown, r2), log and register
it with `mlflow.sklearn.log_model(..., registered_model_name=…)`, then load it back through the registry —
`models:/<name>/<version>`, `models:/<name>/Production` after a transition, `models:/<name>@champion` after setting
an alias, `models:/<name>/latest` — and check every loaded model predicts exactly what the trained one does;
plus the registry's raw file route `GET /model-versions/get-artifact?name&version&path`.

Every expectation here was first checked against a real MLflow 3.17.2 server
(`LOGBOOK_COMPAT_REFERENCE=mlflow`, see conftest.py)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import requests

from harness import expect_mlflow_error, unique

pytestmark = pytest.mark.filterwarnings("ignore:.*[Ss]tage.*:FutureWarning")

LAGS = 3
TRADING_DAYS = 252


def price_returns(seed: int, days: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Daily returns of a synthetic asset with some momentum: features are the previous LAGS returns and the
    day's volume change, the target is the next day's return."""
    rng = np.random.default_rng(seed)
    returns = np.zeros(days)
    volume = rng.normal(0, 0.1, days)
    for t in range(LAGS, days):
        returns[t] = 0.35 * returns[t - 1] - 0.15 * returns[t - 2] + 0.002 * volume[t - 1] + rng.normal(0, 0.01)
    rows = [np.r_[returns[t - LAGS:t][::-1], volume[t - 1]] for t in range(LAGS, days)]
    return np.array(rows), returns[LAGS:]


def financial_metrics(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """A long/short strategy on the sign of the prediction: annualised Sharpe ratio, maximum drawdown of its
    equity curve (a negative fraction), and the model's r² on the same days."""
    strategy = np.sign(predicted) * actual
    sharpe = float(strategy.mean() / strategy.std() * math.sqrt(TRADING_DAYS))
    equity = np.cumprod(1 + strategy)
    drawdown = float((equity / np.maximum.accumulate(equity) - 1).min())
    r2 = float(1 - ((actual - predicted) ** 2).sum() / ((actual - actual.mean()) ** 2).sum())
    return {"sharpe_ratio": sharpe, "max_drawdown": drawdown, "r2": r2}


def train_and_register(fluent, name: str, seed: int):
    from sklearn.linear_model import LinearRegression

    x, y = price_returns(seed)
    split = int(len(y) * 0.75)  # chronological: train on the past, test on what follows
    model = LinearRegression().fit(x[:split], y[:split])
    metrics = financial_metrics(model.predict(x[split:]), y[split:])
    with fluent.start_run(run_name=f"lr-seed-{seed}") as run:
        fluent.log_params({"model": "LinearRegression", "lags": LAGS, "train_days": split, "seed": seed})
        fluent.log_metrics(metrics)
        # Explicit requirements: the client skips its requirements inference (a slow local subprocess that
        # never talks to the server); everything else is the client's ordinary log-and-register flow.
        info = fluent.sklearn.log_model(
            model, name="model", registered_model_name=name, pip_requirements=["scikit-learn"],
        )
    return model, x[split:], metrics, run, info


@pytest.fixture
def registered(fluent):
    """Two versions of one registered model: version 1 (seed 1) and version 2 (seed 2, different data)."""
    fluent.set_experiment(unique("e2e"))
    name = unique("aapl-momentum")
    v1 = train_and_register(fluent, name, seed=1)
    v2 = train_and_register(fluent, name, seed=2)
    return name, v1, v2


def test_train_log_register_and_load(fluent, client, registered):
    name, (model1, x_test, metrics1, run1, info1), (model2, _, _, run2, info2) = registered
    expected1 = model1.predict(x_test)
    expected2 = model2.predict(x_test)
    assert not np.array_equal(expected1, expected2)  # so loading the wrong version cannot pass

    # What the run and the registry recorded.
    got_run = client.get_run(run1.info.run_id)
    train_days = len(price_returns(1)[1]) - len(x_test)
    assert got_run.data.params == {"model": "LinearRegression", "lags": str(LAGS), "train_days": str(train_days),
                                   "seed": "1"}
    assert got_run.data.metrics == metrics1
    assert metrics1["max_drawdown"] <= 0 and -1 <= metrics1["r2"] <= 1
    assert [o.model_id for o in got_run.outputs.model_outputs] == [info1.model_id]
    assert info1.registered_model_version == "1" and info2.registered_model_version == "2"
    mv1 = client.get_model_version(name, "1")
    assert mv1.run_id == run1.info.run_id
    assert mv1.source == f"models:/{info1.model_id}"
    assert mv1.status == "READY"
    assert client.get_model_version(name, "2").run_id == run2.info.run_id
    logged = fluent.get_logged_model(info1.model_id)
    assert logged.source_run_id == run1.info.run_id
    assert client.get_model_version_download_uri(name, "1") == logged.artifact_location

    # Loaded by version number.
    loaded = fluent.pyfunc.load_model(f"models:/{name}/1")
    assert np.array_equal(loaded.predict(x_test), expected1)
    assert np.array_equal(fluent.pyfunc.load_model(f"models:/{name}/2").predict(x_test), expected2)
    assert np.array_equal(fluent.pyfunc.load_model(f"models:/{name}/latest").predict(x_test), expected2)
    assert np.array_equal(fluent.sklearn.load_model(f"models:/{name}/1").predict(x_test), expected1)

    # By stage, after a transition (version 1 is promoted although 2 is newer).
    client.transition_model_version_stage(name, "1", "Production")
    client.transition_model_version_stage(name, "2", "Staging")
    assert np.array_equal(fluent.pyfunc.load_model(f"models:/{name}/Production").predict(x_test), expected1)
    assert np.array_equal(fluent.pyfunc.load_model(f"models:/{name}/Staging").predict(x_test), expected2)
    # Promoting 2 with archive_existing_versions moves Production to it.
    client.transition_model_version_stage(name, "2", "Production", archive_existing_versions=True)
    assert client.get_model_version(name, "1").current_stage == "Archived"
    assert np.array_equal(fluent.pyfunc.load_model(f"models:/{name}/Production").predict(x_test), expected2)

    # By alias.
    client.set_registered_model_alias(name, "champion", "1")
    assert np.array_equal(fluent.pyfunc.load_model(f"models:/{name}@champion").predict(x_test), expected1)
    client.set_registered_model_alias(name, "champion", "2")
    assert np.array_equal(fluent.pyfunc.load_model(f"models:/{name}@champion").predict(x_test), expected2)

    # And by the logged model's own URI.
    assert np.array_equal(fluent.pyfunc.load_model(info1.model_uri).predict(x_test), expected1)

    # mlflow.register_model with the run's URI finds the logged model (logged-models/search by run and name).
    other = unique("aapl-momentum-copy")
    mv = fluent.register_model(f"runs:/{run1.info.run_id}/model", other)
    assert mv.version == "1" and mv.source == f"models:/{info1.model_id}" and mv.run_id == run1.info.run_id
    assert np.array_equal(fluent.pyfunc.load_model(f"models:/{other}/1").predict(x_test), expected1)


def attachment_name(r: requests.Response) -> str | None:
    """The file name of a `Content-Disposition: attachment` header, as an RFC 6266 reader gets it (MLflow writes
    `attachment; filename=MLmodel`; `filename="…"; filename*=UTF-8''…` names the same file)."""
    from email.message import Message

    m = Message()
    m["Content-Disposition"] = r.headers["Content-Disposition"]
    assert m.get_content_disposition() == "attachment", r.headers["Content-Disposition"]
    return m.get_filename()


def test_model_version_get_artifact_route(fluent, logbook, registered, tmp_path):
    name, (_, _, _, _, info1), (_, _, _, _, info2) = registered
    local = Path(fluent.artifacts.download_artifacts(f"models:/{name}/1", dst_path=str(tmp_path / "v1")))
    local2 = Path(fluent.artifacts.download_artifacts(f"models:/{name}/2", dst_path=str(tmp_path / "v2")))
    # registered_model_meta is written by the client itself when it downloads through a models:/<name> URI.
    assert {p.name for p in local.iterdir()} == {"MLmodel", "model.skops", "requirements.txt", "conda.yaml",
                                                  "python_env.yaml", "registered_model_meta"}
    assert f"model_id: {info1.model_id}" in (local / "MLmodel").read_text()

    def get(**params):
        return requests.get(f"{logbook.url}/model-versions/get-artifact", params=params, timeout=30)

    for path in ("MLmodel", "model.skops", "requirements.txt"):
        r = get(name=name, version="1", path=path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        assert r.content == (local / path).read_bytes(), path
        assert attachment_name(r) == path
    assert get(name=name, version="2", path="model.skops").content == (local2 / "model.skops").read_bytes()
    assert (local / "model.skops").read_bytes() != (local2 / "model.skops").read_bytes()

    def error(r):
        assert r.headers["Content-Type"].startswith("application/json"), r.text[:300]
        return r.status_code, r.json()["error_code"]

    assert error(get(name=name, version="1", path="no-such-file")) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert error(get(name=name, version="9", path="MLmodel")) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert error(get(name=unique("no-model"), version="1", path="MLmodel")) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert error(get(name=name, version="1", path="../../../etc/passwd")) == (400, "INVALID_PARAMETER_VALUE")
    # MLflow serves the extension-less MLmodel (and requirements.txt) as text/plain, model.skops as octet-stream.
    assert get(name=name, version="1", path="requirements.txt").headers["Content-Type"].startswith("text/plain")
    assert get(name=name, version="1", path="model.skops").headers["Content-Type"] == "application/octet-stream"
    assert get(name=name, version="1", path="MLmodel").headers["Content-Type"].startswith("text/plain")


def test_loading_unknown_versions_and_aliases(fluent, client):
    name = unique("empty-model")
    client.create_registered_model(name)
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        fluent.pyfunc.load_model(f"models:/{name}/7")
    with expect_mlflow_error("INVALID_PARAMETER_VALUE"):
        fluent.pyfunc.load_model(f"models:/{name}@nobody")
    with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        fluent.pyfunc.load_model(f"models:/{unique('never-registered')}/1")
    # No version in the stage: get-latest-versions answers an empty list and the client raises its own error.
    with expect_mlflow_error("INTERNAL_ERROR") as err:
        fluent.pyfunc.load_model(f"models:/{name}/Production")
    assert "No versions of model with name" in str(err.value)
