"""What every part of the lab shares: its error and the progress callback."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]


class LabError(RuntimeError):
    """The lab could not be built, changed or torn down."""


def _noop(_: str) -> None:
    return None
