"""The `zwvl` command line: one entry point for the whole repository."""

from __future__ import annotations

import click

from zwvl import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zwvl")
def main() -> None:
    """Operate the Zuid-West-Vlaanderen region from versioned inventory."""


def _register() -> None:
    from zwvl.netbox.cli import netbox_group

    main.add_command(netbox_group)


_register()
