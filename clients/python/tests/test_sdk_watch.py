"""Tracker.watch_run and Tracker.compare_runs: the snapshot and every point in order, the iterator ending with the
run, a reconnect across a server restart that misses nothing, and two runs compared."""

from __future__ import annotations

import threading

from logbook.sdk import Tracker
from logbook.v1 import run_pb2

HOUR = 3600.0


def _watch_in_thread(tracker: Tracker, run_id: str, **options):
    """Iterates tracker.watch_run in a thread; returns (updates list, snapshot event, the thread)."""
    updates = []
    snapshot = threading.Event()
    errors = []

    def consume() -> None:
        try:
            for update in tracker.watch_run(run_id, **options):
                updates.append(update)
                snapshot.set()
        except Exception as error:  # noqa: BLE001 - the test asserts there is none
            errors.append(error)
            snapshot.set()

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    return updates, snapshot, thread, errors


def _points(updates):
    return [(u.metric.key, u.metric.step) for u in updates if u.WhichOneof("update") == "metric"]


def test_watch_run_yields_the_snapshot_then_every_point_and_ends_with_the_run(address, token, tmp_path, unique):
    with Tracker(address, spool_path=tmp_path / "spool.jsonl", flush_interval_s=HOUR, token=token) as tracker:
        run = tracker.start_run(experiment_name=unique, run_name="live")
        run.log_param("lr", 0.01)
        assert tracker.wait_synced()
        updates, snapshot, thread, errors = _watch_in_thread(tracker, run.run_id)
        assert snapshot.wait(30)
        for step in range(200):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
        run.end()
        assert tracker.wait_synced()
        thread.join(30)
        assert not thread.is_alive() and errors == []
        assert updates[0].WhichOneof("update") == "snapshot"
        assert [p.key for p in updates[0].snapshot.run.data.params] == ["lr"]
        assert _points(updates) == [("loss", s) for s in range(200)]
        assert updates[-1].info.status == run_pb2.RUN_STATUS_FINISHED
        sequences = [u.sequence for u in updates]
        assert sequences == sorted(set(sequences))


def test_watch_run_reconnects_after_a_server_restart_and_misses_nothing(own_logbook, tmp_path):
    own_logbook.start()
    tracker = Tracker(own_logbook.address, spool_path=tmp_path / "spool.jsonl", flush_interval_s=HOUR,
                      retry_initial_s=0.1, retry_max_s=0.5)
    run = tracker.start_run(experiment_name="watch-restart", run_name="r")
    assert tracker.wait_synced()
    updates, snapshot, thread, errors = _watch_in_thread(tracker, run.run_id, max_reconnect_delay_s=0.5)
    assert snapshot.wait(30)
    for step in range(100):
        run.log_metric("x", step, step=step)
    assert tracker.wait_synced()

    own_logbook.kill()
    own_logbook.start()
    for step in range(100, 200):
        run.log_metric("x", step, step=step)
    run.end()
    assert tracker.wait_synced(timeout=60)
    thread.join(60)
    tracker.close()
    assert not thread.is_alive() and errors == []
    assert _points(updates) == [("x", s) for s in range(200)]
    assert updates[-1].info.status == run_pb2.RUN_STATUS_FINISHED


def test_compare_runs_shows_what_differs_and_the_best_run(address, token, tmp_path, unique):
    with Tracker(address, spool_path=tmp_path / "spool.jsonl", flush_interval_s=HOUR, token=token) as tracker:
        a = tracker.start_run(experiment_name=unique, run_name="a")
        b = tracker.start_run(experiment_name=unique, run_name="b")
        a.log_param("lr", 0.1)
        b.log_param("lr", 0.2)
        for step in range(100):
            a.log_metric("loss", 1.0 / (step + 1), step=step)
            b.log_metric("loss", 2.0 / (step + 1), step=step)
        assert tracker.wait_synced()
        result = tracker.compare_runs([a.run_id, b.run_id], metric_keys=["loss"], max_points=10,
                                      directions={"loss": "MINIMIZE"})
    lr = next(p for p in result.params if p.key == "lr")
    assert lr.differs and [(v.run_id, v.value) for v in lr.values] == [(a.run_id, "0.1"), (b.run_id, "0.2")]
    assert next(m for m in result.metrics if m.key == "loss").best_run_id == a.run_id
    assert [(h.run_id, len(h.points)) for h in result.histories] == [(a.run_id, 10), (b.run_id, 10)]
