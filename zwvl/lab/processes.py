"""The lab's processes: commands run to completion (:func:`_run`), and the routers' process trees,
started and stopped by PID and looked up in ``/proc``.

A router is ``nsenter --net=<ns> unshare --mount --uts --pid --fork --kill-child --mount-proc tini --
router-init.sh``; the state records the PID of ``unshare`` (kill it and tini, PID 1 of the router's PID
namespace, goes with every process of the router) and of ``tini`` (the ``nsenter -t`` target).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zwvl import procs
from zwvl.lab.errors import LabError

T_CMD = 60.0
T_STOP = 10.0

CLEAN_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/root",
    "TERM": "dumb",
}
"""Environment of every process started in a router: nothing of the caller's (no NetBox token)."""


def _run(
    cmd: Sequence[str | Path],
    *,
    timeout: float = T_CMD,
    input: str | None = None,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """A command run to completion in the lab's clean environment; failures raise :class:`LabError`."""
    return procs.run(
        cmd,
        timeout=timeout,
        input=input,
        check=check,
        env=env if env is not None else CLEAN_ENV,
        what=" ".join(str(c) for c in list(cmd)[:8]),
        error=LabError,
    )


def pid_alive(pid: int | None) -> bool:
    """True for a running process (zombies count as dead)."""
    return bool(pid) and procs.pid_alive(pid or 0)


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [p.decode(errors="replace") for p in raw.split(b"\0") if p]


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(x) for x in text.split()]
    except OSError:
        out = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    ppid = int(Path(entry, "stat").read_text().rsplit(")", 1)[1].split()[1])
                    if ppid == pid:
                        out.append(int(entry.name))
        return out


def ns_pids(init_pid: int) -> dict[int, int]:
    """PIDs inside a router's PID namespace -> host PIDs, for tini and its children (daemons are
    re-parented to tini, PID 1 of the namespace)."""
    out: dict[int, int] = {}
    for pid in [init_pid, *children(init_pid)]:
        if not pid_alive(pid):
            continue
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("NSpid:"):
                    ids = [int(x) for x in line.split()[1:]]
                    if len(ids) >= 2:
                        out[ids[-1]] = pid
                    break
    return out


_reap = procs.reap


def kill_and_wait(pid: int, sig: int = signal.SIGKILL, timeout: float = T_STOP) -> bool:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_alive(pid)


# ------------------------------------------------------------------------------------- routers


def verified_pid(entry: dict[str, Any]) -> int | None:
    """The router's unshare PID, if that process still runs and is really ours (PIDs get reused)."""
    pid = entry.get("pid")
    if not isinstance(pid, int) or not pid_alive(pid):
        return None
    cmd = cmdline(pid)
    if cmd and Path(cmd[0]).name == "unshare" and str(entry.get("folder")) in cmd:
        return pid
    return None


def spawn_router(namespace: str, init_script: Path, router: str, folder: Path) -> int:
    """Start a router's process tree in network namespace ``namespace``; its console goes to
    ``<folder>/console.log``. Returns the PID of ``unshare``."""
    console = open(folder / "console.log", "ab")  # noqa: SIM115 - handed to the child
    try:
        proc = subprocess.Popen(
            [
                "nsenter",
                f"--net=/run/netns/{namespace}",
                "--",
                "unshare",
                "--mount",
                "--uts",
                "--pid",
                "--fork",
                "--kill-child",
                "--mount-proc",
                "--propagation",
                "private",
                "--",
                "tini",
                "--",
                "/bin/bash",
                str(init_script),
                router,
                str(folder),
            ],
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            env=CLEAN_ENV,
            start_new_session=True,
            close_fds=True,
            cwd="/",
        )
    finally:
        console.close()
    return proc.pid


def find_init(entry: dict[str, Any]) -> int | None:
    """The host PID of the router's tini (the child of its recorded ``unshare``)."""
    pid = entry.get("pid")
    if not isinstance(pid, int):
        return None
    for child in children(pid):
        cmd = cmdline(child)
        if cmd and Path(cmd[0]).name == "tini":
            return child
    return None


def stop_router_processes(name: str, entry: dict[str, Any]) -> None:
    """Kill a router's ``unshare`` (and so its whole tree) and, should it have outlived that, its tini."""
    pid = verified_pid(entry)
    if pid is not None and not kill_and_wait(pid):
        raise LabError(f"router {name}: process {pid} did not stop")
    init = entry.get("init_pid")
    if isinstance(init, int) and pid_alive(init) and "tini" in " ".join(cmdline(init)[:1]):
        kill_and_wait(init)
