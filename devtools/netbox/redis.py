"""Redis for the local NetBox: a redis-server of our own on 127.0.0.1 (config/pid/log in <cache>/redis).

Every running instance has a Redis database of its own for its tasks (the RQ queues its `netbox
rqworker` takes jobs from) and its cache. Two instances on one database share their queues: either
worker takes the other's jobs and runs them against its own PostgreSQL database (a branch's
provisioning or merge runs in the wrong NetBox, and the branch never becomes ready; NetBox 4.7 also
queues a search-cache job for every write once a worker listens). The database is therefore leased,
not derived from the name: see :func:`lease_db`.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.netbox.common import (
    REDIS_HOST,
    REDIS_PORT,
    T_LOCK,
    T_QUICK,
    Layout,
    LocalNetboxError,
    layout,
    netbox_lock,
    run,
    say,
)
from zwvl.netbox.settings import (
    DEFAULT_INSTANCE,
)
from zwvl.procs import Progress

REDIS_DATABASES = 64
"""`databases` in the redis.conf written here (Redis's default is 16): one per running instance."""
MAIN_DB = 1
"""The instance `main`'s database when it is free (older zwvl gave it 1 too)."""
TEMPLATE_DB = 15
"""The template build's (migrate only: no worker, no gunicorn); never leased."""
OLD_HASH_DBS = range(2, 16)
"""Where zwvl before the leases put an instance (2 + crc32(name) % 14): leased last."""


def redis_ping(host: str = REDIS_HOST, port: int = REDIS_PORT, timeout: float = 2.0) -> bool:
    """True when a Redis server answers PING."""
    try:
        return redis_commands(("PING",), host=host, port=port, timeout=timeout) == ["PONG"]
    except (LocalNetboxError, ValueError):  # nothing there, or not Redis
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
        "# written by zwvl (devtools/netbox)\n"
        f"bind {REDIS_HOST}\n"
        f"port {REDIS_PORT}\n"
        "protected-mode yes\n"
        "daemonize yes\n"
        f"pidfile {lay.redis_dir / 'redis.pid'}\n"
        f"logfile {lay.redis_dir / 'redis.log'}\n"
        f"dir {lay.redis_dir}\n"
        'save ""\n'
        "appendonly no\n"
        f"databases {REDIS_DATABASES}\n",
        encoding="utf-8",
    )
    say(progress, f"Starting redis-server on {REDIS_HOST}:{REDIS_PORT} ...")
    run([server, conf], timeout=T_QUICK, what="redis-server")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if redis_ping():
            return
        time.sleep(0.2)
    raise LocalNetboxError(f"redis-server did not answer PING; see {lay.redis_dir / 'redis.log'}")


