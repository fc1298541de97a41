"""The tracking SDK against the shared Logbook of each store: batching within LogBatch's limits, order within a
key, the run lifecycle, artifacts, and the error case (reported with both codes, never retried, never raised)."""

from __future__ import annotations

import grpc
import pytest
from sdk_support import CountingInterceptor, authenticated_channel, get_run, metric_history

from logbook.sdk import ReportedError, Tracker
from logbook.v1 import artifact_service_pb2, artifact_service_pb2_grpc, run_pb2

HOUR = 3600.0  # a flush interval that never fires during a test: batches are cut by size and flush() only


@pytest.fixture
def counted(address, token, tmp_path):
    """A tracker whose unary calls are counted, with its own spool, closed after the test."""
    interceptor = CountingInterceptor()
    tracker = Tracker(address, spool_path=tmp_path / "spool.jsonl", flush_interval_s=HOUR, interceptors=[interceptor], token=token)
    yield tracker, interceptor
    tracker.close()


@pytest.fixture
def reader(address, token):
    with authenticated_channel(address, token) as channel:
        yield channel


def test_batches_break_at_1000_metrics_and_keep_order_within_a_key(counted, reader, unique):
    tracker, calls = counted
    run = tracker.start_run(experiment_name=unique, run_name="batches")
    # 2,500 points of "loss" interleaved with 500 of "acc": 3,000 metrics → LogBatch calls of 1000, 1000, 1000.
    for step in range(2500):
        run.log_metric("loss", 10_000 - step, step=step, timestamp=1_700_000_000_000 + step)
        if step % 5 == 0:
            run.log_metric("acc", step / 2500, step=step, timestamp=1_700_000_000_000 + step)
    assert tracker.flush()
    batches = calls.requests["LogBatch"]
    assert [len(b.metrics) for b in batches] == [1000, 1000, 1000]
    assert all(b.run_id == run.run_id for b in batches)
    sent_loss = [m.step for b in batches for m in b.metrics if m.key == "loss"]
    assert sent_loss == list(range(2500))  # the caller's order, across batch boundaries

    history = metric_history(reader, run.run_id, "loss")
    assert len(history) == 2500
    assert sorted((m.step, m.value) for m in history) == [(s, 10_000 - s) for s in range(2500)]
    assert len(metric_history(reader, run.run_id, "acc")) == 500
    stats = tracker.stats()
    assert (stats.sent_points, stats.queued, stats.in_flight, stats.errors) == (3000, 0, 0, 0)
    assert stats.calls["LogBatch"] == 3 and stats.calls["CreateRun"] == 1


def test_one_more_than_a_batch_makes_a_second_call(counted, unique):
    tracker, calls = counted
    run = tracker.start_run(experiment_name=unique)
    for step in range(1001):
        run.log_metric("x", step, step=step)
    assert tracker.flush()
    assert [len(b.metrics) for b in calls.requests["LogBatch"]] == [1000, 1]


def test_params_and_tags_respect_their_own_limits(counted, reader, unique):
    tracker, calls = counted
    run = tracker.start_run(experiment_name=unique)
    run.log_params({f"p{i:03d}": i for i in range(150)})
    run.set_tags({f"t{i:03d}": i for i in range(120)})
    assert tracker.flush()
    shapes = [(len(b.params), len(b.tags)) for b in calls.requests["LogBatch"]]
    assert all(p <= 100 and t <= 100 and p + t <= 1000 for p, t in shapes)
    assert sum(p for p, _ in shapes) == 150 and sum(t for _, t in shapes) == 120
    data = get_run(reader, run.run_id).data
    assert len(data.params) == 150
    assert {t.key for t in data.tags} >= {f"t{i:03d}" for i in range(120)}


