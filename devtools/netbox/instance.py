"""Local NetBox instances: start/stop one on a database, and `zwvl netbox up|down|status`."""

from __future__ import annotations

import contextlib
import json
import secrets
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from devtools.netbox.common import (
    ADMIN_USER,
    HOST,
    PG_HOST,
    PG_PORT,
    REDIS_HOST,
    REDIS_PORT,
    T_LOCK,
    T_QUICK,
    T_SHELL,
    T_STARTUP,
    T_STOP,
    TOKEN_DESCRIPTION,
    Layout,
    LocalNetboxError,
    check_db_name,
    instance_db_name,
    layout,
    netbox_lock,
    read_json,
    say,
    tail,
    write_private,
)
from devtools.netbox.config import (
    extra_settings,
    migrate,
    netbox_env,
    prepare_root,
)
from devtools.netbox.gunicorn import (
    http_status,
    is_our_gunicorn,
    read_pid,
    responsive,
    signal_and_wait,
    start_gunicorn,
    token_accepted,
)
from devtools.netbox.postgres import (
    clone_database,
    db_info,
    drop_database,
    ensure_postgres,
    postgres_ready,
)
from devtools.netbox.redis import (
    ensure_redis,
    lease_instance_db,
    redis_ping,
)
from devtools.netbox.rqworker import start_worker, stop_worker, worker_pid
from devtools.netbox.template import (
    ensure_template,
    unapplied,
)
from devtools.netbox.venv import (
    ensure_venv,
)
from zwvl.netbox.settings import (
    CREDENTIALS_FILE,
    DEFAULT_INSTANCE,
    DEFAULT_PORT,
    NetboxSettingsError,
    check_instance_name,
    read_credentials,
)
from zwvl.procs import Progress, pid_alive


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
    worker_pid: int | None = None
    """PID of NetBox's background worker (`netbox rqworker`: branch jobs)."""

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
        env = netbox_env(root)
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
                f"netbox shell (admin user and API token) failed (exit {self.proc.returncode}):\n{tail(err)}"
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
    missing = unapplied(lay, db_name)
    if missing is None or missing:
        what = f"{len(missing)} unapplied" if missing else "unknown state of"
        say(progress, f"Database {db_name}: {what} migrations, running migrate ...")
        migrate(lay, root, progress)


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
    check_db_name(db_name)
    if not db_info(lay, db_name)[0]:
        raise LocalNetboxError(f"database {db_name} does not exist (clone it from the template first)")
    ensure_venv(cache_dir, progress)
    url = f"http://{HOST}:{port}"
    meta_path = root / "instance.json"
    meta = read_json(meta_path) or {}
    pid = read_pid(root)
    started = False
    same_config = (meta.get("db_name"), meta.get("port"), meta.get("netbox_version")) == (
        db_name,
        port,
        lay.version,
    )
    # The instance's own Redis database (tasks and cache), leased for as long as its gunicorn or worker
    # runs: they inherit the lease; this process lets go of it once they are started.
    ensure_redis(cache_dir, progress)
    had = meta.get("redis_db")
    lease = lease_instance_db(lay, root, name, had if isinstance(had, int) else None)
    if lease.taken_over:
        say(progress, f"Redis database {lease.db} leased (emptied of a previous instance's jobs and cache).")
    with contextlib.closing(lease):
        config_changed = prepare_root(lay, root, db_name, lease.db, extra_settings(settings))
        if pid is not None and (config_changed or not same_config or not responsive(url)):
            say(progress, f"Restarting gunicorn (pid {pid}): configuration changed or not healthy ...")
            signal_and_wait(pid, T_STOP)
            pid = None
        if pid is None or config_changed:
            stop_worker(root)  # it must run the configuration gunicorn runs
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
                say(progress, "Creating the admin user and an API token (while gunicorn starts) ...")
                shell = _TokenShell(lay, root, ADMIN_USER, password)
            try:
                pid = start_gunicorn(lay, root, port, progress, startup_timeout, (lease.fd,))
            except BaseException:
                if shell is not None:
                    shell.kill()
                raise
            started = True
        else:
            say(progress, f"gunicorn already running (pid {pid}) and healthy: not restarting.")

        if shell is None and creds is not None and token_accepted(url, creds["token"], root):
            token = creds["token"]
            if creds.get("url") != url:
                creds["url"] = url
                write_private(creds_path, json.dumps(creds, indent=2) + "\n")
        if token is None:
            if shell is None:
                say(progress, "Creating the admin user and an API token ...")
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
            write_private(creds_path, json.dumps(creds_doc, indent=2) + "\n")
            code, _ = http_status(url, token, timeout=30)
            if code != 200:
                raise LocalNetboxError(f"the new API token was refused by {url}/api/status/ (HTTP {code})")
        wpid = worker_pid(root) or start_worker(lay, root, progress, pass_fds=(lease.fd,))
    meta.update(
        name=name,
        db_name=db_name,
        port=port,
        pid=pid,
        worker_pid=wpid,
        netbox_version=lay.version,
        url=url,
        redis_db=lease.db,
    )
    write_private(meta_path, json.dumps(meta, indent=2) + "\n")
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
        worker_pid=wpid,
    )


def stop_instance(instance: Instance | Path, timeout: float = T_STOP) -> int | None:
    """Stop an instance's gunicorn (SIGQUIT, SIGKILL after ``timeout``) and its background worker, by
    PID. Returns gunicorn's stopped PID.

    ``instance`` is an :class:`Instance` or its root folder. The database is left alone.
    """
    root = instance.root if isinstance(instance, Instance) else Path(instance)
    stop_worker(root, timeout)
    pid = read_pid(root)
    if (
        pid is None
        and isinstance(instance, Instance)
        and pid_alive(instance.pid)
        and is_our_gunicorn(instance.pid, root)
    ):
        pid = instance.pid
    if pid is not None:
        signal_and_wait(pid, timeout)
    with contextlib.suppress(FileNotFoundError):
        (root / "gunicorn.pid").unlink()
    return pid


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
    with netbox_lock(lay.locks / f"instance-{name}.lock", T_LOCK, f"instance {name}", progress):
        tpl = ensure_template(cache_dir, progress)
        if port is None:
            meta = read_json(lay.instance_root(name) / "instance.json") or {}
            port = int(meta["port"]) if isinstance(meta.get("port"), int) else DEFAULT_PORT
        db_name = instance_db_name(name)
        if not db_info(lay, db_name)[0]:
            say(progress, f"Creating database {db_name} from template {tpl} ...")
            clone_database(db_name, tpl, cache_dir)
        else:
            say(progress, f"Reusing database {db_name}.")
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
    with netbox_lock(lay.locks / f"instance-{name}.lock", T_LOCK, f"instance {name}", progress):
        pid = stop_instance(root)
        say(progress, f"Stopped gunicorn (pid {pid})." if pid else "gunicorn was not running.")
        dropped: str | None = None
        if purge:
            meta = read_json(root / "instance.json") or {}
            db_name = str(meta.get("db_name") or instance_db_name(name))
            ensure_postgres(progress)
            if drop_database(db_name, cache_dir):
                dropped = db_name
                say(progress, f"Dropped database {db_name}.")
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
    pid = read_pid(root)
    code, body = http_status(url, creds["token"])
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
