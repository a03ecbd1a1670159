"""The terminal view of `zwvl check`: rich colours, the very words of `--format text`."""

from __future__ import annotations

import subprocess
import sys

from rich.console import Console

from tests.conftest import REPO
from zwvl.reports.terminal import show


def _text_report() -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "zwvl", "check", "--format", "text", "--today", "2026-11-28"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _console() -> Console:
    return Console(
        record=True, force_terminal=True, color_system="standard", width=300, soft_wrap=True, highlight=False
    )


def test_terminal_view_has_the_same_words_in_colour() -> None:
    report = _text_report()
    console = _console()
    show(report, console)
    assert console.export_text(styles=False, clear=False) == report
    coloured = console.export_text(styles=True)
    assert "\x1b[32mok  \x1b[0m" in coloured  # a passing principle
    assert "\x1b[36mwvd \x1b[0m" in coloured  # a waived one
    assert "\x1b[36mWAIVED\x1b[0m" in coloured  # the waived finding


def test_failures_stand_out_and_brackets_in_messages_are_not_markup() -> None:
    console = _console()
    show("FAIL I1   x\n  a.yaml:1:1: MANDATORY I1-x obj: [bold]not markup[/bold]\n", console)
    out = console.export_text(styles=True)
    assert "\x1b[1;31mFAIL\x1b[0m" in out and "\x1b[1;31mMANDATORY\x1b[0m" in out
    assert "[bold]not markup[/bold]" in out
