"""log_complete_experiment: one call records a complete experiment, as the analysis service did for model
evaluation and feature selection — the experiment by name (created if missing), a run with tags, params, metrics
(single values and step series), artifacts (files, bytes, dicts as JSON, tables as CSV) and, optionally, a
registered model version made from the run. It goes through a Tracker, so it batches, and spools while the server
is away, like every other call."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import uuid
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from .run import ActiveRun, now_ms
from .tracker import Tracker

Table = Union[Sequence[Mapping[str, Any]], Mapping[str, Sequence[Any]]]
MetricValue = Union[float, Sequence[float], Sequence[Tuple[int, float]], Mapping[int, float]]


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A registered model version to make from the run: `source` is ``runs:/<run_id>/<artifact_path>``."""

    name: str
    artifact_path: str = "model"
    tags: Optional[Mapping[str, Any]] = None
    description: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class ExperimentRecord:
    """What log_complete_experiment recorded. `synced`: the server has all of it (False: it waits in the spool, to
    be replayed); `model_version` is None unless the version was made (or when no model was asked for)."""

    experiment_name: str
    run_id: str
    model_name: Optional[str]
    model_version: Optional[str]
    synced: bool


def table_to_csv(table: Table) -> bytes:
    """A table without pandas: a list of row dicts (columns in first-seen order) or a dict of equal-length
    columns → CSV (UTF-8, header row, \\n line ends)."""
    if isinstance(table, Mapping):
        columns = [str(c) for c in table.keys()]
        lengths = {len(v) for v in table.values()}
        if len(lengths) > 1:
            raise ValueError(f"table columns differ in length: {sorted(lengths)}")
        rows: List[Dict[str, Any]] = [dict(zip(columns, values)) for values in zip(*table.values())]
    else:
        rows = [dict(r) for r in table]
        columns = []
        for row in rows:
            columns.extend(str(k) for k in row if str(k) not in columns)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", restval="")
    writer.writeheader()
    for row in rows:
        writer.writerow({str(k): v for k, v in row.items()})
    return out.getvalue().encode("utf-8")


def artifact_bytes(path: str, value: Any) -> bytes:
    """How an artifact value becomes a file: bytes as they are; a str or os.PathLike naming a file, its content;
    a list or dict at a path ending in `.csv`, a table (table_to_csv); any other dict or list, JSON."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (str, os.PathLike)):
        return Path(value).read_bytes()
    if path.lower().endswith(".csv") and isinstance(value, (list, tuple, Mapping)):
        return table_to_csv(value)
    if isinstance(value, (Mapping, list, tuple)):
        return (json.dumps(value, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8")
    raise TypeError(f"artifact {path!r}: cannot store a {type(value).__name__} (bytes, a file path, a dict or a table)")


def metric_points(value: MetricValue) -> Iterable[Tuple[int, float]]:
    """(step, value) pairs: a number is step 0; a list of numbers is steps 0…n−1; a list of (step, value) pairs
    or a {step: value} dict keeps its steps."""
    if isinstance(value, Mapping):
        return [(int(s), float(v)) for s, v in value.items()]
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, (list, tuple)) and len(v) == 2 for v in value):
            return [(int(s), float(v)) for s, v in value]
        return [(i, float(v)) for i, v in enumerate(value)]
    return [(0, float(value))]


def record_experiment(
    tracker: Tracker,
    experiment_name: str,
    *,
    run_name: Optional[str] = None,
    tags: Optional[Mapping[str, Any]] = None,
    params: Optional[Mapping[str, Any]] = None,
    metrics: Optional[Mapping[str, MetricValue]] = None,
    artifacts: Optional[Mapping[str, Any]] = None,
    model: Optional[Union[str, ModelSpec, Mapping[str, Any]]] = None,
    status: str = "FINISHED",
    wait_s: Optional[float] = 60.0,
) -> ExperimentRecord:
    run: ActiveRun = tracker.start_run(experiment_name=experiment_name, run_name=run_name, tags=tags)
    run.log_params(params or {})
    timestamp = now_ms()
    for key, value in (metrics or {}).items():
        for step, number in metric_points(value):
            run.log_metric(key, number, step=step, timestamp=timestamp)
    for path, value in (artifacts or {}).items():
        run.log_artifact(artifact_bytes(path, value), path)
    spec: Optional[ModelSpec] = None
    result_id = None
    if model is not None:
        spec = ModelSpec(model) if isinstance(model, str) else model if isinstance(model, ModelSpec) else ModelSpec(**model)
        result_id = uuid.uuid4().hex
        tracker._enqueue_call(run.run_id, {
            "op": "register_model",
            "id": result_id,
            "name": spec.name,
            "run_id": run.run_id,
            "source": f"runs:/{run.run_id}/{spec.artifact_path.strip('/')}",
            "tags": [{"key": str(k), "value": str(v)} for k, v in (spec.tags or {}).items()],
            "description": spec.description,
        })
    run.end(status)
    # Everything sent — or, with the server away, spooled: then answer at once (synced=False), never wait for it.
    synced = tracker.flush(wait_s) and not tracker.stats().offline
    return ExperimentRecord(
        experiment_name=experiment_name,
        run_id=run.run_id,
        model_name=spec.name if spec else None,
        model_version=tracker.model_version(result_id) if result_id else None,
        synced=synced,
    )


def log_complete_experiment(
    target: Union[str, Tracker],
    experiment_name: str,
    **kwargs: Any,
) -> ExperimentRecord:
    """Records a complete experiment in one call; `target` is a Tracker, or an address ("host:port") for a tracker
    made and closed for this call (its `spool_path` and other Tracker options may be given as keyword arguments).

    Keyword arguments: run_name, tags {key: value}, params {key: value}, metrics {key: number | [v0, v1, …] |
    [(step, v), …] | {step: v}}, artifacts {path in the run: bytes | local file path | dict (JSON) | table at a
    `.csv` path (list of row dicts or dict of columns)}, model (a name, a ModelSpec or a dict of its fields: a
    registered model, created if missing, and a version with source ``runs:/<run_id>/<artifact_path>``), status
    (default FINISHED), wait_s (how long to wait for the server to have it all, default 60; the answer says
    whether it did, and the rest is replayed from the spool later).
    """
    if isinstance(target, Tracker):
        return record_experiment(target, experiment_name, **kwargs)
    record_keys = {"run_name", "tags", "params", "metrics", "artifacts", "model", "status", "wait_s"}
    tracker_kwargs = {k: v for k, v in kwargs.items() if k not in record_keys}
    tracker = Tracker(target, **tracker_kwargs)
    try:
        return record_experiment(tracker, experiment_name, **{k: v for k, v in kwargs.items() if k in record_keys})
    finally:
        tracker.close()


def _method(self: Tracker, experiment_name: str, **kwargs: Any) -> ExperimentRecord:
    return record_experiment(self, experiment_name, **kwargs)


_method.__doc__ = log_complete_experiment.__doc__
Tracker.log_complete_experiment = _method  # type: ignore[attr-defined]
