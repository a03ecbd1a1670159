"""Real processes the monitoring tests start and stop themselves (by PID), on free loopback ports.

- Prometheus and Alertmanager from Debian, each with a temporary data folder;
- a PostgreSQL cluster of its own (initdb as the postgres user, socket in a temporary folder);
- the zwvl exporter (`python -m zwvl exporter`);
- a small HTTP server in this process: a webhook sink that records Alertmanager's notifications.

Request Tracker 5 is started by tests/platform/services.py (`start_rt`), shared with the platform tests.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from tests.support.postgres import PgCluster, start_cluster
from zwvl.procs import free_port

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
PROMETHEUS = "/usr/bin/prometheus"


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException, OSError):
            if check():
                return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@dataclass
class Proc:
    """A child process we started; stopped by its PID (SIGTERM, then SIGKILL)."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)

    def tail(self, n: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""

    def alive(self) -> bool:
        return self.popen.poll() is None


def start(name: str, argv: list[str], log: Path, env: dict[str, str] | None = None) -> Proc:
    fh = open(log, "wb")  # noqa: SIM115 - owned by the child
    try:
        popen = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    finally:
        fh.close()
    return Proc(name, popen, log)


def http_ok(url: str) -> bool:
    return requests.get(url, timeout=2).status_code == 200


# ------------------------------------------------------------------------------------ Prometheus


@dataclass
class Prometheus:
    url: str
    proc: Proc

    def query(self, expr: str) -> dict[str, Any]:
        resp = requests.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        data = resp.json()
        assert isinstance(data, dict)
        return data

    def names(self) -> set[str]:
        resp = requests.get(f"{self.url}/api/v1/label/__name__/values", timeout=10)
        return set(resp.json()["data"])

    def alerts(self) -> list[dict[str, Any]]:
        resp = requests.get(f"{self.url}/api/v1/alerts", timeout=10)
        return list(resp.json()["data"]["alerts"])

    def targets(self) -> list[dict[str, Any]]:
        resp = requests.get(f"{self.url}/api/v1/targets", params={"state": "active"}, timeout=10)
        return list(resp.json()["data"]["activeTargets"])


def start_prometheus(config: Path, data: Path, log: Path) -> Prometheus:
    port = free_port()
    proc = start(
        "prometheus",
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=2h",
            "--log.level=warn",
        ],
        log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_ok(f"{url}/-/ready"), 60, "Prometheus to be ready")
    except AssertionError:
        proc.stop()
        raise AssertionError(f"Prometheus did not start:\n{proc.tail()}") from None
    return Prometheus(url, proc)


@dataclass
class Alertmanager:
    url: str
    proc: Proc

    def alerts(self) -> list[dict[str, Any]]:
        resp = requests.get(f"{self.url}/api/v2/alerts", timeout=10)
        return list(resp.json())


def start_alertmanager(config: Path, data: Path, log: Path) -> Alertmanager:
    port = free_port()
    proc = start(
        "alertmanager",
        [
            ALERTMANAGER,
            f"--config.file={config}",
            f"--storage.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # no gossip port: a single instance
            "--log.level=warn",
        ],
        log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_ok(f"{url}/-/ready"), 60, "Alertmanager to be ready")
    except AssertionError:
        proc.stop()
        raise AssertionError(f"Alertmanager did not start:\n{proc.tail()}") from None
    return Alertmanager(url, proc)


# ------------------------------------------------------------------------------------ PostgreSQL


Postgres = PgCluster


def start_postgres() -> Postgres:
    """A throw-away cluster (tests/support/postgres.py): trust authentication, superuser postgres."""
    return start_cluster(
        prefix="zwvl-mon-pg-",
        settings={"shared_buffers": "16MB", "max_connections": "20"},
        error=AssertionError,
    )


# -------------------------------------------------------------------------------- webhook sink


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _WebhookHandler)
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()


class _WebhookHandler(BaseHTTPRequestHandler):
    server: _Recorder

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        with self.server.lock:
            self.server.received.append((self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def webhook_sink() -> Iterator[_Recorder]:
    srv = _Recorder()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)
