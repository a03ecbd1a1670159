"""The `zwvl` command line: one entry point for the whole repository."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from zwvl import __version__
from zwvl.files import write_atomic
from zwvl.inventory import Inventory, InventoryError, load_inventory
from zwvl.options import inventory_option, policies_option


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zwvl")
def main() -> None:
    """Operate the Zuid-West-Vlaanderen region from versioned inventory.

    The inventory (YAML under inventory/) is loaded once into one domain model that every
    command reads: validation, policy checks, the NetBox reconciler and the exporter.
    """


def print_problems(exc: InventoryError) -> None:
    for p in exc.problems:
        click.echo(str(p), err=True)
    click.echo(f"{len(exc.problems)} problem(s) found; nothing was written.", err=True)


def load_or_exit(inventory_dir: Path, code: int = 1) -> Inventory:
    """Load the inventory, or print every problem and exit with `code`."""
    try:
        return load_inventory(inventory_dir)
    except InventoryError as exc:
        print_problems(exc)
        sys.exit(code)


@main.command()
@inventory_option
def validate(inventory_dir: Path) -> None:
    """Load and validate the inventory; print every problem as file:line:col.

    Exit 0 when valid, 1 when any problem was found.
    """
    inv = load_or_exit(inventory_dir, 1)
    counts = ", ".join(f"{v} {k}" for k, v in inv.counts().items())
    click.echo(f"{inventory_dir}: valid ({len(inv.files)} files: {counts})")


@main.command()
@inventory_option
@policies_option(
    "Folder with catalogue.yaml and waivers.yaml [default: policies/ beside the inventory, else ./policies]."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "junit", "sarif", "markdown", "html"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Evaluate waiver expiry on this date [default: today].",
)
@click.option(
    "--netbox/--no-netbox",
    "use_netbox",
    default=False,
    show_default=True,
    help="Take live evidence (circuit status) from NetBox (NETBOX_URL/NETBOX_TOKEN or the local one).",
)
def check(
    inventory_dir: Path,
    policies_dir: Path | None,
    fmt: str,
    output: Path | None,
    today: dt.datetime | None,
    use_netbox: bool,
) -> None:
    """Validate the inventory and run every policy rule.

    Exit 0 when no unwaived mandatory rule fails, 1 when one does, 2 on usage or input errors.
    """
    from zwvl.policy.runner import run_checks
    from zwvl.reports import render

    inv = load_or_exit(inventory_dir, 2)
    repo_root = inventory_dir.resolve().parent
    live: dict[str, str] = {}
    live_source = None
    if use_netbox:
        from zwvl.netbox.client import NetboxError
        from zwvl.netbox.evidence import circuit_status
        from zwvl.netbox.settings import NetboxSettingsError

        try:
            live, live_source = circuit_status()
        except (NetboxError, NetboxSettingsError) as exc:
            click.echo(f"error: no live evidence from NetBox: {exc}", err=True)
            sys.exit(2)
    try:
        result = run_checks(inv, repo_root, policies_dir, today.date() if today else None, live, live_source)
    except InventoryError as exc:
        print_problems(exc)
        sys.exit(2)
    text = render(result, fmt)
    if output is not None:
        write_atomic(output, text)
        if fmt != "text":
            s = result.summary()
            click.echo(
                f"{output}: {s['result']} ({s['findings']['fail']} failed, {s['findings']['waived']} waived)",
                err=True,
            )
    elif fmt == "text" and sys.stdout.isatty():
        from zwvl.reports.terminal import show

        show(text)
    else:
        click.echo(text, nl=False)
    sys.exit(result.exit_code)


def _register() -> None:
    # imported here: these modules import helpers from this one
    from zwvl.codeowners import codeowners_command
    from zwvl.exporter.cli import exporter_command
    from zwvl.lab.cli import lab_group
    from zwvl.monitoring.cli import dashboards_command, monitoring_group
    from zwvl.netbox.cli import netbox_group
    from zwvl.netbox.commands import COMMANDS as NETBOX_COMMANDS

    for command in (
        netbox_group,
        *NETBOX_COMMANDS,
        lab_group,
        exporter_command,
        monitoring_group,
        dashboards_command,
        codeowners_command,
    ):
        main.add_command(command)


_register()
