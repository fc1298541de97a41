"""A run being logged to: what Tracker.start_run returns. Its methods only queue and return."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional, Union

from ._calls import RUN_STATUS
from ._errors import ReportedError

if TYPE_CHECKING:
    from .tracker import Tracker


def now_ms() -> int:
    return int(time.time() * 1000)


class ActiveRun:
    """A run being logged to (from Tracker.start_run). Every method returns at once."""

    def __init__(self, tracker: Tracker, run_id: str, experiment_name: Optional[str], run_name: Optional[str]):
        self.tracker = tracker
        self.run_id = run_id
        self.experiment_name = experiment_name
        self.run_name = run_name
        self.ended = False

    def log_param(self, key: str, value: Any) -> None:
        self.tracker._enqueue("param", self.run_id, {"key": str(key), "value": str(value)})

    def log_params(self, params: Mapping[str, Any]) -> None:
        for key, value in params.items():
            self.log_param(key, value)

    def set_tag(self, key: str, value: Any) -> None:
        self.tracker._enqueue("tag", self.run_id, {"key": str(key), "value": str(value)})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        for key, value in tags.items():
            self.set_tag(key, value)

    def log_metric(self, key: str, value: float, step: Optional[int] = None, timestamp: Optional[int] = None) -> None:
        """Queues one point; `timestamp` (ms) defaults to now, taken here, so a replay sends the identical point."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.tracker._report(ReportedError("LogMetric", self.run_id, "INVALID_ARGUMENT", "INVALID_PARAMETER_VALUE",
                                               f"metric {key!r}: {value!r} is not a number", 1))
            return
        self.tracker._enqueue("metric", self.run_id, {
            "key": str(key),
            "value": number,
            "timestamp": int(timestamp) if timestamp is not None else now_ms(),
            "step": int(step) if step is not None else 0,
        })

    def log_metrics(self, metrics: Mapping[str, float], step: Optional[int] = None,
                    timestamp: Optional[int] = None) -> None:
        ts = int(timestamp) if timestamp is not None else now_ms()
        for key, value in metrics.items():
            self.log_metric(key, value, step=step, timestamp=ts)

    def log_artifact(self, local_path_or_bytes: Union[str, os.PathLike, bytes, bytearray],
                     artifact_path: Optional[str] = None) -> None:
        """Uploads a file (to `artifact_path`/<its name>), a directory (its files under `artifact_path`), or bytes
        (to the file path `artifact_path`, required then). The content is read now; the upload happens in the
        background, in order with the rest."""
        if isinstance(local_path_or_bytes, (bytes, bytearray, memoryview)):
            if not artifact_path:
                raise ValueError("log_artifact(bytes) needs artifact_path: the file's path in the run")
            self._upload(artifact_path, bytes(local_path_or_bytes))
            return
        local = Path(local_path_or_bytes)
        prefix = artifact_path.strip("/") + "/" if artifact_path else ""
        if local.is_dir():
            for file in sorted(p for p in local.rglob("*") if p.is_file()):
                self._upload(prefix + file.relative_to(local).as_posix(), file.read_bytes())
        else:
            self._upload(prefix + local.name, local.read_bytes())

    def _upload(self, path: str, data: bytes) -> None:
        self.tracker._enqueue_call(self.run_id, {
            "op": "artifact", "run_id": self.run_id, "path": path, "data": base64.b64encode(data).decode("ascii"),
        })

    def end(self, status: str = "FINISHED") -> None:
        """Ends the run (FINISHED, FAILED or KILLED); later calls on an ended run are ignored."""
        if self.ended:
            return
        status = str(status).upper().replace("RUN_STATUS_", "")
        if status not in RUN_STATUS:
            raise ValueError(f"unknown run status {status!r}; expected one of {sorted(RUN_STATUS)}")
        self.ended = True
        self.tracker._enqueue_call(self.run_id, {
            "op": "update_run", "run_id": self.run_id, "status": status, "end_time": now_ms(),
        })
        if self in self.tracker._runs:
            self.tracker._runs.remove(self)

    def __enter__(self) -> "ActiveRun":
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self.end("FAILED" if exc_type is not None else "FINISHED")

    def __repr__(self) -> str:
        return f"ActiveRun(run_id={self.run_id!r}, experiment_name={self.experiment_name!r})"
