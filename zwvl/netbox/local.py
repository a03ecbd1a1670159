"""The embedded local NetBox: PostgreSQL and Redis from Debian, NetBox from PyPI, gunicorn on 127.0.0.1.

Everything heavy lives in a cache folder outside the work tree (default ``~/.cache/zwvl``, or
``$ZWVL_CACHE_DIR``)::

    <cache>/
      redis/                             redis.conf, redis.pid, redis.log of the redis-server we start
      locks/                             flock files (venv and template builds, one per instance)
      venvs/netbox-<ver>/                NetBox <ver> from PyPI (+ gunicorn), Python 3.12, `.zwvl-ready`
      templates/netbox-<ver>.dump        pg_dump -Fc of the migrated template database
      templates/netbox-<ver>.migrations.json  migrations applied in the template (cheap "is migrated" check)
      templates/netbox-<ver>-build/      NETBOX_ROOT used only to migrate the template
      instances/<name>/                  NETBOX_ROOT of an instance: conf/configuration.py, secrets.json,
                                         credentials.json (0600), instance.json, gunicorn.pid, gunicorn.log

The password of the `zwvl_netbox` PostgreSQL role (LOGIN CREATEDB) is kept in
``~/.config/zwvl/postgres.json`` (0600; see :func:`pg_credentials_file`).

PostgreSQL databases: ``zwvl_netbox_tpl_<ver>`` (migrated once, marked IS_TEMPLATE, connections
disallowed), ``zwvl_netbox_<name>`` per instance, cloned with ``CREATE DATABASE ... TEMPLATE``.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

from zwvl import procs
from zwvl.filelock import file_lock
from zwvl.netbox.settings import (
    CREDENTIALS_FILE,
    DEFAULT_INSTANCE,
    NetboxSettingsError,
    cache_dir_or_default,
    check_instance_name,
    read_credentials,
)
from zwvl.procs import Progress

NETBOX_VERSION = "4.7.3"
"""Exact NetBox release installed from PyPI (newest 4.7.x when pinned)."""

DEFAULT_PORT = 8765
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
_TEMPLATE_PREFIX = "zwvl_netbox_tpl_"
_READY_MARKER = ".zwvl-ready"

# Timeouts (seconds): every wait in this module is bounded.
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


@dataclass
class Instance:
    """A running local NetBox. ``token`` is a v2 API token (``nbt_<key>.<secret>``); never print it."""

    name: str
    url: str
    token: str = field(repr=False)
    pid: int
    port: int
    db_name: str
    root: Path
    credentials_file: Path
    started: bool = False
    """True when this call started gunicorn, False when a healthy one was reused."""

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers for NetBox's REST API with this instance's token."""
        return {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }


@dataclass
class Check:
    ok: bool
    detail: str


@dataclass
class Status:
    name: str
    url: str | None
    netbox: Check
    postgres: Check
    redis: Check

    @property
    def ok(self) -> bool:
        return self.netbox.ok and self.postgres.ok and self.redis.ok

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "ok": self.ok,
            "netbox": asdict(self.netbox),
            "postgres": asdict(self.postgres),
            "redis": asdict(self.redis),
        }


@dataclass
class DownResult:
    name: str
    stopped_pid: int | None
    dropped_db: str | None


# --------------------------------------------------------------------------------------------- helpers


def _noop(_: str) -> None:
    return None


def _say(progress: Progress | None, msg: str) -> None:
    (progress or _noop)(msg)


def _check_db_name(name: str) -> str:
    if not _DB_NAME_RE.match(name):
        raise LocalNetboxError(f"invalid database name {name!r} (use a-z, 0-9, '_'; at most 63 characters)")
    return name


def _version_key(version: str = NETBOX_VERSION) -> str:
    return version.replace(".", "_")


def template_db_name(version: str = NETBOX_VERSION) -> str:
    """Name of the migrated template database for a NetBox version, e.g. ``zwvl_netbox_tpl_4_7_3``."""
    return _TEMPLATE_PREFIX + _version_key(version)


def instance_db_name(name: str) -> str:
    """Database of a named instance: ``zwvl_netbox_<name>`` ('-' becomes '_')."""
    return "zwvl_netbox_" + check_instance_name(name).replace("-", "_")


@dataclass(frozen=True)
class Layout:
    """Paths in the cache folder for one NetBox version."""

    cache_dir: Path
    version: str = NETBOX_VERSION

    @property
    def venv(self) -> Path:
        return self.cache_dir / "venvs" / f"netbox-{self.version}"

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
        return self.templates / f"netbox-{self.version}.dump"

    @property
    def migrations_file(self) -> Path:
        return self.templates / f"netbox-{self.version}.migrations.json"

    @property
    def template_root(self) -> Path:
        return self.templates / f"netbox-{self.version}-build"

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


def _write_private(path: Path, text: str) -> None:
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


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _file_lock(
    path: Path, timeout: float, what: str, progress: Progress | None = None
) -> contextlib.AbstractContextManager[None]:
    return file_lock(
        path,
        timeout,
        LocalNetboxError(f"timed out after {timeout:.0f}s waiting for the {what} lock ({path})"),
        waiting=lambda: _say(progress, f"Waiting for another zwvl process holding the {what} lock ..."),
        poll=1.0,
    )


_tail = procs.tail


