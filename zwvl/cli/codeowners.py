"""`zwvl codeowners`: CODEOWNERS generated from the inventory (the logic is in ``zwvl.codeowners``)."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import click

from zwvl.cli.common import file_option, inventory_option
from zwvl.codeowners import ARCHITECTS, FILENAME, generate
from zwvl.files import write_atomic
from zwvl.inventory import InventoryError


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


@click.command("codeowners")
@inventory_option
@file_option(
    "--output",
    help=f"The file to write or check [default: {FILENAME} beside the inventory folder].",
)
@click.option(
    "--architects",
    default=ARCHITECTS,
    show_default=True,
    help="Team that owns the shared files.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 with a diff when the file is out of date.")
def codeowners_command(inventory_dir: Path, output: Path | None, architects: str, check: bool) -> None:
    """Generate CODEOWNERS from the inventory: partners' folders to their teams, the rest to the architects.

    Exit 0 when written or up to date, 1 when --check finds it out of date, 2 when the inventory is
    invalid or a partner folder holds objects the partner's team must not approve alone.
    """
    repo_root = inventory_dir.resolve().parent
    path = output if output is not None else repo_root / FILENAME
    shown = _display(path)
    try:
        result = generate(inventory_dir, repo_root, architects)
    except InventoryError as exc:
        for p in exc.problems:
            click.echo(str(p), err=True)
        click.echo(f"{len(exc.problems)} problem(s) in the inventory; {shown} not generated.", err=True)
        sys.exit(2)
    if result.problems:
        for p in result.problems:
            click.echo(str(p), err=True)
        click.echo(f"{len(result.problems)} ownership problem(s); {shown} not generated.", err=True)
        sys.exit(2)
    text = result.render()
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    partners = len(result.rules) - 1
    if current == text:
        click.echo(f"{shown}: up to date ({partners} partner teams, shared files: {architects})")
        return
    if check:
        diff = difflib.unified_diff(
            (current or "").splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"{shown} (committed)" if current is not None else f"{shown} (missing)",
            tofile=f"{shown} (from the inventory)",
        )
        sys.stderr.writelines(diff)
        click.echo(f"{shown} is out of date: run `zwvl codeowners` and commit the result.", err=True)
        sys.exit(1)
    write_atomic(path, text, mode=0o644)
    click.echo(f"{shown}: written ({partners} partner teams, shared files: {architects})")
