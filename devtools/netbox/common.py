"""Shared pieces of the local NetBox: versions, ports, timeouts, cache layout, errors, running commands."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zwvl import procs
from zwvl.filelock import file_lock
from zwvl.netbox.settings import (
    cache_dir_or_default,
    check_instance_name,
)
from zwvl.procs import Progress

NETBOX_VERSION = "4.7.3"
"""Exact NetBox release installed from PyPI (newest 4.7.x when pinned)."""
BRANCHING_VERSION = "1.2.2"
"""netboxlabs-netbox-branching, pinned beside NetBox (1.2.x supports NetBox 4.7.0-4.7.99)."""

HOST = "127.0.0.1"
PG_VERSION = "15"
PG_CLUSTER = "main"
PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_ROLE = "zwvl_netbox"
REDIS_HOST = "127.0.0.1"
REDIS_PORT = 6379
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 3
ADMIN_USER = "admin"
TOKEN_DESCRIPTION = "zwvl tooling"
SYSTEM_PACKAGES: tuple[str, ...] = (
    "postgresql",
    "postgresql-contrib",
    "redis-server",
    "build-essential",
    "libpq-dev",
    "python3-dev",
)
_DB_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
TEMPLATE_PREFIX = "zwvl_netbox_tpl_"
READY_MARKER = ".zwvl-ready"

# Timeouts (seconds): every wait in the local NetBox is bounded.
T_QUICK = 30
T_APT = 1800
T_PIP = 1800
T_MIGRATE = 3600
T_SHELL = 300
T_DUMP = 600
T_STARTUP = 180
T_STOP = 20
T_LOCK = 4000


class LocalNetboxError(RuntimeError):
    """The local NetBox (or one of its services) could not be set up, started or stopped."""


def _noop(_: str) -> None:
    return None


def say(progress: Progress | None, msg: str) -> None:
    (progress or _noop)(msg)


def check_db_name(name: str) -> str:
    if not _DB_NAME_RE.match(name):
        raise LocalNetboxError(f"invalid database name {name!r} (use a-z, 0-9, '_'; at most 63 characters)")
    return name


def flavour_key(version: str = NETBOX_VERSION, branching: str = BRANCHING_VERSION) -> str:
    """What a venv and a template database hold: NetBox and plugin versions, e.g. ``4.7.3-branching-1.2.2``.

    Keying venvs, dumps and templates by it means a template migrated without the plugin is never reused."""
    return f"{version}-branching-{branching}"


def template_db_name(version: str = NETBOX_VERSION, branching: str = BRANCHING_VERSION) -> str:
    """The migrated template database, e.g. ``zwvl_netbox_tpl_4_7_3_branching_1_2_2``."""
    return TEMPLATE_PREFIX + re.sub(r"[.-]", "_", flavour_key(version, branching))


def instance_db_name(name: str) -> str:
    """Database of a named instance: ``zwvl_netbox_<name>`` ('-' becomes '_')."""
    return "zwvl_netbox_" + check_instance_name(name).replace("-", "_")


@dataclass(frozen=True)
class Layout:
    """Paths in the cache folder for one NetBox version."""

    cache_dir: Path
    version: str = NETBOX_VERSION
    branching: str = BRANCHING_VERSION

    @property
    def key(self) -> str:
        """NetBox + plugin versions: names the venv, the template database and its dump."""
        return flavour_key(self.version, self.branching)

    @property
    def venv(self) -> Path:
        return self.cache_dir / "venvs" / f"netbox-{self.key}"

    @property
    def python_bin(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def netbox_bin(self) -> Path:
        return self.venv / "bin" / "netbox"

    @property
    def gunicorn_bin(self) -> Path:
        return self.venv / "bin" / "gunicorn"

    @property
    def templates(self) -> Path:
        return self.cache_dir / "templates"

    @property
    def dump(self) -> Path:
        return self.templates / f"netbox-{self.key}.dump"

    @property
    def migrations_file(self) -> Path:
        return self.templates / f"netbox-{self.key}.migrations.json"

    @property
    def template_root(self) -> Path:
        return self.templates / f"netbox-{self.key}-build"

    @property
    def postgres_json(self) -> Path:
        return pg_credentials_file()

    @property
    def redis_dir(self) -> Path:
        return self.cache_dir / "redis"

    @property
    def locks(self) -> Path:
        return self.cache_dir / "locks"

    def instance_root(self, name: str) -> Path:
        return self.cache_dir / "instances" / check_instance_name(name)


def pg_credentials_file() -> Path:
    """Password of the shared `zwvl_netbox` PostgreSQL role: $ZWVL_PG_CREDENTIALS, else
    $XDG_CONFIG_HOME/zwvl/postgres.json (~/.config/zwvl/postgres.json).

    It is deliberately NOT in the cache folder: the role belongs to the PostgreSQL cluster and is shared
    by every cache folder, so a second --cache-dir must not reset the password under a running instance.
    """
    env = os.environ.get("ZWVL_PG_CREDENTIALS", "").strip()
    if env:
        return Path(env).expanduser()
    config_home = os.environ.get("XDG_CONFIG_HOME", "").strip() or str(Path.home() / ".config")
    return Path(config_home).expanduser() / "zwvl" / "postgres.json"


def layout(cache_dir: Path | str | None = None) -> Layout:
    return Layout(cache_dir_or_default(cache_dir))


def write_private(path: Path, text: str) -> None:
    """Write a file readable only by its owner (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def netbox_lock(
    path: Path, timeout: float, what: str, progress: Progress | None = None
) -> contextlib.AbstractContextManager[None]:
    return file_lock(
        path,
        timeout,
        LocalNetboxError(f"timed out after {timeout:.0f}s waiting for the {what} lock ({path})"),
        waiting=lambda: say(progress, f"Waiting for another zwvl process holding the {what} lock ..."),
        poll=1.0,
    )


tail = procs.tail


# procs.run raising LocalNetboxError. Errors quote stderr (never stdout: it may hold secrets).
run = functools.partial(procs.run, error=LocalNetboxError)


def stream(
    cmd: Sequence[str | Path],
    *,
    timeout: float,
    progress: Progress | None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    show: Callable[[str], bool] = lambda line: bool(line.strip()),
    what: str,
) -> None:
    """Run a command, passing its (merged) output lines that ``show`` accepts to ``progress``."""
    args = [str(c) for c in cmd]
    last: deque[str] = deque(maxlen=30)
    try:
        proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            env=env,
            cwd=cwd,
        )
    except FileNotFoundError as exc:
        raise LocalNetboxError(f"{what}: command not found: {args[0]}") from exc
    timed_out = threading.Event()

    def _kill() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout, _kill)
    timer.daemon = True
    timer.start()
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip()
            last.append(line)
            if show(line):
                say(progress, "  " + line.strip())
        rc = proc.wait(timeout=T_QUICK)
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=T_QUICK)
    if timed_out.is_set():
        raise LocalNetboxError(f"{what}: timed out after {timeout:.0f}s")
    if rc != 0:
        raise LocalNetboxError(f"{what} failed (exit {rc}):\n" + "\n".join(last))
