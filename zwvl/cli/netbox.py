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
    """Run a local NetBox (PostgreSQL, Redis, gunicorn and NetBox's background worker on 127.0.0.1)
    for development and tests; `branch` manages NetBox branches of any NetBox.

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
    instance database from it, and starts gunicorn and `netbox rqworker` (branch jobs of the
    netboxlabs-netbox-branching plugin, which is installed and enabled). A healthy running instance
    is left alone. Writes
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
    click.echo(f"  gunicorn pid {inst.pid}, rqworker pid {inst.worker_pid}, database {inst.db_name}")
    click.echo(f"Credentials (url, token, admin login): {inst.credentials_file}")


@netbox_group.command("down")
@click.option("--purge", is_flag=True, help="Also drop the instance's database and its credentials file.")
@_cache_option
@_name_option
def down_command(purge: bool, cache_dir: Path | None, name: str) -> None:
    """Stop the local NetBox's gunicorn and background worker (by PID). The database is kept unless
    --purge is given.

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


# ------------------------------------------------------------------------------------------ branches

EXIT_NO_BRANCH = 3
_wait_option = click.option(
    "--wait",
    "wait",
    type=click.FloatRange(1.0, 7200.0),
    default=600.0,
    show_default=True,
    metavar="SECONDS",
    help="Longest wait for NetBox's background jobs (sync, merge) before giving up.",
)


def _branch_client():  # noqa: ANN202
    from zwvl.netbox.reconcile import connect

    return connect(message="zwvl netbox branch")


@netbox_group.group("branch")
def branch_group() -> None:
    """NetBox branches (netboxlabs-netbox-branching) of pull requests, for the pipelines.

    NetBox is NETBOX_URL/NETBOX_TOKEN, else the local instance. `zwvl plan --branch NAME` and
    `zwvl apply --branch NAME` create and fill a branch; these commands look at, merge and delete it.
    """


@branch_group.command("name")
@click.argument("value")
def branch_name_command(value: str) -> None:
    """Print the branch name for VALUE: a pull request number N (or #N) gives pr-N; anything else is
    lower-cased with characters other than a-z, 0-9, '.', '_' and '-' replaced by '-'."""
    from zwvl.netbox.branching import BranchError, normalise_name

    try:
        click.echo(normalise_name(value))
    except BranchError as exc:
        raise click.ClickException(str(exc)) from exc


@branch_group.command("show")
@click.argument("name")
@json_option("Print the branch as JSON (name, status, schema_id, url, conflicts).")
def branch_show_command(name: str, as_json: bool) -> None:
    """Show branch NAME: status, URL in NetBox's web UI, and conflicts with main.

    Exit 0 when the branch exists, 3 when it does not, 1 on errors.
    """
    from zwvl.netbox.branching import conflicts, find_branch, normalise_name
    from zwvl.netbox.client import NetboxError

    try:
        client = _branch_client()
        branch = find_branch(client, normalise_name(name))
        found = conflicts(client, branch) if branch is not None and branch.status == "ready" else []
    except (NetboxError, NetboxSettingsError) as exc:
        raise click.ClickException(str(exc)) from exc
    if branch is None:
        click.echo(f"NetBox has no branch {normalise_name(name)}.", err=True)
        raise SystemExit(EXIT_NO_BRANCH)
    if as_json:
        doc = {
            "name": branch.name,
            "status": branch.status,
            "schema_id": branch.schema_id,
            "url": branch.ui_url,
            "last_sync": branch.last_sync,
            "conflicts": [c.describe() for c in found],
        }
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"{branch.name}: {branch.status} ({branch.ui_url})")
    for c in found:
        click.echo(f"  conflict: {c.describe()}")


@branch_group.command("merge")
@click.argument("name")
@click.option(
    "--missing-ok",
    is_flag=True,
    help="Exit 0 when there is no such branch (nothing to merge) instead of 3.",
)
@_wait_option
def branch_merge_command(name: str, missing_ok: bool, wait: float) -> None:
    """Merge branch NAME into main (a NetBox background job; the branch is kept, status merged).

    When main changed since the branch last synced, the branch is synced first. Objects changed both
    in the branch and on main are conflicts: they are listed by type and name, nothing is merged, and
    the exit is 1. A branch merged before, or one without changes, is left as it is (exit 0).
    Afterwards `zwvl plan` (on main) should show no change.

    Exit 0 when merged (or nothing to merge), 1 on conflicts and errors, 3 when there is no such
    branch (0 with --missing-ok).
    """
    from zwvl.netbox.branching import BranchConflictError, BranchNotFound, merge_branch, normalise_name
    from zwvl.netbox.client import NetboxError

    branch_name = normalise_name(name)
    try:
        result = merge_branch(_branch_client(), branch_name, timeout=wait, say=progress)
    except BranchNotFound as exc:
        click.echo(f"{exc}: nothing to merge.", err=True)
        raise SystemExit(0 if missing_ok else EXIT_NO_BRANCH) from exc
    except BranchConflictError as exc:
        click.echo(f"error: {exc}", err=True)
        for c in exc.conflicts:
            click.echo(f"  conflict: {c.describe()}", err=True)
        raise SystemExit(1) from exc
    except (NetboxError, NetboxSettingsError) as exc:
        raise click.ClickException(str(exc)) from exc
    b = result.branch
    if result.merged:
        synced = " after syncing it with main" if result.synced else ""
        click.echo(f"Merged branch {b.name} into main{synced} ({result.changes} changes): {b.ui_url}")
    elif b.status in ("merged", "archived"):
        click.echo(f"Branch {b.name} was already {b.status}: {b.ui_url}")
    else:
        click.echo(f"Branch {b.name} holds no change: nothing to merge ({b.ui_url})")


@branch_group.command("delete")
@click.argument("name")
@click.option("--missing-ok", is_flag=True, help="Exit 0 when there is no such branch instead of 3.")
@click.option("--merged", "allow_merged", is_flag=True, help="Also delete a branch that was merged.")
def branch_delete_command(name: str, missing_ok: bool, allow_merged: bool) -> None:
    """Delete branch NAME and its schema: a pull request closed without merging.

    The branch is read first: one that was merged (its changes are on main) is kept unless --merged,
    and one busy with a background job is refused. Main is not touched.

    Exit 0 when deleted, 1 on errors, 3 when there is no such branch (0 with --missing-ok).
    """
    from zwvl.netbox.branching import BranchNotFound, delete_branch, normalise_name
    from zwvl.netbox.client import NetboxError

    try:
        branch = delete_branch(_branch_client(), normalise_name(name), allow_merged=allow_merged)
    except BranchNotFound as exc:
        click.echo(f"{exc}: nothing to delete.", err=True)
        raise SystemExit(0 if missing_ok else EXIT_NO_BRANCH) from exc
    except (NetboxError, NetboxSettingsError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Deleted branch {branch.name} (was {branch.status}).")
