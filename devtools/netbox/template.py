"""The migrated template database (``zwvl_netbox_tpl_<ver>``), its dump and migrations list."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from devtools.netbox.apt import (
    ensure_system_packages,
)
from devtools.netbox.common import (
    PG_ROLE,
    T_LOCK,
    Layout,
    LocalNetboxError,
    _file_lock,
    _read_json,
    _say,
    layout,
    template_db_name,
)
from devtools.netbox.config import (
    _migrate,
    _prepare_root,
)
from devtools.netbox.postgres import (
    _applied_migrations,
    _db_info,
    _pg_dump,
    _pg_restore,
    _psql,
    clone_database,
    ensure_postgres,
    ensure_role,
)
from devtools.netbox.redis import (
    ensure_redis,
)
from devtools.netbox.venv import (
    ensure_venv,
)
from zwvl.procs import Progress


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


def _save_migrations_list(lay: Layout, db: str) -> None:
    applied = sorted(_applied_migrations(lay, db))
    if not applied:
        raise LocalNetboxError(f"no migrations recorded in {db}")
    lay.templates.mkdir(parents=True, exist_ok=True)
    tmp = lay.migrations_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"netbox_version": lay.version, "applied": applied}, indent=0) + "\n")
    os.replace(tmp, lay.migrations_file)


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
