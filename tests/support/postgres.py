"""One launcher for the throw-away PostgreSQL 15 clusters of the test suites (monitoring, platform).

A cluster lives in its own temporary folder (data/, sock/, tls/, postgres.log), listens on 127.0.0.1
on a free port and on its own socket folder, runs without durability (fsync off: it is thrown away)
and is stopped by PID. As root it runs as the `postgres` user (PostgreSQL refuses to run as root).

TLS as the role deploys it: a region CA (devtools.region_ca) created in the cluster's folder (one per
cluster, so one per test session) issues the server certificate for 127.0.0.1 and localhost; the
server requires TLS 1.2 or later and its pg_hba rejects every TCP client without TLS
(`hostnossl ... reject`). Every TCP client of the tests verifies it: `conn` and `dsn` carry
`sslmode=verify-full` and `sslrootcert` = the CA (`ca_file`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from devtools.region_ca import RegionCA, ensure_ca
from zwvl.procs import free_port, stop_group

PG_BIN = Path("/usr/lib/postgresql/15/bin")
HOST = "127.0.0.1"


class PostgresError(RuntimeError):
    pass


@dataclass
class PgCluster:
    """A running cluster. ``password`` empty: trust authentication (connect over the socket folder)."""

    host: str
    port: int
    user: str
    password: str
    root: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def ca(self) -> RegionCA:
        return RegionCA(self.root / "ca")

    @property
    def ca_file(self) -> Path:
        """The region CA's certificate, the `sslrootcert` every TCP client verifies the server with."""
        return self.ca.cert

    @property
    def tls(self) -> str:
        """The libpq options of a verifying TLS client."""
        return f"sslmode=verify-full sslrootcert={self.ca_file}"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    @property
    def conn(self) -> dict[str, object]:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "sslmode": "verify-full",
            "sslrootcert": str(self.ca_file),
        }

    def dsn(self, dbname: str = "postgres", user: str | None = None, password: str | None = None) -> str:
        """A libpq DSN: over TCP with a password (scram clusters), verifying the server's certificate,
        else over the socket folder (trust)."""
        if not self.password and password is None:
            return f"host={self.socket_dir} port={self.port} dbname={dbname} user={user or self.user}"
        return (
            f"host={self.host} port={self.port} dbname={dbname} user={user or self.user} "
            f"password={password or self.password} connect_timeout=10 {self.tls}"
        )

    def tcp_dsn(self, dbname: str = "postgres", user: str | None = None) -> str:
        """A libpq DSN over TCP with TLS verified, without a password (trust clusters)."""
        return f"host={self.host} port={self.port} dbname={dbname} user={user or self.user} {self.tls}"

    def tail(self, n: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""

    def stop(self) -> None:
        """Fast shutdown (pg_ctl -m fast), then TERM/KILL to the server's process group; remove the folder."""
        if self.proc is not None and self.proc.poll() is None:
            subprocess.run(
                [*_as_postgres(), str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast"]
                + ["-w", "-t", "30", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
            stop_group(self.proc, 20)
        shutil.rmtree(self.root, ignore_errors=True)


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _server_tls(cluster: PgCluster) -> tuple[Path, Path]:
    """The cluster's region CA and the server certificate it issues for 127.0.0.1 and localhost; the
    key is the server's alone (PostgreSQL refuses a key others can read)."""
    ca = ensure_ca(cluster.ca.root)
    issued = ca.issue("localhost", ips=[HOST], out_dir=cluster.root / "tls")
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        for path in (issued.cert.parent, issued.cert, issued.key):
            os.chown(path, pg.pw_uid, pg.pw_gid)
    os.chmod(issued.key, 0o600)
    return issued.cert, issued.key


def _write_hba(path: Path, method: str) -> None:
    """Local connections with `method`; over TCP TLS only (as the role's pg_hba: non-TLS rejected)."""
    lines = [
        f"local     all  all                {method}",
        "hostnossl all  all  0.0.0.0/0      reject",
        "hostnossl all  all  ::/0           reject",
        f"hostssl   all  all  127.0.0.1/32   {method}",
        f"hostssl   all  all  ::1/128        {method}",
        "",
    ]
    path.write_text("\n".join(lines))


def start_cluster(
    *,
    prefix: str,
    superuser: str = "postgres",
    password: str = "",
    locale: str | None = None,
    settings: Mapping[str, str] | None = None,
    error: type[Exception] = PostgresError,
    timeout: float = 60,
) -> PgCluster:
    """Start a throw-away cluster; ``password`` empty: trust authentication, else scram-sha-256.

    ``settings``: extra ``-c`` server settings (after the defaults); failures raise ``error``."""
    missing = [str(p) for p in (PG_BIN / "initdb", PG_BIN / "postgres") if not p.exists()]
    if missing:
        raise error(f"PostgreSQL 15 missing ({', '.join(missing)}): run scripts/install-system-deps")
    root = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(root, 0o755)
    (root / "sock").mkdir()
    auth = ["-A", "trust"]
    if password:
        (root / "pw").write_text(password)
        auth = [f"--pwfile={root / 'pw'}", "-A", "scram-sha-256"]
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        for path in (root, root / "sock", *([root / "pw"] if password else [])):
            os.chown(path, pg.pw_uid, pg.pw_gid)
    init = subprocess.run(
        [*_as_postgres(), str(PG_BIN / "initdb"), "-D", str(root / "data"), "-U", superuser, *auth]
        + ["--no-sync", "-E", "UTF8", *([f"--locale={locale}"] if locale else [])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if password:
        (root / "pw").unlink()
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise error(f"initdb failed: {init.stderr[-2000:]}")
    cluster = PgCluster(HOST, free_port(), superuser, password, root)
    cert, key = _server_tls(cluster)
    _write_hba(root / "data" / "pg_hba.conf", "scram-sha-256" if password else "trust")
    server_settings = {
        "listen_addresses": HOST,
        "unix_socket_directories": str(cluster.socket_dir),
        "ssl": "on",
        "ssl_cert_file": str(cert),
        "ssl_key_file": str(key),
        "ssl_min_protocol_version": "TLSv1.2",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        **(settings or {}),
    }
    argv = [*_as_postgres(), str(PG_BIN / "postgres"), "-D", str(root / "data"), "-p", str(cluster.port)]
    for name, value in server_settings.items():
        argv += ["-c", f"{name}={value}"]
    with open(cluster.log, "wb") as log:
        cluster.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cluster.proc.poll() is not None:
            out = cluster.tail()
            cluster.stop()
            raise error(f"postgres exited: {out}")
        ready = subprocess.run(
            [str(PG_BIN / "pg_isready"), "-q", "-h", HOST, "-p", str(cluster.port)], check=False
        )
        if ready.returncode == 0:
            return cluster
        time.sleep(0.3)
    out = cluster.tail()
    cluster.stop()
    raise error(f"PostgreSQL did not accept connections within {timeout:.0f} s:\n{out}")
