"""`zwvl netbox up | down | status`: the embedded local NetBox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from zwvl.cli.common import json_option, progress
from zwvl.netbox.settings import DEFAULT_INSTANCE, DEFAULT_PORT, NetboxSettingsError, cache_dir_or_default

if TYPE_CHECKING:
    from types import ModuleType

_cache_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Cache folder for the NetBox venv, template dump and instances "
    "[default: $ZWVL_CACHE_DIR, else ~/.cache/zwvl].",
)
_name_option = click.option(
    "--name",
    default=DEFAULT_INSTANCE,
    show_default=True,
    help="Instance name; the database is zwvl_netbox_<name>.",
)


def _local() -> ModuleType:
    """The local NetBox tooling (package ``devtools``, imported only when a command needs it)."""
    try:
        import devtools.netbox
    except ModuleNotFoundError as exc:
        if exc.name not in ("devtools", "devtools.netbox"):
            raise
        raise click.ClickException(
            "the local NetBox is development tooling (package devtools), which is not installed; "
            "install zwvl from a checkout with its dev extra: pip install -e '.[dev]'"
        ) from exc
    return devtools.netbox


@click.group(name="netbox")
def netbox_group() -> None:
    """Run a local NetBox (PostgreSQL, Redis, gunicorn on 127.0.0.1) for development and tests.

    Any other NetBox is used by setting NETBOX_URL and NETBOX_TOKEN instead.
    """


@netbox_group.command("up")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help=f"Port for gunicorn on 127.0.0.1 [default: the instance's last port, else {DEFAULT_PORT}].",
)
@click.option(
    "--setting",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="An extra NetBox setting for configuration.py, VALUE as JSON (e.g. MAX_PAGE_SIZE=250); "
    "repeatable. Without any, $ZWVL_NETBOX_SETTINGS (a JSON object) is used.",
)
@_cache_option
@_name_option
def up_command(port: int | None, settings: tuple[str, ...], cache_dir: Path | None, name: str) -> None:
    """Start the local NetBox, building what is missing; safe to run again.

    Installs missing Debian packages, starts PostgreSQL and Redis if needed, builds NetBox's venv,
    migrates a template database once (about 10 minutes, or seconds from the cached dump), clones the
    instance database from it, and starts gunicorn. A healthy running instance is left alone. Writes
    the URL and an API token to a credentials file (mode 0600); the token itself is never printed.
    """
    extra: dict[str, object] | None = None
    if settings:
        extra = {}
        for item in settings:
            key, sep, value = item.partition("=")
            if not sep:
                raise click.BadParameter(f"{item!r}: expected NAME=VALUE", param_hint="--setting")
            try:
                extra[key.strip()] = json.loads(value)
            except ValueError:
                extra[key.strip()] = value  # a bare string
    local = _local()
    try:
        inst = local.up(name=name, port=port, cache_dir=cache_dir, progress=progress, settings=extra)
    except (local.LocalNetboxError, NetboxSettingsError) as exc:
        raise click.ClickException(str(exc)) from exc
    state = "started" if inst.started else "already running"
    click.echo(f"NetBox {local.NETBOX_VERSION} {state}: {inst.url}/")
    click.echo(f"  gunicorn pid {inst.pid}, database {inst.db_name}")
    click.echo(f"Credentials (url, token, admin login): {inst.credentials_file}")


@netbox_group.command("down")
@click.option("--purge", is_flag=True, help="Also drop the instance's database and its credentials file.")
@_cache_option
@_name_option
def down_command(purge: bool, cache_dir: Path | None, name: str) -> None:
    """Stop the local NetBox's gunicorn (by PID). The database is kept unless --purge is given.

    PostgreSQL and Redis keep running; the cached venv, template database and dump are kept.
    """
    local = _local()
    try:
        result = local.down(name=name, purge=purge, cache_dir=cache_dir, progress=progress)
    except (local.LocalNetboxError, NetboxSettingsError) as exc:
        raise click.ClickException(str(exc)) from exc
    if result.stopped_pid is None and not result.dropped_db:
        click.echo(f"NetBox instance {name!r} was not running.")


@netbox_group.command("status")
@json_option("Print the report as JSON.")
@_cache_option
@_name_option
def status_command(as_json: bool, cache_dir: Path | None, name: str) -> None:
    """Check NetBox (GET /api/status/ with the instance's token), PostgreSQL and Redis.

    Exits 0 only when all three are healthy, 1 otherwise.
    """
    local = _local()
    try:
        report = local.status(name=name, cache_dir=cache_dir_or_default(cache_dir))
    except NetboxSettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        checks = (("NetBox", report.netbox), ("PostgreSQL", report.postgres), ("Redis", report.redis))
        for label, check in checks:
            click.echo(f"{label:<11} {'ok' if check.ok else 'FAIL':<5} {check.detail}")
    raise SystemExit(0 if report.ok else 1)
