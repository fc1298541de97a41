"""The SDK's offline fallback against a Logbook of the test's own (killed and restarted on the same port and data
directory): nothing logged is lost, nothing is stored twice, the caller is never blocked nor raised at.
Assertions are on counts (points queued, in flight, spooled, stored), never on time."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
import threading

from sdk_support import CountingInterceptor, PausableProxy, get_run, metric_history

from logbook.sdk import Tracker, log_complete_experiment
from logbook.v1 import run_pb2, search_service_pb2, search_service_pb2_grpc

HOUR = 3600.0
FAST_RETRY = {"retry_initial_s": 0.1, "retry_max_s": 1.0}


def steps_of(channel, run_id: str, key: str) -> list:
    return sorted(m.step for m in metric_history(channel, run_id, key))


def wait_until(predicate, timeout: float = 60.0) -> bool:
    """Polls a condition on counts (the deadline only bounds a failing test)."""
    done = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return True
        done.wait(0.02)
    return predicate()


def test_server_killed_mid_run_then_restarted_every_point_once(own_logbook, tmp_path):
    own_logbook.start()
    errors = []
    tracker = Tracker(own_logbook.address, spool_path=tmp_path / "spool.jsonl", flush_interval_s=HOUR,
                      on_error=errors.append, **FAST_RETRY)
    run = tracker.start_run(experiment_name="outage", run_name="killed")
    run.log_param("lr", 0.01)
    for step in range(1500):
        run.log_metric("loss", 1.0 / (step + 1), step=step)
    assert tracker.wait_synced()
    assert tracker.stats().sent_points == 1501

    own_logbook.kill()
    for step in range(1500, 3000):  # the server is gone: these return at once all the same
        run.log_metric("loss", 1.0 / (step + 1), step=step)
    run.set_tag("phase", "during-outage")
    assert tracker.flush()  # sent nowhere, but spooled: nothing only in memory any more
    stats = tracker.stats()
    assert stats.offline and stats.queued == 0 and stats.in_flight == 0
    assert stats.spooled_points == 1501 and stats.dropped_points == 0 and stats.errors == 0
    assert not tracker.wait_synced(timeout=0.5)  # still waiting for the server

    own_logbook.start()
    run.end()
    assert tracker.wait_synced(timeout=60)
    stats = tracker.stats()
    assert not stats.offline and stats.replayed_calls == stats.spooled_calls >= 2
    tracker.close()

    with own_logbook.channel() as channel:
        assert steps_of(channel, run.run_id, "loss") == list(range(3000))  # each point exactly once
        got = get_run(channel, run.run_id)
        assert got.info.status == run_pb2.RUN_STATUS_FINISHED
        assert {t.key: t.value for t in got.data.tags}["phase"] == "during-outage"
    assert errors == []
    assert not os.path.exists(tmp_path / "spool.jsonl")  # a replayed spool is removed


def test_a_spool_replayed_twice_stores_everything_once(own_logbook, tmp_path):
    spool = tmp_path / "spool.jsonl"
    # The server is not running yet: every call goes to the spool, and the logging loop is never held up.
    tracker = Tracker(own_logbook.address, spool_path=spool, flush_interval_s=HOUR, **FAST_RETRY)
    with tracker.start_run(experiment_name="replay-twice", run_name="r") as run:
        run.log_params({"window": 20, "symbol": "AAPL"})
        for step in range(2500):
            run.log_metric("pnl", step * 0.5, step=step)
    tracker.close()
    stats = tracker.stats()
    assert (stats.sent_points, stats.spooled_points, stats.queued, stats.dropped_points) == (0, 2502, 0, 0)
    assert stats.spooled_calls == 5  # CreateRun, 3 LogBatch (1000, 1000, 502), UpdateRun
    first_copy = tmp_path / "spool-copy.jsonl"
    shutil.copy(spool, first_copy)
    lines = [json.loads(line) for line in spool.read_text().splitlines()]
    assert [c["op"] for c in lines] == ["create_run", "log_batch", "log_batch", "log_batch", "update_run"]

    own_logbook.start()
    for attempt in range(2):  # the second time, the same spool again (as after a crash before its removal)
        if attempt == 1:
            shutil.copy(first_copy, spool)
        calls = CountingInterceptor()
        again = Tracker(own_logbook.address, spool_path=spool, interceptors=[calls], **FAST_RETRY)
        assert again.wait_synced(timeout=60)
        assert again.stats().replayed_calls == 5 and again.stats().errors == 0
        assert calls.count("CreateRun") == 1 and calls.count("LogBatch") == 3
        again.close()
        with own_logbook.channel() as channel:
            assert steps_of(channel, run.run_id, "pnl") == list(range(2500))
            assert len(get_run(channel, run.run_id).data.params) == 2
            runs = search_service_pb2_grpc.SearchServiceStub(channel).SearchRuns(
                search_service_pb2.SearchRunsRequest(experiment_ids=[get_run(channel, run.run_id).info.experiment_id]),
                timeout=30,
            ).runs
            assert [r.info.run_id for r in runs] == [run.run_id]  # one run, not one per replay


def test_a_spool_survives_a_process_restart(own_logbook, tmp_path):
    spool = tmp_path / "spool.jsonl"
    # Another process logs while the server is down and exits without close(): atexit spools what it had.
    script = textwrap.dedent(f"""
        from logbook.sdk import Tracker, log_complete_experiment
        tracker = Tracker({own_logbook.address!r}, spool_path={str(spool)!r}, flush_interval_s=3600)
        run = tracker.start_run(experiment_name="process-restart", run_name="earlier-process")
        for step in range(1200):
            run.log_metric("equity", 100.0 + step, step=step)
        run.end()
        print(run.run_id)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip()
    assert len(run_id) == 32
    assert spool.exists() and len(spool.read_text().splitlines()) == 4  # CreateRun, 2 LogBatch, UpdateRun

    own_logbook.start()
    tracker = Tracker(own_logbook.address, spool_path=spool, **FAST_RETRY)  # replays the spool at start
    assert tracker.wait_synced(timeout=60)
    tracker.close()
    with own_logbook.channel() as channel:
        assert steps_of(channel, run_id, "equity") == list(range(1200))
        assert get_run(channel, run_id).info.status == run_pb2.RUN_STATUS_FINISHED
    assert not spool.exists()


