"""A NetBox root folder: `netbox setup`, our configuration.py (0600), secrets, environment, migrate."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
from pathlib import Path
from typing import Any

from devtools.netbox.common import (
    PG_HOST,
    PG_PORT,
    PG_ROLE,
    REDIS_HOST,
    REDIS_PORT,
    T_MIGRATE,
    Layout,
    LocalNetboxError,
    read_json,
    run,
    stream,
    tail,
    write_private,
)
from devtools.netbox.postgres import (
    pg_password,
)
from zwvl import procs
from zwvl.procs import Progress


def _secrets_for(root: Path) -> dict[str, str]:
    path = root / "secrets.json"
    data = read_json(path)
    if data and len(str(data.get("secret_key", ""))) >= 50 and len(str(data.get("pepper", ""))) >= 50:
        return {"secret_key": str(data["secret_key"]), "pepper": str(data["pepper"])}
    fresh = {"secret_key": secrets.token_urlsafe(48), "pepper": secrets.token_urlsafe(48)}
    write_private(path, json.dumps(fresh) + "\n")
    return fresh


SETTINGS_ENV = "ZWVL_NETBOX_SETTINGS"
"""Extra NetBox settings for local instances, as a JSON object (e.g. ``{"MAX_PAGE_SIZE": 250}``)."""
_OWN_SETTINGS = frozenset(
    {
        "DATABASES",
        "DATABASE_ROUTERS",
        "PLUGINS",
        "PLUGINS_CONFIG",
        "REDIS",
        "SECRET_KEY",
        "API_TOKEN_PEPPERS",
        "TIME_ZONE",
    }
)
_SETTING_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


def extra_settings(given: dict[str, Any] | None = None) -> dict[str, Any]:
    """The extra configuration.py settings: ``given``, else $ZWVL_NETBOX_SETTINGS (JSON), checked.

    Names are NetBox setting names (upper case); values are JSON values. The settings zwvl writes
    itself (database, Redis, secrets) cannot be overridden; ``ALLOWED_HOSTS`` (a list of names or
    addresses) is added to the local names, for a forwarder that reaches gunicorn under another address."""
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
        if name == "ALLOWED_HOSTS" and not (
            isinstance(value, list) and all(isinstance(h, str) and h and h != "*" for h in value)
        ):
            raise LocalNetboxError("NetBox setting ALLOWED_HOSTS: a list of host names or addresses (no '*')")
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise LocalNetboxError(f"NetBox setting {name}: not a JSON value") from exc
        out[name] = value
    return out


def prepare_root(
    lay: Layout, root: Path, db_name: str, redis_db: int, settings: dict[str, Any] | None = None
) -> bool:
    """`netbox setup --target root` once, then write our own conf/configuration.py (0600).

    ``settings`` are extra NetBox settings (see :func:`extra_settings`), written after ours.
    Returns whether configuration.py changed (a running gunicorn must then be restarted).
    """
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    config = root / "conf" / "configuration.py"
    if not (root / "conf" / "__init__.py").exists():
        run([lay.netbox_bin, "setup", "--target", root], timeout=120, what="netbox setup")
    sec = _secrets_for(root)
    extra = dict(settings or {})
    hosts = ["127.0.0.1", "localhost", *extra.pop("ALLOWED_HOSTS", [])]
    databases = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": db_name,
            "USER": PG_ROLE,
            "PASSWORD": pg_password(lay),
            "HOST": PG_HOST,
            "PORT": PG_PORT,
            "CONN_MAX_AGE": 300,
            "CONN_HEALTH_CHECKS": True,  # survive a PostgreSQL restart without HTTP 500s
        }
    }
    # Tasks get the instance's own Redis database (not a shared 0): each instance runs an RQ worker
    # now (branch jobs), and a worker must never pick up a job another instance's NetBox enqueued.
    redis = {
        "tasks": {"HOST": REDIS_HOST, "PORT": REDIS_PORT, "DATABASE": redis_db, "SSL": False},
        "caching": {"HOST": REDIS_HOST, "PORT": REDIS_PORT, "DATABASE": redis_db, "SSL": False},
    }
    # netbox_branching's README (1.2.2): PLUGINS, DATABASES wrapped in DynamicSchemaDict (a branch is
    # a PostgreSQL schema picked per request) and its router; the plugin refuses to start without them.
    plugins_config = {"netbox_branching": {"provision_workers": 2}}  # two CPU cores here
    text = (
        "# Written by zwvl (devtools/netbox); rewritten on every `zwvl netbox up`.\n"
        "from netbox_branching.utilities import DynamicSchemaDict\n"
        f"ALLOWED_HOSTS = {hosts!r}\n"
        f"DATABASES = DynamicSchemaDict({databases!r})\n"
        "DATABASE_ROUTERS = ['netbox_branching.database.BranchAwareRouter']\n"
        "PLUGINS = ['netbox_branching']\n"
        f"PLUGINS_CONFIG = {plugins_config!r}\n"
        f"REDIS = {redis!r}\n"
        f"SECRET_KEY = {sec['secret_key']!r}\n"
        f"API_TOKEN_PEPPERS = {{1: {sec['pepper']!r}}}\n"
        "RELEASE_CHECK_URL = None\n"
        "CENSUS_REPORTING_ENABLED = False\n"
        "TIME_ZONE = 'UTC'\n"
    )
    for name, value in extra.items():
        text += f"{name} = {value!r}  # extra setting ({SETTINGS_ENV} or --setting)\n"
    try:
        if config.read_text(encoding="utf-8") == text:
            return False
    except OSError:
        pass
    write_private(config, text)
    return True


def netbox_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETBOX_", "DJANGO_"))}
    env.update(NETBOX_ROOT=str(root), PYTHONUNBUFFERED="1")
    return env


def spawn(cmd: list[str], root: Path, log: Path, pass_fds: tuple[int, ...] = ()) -> subprocess.Popen[bytes]:
    """A NetBox process (gunicorn, the worker) in its own session, its output appended to ``log`` and
    tracked for clean-up; ``pass_fds`` carries the instance's Redis database lease (redis.DbLease)."""
    with open(log, "ab") as logfh:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=logfh,
            stderr=subprocess.STDOUT,
            cwd=root,
            env=netbox_env(root),
            start_new_session=True,
            pass_fds=pass_fds,
        )
    procs.track(proc)
    return proc


def fail_if_exited(proc: subprocess.Popen[bytes], log: Path, what: str) -> None:
    """Raise when ``proc`` has already exited (it could not start), quoting the end of its log."""
    if proc.poll() is not None:
        procs.forget(proc.pid)
        raise LocalNetboxError(
            f"{what} exited with code {proc.returncode} at startup; last log lines:\n"
            + tail(log.read_text(errors="replace"))
        )


def migrate(lay: Layout, root: Path, progress: Progress | None) -> None:
    stream(
        [lay.netbox_bin, "migrate", "--no-input", "--skip-checks"],
        timeout=T_MIGRATE,
        progress=progress,
        env=netbox_env(root),
        cwd=root,
        what="netbox migrate",
    )
