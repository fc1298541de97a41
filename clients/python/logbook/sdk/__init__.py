"""Logbook's tracking SDK: a thin layer over the generated client (``logbook.v1``).

    from logbook.sdk import Tracker

    with Tracker("127.0.0.1:50051") as tracker:
        with tracker.start_run(experiment_name="demo", run_name="train", tags={"team": "research"}) as run:
            run.log_param("lr", 0.01)
            for step in range(100):
                run.log_metric("loss", 1 / (step + 1), step=step)   # returns at once; sent in batches

- ``Tracker``: non-blocking logging, LogBatch batching within the per-call limits, an offline spool replayed when
  the server is back (tracker.py);
- ``log_complete_experiment``: one call for a whole experiment, optionally with a registered model version
  (experiment.py);
- ``Tracker.watch_run`` / ``Tracker.compare_runs``: a run live (an iterator of its changes) and runs side by side
  (watch.py);
- ``financial_metrics``: annualised return/volatility, Sharpe, Sortino, max drawdown, Calmar, hit rate.
"""

from . import financial_metrics
from ._errors import ReportedError
from .experiment import ExperimentRecord, ModelSpec, log_complete_experiment, table_to_csv
from .run import ActiveRun
from .tracker import Tracker, TrackerStats, new_run_id
from .watch import compare_runs, watch_run

__all__ = [
    "ActiveRun",
    "ExperimentRecord",
    "ModelSpec",
    "ReportedError",
    "Tracker",
    "TrackerStats",
    "compare_runs",
    "financial_metrics",
    "log_complete_experiment",
    "new_run_id",
    "table_to_csv",
    "watch_run",
]
