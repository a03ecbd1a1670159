"""What every `zwvl` command shares: the --inventory, --policies, --format, --json and output-file
options, loading the inventory, progress lines on standard error."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from click.decorators import FC

from zwvl.inventory import Inventory, InventoryError, load_inventory

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


def env_option(flag: str, envvar: str, help: str, **kwargs: Any) -> Callable[[FC], FC]:
    """An option that falls back to an environment variable, which its help names at the end."""
    return click.option(flag, envvar=envvar, help=f"{help} [env {envvar}].", **kwargs)


def range_option(
    flag: str, low: float, high: float, default: float, help: str, **kwargs: Any
) -> Callable[[FC], FC]:
    """A number from low to high (whole when the default is an int), its default shown in --help."""
    whole = isinstance(default, int)
    bounds = click.IntRange(int(low), int(high)) if whole else click.FloatRange(low, high)
    return click.option(flag, type=bounds, default=default, show_default=True, help=help, **kwargs)


def format_option(choices: Sequence[str], help: str) -> Callable[[FC], FC]:
    """--format (to `fmt`): one of `choices`, text by default."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default="text",
        show_default=True,
        help=help,
    )


def file_option(*param_decls: str, help: str, envvar: str | None = None) -> Callable[[FC], FC]:
    """An optional file the command writes (a Path, None when not given)."""
    return click.option(
        *param_decls,
        envvar=envvar,
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=help,
    )


def json_option(help: str) -> Callable[[FC], FC]:
    """--json (to `as_json`): print JSON instead of text."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def progress(message: str) -> None:
    """A progress line for the person at the terminal: on standard error, so output stays clean."""
    click.echo(message, err=True)


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


def output_options(default: str) -> Callable[[FC], FC]:
    """--output FILE (the checked-in file by default) and --check, for a generated file."""

    def add(f: FC) -> FC:
        f = click.option(
            "--check", is_flag=True, help="Exit 1 when the file differs from what would be generated."
        )(f)
        return click.option(
            "--output",
            type=click.Path(dir_okay=False, path_type=Path),
            default=Path(default),
            show_default=True,
        )(f)

    return add


def write_or_check(path: Path, text: str, check: bool) -> None:
    """Write a generated file, or with `check` exit 1 when the checked-in one differs."""
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            click.echo(f"{path}: out of date; run the command without --check", err=True)
            sys.exit(1)
        click.echo(f"{path}: up to date", err=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"{path}: written", err=True)
