"""
The compatibility suite's harness, shared by conftest.py (fixtures) and the test modules:
starting and stopping Logbook processes, and small helpers for assertions.

Logbook runs from the built CLI (`node dist/src/server/cli.js serve …`; run `npm run build` first —
scripts/test-compat.mjs, behind `npm run test:compat`, does everything), on free loopback ports
(`--grpc-port 0 --http-port 0`); the ports come from its pino lines `"msg":"gRPC server listening"` /
`"msg":"HTTP server listening"`, and `stop()` sends SIGTERM and waits.

Environment knobs (all optional):
  MONGODB_URI           the MongoDB-wire server for the `mongodb` store (required for those tests)
  LOGBOOK_COMPAT_ROOT   the Logbook package root to run (default: this checkout)
  LOGBOOK_COMPAT_NODE   the node binary (default: `node` on PATH)
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
LOGBOOK_ROOT = Path(os.environ.get("LOGBOOK_COMPAT_ROOT", REPO_ROOT)).resolve()
LOGBOOK_CLI = LOGBOOK_ROOT / "dist" / "src" / "server" / "cli.js"
STORES = ("sqlite", "mongodb")
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
MLFLOW_START_TIMEOUT_S = 180


def telemetry_free_env(**extra: str) -> dict[str, str]:
    """The environment for every subprocess this suite starts."""
    env = dict(os.environ)
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "1"
    env.update(extra)
    return env


def with_database(uri: str, database: str) -> str:
    """`mongodb://h:p/?x=y` → `mongodb://h:p/<database>?x=y` (the database comes from the URI path)."""
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


class LogbookServer:
    """One Logbook process: `start()` waits for the HTTP listening line, `stop()` sends SIGTERM and waits."""

    def __init__(
        self, store_kind: str, data_dir: Path, store_uri: str | None = None, extra_args: tuple[str, ...] = (),
        extra_env: dict[str, str] | None = None,
    ):
        self.store_kind = store_kind
        self.data_dir = data_dir
        self.store_uri = store_uri
        self.extra_args = extra_args
        self.extra_env = extra_env or {}
        self.http_port: int | None = None
        self.grpc_port: int | None = None
        self.process: subprocess.Popen[str] | None = None
        self.exit_code: int | None = None
        self._lines: collections.deque[str] = collections.deque(maxlen=400)
        self._listening = threading.Event()
        self._reader: threading.Thread | None = None
        self._stderr_path = data_dir / "logbook.stderr"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def cwd(self) -> Path:
        """The server's working directory (relative artifact locations resolve against it)."""
        return self.data_dir

    def start(self) -> "LogbookServer":
        if not LOGBOOK_CLI.exists():
            pytest.fail(f"{LOGBOOK_CLI} is missing: run `npm run build` first (scripts/test-compat.mjs does)")
        node = os.environ.get("LOGBOOK_COMPAT_NODE") or shutil.which("node")
        if not node:
            pytest.fail("node is not on PATH (or set LOGBOOK_COMPAT_NODE)")
        args = [
            node, str(LOGBOOK_CLI), "serve",
            "--host", "127.0.0.1", "--grpc-port", "0", "--http-port", "0",
            "--data-dir", str(self.data_dir), "--log-level", "info",
        ]
        if self.store_uri:
            args += ["--store", self.store_uri]
        args += list(self.extra_args)
        stderr = open(self._stderr_path, "w")
        try:
            self.process = subprocess.Popen(
                args, cwd=self.data_dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr,
                text=True, env=telemetry_free_env(**self.extra_env),
            )
        finally:
            stderr.close()
        self._reader = threading.Thread(target=self._read_stdout, name="logbook-stdout", daemon=True)
        self._reader.start()
        try:
            self._wait_listening()
        except BaseException:
            self.stop()
            raise
        return self

    def _read_stdout(self) -> None:
        # Keeps draining stdout for the whole life of the process, so the pipe never fills up.
        assert self.process and self.process.stdout
        for line in self.process.stdout:
            line = line.rstrip("\n")
            self._lines.append(line)
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if not isinstance(entry, dict):
                continue
            if entry.get("msg") == "gRPC server listening" and entry.get("grpcPort"):
                self.grpc_port = int(entry["grpcPort"])
            if entry.get("msg") == "HTTP server listening" and entry.get("httpPort"):
                self.http_port = int(entry["httpPort"])
                self._listening.set()

    def _wait_listening(self) -> None:
        assert self.process
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._listening.wait(0.1):
            if self.process.poll() is not None:
                self._reader and self._reader.join(5)
                raise RuntimeError(
                    f"Logbook ({self.store_kind}) exited with code {self.process.returncode} before listening "
                    f"on HTTP\n{self.diagnostics()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Logbook ({self.store_kind}) logged no \"HTTP server listening\" line within "
                    f"{START_TIMEOUT_S} s (does src/server/config.ts have --http-port yet?)\n{self.diagnostics()}"
                )

    def stop(self) -> None:
        p = self.process
        if p is None:
            return
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
        self.exit_code = p.returncode
        if self._reader:
            self._reader.join(5)

    def diagnostics(self) -> str:
        try:
            err = self._stderr_path.read_text()[-4000:]
        except OSError:
            err = ""
        out = "\n".join(list(self._lines)[-40:])
        return f"--- Logbook stdout (last lines) ---\n{out}\n--- Logbook stderr ---\n{err}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MlflowServer:
    """`mlflow server` from this venv on loopback, SQLite backend, default (proxied) artifacts in its temp dir
    (the reference: test_differential.py, and the whole suite under LOGBOOK_COMPAT_REFERENCE=mlflow)."""

    store_kind = "mlflow"

    def __init__(self, work_dir: Path, extra_args: tuple[str, ...] = (), extra_env: dict[str, str] | None = None):
        self.work_dir = work_dir
        self.extra_args = extra_args
        self.extra_env = extra_env or {}
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = work_dir / "mlflow-server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def cwd(self) -> Path:
        return self.work_dir

    def start(self) -> "MlflowServer":
        mlflow_bin = Path(sys.executable).parent / "mlflow"
        args = [
            str(mlflow_bin), "server",
            "--backend-store-uri", f"sqlite:///{self.work_dir / 'mlflow.db'}",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
            *self.extra_args,
        ]
        with open(self.log_path, "w") as log:
            # Its own process group: `mlflow server` runs uvicorn as a child; stop() signals the whole group.
            self.process = subprocess.Popen(
                args, cwd=self.work_dir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=telemetry_free_env(MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false", **self.extra_env), start_new_session=True,
            )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + MLFLOW_START_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow server exited with {self.process.returncode}\n{self.log_tail()}")
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"mlflow server not healthy within {MLFLOW_START_TIMEOUT_S} s\n{self.log_tail()}")
            time.sleep(0.25)

    def stop(self) -> None:
        p = self.process
        if p is None:
            return
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(p.pid, signal.SIGKILL)  # whatever of the group is left (uvicorn worker)
        except ProcessLookupError:
            pass
        p.wait(10)

    def diagnostics(self) -> str:
        return f"--- mlflow server log (tail) ---\n{self.log_tail()}"

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text()[-4000:]
        except OSError:
            return ""