def _resp(*args: str | int) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _read_reply(fh: Any) -> Any:
    line = fh.readline()
    if not line.endswith(b"\r\n"):
        raise LocalNetboxError("Redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise LocalNetboxError(f"Redis: {rest.decode(errors='replace')}")
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None
        data = fh.read(size + 2)
        return data[:-2].decode(errors="replace")
    if kind == b"*":
        count = int(rest)
        return None if count < 0 else [_read_reply(fh) for _ in range(count)]
    raise LocalNetboxError(f"Redis: unexpected reply {line[:40]!r}")


def redis_commands(
    *commands: Iterable[str | int], host: str = REDIS_HOST, port: int = REDIS_PORT, timeout: float = 10.0
) -> list[Any]:
    """Run commands on one connection (raw RESP, no client library); returns their replies."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"".join(_resp(*cmd) for cmd in commands))
            with sock.makefile("rb") as fh:
                return [_read_reply(fh) for _ in commands]
    except OSError as exc:
        raise LocalNetboxError(f"Redis at {host}:{port}: {exc}") from exc


def redis_databases() -> int:
    """How many databases the running Redis has (`databases`: 16 unless its redis.conf says more)."""
    reply = redis_commands(("CONFIG", "GET", "databases"))[0]
    return int(reply[1]) if isinstance(reply, list) and len(reply) == 2 else 16


def databases_with_clients() -> set[int]:
    """Databases that some Redis connection has selected (CLIENT LIST's ``db=``)."""
    text = redis_commands(("CLIENT", "LIST"))[0] or ""
    return {int(m.group(1)) for m in re.finditer(r"\bdb=(\d+)\b", text)}


def flush_db(db: int) -> None:
    """Empty one Redis database (a previous holder's queued jobs and cache entries)."""
    redis_commands(("SELECT", db), ("FLUSHDB",))


def lease_dir(lay: Layout) -> Path:
    """Where the leases live: beside the running Redis (its `dir`), so that every cache folder on the
    machine (a fresh-check's throw-away one too) sees the same leases for the one Redis; else the
    cache's own locks folder."""
    try:
        reply = redis_commands(("CONFIG", "GET", "dir"))[0]
        if isinstance(reply, list) and len(reply) == 2 and reply[1]:
            path = Path(reply[1]) / "zwvl-db-leases"
            path.mkdir(mode=0o700, exist_ok=True)
            if os.access(path, os.W_OK):
                return path
    except (LocalNetboxError, OSError):
        pass
    return lay.locks / "redis-dbs"


@dataclass
class DbLease:
    """An instance's Redis database, held by a shared flock on ``<lease dir>/db-<n>.lock``.

    ``fd`` is given to the instance's gunicorn and worker (``pass_fds``), which keep the lock for as
    long as either runs, however it ends (the kernel drops it with the last holder): a database is
    never leased while a process of its instance still runs, a stale worker included. The caller
    closes ``fd`` once the processes are started. ``taken_over``: the database was free and last held
    by another instance (or none), so its leftovers (queued jobs, cache) must be flushed before use.
    """

    db: int
    fd: int
    taken_over: bool

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _owner(fd: int) -> str:
    return os.pread(fd, 4096, 0).decode(errors="replace").strip()


def _take(lock_dir: Path, db: int, owner: str, busy: Callable[[int], bool]) -> DbLease | None:
    fd = os.open(lock_dir / f"db-{db}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            if _owner(fd) != owner:
                os.close(fd)
                return None  # a running instance's
            # our own instance's running gunicorn/worker hold it: share it (a restart of one of them)
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return DbLease(db, fd, taken_over=False)
        previous = _owner(fd)
        if previous != owner and busy(db):
            os.close(fd)  # connections on it without a lease: an instance started by an older zwvl
            return None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{owner}\n".encode(), 0)
        # exclusive -> shared: the instance's processes share it; every taker holds the allocation lock
        fcntl.flock(fd, fcntl.LOCK_SH)
        return DbLease(db, fd, taken_over=previous != owner)
    except BaseException:
        os.close(fd)
        raise


def candidate_dbs(databases: int, name: str) -> list[int]:
    """The databases an instance may lease, in order: `main` its own first, then those above zwvl's
    old hash range (no instance of an older zwvl uses them), then the rest of the hash range."""
    pool = [n for n in range(2, databases) if n != TEMPLATE_DB]
    pool.sort(key=lambda n: n in OLD_HASH_DBS)
    return [MAIN_DB, *pool] if name == DEFAULT_INSTANCE else pool


def lease_db(
    owner: str,
    candidates: list[int],
    lock_dir: Path,
    *,
    prefer: int | None = None,
    busy: Callable[[int], bool] = lambda _db: False,
    timeout: float = T_LOCK,
) -> DbLease:
    """Lease a Redis database for the instance ``owner`` (its root folder): ``prefer`` (the one it
    had) when it is free or its own processes hold it, else the first free one of ``candidates``.

    ``busy(db)`` says whether a database that nobody leases is in use anyway (an instance of an older
    zwvl without leases). Raises when every candidate is taken rather than sharing one.
    """
    lock_dir.mkdir(parents=True, exist_ok=True)
    order = candidates if prefer not in candidates else [prefer, *(c for c in candidates if c != prefer)]
    with netbox_lock(lock_dir / "alloc.lock", timeout, "Redis database lease"):
        for db in order:
            lease = _take(lock_dir, db, owner, busy)
            if lease is not None:
                return lease
    raise LocalNetboxError(
        f"no free Redis database for a NetBox instance: all {len(candidates)} are held by running "
        f"instances (leases in {lock_dir}); stop one (zwvl netbox down), or let Redis have more "
        f"(`databases` in its redis.conf; the one zwvl writes has {REDIS_DATABASES})"
    )


def lease_instance_db(lay: Layout, root: Path, name: str, prefer: int | None) -> DbLease:
    """Lease the running Redis's database for the instance at ``root``; flush it when taken over."""
    lease = lease_db(
        str(root.resolve()),
        candidate_dbs(redis_databases(), name),
        lease_dir(lay),
        prefer=prefer,
        busy=lambda db: db in databases_with_clients(),
    )
    try:
        if lease.taken_over:
            flush_db(lease.db)
    except BaseException:
        lease.close()
        raise
    return lease
