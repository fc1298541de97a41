"""
Fixtures of the MLflow compatibility suite (DESIGN.md §6, issue "HTTP/JSON gateway").

Each test module gets its own Logbook process per store (harness.py starts and stops it):
- `sqlite`:  the embedded store in a fresh temp data directory;
- `mongodb`: the MongoDB store on $MONGODB_URI (FerretDB from scripts/ferretdb.mjs unless the variable
             is given) with a fresh database name, so modules never see each other's data.
Every test that takes the `logbook` fixture (or `client` / `fluent`) runs once per store.

LOGBOOK_COMPAT_REFERENCE=mlflow runs those tests against a real `mlflow server` (the pinned wheel, SQLite,
harness.MlflowServer) instead, once, as the `mlflow` param: it checks a module's expectations against MLflow
itself. The model-lifecycle modules (test_registry.py, test_logged_models.py, test_model_e2e.py) pass there;
modules that pin Logbook-only behaviour do not, by design.
"""

from __future__ import annotations

import os

# Nothing the client or a server started here does may phone home (DESIGN.md §6). Set before mlflow is
# imported by any test module, and inherited by every subprocess.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "1"
# The client retries 429/5xx with exponential backoff (minutes in total). A 5xx from the server under
# test is a finding, not a hiccup: fail at once. The wire format is unaffected.
os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "60"

import pytest  # noqa: E402

from harness import STORES, LogbookServer, MlflowServer, start_logbook  # noqa: E402

REFERENCE = os.environ.get("LOGBOOK_COMPAT_REFERENCE", "")
if REFERENCE not in ("", "mlflow"):
    raise RuntimeError(f"LOGBOOK_COMPAT_REFERENCE={REFERENCE!r}: only 'mlflow' (or unset) is known")


@pytest.fixture(scope="module", params=("mlflow",) if REFERENCE else STORES)
def logbook(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A running Logbook for this module, once per store; stopped (SIGTERM) after the module.
    (Under LOGBOOK_COMPAT_REFERENCE=mlflow: a real MLflow server instead.)"""
    if request.param == "mlflow":
        server = MlflowServer(tmp_path_factory.mktemp("mlflow-server")).start()
    else:
        server = start_logbook(request.param, tmp_path_factory, request.module.__name__.rsplit(".", 1)[-1])
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(logbook: LogbookServer):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=logbook.url)


@pytest.fixture
def fluent(logbook: LogbookServer):
    """The fluent API pointed at Logbook; leaves no active run, experiment, model or tracking URI behind."""
    import mlflow
    import mlflow.tracking.fluent as fluent_state

    mlflow.set_tracking_uri(logbook.url)
    try:
        yield mlflow
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.clear_active_model()
        fluent_state._active_experiment_id = None
        os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
        os.environ.pop("MLFLOW_RUN_ID", None)
        mlflow.set_tracking_uri(None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test's report carries the tail of its Logbook's log (stdout JSON lines and stderr)."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, (LogbookServer, MlflowServer)):
                report.sections.append((f"Logbook ({value.store_kind}) log", value.diagnostics()))
