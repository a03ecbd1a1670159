"""NetBox's own virtual environment (<cache>/venvs/netbox-<key>): NetBox, the branching plugin, gunicorn."""

from __future__ import annotations

import glob
import os
import re
import shutil
import sys
from pathlib import Path

from devtools.netbox.common import (
    READY_MARKER,
    T_LOCK,
    T_PIP,
    Layout,
    LocalNetboxError,
    layout,
    netbox_lock,
    run,
    say,
    stream,
)
from zwvl.procs import Progress


def find_base_python() -> str:
    """Python 3.12 for NetBox's venv: $ZWVL_NETBOX_PYTHON, /usr/bin/python3.12, pyenv, or this one."""
    env = os.environ.get("ZWVL_NETBOX_PYTHON")
    candidates: list[str] = [env] if env else []
    candidates.append("/usr/bin/python3.12")
    candidates += sorted(
        glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3.12")),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in re.split(r"[.]", Path(p).parents[1].name)],
        reverse=True,
    )
    if sys.version_info[:2] == (3, 12):
        candidates.append(getattr(sys, "_base_executable", sys.executable))
    for cand in candidates:
        if cand and os.access(cand, os.X_OK):
            return cand
    raise LocalNetboxError("no Python 3.12 found for NetBox's venv (set ZWVL_NETBOX_PYTHON)")


def ensure_venv(cache_dir: Path | str | None = None, progress: Progress | None = None) -> Path:
    """NetBox's own venv (<cache>/venvs/netbox-<key>), built when absent. Returns the `netbox` program.

    ``<venv>/requirements.txt`` pins NetBox and netboxlabs-netbox-branching side by side."""
    lay = layout(cache_dir)
    marker = lay.venv / READY_MARKER
    if marker.is_file() and marker.read_text().strip() == lay.key and lay.netbox_bin.exists():
        return lay.netbox_bin
    # Two first runs on a fresh machine (a test session and `zwvl netbox up`) must not build it at once:
    # the second would delete the venv the first is installing into.
    lay.locks.mkdir(parents=True, exist_ok=True)
    with netbox_lock(lay.locks / f"venv-{lay.key}.lock", T_LOCK, "NetBox venv", progress):
        return _build_venv(lay, marker, progress)


def requirements(lay: Layout) -> str:
    """The venv's pins: NetBox and the branching plugin (its migrations are in the template database)."""
    return f"netbox=={lay.version}\nnetboxlabs-netbox-branching=={lay.branching}\n"


_VERSIONS = (
    "import importlib.metadata as m; " "print(m.version('netbox'), m.version('netboxlabs-netbox-branching'))"
)


def _build_venv(lay: Layout, marker: Path, progress: Progress | None) -> Path:
    if marker.is_file() and marker.read_text().strip() == lay.key and lay.netbox_bin.exists():
        return lay.netbox_bin  # built by the process that held the lock before us
    if lay.netbox_bin.exists() and lay.gunicorn_bin.exists():
        # Built by hand or by an interrupted run that got as far as installing: verify cheaply.
        proc = run([lay.python_bin, "-c", _VERSIONS], timeout=60, check=False)
        if proc.returncode == 0 and proc.stdout.split() == [lay.version, lay.branching]:
            marker.write_text(lay.key + "\n")
            return lay.netbox_bin
    python = find_base_python()
    say(progress, f"Building the NetBox {lay.key} venv in {lay.venv} with {python} (1-3 minutes) ...")
    if lay.venv.exists():
        shutil.rmtree(lay.venv)
    lay.venv.parent.mkdir(parents=True, exist_ok=True)
    run([python, "-m", "venv", lay.venv], timeout=300, what="python -m venv")
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    reqs = lay.venv / "requirements.txt"
    reqs.write_text(requirements(lay))
    stream(
        [lay.venv / "bin" / "pip", "install", "-r", reqs],
        timeout=T_PIP,
        progress=progress,
        env=env,
        show=lambda line: line.startswith(("Collecting netbox", "Building", "Successfully", "ERROR")),
        what="pip install netbox netboxlabs-netbox-branching",
    )
    if not lay.gunicorn_bin.exists():
        stream(
            [lay.venv / "bin" / "pip", "install", "gunicorn"],
            timeout=T_PIP,
            progress=progress,
            env=env,
            show=lambda line: line.startswith(("Successfully", "ERROR")),
            what="pip install gunicorn",
        )
    marker.write_text(lay.key + "\n")
    return lay.netbox_bin
