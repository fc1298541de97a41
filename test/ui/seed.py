"""
Seeds an MLflow-compatible tracking server with the browser suite's data, through the official client only:

    python test/ui/seed.py http://127.0.0.1:5000 seeded.json      → writes what was created (ids, names, values)

Two experiments with 30 runs in all (params, tags, 50-step metric histories), one run with a JSON and a PNG
artifact and a dataset input, and a registered model with two versions logged by `mlflow.sklearn.log_model`
(each a logged model with the run's metrics linked to it), version 2 in Production with the alias `champion`.
Metric values are deterministic (from the run's index); timestamps are fixed, so the same seed on Logbook and on a
real `mlflow server` shows the same values. The suite runs it once per server.
"""

from __future__ import annotations

import json
import math
import os
import struct
import sys
import tempfile
import warnings
import zlib

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")
warnings.filterwarnings("ignore")

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param, RunTag  # noqa: E402

EXPERIMENTS = ("ui-momentum", "ui-mean-reversion")
RUNS_PER_EXPERIMENT = (20, 10)
SYMBOLS = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOG")
STEPS = 50
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z: fixed metric timestamps, one second per step
MODEL_NAME = "ui-classifier"
ALIAS = "champion"


def png_bytes(width: int = 32, height: int = 16) -> bytes:
    """A small RGB gradient as a PNG, written by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // (width - 1), y * 255 // (height - 1), 160)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def history(index: int, step: int) -> dict[str, float]:
    """The run's metric values at one step: a decaying loss and a rising Sharpe ratio, distinct per run."""
    loss = round(1.0 / (1 + step * (0.05 + index / 400)) + index / 1000, 6)
    sharpe = round(0.2 + index / 20 + 1.5 * (1 - math.exp(-step / 12)), 6)
    return {"loss": loss, "sharpe_ratio": sharpe}


def seed_runs(client: MlflowClient, experiment_id: str, first_index: int, count: int) -> list[dict]:
    runs = []
    for i in range(first_index, first_index + count):
        symbol = SYMBOLS[i % len(SYMBOLS)]
        name = f"run-{i:02d}-{symbol.lower()}"
        run = client.create_run(experiment_id, run_name=name, tags={"symbol": symbol}, start_time=T0 + i * 60_000)
        run_id = run.info.run_id
        metrics = [
            Metric(key, value, T0 + i * 60_000 + step * 1000, step)
            for step in range(STEPS)
            for key, value in history(i, step).items()
        ]
        params = [Param("symbol", symbol), Param("lookback", str(10 + i)), Param("learning_rate", f"{0.001 * (1 + i % 4):.3f}")]
        tags = [RunTag("team", "quant" if i % 2 == 0 else "research")]
        client.log_batch(run_id, metrics=metrics, params=params, tags=tags)
        client.set_terminated(run_id, "FINISHED", end_time=T0 + i * 60_000 + STEPS * 1000)
        final = history(i, STEPS - 1)
        runs.append({"run_id": run_id, "name": name, "symbol": symbol, "lookback": str(10 + i), **{f"final_{k}": v for k, v in final.items()}})
    return runs


def seed_artifacts_and_dataset(client: MlflowClient, run_id: str) -> None:
    client.log_dict(run_id, {"symbol": "AAPL", "window": 20, "features": ["ret_1", "ret_5", "volume"]}, "config/params.json")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "equity_curve.png")
        with open(path, "wb") as f:
            f.write(png_bytes())
        client.log_artifact(run_id, path, "plots")
    import pandas as pd

    frame = pd.DataFrame({"ret_1": [0.01, -0.02, 0.005], "volume": [1.0, 1.2, 0.9], "target": [1, 0, 1]})
    dataset = mlflow.data.from_pandas(frame, name="prices-daily", targets="target")
    with mlflow.start_run(run_id=run_id):
        mlflow.log_input(dataset, context="training")


def seed_models(experiment_id: str) -> list[dict]:
    """Two runs that log metrics, then log and register a model: MLflow re-logs the metrics with the model's id."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(7)
    x = rng.normal(size=(60, 3))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    made = []
    for version, c in ((1, 0.5), (2, 2.0)):
        model = LogisticRegression(C=c).fit(x, y)
        accuracy = round(float(model.score(x, y)), 6)
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"train-classifier-v{version}") as run:
            mlflow.log_params({"C": c, "model": "LogisticRegression"})
            mlflow.log_metrics({"accuracy": accuracy, "log_loss": round(0.7 / (version + 1), 6)}, step=0)
            info = mlflow.sklearn.log_model(model, name="model", registered_model_name=MODEL_NAME, pip_requirements=["scikit-learn"])
        made.append({"run_id": run.info.run_id, "run_name": f"train-classifier-v{version}", "model_id": info.model_id, "accuracy": accuracy})
    return made


def main() -> None:
    url, out = sys.argv[1], sys.argv[2]
    mlflow.set_tracking_uri(url)
    client = MlflowClient(url)
    experiments = []
    runs: list[dict] = []
    index = 0
    for name, count in zip(EXPERIMENTS, RUNS_PER_EXPERIMENT):
        experiment_id = client.create_experiment(name, tags={"desk": "equities"})
        created = seed_runs(client, experiment_id, index, count)
        experiments.append({"experiment_id": experiment_id, "name": name, "runs": [r["run_id"] for r in created]})
        runs += created
        index += count
    seed_artifacts_and_dataset(client, runs[0]["run_id"])
    models = seed_models(experiments[0]["experiment_id"])
    client.transition_model_version_stage(MODEL_NAME, "2", "Production")
    client.set_registered_model_alias(MODEL_NAME, ALIAS, "2")
    client.update_registered_model(MODEL_NAME, description="Direction classifier for the UI suite")
    with open(out, "w") as f:
        json.dump({"experiments": experiments, "runs": runs, "models": models, "registered_model": MODEL_NAME, "alias": ALIAS}, f)


if __name__ == "__main__":
    main()
