"""`zwvl plan | apply | drift | import`: the inventory against NetBox.

NetBox is found through NETBOX_URL and NETBOX_TOKEN, else the local instance started with
`zwvl netbox up`. The token is read from the environment or that instance's credentials file only;
it is never printed or logged.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import NoReturn

import click

from zwvl.cli.common import file_option, format_option, inventory_option, progress, range_option
from zwvl.inventory import InventoryError
from zwvl.netbox.apps.common import MappingError
from zwvl.netbox.client import NetboxError
from zwvl.netbox.kinds import LEGACY_TAG, OWNER, TAG
from zwvl.netbox.settings import NetboxSettingsError

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


class _UsageError(click.UsageError):
    exit_code = EXIT_ERROR


class _ChangesExitCommand(click.Command):
    """A command whose exit 2 means "changes/drift": usage errors exit 1 (error), not click's 2."""

    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            raise _UsageError(exc.format_message(), exc.ctx) from None


_format_option = format_option(
    ["text", "markdown", "json"],
    "Output format: text for a terminal, markdown for a pull-request comment, json for tools.",
)
_adopt_option = click.option(
    "--adopt",
    is_flag=True,
    help=f"Take over NetBox objects zwvl does not own that have the natural key of inventory objects "
    f"(tag them {TAG!r}, give them the owner {OWNER!r}, update them) instead of reporting them as "
    f"conflicts, and let deletes take unmanaged objects with them (a hand-made interface on a "
    f"device being deleted); also the upgrade from earlier zwvl versions, which tagged {LEGACY_TAG!r}.",
)


_branch_option = click.option(
    "--branch",
    "branch",
    default=None,
    metavar="NAME",
    help="Work in this NetBox branch (netboxlabs-netbox-branching) instead of main: create it when "
    "absent, sync it when main changed since, wait until it is ready, and send every request to it "
    "(X-NetBox-Branch). NAME is normalised (a number N becomes pr-N). Needs a token that may write "
    "branches. An apply into a branch does not take the apply lock.",
)


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _load(inventory_dir: Path):  # noqa: ANN202
    from zwvl.netbox.reconcile import load_desired

    try:
        return load_desired(inventory_dir)
    except InventoryError as exc:
        for p in exc.problems:
            click.echo(str(p), err=True)
        click.echo(
            f"{len(exc.problems)} problem(s) in the inventory; nothing was written to NetBox.", err=True
        )
        sys.exit(EXIT_ERROR)
    except MappingError as exc:
        for line in exc.problems:
            click.echo(line, err=True)
        click.echo(
            f"{len(exc.problems)} problem(s) mapping the inventory to NetBox; nothing was written.", err=True
        )
        sys.exit(EXIT_ERROR)


def _branch_target(client, name: str):  # noqa: ANN001, ANN202
    """(client for the branch, the Branch) after creating/syncing it; progress goes to stderr."""
    from zwvl.netbox.branching import branch_client, ensure_branch, normalise_name

    branch = ensure_branch(client, normalise_name(name), description="zwvl", say=progress)
    progress(f"NetBox branch {branch.name}: {branch.ui_url}")
    return branch_client(client, branch), branch


def _emit(text: str, out: Path | None = None) -> None:
    """Print, or write a file atomically (readers such as the exporter never see half a report)."""
    if out is None:
        click.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)


