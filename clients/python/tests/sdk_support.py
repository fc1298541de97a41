"""Helpers of the SDK suites: a killable Logbook process, a pausable TCP proxy, a counting interceptor, readers."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path
from typing import Dict, List, Optional

import grpc

from logbook.v1 import tracking_service_pb2, tracking_service_pb2_grpc

ROOT = Path(__file__).resolve().parents[3]
CLI = Path(os.environ.get("LOGBOOK_CLI", ROOT / "dist" / "src" / "server" / "cli.js"))
TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def authenticated_channel(address: str, token: str) -> grpc.Channel:
    """A channel that sends `authorization: Bearer <token>` with every call: gRPC's call credentials, which need a
    secure channel — local credentials are the plaintext-on-loopback kind (over a network: grpc.ssl_channel_credentials)."""
    creds = grpc.composite_channel_credentials(
        grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP), grpc.access_token_call_credentials(token)
    )
    return grpc.secure_channel(address, creds)


class LogbookProcess:
    """`node dist/src/server/cli.js serve … --store sqlite:` on one port and data directory, across restarts."""

    def __init__(self, data_dir: Path, port: Optional[int] = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.process: Optional[subprocess.Popen] = None
        self.starts = 0

    def start(self, timeout: float = 60) -> "LogbookProcess":
        assert self.process is None, "already running"
        node = shutil.which("node") or "node"
        self.process = subprocess.Popen(
            [node, str(CLI), "serve", "--host", "127.0.0.1", "--grpc-port", str(self.port), "--http-port", "0",
             "--log-level", "info", "--data-dir", str(self.data_dir), "--store", "sqlite:"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"},
        )
        listening = threading.Event()
        tail: List[str] = []
        proc = self.process

        def read() -> None:  # keeps draining stdout, so the pipe never fills up
            assert proc.stdout is not None
            for line in proc.stdout:
                tail.append(line)
                del tail[:-50]
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("msg") == "gRPC server listening" and entry.get("grpcPort") == self.port:
                    listening.set()

        threading.Thread(target=read, daemon=True).start()
        if not listening.wait(timeout):
            self.kill()
            raise RuntimeError("Logbook did not start:\n" + "".join(tail))
        self.starts += 1
        return self

    def kill(self) -> None:
        """SIGKILL: the server is gone at once, as in a crash."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(self.address)


class PausableProxy:
    """A TCP forwarder in front of a real Logbook; `pause()` holds every byte from the client (the server is then
    as good as infinitely slow), `resume()` lets them through."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.flowing = threading.Event()
        self.flowing.set()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.closed = False
        self.sockets: List[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def pause(self) -> None:
        self.flowing.clear()

    def resume(self) -> None:
        self.flowing.set()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:  # the server is down: so is the proxy's connection
                client.close()
                continue
            self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, gated: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if gated:
                    self.flowing.wait()
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.closed = True
        self.flowing.set()
        self.listener.close()
        for s in self.sockets:
            try:
                s.close()
            except OSError:
                pass


class CountingInterceptor(grpc.UnaryUnaryClientInterceptor):
    """Records every unary call the tracker makes: method name → requests (so tests count calls and batch sizes)."""

    def __init__(self) -> None:
        self.requests: Dict[str, list] = {}
        self.lock = threading.Lock()

    def intercept_unary_unary(self, continuation, client_call_details, request):
        method = client_call_details.method.rsplit("/", 1)[-1]
        with self.lock:
            self.requests.setdefault(method, []).append(request)
        return continuation(client_call_details, request)

    def count(self, method: str) -> int:
        with self.lock:
            return len(self.requests.get(method, []))


def metric_history(channel: grpc.Channel, run_id: str, key: str) -> list:
    tracking = tracking_service_pb2_grpc.TrackingServiceStub(channel)
    points, token = [], ""
    while True:
        page = tracking.GetMetricHistory(
            tracking_service_pb2.GetMetricHistoryRequest(run_id=run_id, metric_key=key, page_token=token),
            timeout=TIMEOUT,
        )
        points.extend(page.metrics)
        token = page.next_page_token
        if not token:
            return points


def get_run(channel: grpc.Channel, run_id: str):
    tracking = tracking_service_pb2_grpc.TrackingServiceStub(channel)
    return tracking.GetRun(tracking_service_pb2.GetRunRequest(run_id=run_id), timeout=TIMEOUT).run
