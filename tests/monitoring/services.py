"""Real processes the monitoring tests start and stop themselves (by PID), on free loopback ports.

- Prometheus and Alertmanager from Debian, each with a temporary data folder;
- a PostgreSQL cluster of its own (initdb as the postgres user, socket in a temporary folder);
- the zwvl exporter (`python -m zwvl exporter`);
- two small HTTP servers in this process: a webhook sink that records Alertmanager's notifications,
  and a Request Tracker REST2 stand-in (the real RT is the platform issue's; see test_sources.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

PG_BIN = Path("/usr/lib/postgresql/15/bin")
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
PROMETHEUS = "/usr/bin/prometheus"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


@dataclass
class Postgres:
    folder: Path
    port: int
    proc: Proc | None = None

    @property
    def socket_dir(self) -> Path:
        return self.folder / "sock"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host={self.socket_dir} port={self.port} dbname={dbname} user=postgres"

    def stop(self) -> None:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-m",
                "fast",
                "-w",
                "-t",
                "30",
                "stop",
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
        if self.proc is not None:
            self.proc.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres() -> Postgres:
    """A throw-away cluster: trust authentication on its own socket folder and 127.0.0.1 only."""
    folder = Path(tempfile.mkdtemp(prefix="zwvl-mon-pg-"))
    shutil.chown(folder, "postgres", "postgres")
    os.chmod(folder, 0o755)
    pg = Postgres(folder, free_port())
    for sub in ("data", "sock"):
        (folder / sub).mkdir()
        shutil.chown(folder / sub, "postgres", "postgres")
    init = subprocess.run(
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            str(PG_BIN / "initdb"),
            "-D",
            str(folder / "data"),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if init.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise AssertionError(f"initdb failed: {init.stderr[-2000:]}")
    log = folder / "postgres.log"
    log.touch()
    shutil.chown(log, "postgres", "postgres")
    pg.proc = start(
        "postgres",
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            str(PG_BIN / "postgres"),
            "-D",
            str(folder / "data"),
            "-p",
            str(pg.port),
            "-k",
            str(pg.socket_dir),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "shared_buffers=16MB",
            "-c",
            "max_connections=20",
        ],
        folder / "postmaster.out",
    )
    try:
        wait_until(lambda: (pg.socket_dir / f".s.PGSQL.{pg.port}").exists(), 60, "PostgreSQL to start")
    except AssertionError:
        out = pg.proc.tail()
        pg.stop()
        raise AssertionError(f"PostgreSQL did not start:\n{out}") from None
    return pg


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


# --------------------------------------------------------------- Request Tracker REST2 stand-in


@dataclass
class Ticket:
    id: int
    queue: str
    status: str
    category: str | None
    due: str = "1970-01-01T00:00:00Z"  # RT's "not set"


@dataclass
class RtData:
    token: str
    category_field: str
    tickets: list[Ticket] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


_TOKEN_RE = re.compile(r"\s*(\(|\)|AND\b|OR\b|'[^']*'|IS\s+NULL|=|[A-Za-z_.{}]+)", re.IGNORECASE)
ACTIVE = {"new", "open", "stalled"}


def _match(query: str, t: Ticket, cf: str) -> bool:
    """The subset of TicketSQL the exporter sends: field = 'value', IS NULL, AND, OR, parentheses."""
    tokens: list[str] = []
    pos = 0
    while pos < len(query):
        m = _TOKEN_RE.match(query, pos)
        if not m:
            if query[pos:].strip():
                raise ValueError(f"unsupported TicketSQL near {query[pos:]!r}")
            break
        tokens.append(m.group(1))
        pos = m.end()

    def value(fieldname: str) -> str | None:
        name = fieldname.strip("'")
        if name == "Status":
            return t.status
        if name == f"CF.{{{cf}}}":
            return t.category
        raise ValueError(f"unsupported field {name!r}")

    def cond(i: int) -> tuple[bool, int]:
        if tokens[i] == "(":
            ok, i = expr(i + 1)
            assert tokens[i] == ")"
            return ok, i + 1
        fld = tokens[i]
        if tokens[i + 1].upper().startswith("IS"):
            return value(fld) is None, i + 2
        assert tokens[i + 1] == "=", tokens
        want = tokens[i + 2].strip("'")
        have = value(fld)
        if fld.strip("'") == "Status" and want == "__Active__":
            return have in ACTIVE, i + 3
        return have is not None and have.lower() == want.lower(), i + 3

    def expr(i: int) -> tuple[bool, int]:
        ok, i = cond(i)
        while i < len(tokens) and tokens[i].upper() in ("AND", "OR"):
            op = tokens[i].upper()
            rhs, i = cond(i + 1)
            ok = (ok and rhs) if op == "AND" else (ok or rhs)
        return ok, i

    ok, end = expr(0)
    assert end == len(tokens), tokens
    return ok


class _RtServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, data: RtData) -> None:
        super().__init__(("127.0.0.1", 0), _RtHandler)
        self.data = data


class _RtHandler(BaseHTTPRequestHandler):
    server: _RtServer

    def _json(self, code: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:  # noqa: N802
        data = self.server.data
        if self.headers.get("Authorization") != f"token {data.token}":
            self._json(401, {"message": "Unauthorized"})
            return
        url = urlparse(self.path)
        if url.path != "/REST/2.0/tickets":
            self._json(404, {"message": "Not Found"})
            return
        qs = {k: v[0] for k, v in parse_qs(url.query).items()}
        data.requests.append(qs.get("query", ""))
        try:
            hits = [t for t in data.tickets if _match(qs.get("query", ""), t, data.category_field)]
        except (ValueError, AssertionError, IndexError) as exc:
            self._json(400, {"message": f"bad query: {exc}"})
            return
        per_page = min(int(qs.get("per_page", 20)), 100)
        page = int(qs.get("page", 1))
        pages = max(1, -(-len(hits) // per_page))
        fields = set(qs.get("fields", "").split(","))
        items = []
        for t in hits[(page - 1) * per_page : page * per_page]:
            item: dict[str, Any] = {"type": "ticket", "id": str(t.id), "_url": f"/REST/2.0/ticket/{t.id}"}
            if "Queue" in fields:
                item["Queue"] = {"type": "queue", "id": "1", "Name": t.queue}
            if "Status" in fields:
                item["Status"] = t.status
            if "Due" in fields:
                item["Due"] = t.due
            if "CustomFields" in fields:
                item["CustomFields"] = [
                    {
                        "type": "customfield",
                        "id": "1",
                        "name": data.category_field,
                        "values": [t.category] if t.category else [],
                    }
                ]
            items.append(item)
        self._json(
            200,
            {
                "count": len(items),
                "page": page,
                "pages": pages,
                "per_page": per_page,
                "total": len(hits),
                "items": items,
            },
        )

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def rt_server(data: RtData) -> Iterator[str]:
    srv = _RtServer(data)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)
