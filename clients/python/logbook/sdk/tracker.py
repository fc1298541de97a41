"""The tracker: non-blocking logging with batching, a background sender and an offline spool.

Every ``log_*`` call only appends to an in-memory queue and returns. One background thread takes the queue in
order, packs consecutive metrics/params/tags of a run into LogBatch calls within MLflow's per-call limits (≤ 1000
metrics, ≤ 100 params, ≤ 100 tags, ≤ 1000 in all; the order of the points of a key is kept) and sends them when a
full batch is ready, when ``flush_interval_s`` has passed since the oldest queued point, on ``flush()``,
``close()`` and at process exit (atexit).

When the server is unreachable or answers UNAVAILABLE or DEADLINE_EXCEEDED, the call goes to the spool (an
append-only JSON-lines file, see _spool.py) and so does everything after it, in order, until a replay (probed with
exponential backoff and jitter) got the whole spool through. A spool left by an earlier process is replayed at
start. Any other error is reported (``on_error`` callback, a warning on the ``logbook.sdk`` logger and
``stats().errors``) and the call is dropped, never retried and never raised into the caller.
"""

from __future__ import annotations

import atexit
import collections
import dataclasses
import logging
import os
import random
import re
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import Any, Callable, Deque, Dict, Iterator, List, Mapping, Optional, Sequence, Union

import grpc

from ._auth import BearerToken
from ._calls import MAX_ENTITIES, MAX_METRICS, MAX_PARAMS, MAX_TAGS, CallSender, method_of, points_of
from ._errors import ReportedError, describe, is_retryable
from ._spool import open_spool
from .run import ActiveRun, now_ms
from .watch import compare_runs, watch_run

logger = logging.getLogger("logbook.sdk")

_LIVE: "weakref.WeakSet[Tracker]" = weakref.WeakSet()


@atexit.register
def _close_all_at_exit() -> None:
    for tracker in list(_LIVE):
        try:
            tracker.close(timeout=tracker.exit_timeout_s)
        except Exception:  # noqa: BLE001 - never fail the interpreter's exit
            logger.exception("logbook: closing a tracker at exit failed")


def new_run_id() -> str:
    """A client-chosen run id: 32 lowercase hex characters (what CreateRun accepts)."""
    return uuid.uuid4().hex


@dataclasses.dataclass(frozen=True)
class TrackerStats:
    """Counts, not times. A point is one metric value, param or tag.

    queued: points logged and not yet taken by the sender; in_flight: points in the call being sent now;
    sent_points / calls: what the server took (calls by method, spool replays included); spooled_points /
    spooled_calls: written to the spool; replayed_calls: spooled calls that went through later; dropped_points:
    lost because the in-memory queue or the spool was full; failed_points / errors: refused by the server
    (non-retryable); offline: the spool has calls waiting.
    """

    queued: int
    in_flight: int
    sent_points: int
    calls: Dict[str, int]
    spooled_points: int
    spooled_calls: int
    replayed_calls: int
    dropped_points: int
    failed_points: int
    errors: int
    spool_bytes: int
    offline: bool


@dataclasses.dataclass
class _Item:
    kind: str  # "metric" | "param" | "tag" | "call"
    run_id: str
    body: dict
    seq: int
    at: float  # time.monotonic() when queued


def _default_spool_path(address: str) -> str:
    base = os.environ.get("LOGBOOK_SPOOL_DIR") or os.path.join(Path.home(), ".cache", "logbook", "spool")
    return os.path.join(base, re.sub(r"[^A-Za-z0-9_.-]+", "_", address) + ".jsonl")