def test_a_slow_server_does_not_hold_up_the_logging_loop(own_logbook, tmp_path):
    own_logbook.start()
    proxy = PausableProxy(own_logbook.port)
    calls = CountingInterceptor()
    tracker = Tracker(proxy.address, spool_path=tmp_path / "spool.jsonl", flush_interval_s=HOUR,
                      call_timeout_s=300, interceptors=[calls], **FAST_RETRY)
    try:
        run = tracker.start_run(experiment_name="slow-server")
        assert tracker.wait_synced()

        proxy.pause()  # from now on the server answers nothing until resumed
        for step in range(5000):
            run.log_metric("loss", step, step=step)  # must all return while the first batch hangs
        assert wait_until(lambda: tracker.stats().in_flight == 1000)
        stats = tracker.stats()
        assert (stats.queued, stats.in_flight, stats.sent_points) == (4000, 1000, 0)
        assert calls.count("LogBatch") == 1  # one call in flight; the other 4,000 points wait in the queue

        proxy.resume()
        assert tracker.wait_synced(timeout=120)
        stats = tracker.stats()
        assert (stats.queued, stats.in_flight, stats.sent_points, stats.spooled_calls) == (0, 0, 5000, 0)
        assert calls.count("LogBatch") == 5
        with own_logbook.channel() as channel:
            assert steps_of(channel, run.run_id, "loss") == list(range(5000))
    finally:
        proxy.resume()
        tracker.close()
        proxy.close()


def test_a_full_spool_warns_once_and_drops_the_newest(own_logbook, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="logbook.sdk")
    tracker = Tracker(own_logbook.address, spool_path=tmp_path / "spool.jsonl", flush_interval_s=HOUR,
                      max_spool_bytes=150_000, **FAST_RETRY)
    run = tracker.start_run(experiment_name="full-spool")
    for step in range(5000):
        run.log_metric("loss", step, step=step, timestamp=1_700_000_000_000)
    assert tracker.flush()
    stats = tracker.stats()
    assert stats.dropped_points > 0 and stats.spooled_points > 0
    assert stats.spooled_points + stats.dropped_points == 5000
    assert os.path.getsize(tmp_path / "spool.jsonl") <= 150_000
    full = [r for r in caplog.records if "spool" in r.getMessage() and "full" in r.getMessage()]
    assert len(full) == 1

    own_logbook.start()
    assert tracker.wait_synced(timeout=60)
    tracker.close()
    with own_logbook.channel() as channel:
        # The oldest points survived, in order; the newest were dropped.
        assert steps_of(channel, run.run_id, "loss") == list(range(stats.spooled_points))


