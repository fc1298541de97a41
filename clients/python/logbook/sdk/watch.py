"""Live watching and comparison over the generated stubs: ``watch_run`` (TrackingService.WatchRun as an iterator that
reconnects after the last update it yielded when the server goes away) and ``compare_runs``
(SearchService.CompareRuns)."""

from __future__ import annotations

import random
import time
from typing import Iterable, Iterator, Mapping, Optional

import grpc

from logbook.v1 import run_watch_pb2, search_service_pb2, search_service_pb2_grpc, tracking_service_pb2_grpc

DIRECTIONS = {
    "MAXIMIZE": search_service_pb2.METRIC_DIRECTION_MAXIMIZE,
    "MINIMIZE": search_service_pb2.METRIC_DIRECTION_MINIMIZE,
}


def watch_run(
    channel: grpc.Channel,
    run_id: str,
    metric_keys: Iterable[str] = (),
    after_sequence: Optional[int] = None,
    *,
    reconnect: bool = True,
    max_reconnect_delay_s: float = 5.0,
) -> Iterator[run_watch_pb2.RunUpdate]:
    """The run's snapshot, then each of its changes as it commits (``RunUpdate``: ``metric``, ``param``, ``tag``,
    ``info``), until the run ends (the iterator is exhausted) or the caller stops (``break`` or ``close()`` cancels
    the call). Reads only as fast as the caller iterates: a caller that falls behind gets the latest value per key
    (``coalesced``), one too far behind an error (RESOURCE_EXHAUSTED). When the server goes away (UNAVAILABLE) it calls
    again after the last update yielded (``reconnect``), with backoff; other errors are raised as ``grpc.RpcError``.
    Each watch is one call on ``channel``, which the server lets carry ``--grpc-max-concurrent-streams`` calls (100 by
    default) at once: watching more runs than that at a time needs more channels."""
    stub = tracking_service_pb2_grpc.TrackingServiceStub(channel)
    keys = list(metric_keys)
    after = after_sequence
    attempt = 0
    while True:
        request = run_watch_pb2.WatchRunRequest(run_id=run_id, metric_keys=keys)
        if after is not None:
            request.after_sequence = after
        call = stub.WatchRun(request)
        try:
            for update in call:
                attempt = 0
                after = update.sequence
                yield update
            return
        except grpc.RpcError as error:
            if not reconnect or error.code() != grpc.StatusCode.UNAVAILABLE:  # type: ignore[attr-defined]
                raise
            delay = min(max_reconnect_delay_s, 0.1 * 2**attempt)
            attempt += 1
            time.sleep(delay / 2 + random.random() * delay / 2)
        finally:
            call.cancel()


def compare_runs(
    channel: grpc.Channel,
    run_ids: Iterable[str],
    metric_keys: Iterable[str] = (),
    max_points: Optional[int] = None,
    directions: Optional[Mapping[str, str]] = None,
    timeout_s: float = 30.0,
) -> search_service_pb2.CompareRunsResponse:
    """2–100 runs side by side: params and tags (``differs``), latest metrics (``best_run_id`` by direction:
    "MAXIMIZE" unless ``directions`` says "MINIMIZE"), and the histories of ``metric_keys`` downsampled to at most
    ``max_points`` per run (min, max and last per step bucket, buckets shared by the runs)."""
    request = search_service_pb2.CompareRunsRequest(run_ids=list(run_ids), metric_keys=list(metric_keys))
    if max_points is not None:
        request.max_points = max_points
    for key, direction in (directions or {}).items():
        if direction not in DIRECTIONS:
            raise ValueError(f"direction of {key!r} must be MAXIMIZE or MINIMIZE, not {direction!r}")
        request.directions[key] = DIRECTIONS[direction]
    return search_service_pb2_grpc.SearchServiceStub(channel).CompareRuns(request, timeout=timeout_s)
