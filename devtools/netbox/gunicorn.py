"""gunicorn serving a NetBox root: start, health checks, stop by PID."""

from __future__ import annotations

import contextlib
import signal
import time
from pathlib import Path
from typing import Any

import requests

from devtools.netbox.common import (
    GUNICORN_THREADS,
    GUNICORN_WORKERS,
    HOST,
    T_STOP,
    Layout,
    LocalNetboxError,
    say,
)
from devtools.netbox.config import fail_if_exited, spawn
from zwvl import procs
from zwvl.procs import Progress, pid_alive, port_in_use


def is_our_gunicorn(pid: int, root: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    if "gunicorn" not in cmdline:
        return False
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return True
    return f"NETBOX_ROOT={root}".encode() in environ


def read_pid(root: Path) -> int | None:
    try:
        pid = int((root / "gunicorn.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) and is_our_gunicorn(pid, root) else None


def http_status(
    url: str, token: str | None, timeout: float = 5.0
) -> tuple[int | None, dict[str, Any] | None]:
    """GET <url>/api/status/; returns (HTTP status or None when unreachable, JSON body when 200)."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}" if token.startswith("nbt_") else f"Token {token}"
    try:
        resp = requests.get(f"{url}/api/status/", headers=headers, timeout=timeout)
    except requests.RequestException:
        return None, None
    body: dict[str, Any] | None = None
    if resp.status_code == 200:
        with contextlib.suppress(ValueError):
            data = resp.json()
            body = data if isinstance(data, dict) else None
    return resp.status_code, body


def responsive(url: str) -> bool:
    """gunicorn answers and NetBox is not failing (403 without a token is the normal answer)."""
    code, _ = http_status(url, None)
    return code is not None and code < 500


def token_accepted(url: str, token: str, root: Path) -> bool:
    """True on HTTP 200, False on 401/403 (a new token is needed); anything else is an error."""
    code, _ = http_status(url, token, timeout=30)
    if code == 200:
        return True
    if code in (401, 403):
        return False
    raise LocalNetboxError(f"{url}/api/status/ answered {code or 'nothing'}; see {root / 'gunicorn.log'}")


def start_gunicorn(
    lay: Layout,
    root: Path,
    port: int,
    progress: Progress | None,
    timeout: float,
    pass_fds: tuple[int, ...] = (),
) -> int:
    if port_in_use(port):
        raise LocalNetboxError(f"port {HOST}:{port} is already in use by another program (choose --port)")
    log = root / "gunicorn.log"
    pidfile = root / "gunicorn.pid"
    with contextlib.suppress(FileNotFoundError):
        pidfile.unlink()
    cmd = [
        str(lay.gunicorn_bin),
        "netbox.wsgi",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(GUNICORN_WORKERS),
        "--threads",
        str(GUNICORN_THREADS),
        "--preload",
        "--timeout",
        "120",
        "--graceful-timeout",
        "1",
        "--max-requests",
        "5000",
        "--max-requests-jitter",
        "500",
        "--pid",
        str(pidfile),
        "--error-logfile",
        "-",
    ]
    say(progress, f"Starting gunicorn on http://{HOST}:{port}/ (log: {log}) ...")
    proc = spawn(cmd, root, log, pass_fds)
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fail_if_exited(proc, log, "gunicorn")
        code, _ = http_status(url, None, timeout=3)
        if code is not None:
            if not pidfile.exists():
                pidfile.write_text(f"{proc.pid}\n")
            return proc.pid
        time.sleep(0.5)
    signal_and_wait(proc.pid, T_STOP)
    raise LocalNetboxError(f"gunicorn did not answer on {url}/api/status/ within {timeout:.0f}s; see {log}")


def signal_and_wait(pid: int, timeout: float) -> None:
    """SIGQUIT (gunicorn's fast stop), then SIGKILL to its process group after ``timeout`` seconds."""
    procs.stop_pid(pid, timeout, signal.SIGQUIT)
