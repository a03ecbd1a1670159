"""Command-line options shared by every `zwvl` command (kept apart from zwvl.cli to avoid import cycles)."""

from __future__ import annotations

from pathlib import Path

import click

inventory_option = click.option(
    "--inventory",
    "inventory_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("inventory"),
    show_default=True,
    help="Folder with the inventory YAML.",
)
