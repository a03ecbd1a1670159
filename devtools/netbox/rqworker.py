"""NetBox's background worker (`netbox rqworker`) beside gunicorn: branch provisioning, sync and merge
(netboxlabs-netbox-branching) run as NetBox jobs, and nothing happens to them without a worker.

Started and stopped by PID like gunicorn (``rqworker.pid``, log ``rqworker.log`` in the NetBox root).
Each running instance has a Redis database of its own, leased (redis.lease_db), so a worker only runs its
own instance's jobs; the worker inherits the lease and holds it while it runs.
"""

from __future__ import annotations

import contextlib
import signal
import time
from pathlib import Path

from devtools.netbox.common import T_STOP, Layout, say
from devtools.netbox.config import fail_if_exited, spawn
from zwvl import procs
from zwvl.procs import Progress, pid_alive

PID_FILE = "rqworker.pid"
LOG_FILE = "rqworker.log"


def is_our_worker(pid: int, root: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return "rqworker" in cmdline and f"NETBOX_ROOT={root}".encode() in environ


def worker_pid(root: Path) -> int | None:
    """The PID of the instance's running worker, else None."""
    try:
        pid = int((root / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) and is_our_worker(pid, root) else None


def start_worker(
    lay: Layout, root: Path, progress: Progress | None, settle: float = 3.0, pass_fds: tuple[int, ...] = ()
) -> int:
    """Start `netbox rqworker` (all of NetBox's queues) in its own session; returns its PID.

    Waits ``settle`` seconds so that a worker that cannot start (bad configuration) is reported here
    rather than as a branch that never becomes ready."""
    log = root / LOG_FILE
    say(progress, f"Starting NetBox's background worker (netbox rqworker; log: {log}) ...")
    proc = spawn([str(lay.netbox_bin), "rqworker"], root, log, pass_fds)
    (root / PID_FILE).write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        fail_if_exited(proc, log, "netbox rqworker")
        time.sleep(0.2)
    return proc.pid


def stop_worker(root: Path, timeout: float = T_STOP) -> int | None:
    """Stop the instance's worker by PID (SIGTERM: RQ's warm shutdown, SIGKILL after ``timeout``)."""
    pid = worker_pid(root)
    if pid is not None:
        procs.stop_pid(pid, timeout, signal.SIGTERM)
    with contextlib.suppress(FileNotFoundError):
        (root / PID_FILE).unlink()
    return pid
