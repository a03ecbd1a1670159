"""The `zwvl` command line: one entry point for the whole repository, one module per command group.

The commands import what they run inside their functions, so `zwvl --help` stays fast and no
package outside this one imports the command line.
"""

from __future__ import annotations

import click

from zwvl import __version__
from zwvl.cli import check, codeowners, exporter, lab, monitoring, netbox, platform, reconcile, relay


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zwvl")
def main() -> None:
    """Operate the Zuid-West-Vlaanderen region from versioned inventory.

    The inventory (YAML under inventory/) is loaded once into one domain model that every
    command reads: validation, policy checks, the NetBox reconciler and the exporter.
    """


for _command in (
    *check.COMMANDS,
    netbox.netbox_group,
    *reconcile.COMMANDS,
    lab.lab_group,
    exporter.exporter_command,
    relay.relay_command,
    monitoring.monitoring_group,
    monitoring.dashboards_command,
    codeowners.codeowners_command,
    platform.ansible_vars_command,
):
    main.add_command(_command)