class Tracker:
    """Logs runs to a Logbook server at ``address`` ("host:port") without ever blocking or raising on the server.

    ``spool_path``: the offline spool (default ``$LOGBOOK_SPOOL_DIR`` or ``~/.cache/logbook/spool/<address>.jsonl``);
    ``max_spool_bytes`` bounds it. ``flush_interval_s``: the longest a point waits in memory. ``on_error``: called
    (on the sender thread) with a ReportedError for each call the server refused. ``interceptors``: grpc client
    interceptors for the channel (e.g. to count calls). ``token``: a personal access token for a Logbook started with
    ``--auth basic`` (default ``$LOGBOOK_TOKEN``); a call refused for its credentials is reported, not retried.
    ``tls``: connect over TLS (default ``$LOGBOOK_TLS`` == "true"); bytes: the PEM of the CA to trust. Use as a context
    manager, or call ``close()``.
    """

    def __init__(
        self,
        address: str,
        spool_path: Optional[Union[str, os.PathLike]] = None,
        flush_interval_s: float = 2.0,
        *,
        max_spool_bytes: int = 256 << 20,
        max_queue: int = 1_000_000,
        call_timeout_s: float = 30.0,
        retry_initial_s: float = 0.5,
        retry_max_s: float = 30.0,
        exit_timeout_s: float = 10.0,
        on_error: Optional[Callable[[ReportedError], Any]] = None,
        interceptors: Sequence[Any] = (),
        channel_options: Sequence[tuple] = (),
        token: Optional[str] = None,
        tls: Union[bool, bytes, None] = None,
    ) -> None:
        self.address = address
        self.flush_interval_s = flush_interval_s
        self.max_queue = max_queue
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self.exit_timeout_s = exit_timeout_s
        self.on_error = on_error
        options = [
            # Reconnect about as eagerly as the spool is probed, so a restarted server is found soon.
            ("grpc.initial_reconnect_backoff_ms", max(100, int(retry_initial_s * 1000))),
            ("grpc.min_reconnect_backoff_ms", max(100, int(retry_initial_s * 1000))),
            ("grpc.max_reconnect_backoff_ms", max(100, int(retry_max_s * 1000))),
            ("grpc.max_send_message_length", 64 << 20),
            *channel_options,
        ]
        if tls is None:
            tls = os.environ.get("LOGBOOK_TLS", "").lower() == "true"
        if tls:
            root = tls if isinstance(tls, bytes) else None
            self._raw_channel = grpc.secure_channel(address, grpc.ssl_channel_credentials(root), options=options)
        else:
            self._raw_channel = grpc.insecure_channel(address, options=options)
        token = token if token is not None else os.environ.get("LOGBOOK_TOKEN") or None
        interceptors = ([BearerToken(token)] if token else []) + list(interceptors)
        channel = grpc.intercept_channel(self._raw_channel, *interceptors) if interceptors else self._raw_channel
        self._sender = CallSender(channel, call_timeout_s)

        self._spool, warning = open_spool(str(spool_path or _default_spool_path(address)), max_spool_bytes)
        if warning:
            logger.warning("logbook: %s", warning)
        if self._spool.truncated_tail:
            logger.warning("logbook: cut a torn last line (%d bytes) off spool %s", self._spool.truncated_tail,
                           self._spool.path)

        self._cond = threading.Condition()
        self._items: Deque[_Item] = collections.deque()
        self._pending = {"metric": 0, "param": 0, "tag": 0, "call": 0}
        self._seq = 0  # last sequence number given out
        self._done_seq = 0  # every item up to this one was sent, spooled, reported or dropped
        self._flush_seq = 0  # items up to this one are to go out now
        self._in_flight = 0
        self._closing = False
        self._closed = False
        self._close_deadline: Optional[float] = None
        self._attempt = 0
        self._next_probe = 0.0  # time.monotonic() of the next replay attempt
        self._full_warned = False
        self._queue_warned = False
        self._runs: List[ActiveRun] = []
        self._counts: Dict[str, Any] = {
            "sent_points": 0, "spooled_points": 0, "spooled_calls": 0, "replayed_calls": 0,
            "dropped_points": 0, "failed_points": 0, "errors": 0,
        }
        self._calls: Dict[str, int] = collections.Counter()

        self._thread = threading.Thread(target=self._run, name=f"logbook-tracker-{address}", daemon=True)
        self._thread.start()
        _LIVE.add(self)

    # -- runs ----------------------------------------------------------------------------------------------------
    def start_run(
        self,
        experiment_name: Optional[str] = None,
        run_name: Optional[str] = None,
        tags: Optional[Mapping[str, Any]] = None,
        *,
        experiment_id: Optional[str] = None,
        run_id: Optional[str] = None,
        start_time: Optional[int] = None,
    ) -> "ActiveRun":
        """Starts a run (in experiment `experiment_name`, created if missing; else `experiment_id`, else the
        default experiment "0") and returns at once; the run id is chosen here, so the run can be used — and its
        creation replayed safely — before the server has seen it. A context manager: FINISHED, or FAILED on an
        exception."""
        run_id = run_id or new_run_id()
        self._enqueue_call(
            run_id,
            {
                "op": "create_run",
                "run_id": run_id,
                "experiment_name": experiment_name,
                "experiment_id": experiment_id,
                "run_name": run_name,
                "start_time": start_time if start_time is not None else now_ms(),
                "tags": [{"key": str(k), "value": str(v)} for k, v in (tags or {}).items()],
            },
        )
        run = ActiveRun(self, run_id, experiment_name, run_name)
        self._runs.append(run)
        return run

    # -- live watching and comparison (direct calls, beside the logging queue) ------------------------------------
    def watch_run(self, run_id: str, metric_keys: Sequence[str] = (), after_sequence: Optional[int] = None,
                  **options: Any) -> Iterator[Any]:
        """The run live: its snapshot, then each change as it commits, until the run ends or the caller stops
        iterating (see ``watch.watch_run``; reconnects after the last update when the server goes away). Points this
        tracker has queued but not sent yet are not there until they are sent."""
        return watch_run(self._sender.channel, run_id, metric_keys, after_sequence, **options)

    def compare_runs(self, run_ids: Sequence[str], metric_keys: Sequence[str] = (), max_points: Optional[int] = None,
                     directions: Optional[Mapping[str, str]] = None) -> Any:
        """2–100 runs side by side (SearchService.CompareRuns); see ``watch.compare_runs``."""
        return compare_runs(self._sender.channel, run_ids, metric_keys, max_points, directions, self._sender.timeout)

    @property
    def active_run(self) -> "ActiveRun":
        if not self._runs:
            raise RuntimeError("no active run: call start_run() first")
        return self._runs[-1]

    def log_param(self, key: str, value: Any) -> None:
        self.active_run.log_param(key, value)

    def log_params(self, params: Mapping[str, Any]) -> None:
        self.active_run.log_params(params)

    def log_metric(self, key: str, value: float, step: Optional[int] = None, timestamp: Optional[int] = None) -> None:
        self.active_run.log_metric(key, value, step=step, timestamp=timestamp)

    def log_metrics(self, metrics: Mapping[str, float], step: Optional[int] = None,
                    timestamp: Optional[int] = None) -> None:
        self.active_run.log_metrics(metrics, step=step, timestamp=timestamp)

    def set_tag(self, key: str, value: Any) -> None:
        self.active_run.set_tag(key, value)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self.active_run.set_tags(tags)

    def log_artifact(self, local_path_or_bytes: Union[str, os.PathLike, bytes], artifact_path: Optional[str] = None) -> None:
        self.active_run.log_artifact(local_path_or_bytes, artifact_path)

    def end(self, status: str = "FINISHED") -> None:
        self.active_run.end(status)

    # -- queueing (caller's thread: never blocks on the network, never raises on the server) ----------------------
    def _enqueue(self, kind: str, run_id: str, body: dict) -> None:
        with self._cond:
            if self._closed:
                logger.warning("logbook: tracker is closed; %s %s dropped", kind, body.get("key", body.get("op")))
                self._counts["dropped_points"] += 0 if kind == "call" else 1
                return
            if len(self._items) >= self.max_queue:
                self._counts["dropped_points"] += 0 if kind == "call" else 1
                if not self._queue_warned:
                    self._queue_warned = True
                    logger.warning("logbook: the in-memory queue is full (%d); newest points are dropped "
                                   "(see stats().dropped_points)", self.max_queue)
                return
            self._seq += 1
            self._items.append(_Item(kind, run_id, body, self._seq, time.monotonic()))
            self._pending[kind] += 1
            p = self._pending
            if (kind == "call" or p["metric"] >= MAX_METRICS or p["param"] >= MAX_PARAMS or p["tag"] >= MAX_TAGS
                    or p["metric"] + p["param"] + p["tag"] >= MAX_ENTITIES or len(self._items) == 1):
                self._cond.notify_all()

    def _enqueue_call(self, run_id: str, call: dict) -> None:
        self._enqueue("call", run_id, call)

    # -- flushing and closing ------------------------------------------------------------------------------------
    def flush(self, timeout: Optional[float] = 30.0) -> bool:
        """Sends everything logged so far now — or spools it, while the server is away. True when all of it was
        sent or spooled within `timeout` (it does not wait for a spool to be replayed: see wait_synced)."""
        with self._cond:
            target = self._seq
            self._flush_seq = max(self._flush_seq, target)
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._done_seq >= target or not self._thread.is_alive(), timeout)

    def wait_synced(self, timeout: Optional[float] = 30.0) -> bool:
        """flush(), then wait until the spool is replayed too: True when the server has everything logged so far."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self.flush(timeout):
            return False
        with self._cond:
            self._cond.notify_all()
            return self._cond.wait_for(
                lambda: (not self._spool.pending() and self._in_flight == 0) or not self._thread.is_alive(),
                None if deadline is None else max(0.0, deadline - time.monotonic()),
            ) and not self._spool.pending()

    def close(self, timeout: Optional[float] = 30.0) -> None:
        """Sends (or spools) everything still queued, stops the sender and closes the channel. What could not be
        sent stays in the spool, replayed by the next tracker on the same spool."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._closing = True
            self._close_deadline = None if timeout is None else time.monotonic() + timeout
            self._flush_seq = self._seq
            self._cond.notify_all()
        self._thread.join(None if timeout is None else timeout + self._sender.timeout)
        self._raw_channel.close()
        self._spool.close()
        _LIVE.discard(self)

    def __enter__(self) -> "Tracker":
        return self

    def __exit__(self, *exc: Any) -> None:
        for run in reversed(list(self._runs)):
            run.end("FAILED" if exc[0] is not None else "FINISHED")
        self.close()

    def stats(self) -> TrackerStats:
        with self._cond:
            c = self._counts
            queued = self._pending["metric"] + self._pending["param"] + self._pending["tag"]
            return TrackerStats(
                queued=queued,
                in_flight=self._in_flight,
                sent_points=c["sent_points"],
                calls=dict(self._calls),
                spooled_points=c["spooled_points"],
                spooled_calls=c["spooled_calls"],
                replayed_calls=c["replayed_calls"],
                dropped_points=c["dropped_points"],
                failed_points=c["failed_points"],
                errors=c["errors"],
                spool_bytes=self._spool.size,
                offline=self._spool.pending(),
            )

    @property
    def spool_path(self) -> str:
        return self._spool.path

    def model_version(self, result_id: str) -> Optional[str]:
        return self._sender.results.get(result_id)

    # -- the sender thread ---------------------------------------------------------------------------------------
    def _ready(self, now: float) -> bool:
        if not self._items:
            return False
        head = self._items[0]
        p = self._pending
        return (
            head.kind == "call"
            or self._closing
            or head.seq <= self._flush_seq
            or p["metric"] >= MAX_METRICS
            or p["param"] >= MAX_PARAMS
            or p["tag"] >= MAX_TAGS
            or p["metric"] + p["param"] + p["tag"] >= MAX_ENTITIES
            or now - head.at >= self.flush_interval_s
        )

    def _take(self) -> tuple:
        """The next call from the head of the queue: a control call, or one LogBatch of a run's points."""
        head = self._items.popleft()
        self._pending[head.kind] -= 1
        if head.kind == "call":
            return head.body, head.seq
        batch: Dict[str, list] = {"metrics": [], "params": [], "tags": []}
        plural = {"metric": "metrics", "param": "params", "tag": "tags"}
        limit = {"metrics": MAX_METRICS, "params": MAX_PARAMS, "tags": MAX_TAGS}
        batch[plural[head.kind]].append(head.body)
        total, last = 1, head.seq
        while self._items and total < MAX_ENTITIES:
            item = self._items[0]
            if item.kind == "call" or item.run_id != head.run_id:
                break
            bucket = plural[item.kind]
            if len(batch[bucket]) >= limit[bucket]:
                break
            self._items.popleft()
            self._pending[item.kind] -= 1
            batch[bucket].append(item.body)
            total += 1
            last = item.seq
        call = {"op": "log_batch", "run_id": head.run_id}
        call.update({k: v for k, v in batch.items() if v})
        return call, last

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    now = time.monotonic()
                    closing_late = self._closing and self._close_deadline is not None and now >= self._close_deadline
                    if self._spool.pending() and not self._closing and now >= self._next_probe:
                        work = "replay"
                        break
                    if self._ready(now):
                        work = "send"
                        call, last_seq = self._take()
                        self._in_flight = points_of(call) if not (self._spool.pending() or closing_late) else 0
                        break
                    if self._closing:
                        self._cond.notify_all()
                        return
                    waits = []
                    if self._items:
                        waits.append(self._items[0].at + self.flush_interval_s - now)
                    if self._spool.pending():
                        waits.append(self._next_probe - now)
                    self._cond.wait(max(0.0, min(waits)) if waits else None)
            if work == "replay":
                self._replay()
            else:
                self._dispatch(call, spool_only=closing_late)
                with self._cond:
                    self._in_flight = 0
                    self._done_seq = last_seq
                    self._cond.notify_all()

    def _dispatch(self, call: dict, spool_only: bool = False) -> None:
        if self._spool.pending() or spool_only:
            self._to_spool(call)  # keep the order: nothing overtakes what is waiting in the spool
            return
        try:
            self._sender.send(call)
            self._count_sent(call)
        except grpc.RpcError as error:
            if is_retryable(error):
                logger.info("logbook: server unavailable (%s); spooling", error.code().name)  # type: ignore[attr-defined]
                self._to_spool(call)
                self._schedule_probe()
            else:
                self._report(describe(error, method_of(call), call.get("run_id"), points_of(call)))
        except Exception as error:  # noqa: BLE001 - never raise into the caller's logging loop
            self._report(ReportedError(method_of(call), call.get("run_id"), "UNKNOWN", None, repr(error), points_of(call)))

    def _count_sent(self, call: dict) -> None:
        with self._cond:
            self._counts["sent_points"] += points_of(call)
            self._calls[method_of(call)] += 1

    def _to_spool(self, call: dict) -> None:
        if self._spool.append(call):
            with self._cond:
                self._counts["spooled_points"] += points_of(call)
                self._counts["spooled_calls"] += 1
            return
        with self._cond:
            self._counts["dropped_points"] += points_of(call)
            warn = not self._full_warned
            self._full_warned = True
        if warn:
            logger.warning(
                "logbook: the offline spool %s is full (%d bytes); newest calls are dropped from now on "
                "(see stats().dropped_points)", self._spool.path, self._spool.max_bytes)

    def _schedule_probe(self) -> None:
        delay = min(self.retry_max_s, self.retry_initial_s * (2 ** min(self._attempt, 30)))
        self._attempt += 1
        self._next_probe = time.monotonic() + delay * random.uniform(0.5, 1.0)  # backoff with jitter

    def _replay(self) -> None:
        """Sends the spool in order from where the last replay stopped; stops at the first retryable failure."""
        for call, end in self._spool.read_pending():
            with self._cond:
                if self._closing:
                    return
                self._in_flight = points_of(call)
            try:
                self._sender.send(call)
                self._count_sent(call)
            except grpc.RpcError as error:
                if is_retryable(error):
                    with self._cond:
                        self._in_flight = 0
                    self._schedule_probe()
                    return
                self._report(describe(error, method_of(call), call.get("run_id"), points_of(call)))
            except Exception as error:  # noqa: BLE001
                self._report(ReportedError(method_of(call), call.get("run_id"), "UNKNOWN", None, repr(error),
                                           points_of(call)))
            self._spool.commit(end)
            with self._cond:
                self._in_flight = 0
                self._counts["replayed_calls"] += 1
        self._spool.clear()
        self._attempt = 0
        self._full_warned = False
        logger.info("logbook: spool replayed; back online")
        with self._cond:
            self._cond.notify_all()

    def _report(self, error: ReportedError) -> None:
        with self._cond:
            self._counts["errors"] += 1
            self._counts["failed_points"] += error.points
        logger.warning("logbook: %s refused (%s, %s): %s — not retried", error.operation, error.grpc_code,
                       error.mlflow_code, error.message)
        if self.on_error is not None:
            try:
                self.on_error(error)
            except Exception:  # noqa: BLE001
                logger.exception("logbook: the on_error callback failed")
