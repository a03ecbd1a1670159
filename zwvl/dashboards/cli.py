"""`zwvl dashboards [--check]`."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("dashboards")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("monitoring/dashboards"),
    show_default=True,
    help="Folder for the generated dashboard JSON.",
)
@click.option("--check", is_flag=True, help="Regenerate in memory; exit 1 when a file differs or is missing.")
def dashboards_command(output_dir: Path, check: bool) -> None:
    """Generate the Grafana dashboards (grafana-foundation-sdk) into monitoring/dashboards/."""
    from zwvl.dashboards import differences, write

    if check:
        problems = differences(output_dir)
        for p in problems:
            click.echo(p, err=True)
        if problems:
            click.echo("dashboards are out of date: run `zwvl dashboards`", err=True)
            sys.exit(1)
        click.echo(f"{output_dir}: dashboards up to date", err=True)
        return
    for path in write(output_dir):
        click.echo(f"{path}", err=True)