def start_logbook(
    store_kind: str, tmp_path_factory: pytest.TempPathFactory, label: str, extra_args: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
) -> LogbookServer:
    data_dir = tmp_path_factory.mktemp(f"logbook-{store_kind}")
    store_uri = None
    if store_kind == "mongodb":
        base = os.environ.get("MONGODB_URI")
        if not base:
            pytest.fail(
                "MONGODB_URI is not set: run the suite through `node scripts/test-compat.mjs` (it starts FerretDB), "
                "set MONGODB_URI, or deselect with `-k sqlite`"
            )
        # A fresh database per module; names stay within FerretDB's [A-Za-z0-9_-]{1,63}.
        label = re.sub(r"[^A-Za-z0-9_]", "_", label)[:32]
        store_uri = with_database(base, f"compat_{label}_{uuid.uuid4().hex[:8]}")
    return LogbookServer(store_kind, data_dir, store_uri, extra_args, extra_env).start()


def unique(prefix: str) -> str:
    """A name no other test (or earlier run on the same MongoDB) has used."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def expect_mlflow_error(error_code: str):
    """`with expect_mlflow_error("RESOURCE_DOES_NOT_EXIST"): client.get_run(...)`"""
    from mlflow.exceptions import MlflowException

    return _ErrorExpectation(MlflowException, error_code)


class _ErrorExpectation:
    def __init__(self, exc_type, error_code: str):
        self._raises = pytest.raises(exc_type)
        self.error_code = error_code
        self.info = None

    def __enter__(self):
        self.info = self._raises.__enter__()
        return self.info

    def __exit__(self, *exc):
        suppressed = self._raises.__exit__(*exc)
        got = self.info.value.error_code
        assert got == self.error_code, f"expected error_code {self.error_code}, got {got}: {self.info.value}"
        return suppressed
