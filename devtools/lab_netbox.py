"""A NetBox of the lab's own, filled with a region: for tests/infra and scripts/bench-inventory.

Clones the migrated template database (``devtools.netbox``) into ``zwvl_lab_<name>``, serves it with
gunicorn on a free port and fills it with ``NETBOX_URL=... NETBOX_TOKEN=... zwvl apply --inventory
DIR``. :func:`stop` stops gunicorn by PID and drops the database.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from devtools import netbox as local
from zwvl.procs import Progress

DB_PREFIX = "zwvl_lab_"


def _noop(_: str) -> None:
    return None


def start(name: str, root_parent: Path, progress: Progress | None = None) -> local.Instance:
    """An empty NetBox (fresh clone of the template) named ``name`` on a free port."""
    say = progress or _noop
    if not re.match(r"^[a-z0-9_]{1,40}$", name):
        raise ValueError(f"bad NetBox fixture name {name!r}")
    tpl = local.ensure_template(progress=say)
    db = DB_PREFIX + name
    local.drop_database(db)
    local.clone_database(db, tpl)
    root = root_parent / f"netbox-{name}"
    try:
        return local.start_instance(
            db, local.free_port(), f"lab-{name.replace('_', '-')}", root=root, progress=say
        )
    except BaseException:
        local.drop_database(db)
        raise


def stop(inst: local.Instance) -> None:
    try:
        local.stop_instance(inst)
    finally:
        local.drop_database(inst.db_name)
        shutil.rmtree(inst.root, ignore_errors=True)


def drop_stale(prefix: str = DB_PREFIX + "t") -> None:
    """Drop ``zwvl_lab_t<pid>_*`` databases of test sessions that no longer run.

    Starts PostgreSQL first: after a reboot nothing is running yet and the listing must not fail."""
    local.ensure_services()
    for db in local.list_databases(prefix):
        m = re.match(rf"^{re.escape(prefix)}(\d+)_", db)
        if m and int(m.group(1)) != os.getpid() and not local.pid_alive(int(m.group(1))):
            local.drop_database(db)


def apply_region(inst: local.Instance, inventory_dir: Path, timeout: float = 3600.0) -> float:
    """Fill NetBox with the inventory through ``zwvl apply``; returns the seconds it took."""
    env = dict(os.environ, NETBOX_URL=inst.url, NETBOX_TOKEN=inst.token)
    zwvl = Path(sys.executable).parent / "zwvl"
    cmd = [str(zwvl) if zwvl.exists() else "zwvl", "apply", "--inventory", str(inventory_dir)]
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"zwvl apply failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return time.monotonic() - started


@contextlib.contextmanager
def populated(
    name: str, root_parent: Path, inventory_dir: Path, progress: Progress | None = None
) -> Iterator[local.Instance]:
    inst = start(name, root_parent, progress)
    try:
        (progress or _noop)(f"Filling NetBox {inst.url} from {inventory_dir} (zwvl apply) ...")
        apply_region(inst, inventory_dir)
        yield inst
    finally:
        stop(inst)
