"""`zwvl monitoring scrape-config|alertmanager-config` and `zwvl dashboards`: the monitoring
configuration generated from the source of truth, written or compared with the checked-in files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zwvl.cli.common import inventory_option, output_options, write_or_check


@click.group("monitoring")
def monitoring_group() -> None:
    """Prometheus and Alertmanager configuration generated from the source of truth."""


@monitoring_group.command("scrape-config")
@inventory_option
@click.option(
    "--from",
    "source",
    type=click.Choice(["inventory", "netbox"]),
    default="inventory",
    show_default=True,
    help="Where the devices come from: the domain model, or NetBox (NETBOX_URL/NETBOX_TOKEN or the "
    "local one; active devices, their monitoring field, tenant and primary IPv4). Services always come "
    "from the model (their monitoring kind). After `zwvl apply` both give the same file (tested).",
)
@output_options("monitoring/prometheus/prometheus.yml")
@click.option("--stdout", "to_stdout", is_flag=True, help="Print instead of writing the file.")
def scrape_config_command(
    inventory_dir: Path, source: str, output: Path, check: bool, to_stdout: bool
) -> None:
    """Generate Prometheus' configuration: scrape jobs for every monitored device and service."""
    from zwvl.cli.common import load_or_exit
    from zwvl.monitoring.scrape import (
        prometheus_config,
        service_targets,
        targets_from_inventory,
        targets_from_netbox,
    )

    inv = load_or_exit(inventory_dir, 2)
    if source == "netbox":
        from zwvl.netbox.settings import NetboxSettingsError, resolve_netbox

        try:
            url, token = resolve_netbox()
        except NetboxSettingsError as exc:
            raise click.ClickException(str(exc)) from exc
        targets = targets_from_netbox(url, token) + service_targets(inv)
    else:
        targets = targets_from_inventory(inv)
    text = prometheus_config(targets)
    if to_stdout:
        click.echo(text, nl=False)
        return
    write_or_check(output, text, check)


@monitoring_group.command("alertmanager-config")
@inventory_option
@output_options("monitoring/alertmanager/alertmanager.yml")
def alertmanager_config_command(inventory_dir: Path, output: Path, check: bool) -> None:
    """Generate Alertmanager's configuration: routes by severity and by partner, inhibitions."""
    from zwvl.cli.common import load_or_exit
    from zwvl.monitoring.alertmanager import alertmanager_config

    write_or_check(output, alertmanager_config(load_or_exit(inventory_dir, 2)), check)


@click.command("dashboards")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("monitoring/dashboards"),
    show_default=True,
    help="Folder for the generated dashboard JSON.",
)
@click.option(
    "--spec-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder of the dashboards' YAML specs  [default: zwvl/monitoring/dashboards/, in the package]",
)
@click.option("--check", is_flag=True, help="Regenerate in memory; exit 1 when a file differs or is missing.")
def dashboards_command(output_dir: Path, spec_dir: Path | None, check: bool) -> None:
    """Build the Grafana dashboards from their YAML specs (grafana-foundation-sdk) into
    monitoring/dashboards/. A spec with a problem (each printed with file and line) exits 2 and
    writes nothing."""
    from zwvl.cli.common import print_problems
    from zwvl.inventory import InventoryError

    try:
        _dashboards(output_dir, spec_dir, check)
    except InventoryError as exc:
        print_problems(exc)
        sys.exit(2)


def _dashboards(output_dir: Path, spec_dir: Path | None, check: bool) -> None:
    from zwvl.monitoring.dashboards import differences, write

    if check:
        problems = differences(output_dir, spec_dir)
        for p in problems:
            click.echo(p, err=True)
        if problems:
            click.echo("dashboards are out of date: run `zwvl dashboards`", err=True)
            sys.exit(1)
        click.echo(f"{output_dir}: dashboards up to date", err=True)
        return
    for path in write(output_dir, spec_dir):
        click.echo(f"{path}", err=True)