def test_run_context_manager_ends_finished_or_failed(address, token, reader, tmp_path, unique):
    with Tracker(address, spool_path=tmp_path / "spool.jsonl", token=token) as tracker:
        with tracker.start_run(experiment_name=unique, run_name="ok", tags={"team": "research"}) as ok:
            ok.log_param("lr", 0.01)
            ok.log_metrics({"loss": 0.5, "acc": 0.9}, step=3)
            ok.log_artifact(b'{"weights": [1, 2]}', "model/weights.json")
        with pytest.raises(RuntimeError):
            with tracker.start_run(experiment_name=unique, run_name="boom") as failed:
                tracker.log_metric("loss", 1.0)  # the tracker-level call goes to the active run
                raise RuntimeError("training crashed")
        assert tracker.wait_synced()
    got = get_run(reader, ok.run_id)
    assert got.info.run_id == ok.run_id  # the client-chosen id
    assert got.info.status == run_pb2.RUN_STATUS_FINISHED and got.info.end_time > 0
    assert got.info.run_name == "ok"
    assert {p.key: p.value for p in got.data.params} == {"lr": "0.01"}
    assert {t.key: t.value for t in got.data.tags}["team"] == "research"
    assert {m.key: (m.value, m.step) for m in got.data.metrics} == {"loss": (0.5, 3), "acc": (0.9, 3)}
    assert get_run(reader, failed.run_id).info.status == run_pb2.RUN_STATUS_FAILED
    assert len(metric_history(reader, failed.run_id, "loss")) == 1

    download = artifact_service_pb2_grpc.ArtifactServiceStub(reader).DownloadArtifact(
        artifact_service_pb2.DownloadArtifactRequest(run_id=ok.run_id, path="model/weights.json"), timeout=30
    )
    assert b"".join(part.chunk for part in download) == b'{"weights": [1, 2]}'


def test_log_artifact_files_and_directories(address, token, reader, tmp_path, unique):
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "summary.txt").write_text("sharpe 1.2\n")
    (tmp_path / "report" / "plots").mkdir()
    (tmp_path / "report" / "plots" / "equity.svg").write_text("<svg/>")
    (tmp_path / "notes.md").write_text("# notes\n")
    with Tracker(address, spool_path=tmp_path / "spool.jsonl", token=token) as tracker:
        with tracker.start_run(experiment_name=unique) as run:
            run.log_artifact(tmp_path / "notes.md")
            run.log_artifact(str(tmp_path / "report"), "eval")
        assert tracker.wait_synced()
    stub = artifact_service_pb2_grpc.ArtifactServiceStub(reader)

    def read(path: str) -> bytes:
        request = artifact_service_pb2.DownloadArtifactRequest(run_id=run.run_id, path=path)
        return b"".join(part.chunk for part in stub.DownloadArtifact(request, timeout=30))

    assert read("notes.md") == b"# notes\n"
    assert read("eval/summary.txt") == b"sharpe 1.2\n"
    assert read("eval/plots/equity.svg") == b"<svg/>"


def test_a_refused_call_is_reported_with_both_codes_and_not_retried(counted, reader, unique):
    tracker, calls = counted
    reported: list[ReportedError] = []
    tracker.on_error = reported.append
    run = tracker.start_run(experiment_name=unique)
    run.log_param("lr", "0.01")
    assert tracker.flush()
    run.log_param("lr", "0.02")  # a param changed: INVALID_PARAMETER_VALUE, for good
    assert tracker.flush()
    run.log_metric("loss", 0.25, step=1)  # the logging loop goes on
    run.log_metric("loss", "not a number")  # refused on the client: reported the same way, nothing raised
    assert tracker.wait_synced()

    assert [(e.operation, e.grpc_code, e.mlflow_code) for e in reported] == [
        ("LogBatch", "INVALID_ARGUMENT", "INVALID_PARAMETER_VALUE"),
        ("LogMetric", "INVALID_ARGUMENT", "INVALID_PARAMETER_VALUE"),
    ]
    assert reported[0].run_id == run.run_id and reported[0].points == 1 and "lr" in reported[0].message
    stats = tracker.stats()
    assert (stats.errors, stats.failed_points, stats.spooled_calls) == (2, 2, 0)
    assert calls.count("LogBatch") == 3  # lr=0.01, the refused lr=0.02 once (no retry), loss
    assert {p.key: p.value for p in get_run(reader, run.run_id).data.params} == {"lr": "0.01"}
    assert [(m.step, m.value) for m in metric_history(reader, run.run_id, "loss")] == [(1, 0.25)]


def test_replayed_run_creation_is_idempotent(address, token, reader, tmp_path, unique):
    """The same client-chosen run id twice (as a replay does): one run, RESOURCE_ALREADY_EXISTS taken as done."""
    reported: list[ReportedError] = []
    with Tracker(address, spool_path=tmp_path / "spool.jsonl", on_error=reported.append, token=token) as tracker:
        first = tracker.start_run(experiment_name=unique, run_name="once")
        first.log_metric("m", 1.0, step=0, timestamp=1)
        assert tracker.flush()
        again = tracker.start_run(experiment_name=unique, run_name="once", run_id=first.run_id)
        again.log_metric("m", 1.0, step=0, timestamp=1)  # identical point: stored once
        again.end()
        assert tracker.wait_synced()
    assert reported == []
    assert len(metric_history(reader, first.run_id, "m")) == 1
