"""Child processes: run a command with a timeout and a clear error, track, reap and stop by PID, free ports.

The one home for these helpers (the lab runtime still has its own copies for now).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

Progress = Callable[[str], None]
"""Receives one human-readable progress line."""

HOST = "127.0.0.1"


class CommandError(RuntimeError):
    """A command failed, timed out or was not found."""


def tail(text: str, lines: int = 20) -> str:
    """The last ``lines`` lines of ``text``."""
    return "\n".join(text.strip().splitlines()[-lines:])


def run(
    cmd: Sequence[str | Path],
    *,
    timeout: float,
    input: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    check: bool = True,
    what: str | None = None,
    error: type[Exception] = CommandError,
) -> subprocess.CompletedProcess[str]:
    """Run a command with captured output, raising ``error`` when it times out, is missing or fails.

    Errors quote stderr (never stdout: it may hold secrets)."""
    args = [str(c) for c in cmd]
    label = what or args[0]
    try:
        proc = subprocess.run(
            args,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=cwd,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise error(f"{label}: timed out after {timeout:.0f}s") from exc
    except FileNotFoundError as exc:
        raise error(f"{label}: command not found: {args[0]}") from exc
    if check and proc.returncode != 0:
        raise error(f"{label} failed (exit {proc.returncode}):\n{tail(proc.stderr)}")
    return proc


# Children started by this process (Popen objects), so that their exit status is collected.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def track(proc: subprocess.Popen[bytes]) -> None:
    """Remember a child we started, so :func:`reap` and :func:`stop_pid` collect its exit status."""
    _CHILDREN[proc.pid] = proc


def forget(pid: int) -> None:
    _CHILDREN.pop(pid, None)


def reap(pid: int) -> None:
    """Collect the exit status of ``pid`` when it is an exited child of ours (no zombie left)."""
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        _CHILDREN.pop(pid, None)
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def pid_alive(pid: int) -> bool:
    """True when ``pid`` is a live (non-zombie) process."""
    if pid <= 0:
        return False
    reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def stop_pid(pid: int, timeout: float, sig: int = signal.SIGTERM) -> None:
    """Send ``sig``, then SIGKILL to its process group (and the PID) after ``timeout`` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            break
        time.sleep(0.2)
    else:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        end = time.monotonic() + 10
        while pid_alive(pid) and time.monotonic() < end:
            time.sleep(0.1)
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on right now (for tests and extra instances)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def stop_group(proc: subprocess.Popen[bytes], timeout: float, kill_wait: float = 10) -> None:
    """Stop a process group we started (its leader ``proc``, by PID): SIGTERM, then SIGKILL."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=kill_wait)
