"""Progress lines from long fixtures (a NetBox template build, `zwvl apply`, a lab): written to
standard error past pytest's output capture, so a slow session says what it is doing."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable

import pytest


def stderr_progress(config: pytest.Config, tag: str) -> Callable[[str], None]:
    capman = config.pluginmanager.getplugin("capturemanager")

    def progress(message: str) -> None:
        ctx = capman.global_and_fixture_disabled() if capman is not None else contextlib.nullcontext()
        with ctx:
            sys.stderr.write(f"[{tag}] {message}\n")
            sys.stderr.flush()

    return progress
