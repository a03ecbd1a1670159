"""Command-line options shared by every `zwvl` command (kept apart from zwvl.cli to avoid import cycles)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from click.decorators import FC

inventory_option = click.option(
    "--inventory",
    "inventory_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("inventory"),
    show_default=True,
    help="Folder with the inventory YAML.",
)


def policies_option(help: str) -> Callable[[FC], FC]:
    """--policies DIR (to `policies_dir`, None when not given: each command says what it defaults to)."""
    return click.option(
        "--policies",
        "policies_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help=help,
    )
