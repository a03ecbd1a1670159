"""The migrated template database (``zwvl_netbox_tpl_<key>``: NetBox and the branching plugin), its dump and
migrations list."""

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
    layout,
    netbox_lock,
    read_json,
    say,
    template_db_name,
)
from devtools.netbox.config import (
    migrate,
    prepare_root,
)
from devtools.netbox.postgres import (
    applied_migrations,
    clone_database,
    db_info,
    ensure_postgres,
    ensure_role,
    pg_dump,
    pg_restore,
    psql,
)
from devtools.netbox.redis import (
    TEMPLATE_DB,
    ensure_redis,
)
from devtools.netbox.venv import (
    ensure_venv,
)
from zwvl.procs import Progress


def _template_migrations(lay: Layout) -> set[str] | None:
    data = read_json(lay.migrations_file)
    if not data or data.get("key") != lay.key or not isinstance(data.get("applied"), list):
        return None
    return {str(x) for x in data["applied"]}


def unapplied(lay: Layout, db: str) -> set[str] | None:
    """Migrations of the template missing from ``db`` (None when the template's list is unknown)."""
    expected = _template_migrations(lay)
    if expected is None:
        return None
    return expected - applied_migrations(lay, db)


def _save_migrations_list(lay: Layout, db: str) -> None:
    applied = sorted(applied_migrations(lay, db))
    if not applied:
        raise LocalNetboxError(f"no migrations recorded in {db}")
    lay.templates.mkdir(parents=True, exist_ok=True)
    tmp = lay.migrations_file.with_suffix(".tmp")
    doc = {"netbox_version": lay.version, "key": lay.key, "applied": applied}
    tmp.write_text(json.dumps(doc, indent=0) + "\n")
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
    tpl = template_db_name(lay.version, lay.branching)
    build = tpl + "_build"
    with netbox_lock(lay.locks / f"template-{lay.key}.lock", T_LOCK, "template", progress):
        exists, is_template = db_info(lay, tpl)
        if exists and is_template:
            if not lay.dump.is_file() or _template_migrations(lay) is None:
                _refresh_template_artifacts(lay, tpl, progress)
            return tpl
        if exists:  # left by an older/interrupted run: finish it as a build database
            psql(lay, f'ALTER DATABASE "{tpl}" RENAME TO "{build}"')
        restored = False
        if not db_info(lay, build)[0]:
            psql(lay, f'CREATE DATABASE "{build}" OWNER {PG_ROLE}')
            if lay.dump.is_file() and _template_migrations(lay) is not None:
                say(progress, f"Restoring the NetBox {lay.key} template from {lay.dump} ...")
                try:
                    pg_restore(lay, build)
                    restored = True
                except LocalNetboxError as exc:
                    say(progress, f"Restore failed, migrating from scratch instead ({exc})")
                    psql(lay, f'DROP DATABASE IF EXISTS "{build}" WITH (FORCE)')
                    psql(lay, f'CREATE DATABASE "{build}" OWNER {PG_ROLE}')
            if not restored:
                psql(lay, "CREATE EXTENSION IF NOT EXISTS ltree", db=build)
        if not restored or unapplied(lay, build):
            prepare_root(lay, lay.template_root, build, redis_db=TEMPLATE_DB)
            say(
                progress,
                f"Migrating the NetBox {lay.key} template database {build} "
                "(first time only, about 10 minutes of CPU) ...",
            )
            t0 = time.monotonic()
            migrate(lay, lay.template_root, progress)
            say(progress, f"Migrations done in {time.monotonic() - t0:.0f}s.")
            _save_migrations_list(lay, build)
            say(progress, f"Saving {lay.dump} (pg_dump -Fc) ...")
            pg_dump(lay, build)
        psql(lay, f'ALTER DATABASE "{build}" RENAME TO "{tpl}"')
        psql(lay, f'ALTER DATABASE "{tpl}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')
        say(progress, f"Template database {tpl} is ready.")
        return tpl


def _refresh_template_artifacts(lay: Layout, tpl: str, progress: Progress | None) -> None:
    """Re-create a missing dump / migrations list from a throw-away clone (never the template itself)."""
    tmp = f"{tpl}_snap"
    say(progress, f"Refreshing {lay.dump} from a clone of {tpl} ...")
    psql(lay, f'DROP DATABASE IF EXISTS "{tmp}" WITH (FORCE)')
    clone_database(tmp, tpl, lay.cache_dir)
    try:
        _save_migrations_list(lay, tmp)
        pg_dump(lay, tmp)
    finally:
        psql(lay, f'DROP DATABASE IF EXISTS "{tmp}" WITH (FORCE)')