@click.command("plan", cls=_ChangesExitCommand)
@inventory_option
@_format_option
@file_option(
    "--out",
    "out",
    help="Also save the plan (JSON, with the fingerprint of the NetBox state it was made from) for "
    "`zwvl apply PLAN`.",
)
@_adopt_option
@_branch_option
def plan_command(inventory_dir: Path, fmt: str, out: Path | None, adopt: bool, branch: str | None) -> None:
    """Show what `zwvl apply` would change in NetBox: create, update or delete per object, with
    field-by-field differences, in dependency order. Unmanaged objects (without the 'zwvl-managed'
    tag; for tags, custom fields and choice sets: without the owner 'zwvl') are listed, never changed.

    With --branch the plan is made against that NetBox branch and names it with its URL in NetBox's
    web UI (text and Markdown), where reviewers see the change before it is merged.

    Exit 0 when NetBox already matches the inventory, 2 when there are changes, 1 on errors
    (invalid inventory, NetBox unreachable or refusing the token, conflicts with unmanaged objects,
    deletes that would cascade to unmanaged objects without --adopt, a branch that cannot be made
    ready).
    """
    from zwvl.netbox.plan import plan_to_json
    from zwvl.netbox.reconcile import connect, git_commit, plan
    from zwvl.netbox.render import render_plan

    _inv, desired = _load(inventory_dir)
    commit, _dirty = git_commit(inventory_dir)
    try:
        client = connect()
        target, where = _branch_target(client, branch) if branch else (client, None)
        p = plan(target, desired, adopt=adopt, commit=commit)
        if where is not None:
            p.branch, p.branch_url = where.name, where.ui_url
    except (NetboxError, NetboxSettingsError) as exc:
        _fail(str(exc))
    if out is not None:
        _emit(json.dumps(plan_to_json(p), indent=2, ensure_ascii=False) + "\n", out)
        click.echo(f"Plan saved to {out} ({p.read_requests} read requests).", err=True)
    _emit(render_plan(p, fmt))
    if p.conflicts:
        click.echo(
            f"error: {len(p.conflicts)} conflict(s) with unmanaged objects; apply would refuse "
            "(see --adopt)",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    if p.cascades and not p.adopt:
        click.echo(
            f"error: the deletes would take {len(p.cascades)} unmanaged object(s) with them; apply "
            "would refuse (see --adopt)",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_CHANGES if p.ops else EXIT_OK)


@click.command("apply")
@click.argument(
    "plan_file", metavar="[PLAN]", required=False, type=click.Path(dir_okay=False, path_type=Path)
)
@inventory_option
@click.option(
    "--allow-mass-delete",
    is_flag=True,
    help="Allow deleting more than --max-delete-share of the managed objects.",
)
@range_option(
    "--max-delete-share",
    0.0,
    1.0,
    0.20,
    "Delete guard: the largest share of the managed objects one apply may delete.",
)
@click.option(
    "--break-lock",
    is_flag=True,
    help="Break the apply lock held in NetBox when its lease has expired (an expired lease is taken "
    "over anyway); a live lease only with --force. The holder is shown.",
)
@click.option(
    "--force",
    is_flag=True,
    help="With --break-lock: break the lock even though its lease is live (only when you know that "
    "apply is gone: two applies would write at once).",
)
@range_option(
    "--lock-lease",
    2.0,
    86400.0,
    300.0,
    envvar="ZWVL_LOCK_LEASE",
    metavar="SECONDS",
    help="Seconds the apply lock's lease lasts; a running apply renews it every fifth of that and "
    "stops writing when it cannot. A killed apply's lock is taken over by the next apply once its "
    "lease has expired [env ZWVL_LOCK_LEASE].",
)
@_adopt_option
@range_option(
    "--concurrency",
    1,
    8,
    2,
    "Bulk write requests in flight at once (NetBox's gunicorn workers).",
)
@format_option(["text", "json"], "Output format of the summary.")
@_branch_option
@file_option(
    "--state-file",
    envvar="ZWVL_APPLY_STATE",
    help="After a successful apply (also one with nothing to do), write JSON with finished_at, the "
    "commit and the summary here (read by `zwvl exporter --apply-state`) [env ZWVL_APPLY_STATE].",
)
def apply_command(
    plan_file: Path | None,
    inventory_dir: Path,
    allow_mass_delete: bool,
    max_delete_share: float,
    break_lock: bool,
    force: bool,
    lock_lease: float,
    adopt: bool,
    concurrency: int,
    fmt: str,
    branch: str | None,
    state_file: Path | None,
) -> None:
    """Make NetBox match the inventory, or apply a saved PLAN from `zwvl plan --out`.

    Writes in dependency order with bulk requests, under a lock held in NetBox (a lease, renewed while
    the apply runs), with a change-log message naming the git commit. A saved plan is a review
    artefact, not an authority: apply plans again from --inventory and NetBox and writes only when
    that plan equals PLAN (refused when NetBox changed since, or PLAN was edited or made from
    another inventory or with other options). Deletes that would cascade to unmanaged objects
    (e.g. a hand-made interface on a device being deleted) are refused unless --adopt.
    Nothing is written when there is nothing to change (not even the lock).

    With --branch the apply goes into that NetBox branch (created or synced first) and leaves main
    alone; no lock is taken. Changes to custom fields and choice sets, which the branching plugin
    does not branch (they would be written to main), are refused there: apply them to main first
    (a branch the refusal leaves empty is deleted).

    Exit 0 on success (or nothing to do), 1 on errors.
    """
    from zwvl.netbox.plan import plan_from_json
    from zwvl.netbox.reconcile import apply, changelog_message, connect, git_commit
    from zwvl.netbox.render import summary_line

    if force and not break_lock:
        raise _UsageError("--force only goes with --break-lock")
    saved = None
    if plan_file is not None:
        try:
            saved = plan_from_json(json.loads(plan_file.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _fail(f"cannot read plan {plan_file}: {exc}")
    _inv, desired = _load(inventory_dir)
    commit, dirty = git_commit(inventory_dir)
    try:
        client = connect(message=changelog_message(commit, dirty))
        where, check = None, None
        if branch:
            main = client
            client, where = _branch_target(main, branch)
            check = _refuse_unbranchable(main, client, where)
        outcome = apply(
            client,
            desired,
            saved=saved,
            adopt=adopt,
            allow_mass_delete=allow_mass_delete,
            max_delete_share=max_delete_share,
            break_lock=break_lock,
            force=force,
            lease=lock_lease,
            concurrency=concurrency,
            commit=commit,
            progress=progress,
            take_lock=where is None,
            check=check,
        )
    except (NetboxError, NetboxSettingsError) as exc:
        _fail(str(exc))
    if where is not None:
        outcome.plan.branch, outcome.plan.branch_url = where.name, where.ui_url
    if outcome.broken_lock is not None:
        what = "Took over the expired apply lock" if outcome.took_over else "Broke the apply lock"
        click.echo(f"{what} {outcome.broken_lock.describe()}.", err=True)
    if state_file is not None and where is None:  # the exporter reports main's last apply, not a branch's
        doc = {
            "finished_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "netbox": client.url,
            "commit": commit,
            **outcome.as_dict(),
        }
        _emit(json.dumps(doc, indent=2) + "\n", state_file)
    if fmt == "json":
        doc = outcome.as_dict()
        if where is not None:
            doc["branch"] = {"name": where.name, "url": where.ui_url, "schema_id": where.schema_id}
        click.echo(json.dumps(doc, indent=2))
        return
    if where is not None:
        click.echo(f"NetBox branch {where.name}: {where.ui_url}")
    rep = outcome.report
    if rep is None:
        click.echo(f"{summary_line(outcome.plan)} Nothing written ({outcome.requests} read requests).")
        return
    c = outcome.plan.counts()
    click.echo(
        f"Applied: {c['create']} created, {c['update']} updated, {c['delete']} deleted in {rep.seconds:.1f}s "
        f"({rep.write_requests} write requests for {rep.objects_written} objects; "
        f"{outcome.requests} requests in all)."
    )


def _refuse_unbranchable(main, client, where):  # noqa: ANN001, ANN202
    """A branch apply must not write main: refuse plans on kinds the plugin does not branch.

    An empty branch is deleted then, so that after the merge of its pull request the pipeline finds
    no branch and applies the reviewed plan to main instead (a merge of nothing would leave main
    behind the inventory)."""
    from zwvl.netbox.branching import BranchError, branchable_kinds, delete_branch, unbranchable

    branchable = branchable_kinds(client)

    def check(p) -> None:  # noqa: ANN001
        bad = unbranchable(p, branchable)
        if not bad:
            return
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        logged = client.request("GET", "core/object-changes/", params={"limit": 1})
        empty = int((logged or {}).get("count") or 0) == 0
        if empty:
            delete_branch(main, where.name)
        raise BranchError(
            f"{len(bad)} change(s) to objects NetBox's branching plugin does not branch ({shown}): in "
            "a branch they would be written to main; apply them to main first (`zwvl apply` without "
            "--branch)" + (f"; the empty branch {where.name} was deleted" if empty else "")
        )

    return check


@click.command("drift", cls=_ChangesExitCommand)
@inventory_option
@_format_option
@file_option(
    "--output",
    help="Write the report to this file instead of standard output (e.g. for the exporter).",
)
def drift_command(inventory_dir: Path, fmt: str, output: Path | None) -> None:
    """Show managed NetBox objects that were changed by hand, field by field (inventory vs NetBox).

    An object drifts when its fields no longer match the hash zwvl stored when it last wrote them;
    inventory changes that are merely not applied yet are not drift (see `zwvl plan`).

    Exit 0 without drift, 2 with drift, 1 on errors.
    """
    from zwvl.netbox.reconcile import connect, drift
    from zwvl.netbox.render import render_drift

    _inv, desired = _load(inventory_dir)
    try:
        client = connect()
        items, state = drift(client, desired)
    except (NetboxError, NetboxSettingsError) as exc:
        _fail(str(exc))
    _emit(render_drift(items, state.url, fmt), output)
    if output is not None:
        click.echo(f"{output}: {len(items)} drifted object(s)", err=True)
    sys.exit(EXIT_CHANGES if items else EXIT_OK)


@click.command("import")
@click.option(
    "--netbox",
    "netbox_url",
    metavar="URL",
    help="NetBox to read [default: NETBOX_URL, else the local instance]. The token comes from "
    "NETBOX_TOKEN (or the local instance's credentials when the URL is the local one).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write the inventory into (must be empty or absent unless --force).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace a non-empty --out folder of inventory YAML (folders and .yaml files only; never a "
    "link, a file or ./inventory), in one step once NetBox has been read and the import validates.",
)
def import_command(netbox_url: str | None, out: Path, force: bool) -> None:
    """Write inventory YAML (the layout `zwvl validate` reads) from an existing NetBox.

    Tenants become partners, sites, devices (loopbacks from their 'lo' interface), device types with
    their interface templates, circuits (ends from terminations, cables and addresses), VLANs,
    prefixes and contacts; files follow each object's zwvl_source when it has one. Standards and the
    helpdesk, which NetBox does not hold, are written as stubs to review. The result is validated
    before the command succeeds; planning it against the same NetBox shows no changes. NetBox is read
    completely before --out is touched: on any error the folder is left exactly as it was.

    Exit 0 on success, 1 on errors.
    """
    import os

    from zwvl.netbox.import_out import ImportError_, import_netbox
    from zwvl.netbox.reconcile import connect
    from zwvl.netbox.settings import resolve_netbox

    try:
        if netbox_url is None:
            client = connect()
        else:
            token = os.environ.get("NETBOX_TOKEN", "").strip()
            if not token:
                try:
                    local_url, local_token = resolve_netbox()
                except NetboxSettingsError:
                    local_url, local_token = "", ""
                if local_url.rstrip("/") != netbox_url.rstrip("/"):
                    _fail(f"set NETBOX_TOKEN to read {netbox_url}")
                token = local_token
            client = connect(netbox_url, token)
        result = import_netbox(client, out, force=force, warn=lambda m: click.echo(f"warning: {m}", err=True))
    except InventoryError as exc:
        for p in exc.problems:
            click.echo(str(p), err=True)
        _fail(f"the imported inventory does not validate ({len(exc.problems)} problem(s)); nothing was kept")
    except (NetboxError, NetboxSettingsError, ImportError_) as exc:
        _fail(str(exc))
    counts = ", ".join(f"{n} {k}" for k, n in sorted(result.counts.items()))
    click.echo(f"Imported {counts} into {result.out} ({len(result.files)} files).")


COMMANDS = [plan_command, apply_command, drift_command, import_command]
