"""`zwvl validate` and `zwvl check`: the inventory, and the policy catalogue against it."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zwvl.cli.common import (
    file_option,
    format_option,
    inventory_option,
    load_or_exit,
    policies_option,
    print_problems,
)
from zwvl.files import write_atomic
from zwvl.inventory import Inventory, InventoryError

if TYPE_CHECKING:
    from zwvl.policy.probes import ConnectTo


@click.command()
@inventory_option
def validate(inventory_dir: Path) -> None:
    """Load and validate the inventory; print every problem as file:line:col.

    Exit 0 when valid, 1 when any problem was found.
    """
    inv = load_or_exit(inventory_dir, 1)
    counts = ", ".join(f"{v} {k}" for k, v in inv.counts().items())
    click.echo(f"{inventory_dir}: valid ({len(inv.files)} files: {counts})")


def _connect_to(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> list[ConnectTo]:
    if not value:
        return []
    from zwvl.policy.probes import ConnectTo

    try:
        return [ConnectTo.parse(v) for v in value]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command()
@inventory_option
@policies_option(
    "Folder with catalogue.yaml and waivers.yaml [default: policies/ beside the inventory, else ./policies]."
)
@format_option(["text", "json", "junit", "sarif", "markdown", "html"], "Report format.")
@file_option("--output", help="Write the report to this file instead of standard output.")
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
@click.option(
    "--live/--no-live",
    "use_live",
    default=False,
    show_default=True,
    help="Probe what is deployed: a verified TLS handshake (TLS >= 1.2) to every service declaring TLS "
    "that has a url, and a redirect from plain HTTP; SEC-exposed-tls-mfa judges what was observed.",
)
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="ZWVL_CA_FILE",
    default=None,
    help="CA certificates (PEM) that --live verifies servers against [env ZWVL_CA_FILE; default: the "
    "system store].",
)
@click.option(
    "--connect-to",
    "connect_to",
    multiple=True,
    metavar="HOST:PORT:ADDRESS:PORT",
    callback=_connect_to,
    help="With --live, connect to ADDRESS:PORT instead of HOST:PORT, still verifying HOST (as curl; "
    "repeatable; plain HTTP is HOST:80).",
)
def check(
    inventory_dir: Path,
    policies_dir: Path | None,
    fmt: str,
    output: Path | None,
    today: dt.datetime | None,
    use_netbox: bool,
    use_live: bool,
    ca_file: Path | None,
    connect_to: list[ConnectTo],
) -> None:
    """Validate the inventory and run every policy rule.

    Without --live, TLS is judged on what the inventory declares (the findings say it was not observed).
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
    tls_observed = _probe_tls(inv, ca_file, connect_to) if use_live else None
    try:
        result = run_checks(
            inv, repo_root, policies_dir, today.date() if today else None, live, live_source, tls_observed
        )
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


def _probe_tls(inv: Inventory, ca_file: Path | None, routes: list[ConnectTo]) -> dict[str, dict[str, Any]]:
    """What every service declaring TLS with a url serves."""
    import ssl

    from zwvl.policy.probes import probe_services

    targets = [(s.slug, s.url) for s in inv.services.values() if s.tls is True and s.url]
    try:
        return probe_services(targets, str(ca_file) if ca_file else None, routes)
    except (ssl.SSLError, OSError) as exc:  # a CA file that is no PEM certificate
        click.echo(f"error: cannot use --ca-file {ca_file}: {exc}", err=True)
        sys.exit(2)


COMMANDS = (validate, check)
