"""Logbook's Python SDK in five minutes.

    pip install ./clients/python                      # from the repository root: gives `import logbook`
    node dist/src/server/cli.js serve                 # a Logbook on 127.0.0.1:50051 (gRPC), or point at yours:
    LOGBOOK_ADDRESS=127.0.0.1:50051 python examples/python/quickstart.py

It logs a training run with the non-blocking Tracker, then records a whole model evaluation — params, metrics,
the financial metrics of its returns, a report and a table, and a registered model version — in one call.
If the server is down, nothing is lost: the calls wait in the spool file and are replayed by the next run.
"""

from __future__ import annotations

import math
import os
import random

from logbook.sdk import ModelSpec, Tracker, financial_metrics

ADDRESS = os.environ.get("LOGBOOK_ADDRESS", "127.0.0.1:50051")


def main() -> None:
    with Tracker(ADDRESS, flush_interval_s=1.0) as tracker:
        # 1. A training run: every call returns at once; a background thread sends LogBatch calls.
        with tracker.start_run(experiment_name="quickstart", run_name="train", tags={"team": "research"}) as run:
            run.log_params({"lr": 0.01, "epochs": 50, "optimizer": "adam"})
            for epoch in range(50):
                run.log_metrics({"loss": math.exp(-epoch / 10), "accuracy": 1 - math.exp(-epoch / 8)}, step=epoch)
            run.log_artifact(b"epochs: 50\nlr: 0.01\n", "config/train.yaml")
        print(f"training run {run.run_id}")

        # 2. A complete evaluation in one call, with a registered model version made from the run.
        rng = random.Random(7)
        returns = [rng.gauss(0.0005, 0.01) for _ in range(252)]  # one year of daily strategy returns
        record = tracker.log_complete_experiment(
            "quickstart-evaluation",
            run_name="aapl-momentum",
            tags={"symbol": "AAPL"},
            params={"window": 20, "universe": "AAPL"},
            metrics={**financial_metrics.summary(returns, periods_per_year=252), "equity": _equity(returns)},
            artifacts={
                "model/weights.json": {"window": 20, "threshold": 0.01},  # dicts are stored as JSON
                "report/trades.csv": [{"day": 1, "pnl": 0.4}, {"day": 2, "pnl": -0.1}],  # tables as CSV
            },
            model=ModelSpec(name="quickstart-momentum", artifact_path="model"),
        )
        print(f"evaluation run {record.run_id}: model {record.model_name} version {record.model_version}"
              + ("" if record.synced else " (server unreachable: spooled, replayed on the next start)"))
        stats = tracker.stats()
        print(f"sent {stats.sent_points} points in {stats.calls.get('LogBatch', 0)} LogBatch calls; "
              f"spooled {stats.spooled_points}, errors {stats.errors}")


def _equity(returns: list[float]) -> list[float]:
    """The compounded equity curve, logged as a step series (step i = after period i)."""
    curve, value = [], 1.0
    for r in returns:
        value *= 1 + r
        curve.append(value)
    return curve


if __name__ == "__main__":
    main()
