"""Redis for the local NetBox: a redis-server of our own on 127.0.0.1 (config/pid/log in <cache>/redis)."""

from __future__ import annotations

import os
import shutil
import socket
import time
import zlib
from pathlib import Path

from devtools.netbox.common import (
    REDIS_HOST,
    REDIS_PORT,
    T_QUICK,
    LocalNetboxError,
    layout,
    run,
    say,
)
from zwvl.netbox.settings import (
    DEFAULT_INSTANCE,
)
from zwvl.procs import Progress


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
        "# written by zwvl (devtools/netbox)\n"
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
    say(progress, f"Starting redis-server on {REDIS_HOST}:{REDIS_PORT} ...")
    run([server, conf], timeout=T_QUICK, what="redis-server")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if redis_ping():
            return
        time.sleep(0.2)
    raise LocalNetboxError(f"redis-server did not answer PING; see {lay.redis_dir / 'redis.log'}")


def redis_cache_db(name: str) -> int:
    """Redis database for an instance's cache: 1 for main, 2..15 (by name) for the others."""
    if name == DEFAULT_INSTANCE:
        return 1
    return 2 + zlib.crc32(name.encode()) % 14
