"""PostgreSQL for the local NetBox: Debian's cluster, the shared `zwvl_netbox` role, databases, dumps."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import time
from pathlib import Path

from devtools.netbox.common import (
    PG_CLUSTER,
    PG_HOST,
    PG_PORT,
    PG_ROLE,
    PG_VERSION,
    T_DUMP,
    T_QUICK,
    TEMPLATE_PREFIX,
    Layout,
    LocalNetboxError,
    check_db_name,
    layout,
    read_json,
    run,
    say,
    tail,
    template_db_name,
    write_private,
)
from zwvl.procs import Progress


def _pg_bin(name: str) -> str:
    for candidate in (f"/usr/lib/postgresql/{PG_VERSION}/bin/{name}", shutil.which(name)):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise LocalNetboxError(f"PostgreSQL program {name} not found (is postgresql-{PG_VERSION} installed?)")


def postgres_ready() -> bool:
    proc = run(
        [_pg_bin("pg_isready"), "-q", "-h", PG_HOST, "-p", str(PG_PORT), "-t", "3"],
        timeout=T_QUICK,
        check=False,
    )
    return proc.returncode == 0


def ensure_postgres(progress: Progress | None = None) -> None:
    """Start Debian's PostgreSQL cluster (pg_ctlcluster, no systemd) unless it already accepts connections."""
    if postgres_ready():
        return
    say(progress, f"Starting PostgreSQL {PG_VERSION}/{PG_CLUSTER} ...")
    if os.geteuid() != 0:
        raise LocalNetboxError(
            f"PostgreSQL is not running; start it with: pg_ctlcluster {PG_VERSION} {PG_CLUSTER} start"
        )
    run(["pg_ctlcluster", PG_VERSION, PG_CLUSTER, "start"], timeout=120, check=False)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if postgres_ready():
            return
        time.sleep(1)
    raise LocalNetboxError(
        f"PostgreSQL did not come up on {PG_HOST}:{PG_PORT}; see /var/log/postgresql/"
        f"postgresql-{PG_VERSION}-{PG_CLUSTER}.log"
    )


def pg_password(lay: Layout) -> str:
    data = read_json(lay.postgres_json)
    if data and data.get("user") == PG_ROLE and isinstance(data.get("password"), str) and data["password"]:
        return str(data["password"])
    password = secrets.token_urlsafe(24)
    write_private(lay.postgres_json, json.dumps({"user": PG_ROLE, "password": password}) + "\n")
    return password


def _pg_env(lay: Layout) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PGPASSWORD=pg_password(lay), PGCONNECT_TIMEOUT="10", PGAPPNAME="zwvl")
    return env


_PG_CONN = ("-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_ROLE)


def psql(
    lay: Layout, sql: str, *, db: str = "postgres", check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run SQL (from stdin) as the zwvl_netbox role over TCP; unaligned, tuples-only output."""
    return run(
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
    run(
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
    if psql(lay, "SELECT 1", check=False).returncode == 0:
        return
    password = pg_password(lay)
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
    psql(lay, "SELECT 1")


def db_info(lay: Layout, name: str) -> tuple[bool, bool]:
    """(exists, is_template) for a database, asked of the `postgres` database."""
    out = psql(lay, f"SELECT datistemplate FROM pg_database WHERE datname = '{check_db_name(name)}'").stdout
    value = out.strip()
    return bool(value), value == "t"


def database_exists(name: str, cache_dir: Path | str | None = None) -> bool:
    return db_info(layout(cache_dir), name)[0]


def list_databases(prefix: str, cache_dir: Path | str | None = None) -> list[str]:
    out = psql(layout(cache_dir), "SELECT datname FROM pg_database ORDER BY 1").stdout
    return [n for n in out.split() if n.startswith(prefix)]


def clone_database(
    name: str, template: str | None = None, cache_dir: Path | str | None = None, *, retries: int = 10
) -> str:
    """``CREATE DATABASE name TEMPLATE template`` (default: this version's template). Takes seconds."""
    lay = layout(cache_dir)
    template = template or template_db_name()
    check_db_name(name)
    check_db_name(template)
    sql = f'CREATE DATABASE "{name}" OWNER {PG_ROLE} TEMPLATE "{template}"'
    for attempt in range(retries):
        proc = psql(lay, sql, check=False)
        if proc.returncode == 0:
            return name
        if "being accessed by other users" in proc.stderr and attempt < retries - 1:
            time.sleep(1)  # a short-lived connection to the source (e.g. pg_dump) is finishing
            continue
        raise LocalNetboxError(f"cannot clone {template} into {name}:\n{tail(proc.stderr)}")
    raise LocalNetboxError(f"cannot clone {template} into {name}: still busy")  # pragma: no cover


def drop_database(name: str, cache_dir: Path | str | None = None, *, allow_template: bool = False) -> bool:
    """Drop a database (closing its connections). Returns whether it existed. Templates are protected."""
    lay = layout(cache_dir)
    check_db_name(name)
    exists, is_template = db_info(lay, name)
    if not exists:
        return False
    if (is_template or name.startswith(TEMPLATE_PREFIX)) and not allow_template:
        raise LocalNetboxError(f"refusing to drop template database {name}")
    if is_template:
        psql(lay, f'ALTER DATABASE "{name}" IS_TEMPLATE false')
    psql(lay, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return True


def applied_migrations(lay: Layout, db: str) -> set[str]:
    proc = psql(lay, "SELECT app || '.' || name FROM django_migrations", db=db, check=False)
    if proc.returncode != 0:
        return set()
    return {line.strip() for line in proc.stdout.splitlines() if line.strip()}


def pg_dump(lay: Layout, db: str) -> None:
    lay.templates.mkdir(parents=True, exist_ok=True)
    tmp = lay.dump.with_name(lay.dump.name + ".tmp")
    run(
        [_pg_bin("pg_dump"), "-Fc", *_PG_CONN, "-f", tmp, db],
        env=_pg_env(lay),
        timeout=T_DUMP,
        what="pg_dump",
    )
    os.replace(tmp, lay.dump)


def pg_restore(lay: Layout, db: str) -> None:
    run(
        [_pg_bin("pg_restore"), "-j", "2", "--no-owner", "--exit-on-error", *_PG_CONN, "-d", db, lay.dump],
        env=_pg_env(lay),
        timeout=T_DUMP,
        what="pg_restore",
    )