def _run(
    cmd: Sequence[str | Path],
    *,
    timeout: float,
    input: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    check: bool = True,
    what: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command with captured output. Errors quote stderr (never stdout: it may hold secrets)."""
    return procs.run(
        cmd, timeout=timeout, input=input, env=env, cwd=cwd, check=check, what=what, error=LocalNetboxError
    )


def _stream(
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
                _say(progress, "  " + line.strip())
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


# ------------------------------------------------------------------------------------- system packages


def netbox_system_packages() -> tuple[str, ...]:
    """The Debian packages NetBox needs: scripts/system-packages.d/netbox.txt in a checkout (the list
    scripts/install-system-deps installs), else the built-in SYSTEM_PACKAGES."""
    listing = Path(__file__).resolve().parents[2] / "scripts" / "system-packages.d" / "netbox.txt"
    try:
        lines = listing.read_text(encoding="utf-8").splitlines()
    except OSError:
        return SYSTEM_PACKAGES
    names = tuple(name for line in lines if (name := line.split("#", 1)[0].strip()))
    return names or SYSTEM_PACKAGES


def missing_system_packages(packages: Sequence[str] | None = None) -> list[str]:
    """Debian packages (default: NetBox's) that are not installed; empty when dpkg is unavailable."""
    packages = tuple(packages) if packages is not None else netbox_system_packages()
    if shutil.which("dpkg-query") is None:
        return []
    proc = _run(
        ["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *packages],
        timeout=T_QUICK,
        check=False,
    )
    installed = {
        parts[0]
        for parts in (line.split() for line in proc.stdout.splitlines())
        if len(parts) == 2 and parts[1] == "installed"
    }
    return [p for p in packages if p not in installed]


def ensure_system_packages(progress: Progress | None = None) -> None:
    """Install NetBox's missing Debian packages with apt-get (the same check and list as
    scripts/install-system-deps, but only NetBox's packages; apt runs under the shared
    /tmp/zwvl-apt.lock so parallel set-ups wait for each other)."""
    missing = missing_system_packages()
    if not missing:
        return
    if os.geteuid() != 0:
        raise LocalNetboxError(
            f"missing Debian packages: {' '.join(missing)}; run scripts/install-system-deps as root"
        )
    _say(progress, f"Installing Debian packages: {' '.join(missing)} ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    lock = ["flock", "-w", str(T_APT), "/tmp/zwvl-apt.lock"] if shutil.which("flock") else []
    _stream(
        [*lock, "apt-get", "update", "-qq"], timeout=T_APT, progress=progress, env=env, what="apt-get update"
    )
    _stream(
        [*lock, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        timeout=T_APT,
        progress=progress,
        env=env,
        what="apt-get install",
    )
    still = missing_system_packages()
    if still:
        raise LocalNetboxError(f"Debian packages still missing after install: {' '.join(still)}")


# ------------------------------------------------------------------------------------------ PostgreSQL


def _pg_bin(name: str) -> str:
    for candidate in (f"/usr/lib/postgresql/{PG_VERSION}/bin/{name}", shutil.which(name)):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise LocalNetboxError(f"PostgreSQL program {name} not found (is postgresql-{PG_VERSION} installed?)")


def postgres_ready() -> bool:
    proc = _run(
        [_pg_bin("pg_isready"), "-q", "-h", PG_HOST, "-p", str(PG_PORT), "-t", "3"],
        timeout=T_QUICK,
        check=False,
    )
    return proc.returncode == 0


def ensure_postgres(progress: Progress | None = None) -> None:
    """Start Debian's PostgreSQL cluster (pg_ctlcluster, no systemd) unless it already accepts connections."""
    if postgres_ready():
        return
    _say(progress, f"Starting PostgreSQL {PG_VERSION}/{PG_CLUSTER} ...")
    if os.geteuid() != 0:
        raise LocalNetboxError(
            f"PostgreSQL is not running; start it with: pg_ctlcluster {PG_VERSION} {PG_CLUSTER} start"
        )
    _run(["pg_ctlcluster", PG_VERSION, PG_CLUSTER, "start"], timeout=120, check=False)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if postgres_ready():
            return
        time.sleep(1)
    raise LocalNetboxError(
        f"PostgreSQL did not come up on {PG_HOST}:{PG_PORT}; see /var/log/postgresql/"
        f"postgresql-{PG_VERSION}-{PG_CLUSTER}.log"
    )


def _pg_password(lay: Layout) -> str:
    data = _read_json(lay.postgres_json)
    if data and data.get("user") == PG_ROLE and isinstance(data.get("password"), str) and data["password"]:
        return str(data["password"])
    password = secrets.token_urlsafe(24)
    _write_private(lay.postgres_json, json.dumps({"user": PG_ROLE, "password": password}) + "\n")
    return password


def _pg_env(lay: Layout) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PGPASSWORD=_pg_password(lay), PGCONNECT_TIMEOUT="10", PGAPPNAME="zwvl")
    return env


# how the tools reach the cluster: TCP on loopback as the zwvl_netbox role (password in PGPASSWORD)
_PG_CONN = ("-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_ROLE)


def _psql(
    lay: Layout, sql: str, *, db: str = "postgres", check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run SQL (from stdin) as the zwvl_netbox role over TCP; unaligned, tuples-only output."""
    return _run(
        [_pg_bin("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", *_PG_CONN, "-d", db, "-f", "-"],
        input=sql,
        env=_pg_env(lay),
        timeout=T_DUMP,
        check=check,
        what="psql",
    )


def _superuser_psql(sql: str) -> None:
    """Run SQL (from stdin, so secrets stay out of argv) as the postgres superuser (needs root)."""
    if os.geteuid() != 0:
        raise LocalNetboxError(
            f"cannot create the PostgreSQL role {PG_ROLE}: run `zwvl netbox up` as root once "
            "(or create the role with LOGIN CREATEDB and put its password in postgres.json)"
        )
    _run(
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            "psql",
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            "postgres",
            "-f",
            "-",
        ],
        input=sql,
        timeout=T_QUICK,
        cwd=Path("/"),
        what="psql (as postgres)",
    )


def ensure_role(cache_dir: Path | str | None = None) -> None:
    """Make sure the zwvl_netbox login role (CREATEDB) exists with the password kept in postgres.json."""
    lay = layout(cache_dir)
    if _psql(lay, "SELECT 1", check=False).returncode == 0:
        return
    password = _pg_password(lay)
    if not re.fullmatch(r"[A-Za-z0-9_-]+", password):
        raise LocalNetboxError(f"unexpected characters in the password in {lay.postgres_json}")
    _superuser_psql(
        "DO $$BEGIN\n"
        f"  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{PG_ROLE}') THEN\n"
        f"    CREATE ROLE {PG_ROLE} LOGIN CREATEDB PASSWORD '{password}';\n"
        "  ELSE\n"
        f"    ALTER ROLE {PG_ROLE} LOGIN CREATEDB PASSWORD '{password}';\n"
        "  END IF;\n"
        "END$$;\n"
    )
    _psql(lay, "SELECT 1")


def _db_info(lay: Layout, name: str) -> tuple[bool, bool]:
    """(exists, is_template) for a database, asked of the `postgres` database."""
    out = _psql(lay, f"SELECT datistemplate FROM pg_database WHERE datname = '{_check_db_name(name)}'").stdout
    value = out.strip()
    return bool(value), value == "t"


def database_exists(name: str, cache_dir: Path | str | None = None) -> bool:
    return _db_info(layout(cache_dir), name)[0]


def list_databases(prefix: str, cache_dir: Path | str | None = None) -> list[str]:
    out = _psql(layout(cache_dir), "SELECT datname FROM pg_database ORDER BY 1").stdout
    return [n for n in out.split() if n.startswith(prefix)]


def clone_database(
    name: str, template: str | None = None, cache_dir: Path | str | None = None, *, retries: int = 10
) -> str:
    """``CREATE DATABASE name TEMPLATE template`` (default: this version's template). Takes seconds."""
    lay = layout(cache_dir)
    template = template or template_db_name()
    _check_db_name(name)
    _check_db_name(template)
    sql = f'CREATE DATABASE "{name}" OWNER {PG_ROLE} TEMPLATE "{template}"'
    for attempt in range(retries):
        proc = _psql(lay, sql, check=False)
        if proc.returncode == 0:
            return name
        if "being accessed by other users" in proc.stderr and attempt < retries - 1:
            time.sleep(1)  # a short-lived connection to the source (e.g. pg_dump) is finishing
            continue
        raise LocalNetboxError(f"cannot clone {template} into {name}:\n{_tail(proc.stderr)}")
    raise LocalNetboxError(f"cannot clone {template} into {name}: still busy")  # pragma: no cover


def drop_database(name: str, cache_dir: Path | str | None = None, *, allow_template: bool = False) -> bool:
    """Drop a database (closing its connections). Returns whether it existed. Templates are protected."""
    lay = layout(cache_dir)
    _check_db_name(name)
    exists, is_template = _db_info(lay, name)
    if not exists:
        return False
    if (is_template or name.startswith(_TEMPLATE_PREFIX)) and not allow_template:
        raise LocalNetboxError(f"refusing to drop template database {name}")
    if is_template:
        _psql(lay, f'ALTER DATABASE "{name}" IS_TEMPLATE false')
    _psql(lay, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return True


def _applied_migrations(lay: Layout, db: str) -> set[str]:
    proc = _psql(lay, "SELECT app || '.' || name FROM django_migrations", db=db, check=False)
    if proc.returncode != 0:
        return set()
    return {line.strip() for line in proc.stdout.splitlines() if line.strip()}


def _template_migrations(lay: Layout) -> set[str] | None:
    data = _read_json(lay.migrations_file)
    if not data or data.get("netbox_version") != lay.version or not isinstance(data.get("applied"), list):
        return None
    return {str(x) for x in data["applied"]}


def _unapplied(lay: Layout, db: str) -> set[str] | None:
    """Migrations of the template missing from ``db`` (None when the template's list is unknown)."""
    expected = _template_migrations(lay)
    if expected is None:
        return None
    return expected - _applied_migrations(lay, db)


# ----------------------------------------------------------------------------------------------- Redis


def redis_ping(host: str = REDIS_HOST, port: int = REDIS_PORT, timeout: float = 2.0) -> bool:
    """True when a Redis server answers PING (raw RESP, no client library)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def ensure_redis(cache_dir: Path | str | None = None, progress: Progress | None = None) -> None:
    """Start redis-server (daemonized, 127.0.0.1, config/pid/log in <cache>/redis) unless PING answers."""
    if redis_ping():
        return
    lay = layout(cache_dir)
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.access(server, os.X_OK):
        raise LocalNetboxError("redis-server not found (install the redis-server Debian package)")
    lay.redis_dir.mkdir(parents=True, exist_ok=True)
    conf = lay.redis_dir / "redis.conf"
    conf.write_text(
        "# written by zwvl (zwvl/netbox/local.py)\n"
        f"bind {REDIS_HOST}\n"
        f"port {REDIS_PORT}\n"
        "protected-mode yes\n"
        "daemonize yes\n"
        f"pidfile {lay.redis_dir / 'redis.pid'}\n"
        f"logfile {lay.redis_dir / 'redis.log'}\n"
        f"dir {lay.redis_dir}\n"
        'save ""\n'
        "appendonly no\n",
        encoding="utf-8",
    )
    _say(progress, f"Starting redis-server on {REDIS_HOST}:{REDIS_PORT} ...")
    _run([server, conf], timeout=T_QUICK, what="redis-server")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if redis_ping():
            return
        time.sleep(0.2)
    raise LocalNetboxError(f"redis-server did not answer PING; see {lay.redis_dir / 'redis.log'}")


def _redis_cache_db(name: str) -> int:
    """Redis database for an instance's cache: 1 for main, 2..15 (by name) for the others."""
    if name == DEFAULT_INSTANCE:
        return 1
    return 2 + zlib.crc32(name.encode()) % 14


# ------------------------------------------------------------------------------------------ NetBox venv


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
    """NetBox's own venv (<cache>/venvs/netbox-<ver>), built when absent. Returns the `netbox` program."""
    lay = layout(cache_dir)
    marker = lay.venv / _READY_MARKER
    if marker.is_file() and marker.read_text().strip() == lay.version and lay.netbox_bin.exists():
        return lay.netbox_bin
    # Two first runs on a fresh machine (a test session and `zwvl netbox up`) must not build it at once:
    # the second would delete the venv the first is installing into.
    lay.locks.mkdir(parents=True, exist_ok=True)
    with _file_lock(lay.locks / f"venv-{lay.version}.lock", T_LOCK, "NetBox venv", progress):
        return _build_venv(lay, marker, progress)


def _build_venv(lay: Layout, marker: Path, progress: Progress | None) -> Path:
    if marker.is_file() and marker.read_text().strip() == lay.version and lay.netbox_bin.exists():
        return lay.netbox_bin  # built by the process that held the lock before us
    if lay.netbox_bin.exists() and lay.gunicorn_bin.exists():
        # Built by hand or by an interrupted run that got as far as installing: verify cheaply.
        proc = _run([lay.netbox_bin, "version"], timeout=60, check=False)
        if proc.returncode == 0 and lay.version in proc.stdout:
            marker.write_text(lay.version + "\n")
            return lay.netbox_bin
    python = find_base_python()
    _say(progress, f"Building NetBox {lay.version} venv in {lay.venv} with {python} (1-3 minutes) ...")
    if lay.venv.exists():
        shutil.rmtree(lay.venv)
    lay.venv.parent.mkdir(parents=True, exist_ok=True)
    _run([python, "-m", "venv", lay.venv], timeout=300, what="python -m venv")
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    _stream(
        [lay.venv / "bin" / "pip", "install", f"netbox=={lay.version}"],
        timeout=T_PIP,
        progress=progress,
        env=env,
        show=lambda line: line.startswith(("Collecting netbox", "Building", "Successfully", "ERROR")),
        what="pip install netbox",
    )
    if not lay.gunicorn_bin.exists():
        _stream(
            [lay.venv / "bin" / "pip", "install", "gunicorn"],
            timeout=T_PIP,
            progress=progress,
            env=env,
            show=lambda line: line.startswith(("Successfully", "ERROR")),
            what="pip install gunicorn",
        )
    marker.write_text(lay.version + "\n")
    return lay.netbox_bin


# --------------------------------------------------------------------------------- NetBox configuration


def _secrets_for(root: Path) -> dict[str, str]:
    path = root / "secrets.json"
    data = _read_json(path)
    if data and len(str(data.get("secret_key", ""))) >= 50 and len(str(data.get("pepper", ""))) >= 50:
        return {"secret_key": str(data["secret_key"]), "pepper": str(data["pepper"])}
    fresh = {"secret_key": secrets.token_urlsafe(48), "pepper": secrets.token_urlsafe(48)}
    _write_private(path, json.dumps(fresh) + "\n")
    return fresh


SETTINGS_ENV = "ZWVL_NETBOX_SETTINGS"
"""Extra NetBox settings for local instances, as a JSON object (e.g. ``{"MAX_PAGE_SIZE": 250}``)."""
_OWN_SETTINGS = frozenset(
    {"ALLOWED_HOSTS", "DATABASES", "REDIS", "SECRET_KEY", "API_TOKEN_PEPPERS", "TIME_ZONE"}
)
_SETTING_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


def extra_settings(given: dict[str, Any] | None = None) -> dict[str, Any]:
    """The extra configuration.py settings: ``given``, else $ZWVL_NETBOX_SETTINGS (JSON), checked.

    Names are NetBox setting names (upper case); values are JSON values. The settings zwvl writes
    itself (database, Redis, secrets, hosts) cannot be overridden."""
    if given is None:
        raw = os.environ.get(SETTINGS_ENV, "").strip()
        if not raw:
            return {}
        try:
            given = json.loads(raw)
        except ValueError as exc:
            raise LocalNetboxError(f"{SETTINGS_ENV} is not JSON: {exc}") from exc
        if not isinstance(given, dict):
            raise LocalNetboxError(f"{SETTINGS_ENV} must be a JSON object of NetBox settings")
    out: dict[str, Any] = {}
    for name, value in sorted(given.items()):
        if not isinstance(name, str) or not _SETTING_RE.match(name):
            raise LocalNetboxError(f"invalid NetBox setting name {name!r} (upper case, e.g. MAX_PAGE_SIZE)")
        if name in _OWN_SETTINGS:
            raise LocalNetboxError(f"NetBox setting {name} is written by zwvl and cannot be overridden")
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise LocalNetboxError(f"NetBox setting {name}: not a JSON value") from exc
        out[name] = value
    return out


def _prepare_root(
    lay: Layout, root: Path, db_name: str, redis_cache_db: int, settings: dict[str, Any] | None = None
) -> bool:
    """`netbox setup --target root` once, then write our own conf/configuration.py (0600).

    ``settings`` are extra NetBox settings (see :func:`extra_settings`), written after ours.
    Returns whether configuration.py changed (a running gunicorn must then be restarted).
    """
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    config = root / "conf" / "configuration.py"
    if not (root / "conf" / "__init__.py").exists():
        _run([lay.netbox_bin, "setup", "--target", root], timeout=120, what="netbox setup")
    sec = _secrets_for(root)
    databases = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": db_name,
            "USER": PG_ROLE,
            "PASSWORD": _pg_password(lay),
            "HOST": PG_HOST,
            "PORT": PG_PORT,
            "CONN_MAX_AGE": 300,
            "CONN_HEALTH_CHECKS": True,  # survive a PostgreSQL restart without HTTP 500s
        }
    }
    redis = {
        "tasks": {"HOST": REDIS_HOST, "PORT": REDIS_PORT, "DATABASE": 0, "SSL": False},
        "caching": {"HOST": REDIS_HOST, "PORT": REDIS_PORT, "DATABASE": redis_cache_db, "SSL": False},
    }
    text = (
        "# Written by zwvl (zwvl/netbox/local.py); rewritten on every `zwvl netbox up`.\n"
        f"ALLOWED_HOSTS = {['127.0.0.1', 'localhost']!r}\n"
        f"DATABASES = {databases!r}\n"
        f"REDIS = {redis!r}\n"
        f"SECRET_KEY = {sec['secret_key']!r}\n"
        f"API_TOKEN_PEPPERS = {{1: {sec['pepper']!r}}}\n"
        "RELEASE_CHECK_URL = None\n"
        "CENSUS_REPORTING_ENABLED = False\n"
        "TIME_ZONE = 'UTC'\n"
    )
    for name, value in (settings or {}).items():
        text += f"{name} = {value!r}  # extra setting ({SETTINGS_ENV} or --setting)\n"
    try:
        if config.read_text(encoding="utf-8") == text:
            return False
    except OSError:
        pass
    _write_private(config, text)
    return True


def _netbox_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETBOX_", "DJANGO_"))}
    env.update(NETBOX_ROOT=str(root), PYTHONUNBUFFERED="1")
    return env


def _migrate(lay: Layout, root: Path, progress: Progress | None) -> None:
    _stream(
        [lay.netbox_bin, "migrate", "--no-input", "--skip-checks"],
        timeout=T_MIGRATE,
        progress=progress,
        env=_netbox_env(root),
        cwd=root,
        what="netbox migrate",
    )


def _save_migrations_list(lay: Layout, db: str) -> None:
    applied = sorted(_applied_migrations(lay, db))
    if not applied:
        raise LocalNetboxError(f"no migrations recorded in {db}")
    lay.templates.mkdir(parents=True, exist_ok=True)
    tmp = lay.migrations_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"netbox_version": lay.version, "applied": applied}, indent=0) + "\n")
    os.replace(tmp, lay.migrations_file)


def _pg_dump(lay: Layout, db: str) -> None:
    lay.templates.mkdir(parents=True, exist_ok=True)
    tmp = lay.dump.with_name(lay.dump.name + ".tmp")
    _run(
        [_pg_bin("pg_dump"), "-Fc", *_PG_CONN, "-f", tmp, db],
        env=_pg_env(lay),
        timeout=T_DUMP,
        what="pg_dump",
    )
    os.replace(tmp, lay.dump)


def _pg_restore(lay: Layout, db: str) -> None:
    _run(
        [_pg_bin("pg_restore"), "-j", "2", "--no-owner", "--exit-on-error", *_PG_CONN, "-d", db, lay.dump],
        env=_pg_env(lay),
        timeout=T_DUMP,
        what="pg_restore",
    )


def ensure_services(cache_dir: Path | str | None = None, progress: Progress | None = None) -> None:
    """Debian packages, PostgreSQL (with our role) and Redis, all on 127.0.0.1."""
    ensure_system_packages(progress)
    ensure_postgres(progress)
    ensure_role(cache_dir)
    ensure_redis(cache_dir, progress)


def ensure_template(cache_dir: Path | str | None = None, progress: Progress | None = None) -> str:
    """Make sure the migrated template database exists; return its name.

    Order of preference: the template database itself (instant), a restore of the cached
    ``pg_dump -Fc`` (seconds), a full ``migrate`` (about 10 minutes, output streamed to ``progress``).
    A finished template is renamed into place, marked IS_TEMPLATE with connections disallowed, and
    never connected to again (connections would block ``CREATE DATABASE ... TEMPLATE``).
    """
    lay = layout(cache_dir)
    ensure_services(cache_dir, progress)
    ensure_venv(cache_dir, progress)
    tpl = template_db_name(lay.version)
    build = tpl + "_build"
    with _file_lock(lay.locks / f"template-{lay.version}.lock", T_LOCK, "template", progress):
        exists, is_template = _db_info(lay, tpl)
        if exists and is_template:
            if not lay.dump.is_file() or _template_migrations(lay) is None:
                _refresh_template_artifacts(lay, tpl, progress)
            return tpl
        if exists:  # left by an older/interrupted run: finish it as a build database
            _psql(lay, f'ALTER DATABASE "{tpl}" RENAME TO "{build}"')
        restored = False
        if not _db_info(lay, build)[0]:
            _psql(lay, f'CREATE DATABASE "{build}" OWNER {PG_ROLE}')
            if lay.dump.is_file() and _template_migrations(lay) is not None:
                _say(progress, f"Restoring the NetBox {lay.version} template from {lay.dump} ...")
                try:
                    _pg_restore(lay, build)
                    restored = True
                except LocalNetboxError as exc:
                    _say(progress, f"Restore failed, migrating from scratch instead ({exc})")
                    _psql(lay, f'DROP DATABASE IF EXISTS "{build}" WITH (FORCE)')
                    _psql(lay, f'CREATE DATABASE "{build}" OWNER {PG_ROLE}')
            if not restored:
                _psql(lay, "CREATE EXTENSION IF NOT EXISTS ltree", db=build)
        if not restored or _unapplied(lay, build):
            _prepare_root(lay, lay.template_root, build, redis_cache_db=15)
            _say(
                progress,
                f"Migrating the NetBox {lay.version} template database {build} "
                "(first time only, about 10 minutes of CPU) ...",
            )
            t0 = time.monotonic()
            _migrate(lay, lay.template_root, progress)
            _say(progress, f"Migrations done in {time.monotonic() - t0:.0f}s.")
            _save_migrations_list(lay, build)
            _say(progress, f"Saving {lay.dump} (pg_dump -Fc) ...")
            _pg_dump(lay, build)
        _psql(lay, f'ALTER DATABASE "{build}" RENAME TO "{tpl}"')
        _psql(lay, f'ALTER DATABASE "{tpl}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')
        _say(progress, f"Template database {tpl} is ready.")
        return tpl


def _refresh_template_artifacts(lay: Layout, tpl: str, progress: Progress | None) -> None:
    """Re-create a missing dump / migrations list from a throw-away clone (never the template itself)."""
    tmp = f"{tpl}_snap"
    _say(progress, f"Refreshing {lay.dump} from a clone of {tpl} ...")
    _psql(lay, f'DROP DATABASE IF EXISTS "{tmp}" WITH (FORCE)')
    clone_database(tmp, tpl, lay.cache_dir)
    try:
        _save_migrations_list(lay, tmp)
        _pg_dump(lay, tmp)
    finally:
        _psql(lay, f'DROP DATABASE IF EXISTS "{tmp}" WITH (FORCE)')


# ------------------------------------------------------------------------------------------- processes


pid_alive = procs.pid_alive


def _is_our_gunicorn(pid: int, root: Path) -> bool:
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


def _read_pid(root: Path) -> int | None:
    try:
        pid = int((root / "gunicorn.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) and _is_our_gunicorn(pid, root) else None


free_port = procs.free_port
_port_in_use = procs.port_in_use


def _http_status(
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


def _responsive(url: str) -> bool:
    """gunicorn answers and NetBox is not failing (403 without a token is the normal answer)."""
    code, _ = _http_status(url, None)
    return code is not None and code < 500


def _token_accepted(url: str, token: str, root: Path) -> bool:
    """True on HTTP 200, False on 401/403 (a new token is needed); anything else is an error."""
    code, _ = _http_status(url, token, timeout=30)
    if code == 200:
        return True
    if code in (401, 403):
        return False
    raise LocalNetboxError(f"{url}/api/status/ answered {code or 'nothing'}; see {root / 'gunicorn.log'}")


def _start_gunicorn(lay: Layout, root: Path, port: int, progress: Progress | None, timeout: float) -> int:
    if _port_in_use(port):
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
    _say(progress, f"Starting gunicorn on http://{HOST}:{port}/ (log: {log}) ...")
    with open(log, "ab") as logfh:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=logfh,
            stderr=subprocess.STDOUT,
            cwd=root,
            env=_netbox_env(root),
            start_new_session=True,
        )
    procs.track(proc)
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            procs.forget(proc.pid)
            raise LocalNetboxError(
                f"gunicorn exited with code {proc.returncode} during startup; last log lines:\n"
                + _tail(log.read_text(errors="replace"))
            )
        code, _ = _http_status(url, None, timeout=3)
        if code is not None:
            if not pidfile.exists():
                pidfile.write_text(f"{proc.pid}\n")
            return proc.pid
        time.sleep(0.5)
    _signal_and_wait(proc.pid, T_STOP)
    raise LocalNetboxError(f"gunicorn did not answer on {url}/api/status/ within {timeout:.0f}s; see {log}")


def _signal_and_wait(pid: int, timeout: float) -> None:
    """SIGQUIT (gunicorn's fast stop), then SIGKILL to its process group after ``timeout`` seconds."""
    procs.stop_pid(pid, timeout, signal.SIGQUIT)


_SHELL_CODE = """
import json, os
from users.constants import TOKEN_PREFIX
from users.models import Token, User
u, _ = User.objects.get_or_create(username=os.environ['ZWVL_ADMIN_USER'])
u.is_superuser = True
u.is_active = True
u.set_password(os.environ['ZWVL_ADMIN_PASSWORD'])
u.save()
Token.objects.filter(user=u, description=os.environ['ZWVL_TOKEN_DESCRIPTION']).delete()
t = Token(user=u, write_enabled=True, description=os.environ['ZWVL_TOKEN_DESCRIPTION'])
t.save()
print('ZWVL_TOKEN=' + json.dumps(TOKEN_PREFIX + t.key + '.' + t.token))
"""


class _TokenShell:
    """Create/refresh the superuser and a fresh v2 API token in ONE `netbox shell -c` call.

    Started in the background so it overlaps gunicorn's startup; secrets travel via the environment
    and stdout (a pipe), never argv or logs.
    """

    def __init__(self, lay: Layout, root: Path, username: str, password: str) -> None:
        env = _netbox_env(root)
        env.update(
            ZWVL_ADMIN_USER=username, ZWVL_ADMIN_PASSWORD=password, ZWVL_TOKEN_DESCRIPTION=TOKEN_DESCRIPTION
        )
        self.proc = subprocess.Popen(
            [str(lay.netbox_bin), "shell", "--no-startup", "-c", _SHELL_CODE],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=root,
        )

    def result(self, timeout: float = T_SHELL) -> str:
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            self.kill()
            raise LocalNetboxError(f"netbox shell (admin, token) timed out after {timeout:.0f}s") from exc
        if self.proc.returncode != 0:
            raise LocalNetboxError(
                f"netbox shell (admin user and API token) failed (exit {self.proc.returncode}):\n{_tail(err)}"
            )
        for line in out.splitlines():
            if line.startswith("ZWVL_TOKEN="):
                token = json.loads(line.split("=", 1)[1])
                if isinstance(token, str) and token.startswith("nbt_"):
                    return token
        raise LocalNetboxError("netbox shell did not report the new API token")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.communicate(timeout=T_QUICK)


def _ensure_migrated(lay: Layout, root: Path, db_name: str, progress: Progress | None) -> None:
    missing = _unapplied(lay, db_name)
    if missing is None or missing:
        what = f"{len(missing)} unapplied" if missing else "unknown state of"
        _say(progress, f"Database {db_name}: {what} migrations, running migrate ...")
        _migrate(lay, root, progress)


def start_instance(
    db_name: str,
    port: int = DEFAULT_PORT,
    name: str = DEFAULT_INSTANCE,
    *,
    cache_dir: Path | str | None = None,
    root: Path | None = None,
    progress: Progress | None = None,
    startup_timeout: float = T_STARTUP,
    settings: dict[str, Any] | None = None,
) -> Instance:
    """Serve NetBox on ``db_name`` with gunicorn (2 workers) on 127.0.0.1:``port``.

    ``settings``: extra NetBox settings for configuration.py (default: $ZWVL_NETBOX_SETTINGS), e.g.
    ``{"MAX_PAGE_SIZE": 250}``; a running gunicorn is restarted when they change.

    The database must exist (see :func:`clone_database`); missing migrations are applied. A healthy
    gunicorn of the same instance, database and port is reused rather than restarted. The admin user
    and API token are (re)created only when the credentials file's token does not work.
    """
    lay = layout(cache_dir)
    root = (root or lay.instance_root(name)).resolve()
    _check_db_name(db_name)
    if not _db_info(lay, db_name)[0]:
        raise LocalNetboxError(f"database {db_name} does not exist (clone it from the template first)")
    ensure_venv(cache_dir, progress)
    url = f"http://{HOST}:{port}"
    meta_path = root / "instance.json"
    meta = _read_json(meta_path) or {}
    pid = _read_pid(root)
    started = False
    same_config = (meta.get("db_name"), meta.get("port"), meta.get("netbox_version")) == (
        db_name,
        port,
        lay.version,
    )
    config_changed = _prepare_root(lay, root, db_name, _redis_cache_db(name), extra_settings(settings))
    if pid is not None and (config_changed or not same_config or not _responsive(url)):
        _say(progress, f"Restarting gunicorn (pid {pid}): configuration changed or not healthy ...")
        _signal_and_wait(pid, T_STOP)
        pid = None
    creds_path = root / CREDENTIALS_FILE
    try:
        creds: dict[str, str] | None = read_credentials(creds_path)
    except NetboxSettingsError:
        creds = None
    if creds is not None and creds.get("db_name") != db_name:
        creds = None  # belongs to another database: its token cannot work here
    password = secrets.token_urlsafe(18)
    shell: _TokenShell | None = None
    token: str | None = None
    if pid is None:
        _ensure_migrated(lay, root, db_name, progress)
        if creds is None:
            _say(progress, "Creating the admin user and an API token (while gunicorn starts) ...")
            shell = _TokenShell(lay, root, ADMIN_USER, password)
        try:
            pid = _start_gunicorn(lay, root, port, progress, startup_timeout)
        except BaseException:
            if shell is not None:
                shell.kill()
            raise
        started = True
    else:
        _say(progress, f"gunicorn already running (pid {pid}) and healthy: not restarting.")

    if shell is None and creds is not None and _token_accepted(url, creds["token"], root):
        token = creds["token"]
        if creds.get("url") != url:
            creds["url"] = url
            _write_private(creds_path, json.dumps(creds, indent=2) + "\n")
    if token is None:
        if shell is None:
            _say(progress, "Creating the admin user and an API token ...")
            shell = _TokenShell(lay, root, ADMIN_USER, password)
        token = shell.result()
        creds_doc = {
            "url": url,
            "token": token,
            "username": ADMIN_USER,
            "password": password,
            "instance": name,
            "db_name": db_name,
            "netbox_version": lay.version,
        }
        _write_private(creds_path, json.dumps(creds_doc, indent=2) + "\n")
        code, _ = _http_status(url, token, timeout=30)
        if code != 200:
            raise LocalNetboxError(f"the new API token was refused by {url}/api/status/ (HTTP {code})")
    meta.update(name=name, db_name=db_name, port=port, pid=pid, netbox_version=lay.version, url=url)
    _write_private(meta_path, json.dumps(meta, indent=2) + "\n")
    return Instance(
        name=name,
        url=url,
        token=token,
        pid=pid,
        port=port,
        db_name=db_name,
        root=root,
        credentials_file=creds_path,
        started=started,
    )


def stop_instance(instance: Instance | Path, timeout: float = T_STOP) -> int | None:
    """Stop an instance's gunicorn by PID (SIGQUIT, SIGKILL after ``timeout``). Returns the stopped PID.

    ``instance`` is an :class:`Instance` or its root folder. The database is left alone.
    """
    root = instance.root if isinstance(instance, Instance) else Path(instance)
    pid = _read_pid(root)
    if (
        pid is None
        and isinstance(instance, Instance)
        and pid_alive(instance.pid)
        and _is_our_gunicorn(instance.pid, root)
    ):
        pid = instance.pid
    if pid is not None:
        _signal_and_wait(pid, timeout)
    with contextlib.suppress(FileNotFoundError):
        (root / "gunicorn.pid").unlink()
    return pid


# ------------------------------------------------------------------------------------- up/down/status


def up(
    name: str = DEFAULT_INSTANCE,
    port: int | None = None,
    cache_dir: Path | str | None = None,
    progress: Progress | None = None,
    settings: dict[str, Any] | None = None,
) -> Instance:
    """Bring a named local NetBox up (idempotent): services, template, the instance's database, gunicorn.

    ``port`` defaults to the port the instance last used, else 8765. ``settings``: extra NetBox
    settings (default: $ZWVL_NETBOX_SETTINGS); configuration.py holds exactly those of this call.
    """
    check_instance_name(name)
    lay = layout(cache_dir)
    with _file_lock(lay.locks / f"instance-{name}.lock", T_LOCK, f"instance {name}", progress):
        tpl = ensure_template(cache_dir, progress)
        if port is None:
            meta = _read_json(lay.instance_root(name) / "instance.json") or {}
            port = int(meta["port"]) if isinstance(meta.get("port"), int) else DEFAULT_PORT
        db_name = instance_db_name(name)
        if not _db_info(lay, db_name)[0]:
            _say(progress, f"Creating database {db_name} from template {tpl} ...")
            clone_database(db_name, tpl, cache_dir)
        else:
            _say(progress, f"Reusing database {db_name}.")
        return start_instance(db_name, port, name, cache_dir=cache_dir, progress=progress, settings=settings)


def down(
    name: str = DEFAULT_INSTANCE,
    purge: bool = False,
    cache_dir: Path | str | None = None,
    progress: Progress | None = None,
) -> DownResult:
    """Stop the instance's gunicorn by PID. With ``purge``, also drop its database (and stale credentials)."""
    lay = layout(cache_dir)
    root = lay.instance_root(name)
    with _file_lock(lay.locks / f"instance-{name}.lock", T_LOCK, f"instance {name}", progress):
        pid = stop_instance(root)
        _say(progress, f"Stopped gunicorn (pid {pid})." if pid else "gunicorn was not running.")
        dropped: str | None = None
        if purge:
            meta = _read_json(root / "instance.json") or {}
            db_name = str(meta.get("db_name") or instance_db_name(name))
            ensure_postgres(progress)
            if drop_database(db_name, cache_dir):
                dropped = db_name
                _say(progress, f"Dropped database {db_name}.")
            for leftover in (root / CREDENTIALS_FILE, root / "instance.json"):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
        return DownResult(name=name, stopped_pid=pid, dropped_db=dropped)


def status(name: str = DEFAULT_INSTANCE, cache_dir: Path | str | None = None) -> Status:
    """Health of the instance's NetBox (GET /api/status/ with its token), PostgreSQL and Redis."""
    lay = layout(cache_dir)
    root = lay.instance_root(name)
    try:
        pg_ok = postgres_ready()
        pg = Check(pg_ok, f"{PG_HOST}:{PG_PORT} " + ("accepting connections" if pg_ok else "not answering"))
    except LocalNetboxError as exc:
        pg = Check(False, str(exc))
    rd_ok = redis_ping()
    rd = Check(rd_ok, f"{REDIS_HOST}:{REDIS_PORT} " + ("PONG" if rd_ok else "not answering PING"))
    url: str | None = None
    try:
        creds = read_credentials(root / CREDENTIALS_FILE)
    except NetboxSettingsError as exc:
        return Status(name, None, Check(False, f"not set up ({exc}); run `zwvl netbox up`"), pg, rd)
    url = creds["url"]
    pid = _read_pid(root)
    code, body = _http_status(url, creds["token"])
    if code == 200 and body is not None:
        detail = f"NetBox {body.get('netbox-version', '?')} at {url}"
        detail += f", gunicorn pid {pid}" if pid else ""
        nb = Check(True, detail)
    elif code is None:
        nb = Check(False, f"{url} not answering" + ("" if pid else " (gunicorn not running)"))
    elif code in (401, 403):
        nb = Check(False, f"{url}/api/status/ refused the token (HTTP {code}); run `zwvl netbox up`")
    else:
        nb = Check(False, f"{url}/api/status/ answered HTTP {code}; see {root / 'gunicorn.log'}")
    return Status(name, url, nb, pg, rd)
