"""Where the repository (the checkout holding inventory/, ansible/, scripts/ ...) is.

Never derived from where the package is installed: ``$ZWVL_REPO`` when set, else the first folder
holding ``inventory/`` and ``pyproject.toml`` at or above the current directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

ENV_REPO = "ZWVL_REPO"


class RepoNotFoundError(click.ClickException):
    """No repository root: not set in $ZWVL_REPO and none at or above the current directory.

    A ClickException, so a command that needs the repository stops with this message (exit 1)."""


def is_repo_root(path: Path) -> bool:
    return (path / "inventory").is_dir() and (path / "pyproject.toml").is_file()


def repo_root(start: Path | None = None) -> Path:
    """The repository root: ``$ZWVL_REPO``, else walk up from ``start`` (default: the current directory)."""
    given = os.environ.get(ENV_REPO, "").strip()
    if given:
        root = Path(given).expanduser().resolve()
        if not is_repo_root(root):
            raise RepoNotFoundError(
                f"${ENV_REPO}={given} is not a zwvl repository (no inventory/ and pyproject.toml)"
            )
        return root
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if is_repo_root(folder):
            return folder
    raise RepoNotFoundError(
        f"no zwvl repository (a folder with inventory/ and pyproject.toml) at or above {here}; "
        f"run from inside the checkout or set {ENV_REPO}"
    )