def test_a_tracker_never_raises_when_the_server_never_comes(own_logbook, tmp_path):
    tracker = Tracker(own_logbook.address, spool_path=tmp_path / "spool.jsonl", flush_interval_s=HOUR, **FAST_RETRY)
    with tracker.start_run(experiment_name="never") as run:
        for step in range(100):
            run.log_metric("m", step, step=step)
        run.log_artifact(b"abc", "a.txt")
    tracker.close(timeout=5)
    stats = tracker.stats()
    assert (stats.spooled_points, stats.queued, stats.errors) == (100, 0, 0)
    assert [json.loads(x)["op"] for x in (tmp_path / "spool.jsonl").read_text().splitlines()] == [
        "create_run", "log_batch", "artifact", "update_run"]


def test_log_complete_experiment_offline_answers_at_once_and_registers_once_on_replay(own_logbook, tmp_path):
    spool = tmp_path / "spool.jsonl"
    record = log_complete_experiment(
        own_logbook.address, "offline-evaluation", spool_path=spool, run_name="eval",
        params={"window": 20}, metrics={"sharpe": 1.25, "equity": [1.0, 1.01, 0.99]},
        artifacts={"model/weights.json": {"w": [1, 2]}}, model="offline-model", **FAST_RETRY,
    )
    assert (record.synced, record.model_version) == (False, None)  # the server is down: spooled, not waited for
    copy = tmp_path / "copy.jsonl"
    shutil.copy(spool, copy)

    own_logbook.start()
    for attempt in range(2):  # and the same spool replayed a second time: still one version
        if attempt:
            shutil.copy(copy, spool)
        tracker = Tracker(own_logbook.address, spool_path=spool, **FAST_RETRY)
        assert tracker.wait_synced(timeout=60) and tracker.stats().errors == 0
        tracker.close()
    with own_logbook.channel() as channel:
        versions = search_service_pb2_grpc.SearchServiceStub(channel).SearchModelVersions(
            search_service_pb2.SearchModelVersionsRequest(filter="name = 'offline-model'"), timeout=30
        ).model_versions
        assert [(v.version, v.run_id, v.source) for v in versions] == [
            ("1", record.run_id, f"runs:/{record.run_id}/model")]
        assert steps_of(channel, record.run_id, "equity") == [0, 1, 2]
        assert get_run(channel, record.run_id).info.status == run_pb2.RUN_STATUS_FINISHED


def test_two_trackers_on_one_spool_path_do_not_share_it(tmp_path):
    spool = tmp_path / "spool.jsonl"
    first = Tracker("127.0.0.1:1", spool_path=spool, **FAST_RETRY)
    second = Tracker("127.0.0.1:1", spool_path=spool, **FAST_RETRY)
    try:
        assert first.spool_path == str(spool)
        assert second.spool_path == f"{spool}.{os.getpid()}"
    finally:
        first.close(timeout=5)
        second.close(timeout=5)


def test_server_killed_while_a_batch_is_in_flight(own_logbook, tmp_path):
    """The kill lands while a LogBatch is on the wire (held by a paused proxy): that batch is spooled too."""
    own_logbook.start()
    proxy = PausableProxy(own_logbook.port)
    errors = []
    tracker = Tracker(proxy.address, spool_path=tmp_path / "spool.jsonl", flush_interval_s=HOUR,
                      call_timeout_s=300, on_error=errors.append, **FAST_RETRY)
    try:
        run = tracker.start_run(experiment_name="in-flight-kill")
        assert tracker.wait_synced()
        proxy.pause()
        for step in range(2000):
            run.log_metric("loss", step, step=step)
        assert wait_until(lambda: tracker.stats().in_flight == 1000)
        own_logbook.kill()
        proxy.resume()  # the held bytes meet a dead server: the call fails, retryable
        assert tracker.flush(timeout=60)
        stats = tracker.stats()
        assert stats.offline and stats.spooled_points == 2000 and stats.sent_points == 0

        own_logbook.start()
        assert tracker.wait_synced(timeout=60)
        with own_logbook.channel() as channel:
            assert steps_of(channel, run.run_id, "loss") == list(range(2000))
        assert errors == []
    finally:
        proxy.resume()
        tracker.close()
        proxy.close()
