"""`zwvl check` in a terminal: the text report, coloured with rich (same words as `--format text`)."""

from __future__ import annotations

import re

from rich.console import Console
from rich.text import Text

# the status column of a principle line, the severity tag of a finding, the verdict line
_STYLES = (
    (re.compile(r"^ok  "), "green"),
    (re.compile(r"^FAIL"), "bold red"),
    (re.compile(r"^warn"), "yellow"),
    (re.compile(r"^wvd "), "cyan"),
    (re.compile(r"^man "), "dim"),
    (re.compile(r"(?<=: )MANDATORY\b|(?<=^  )MANDATORY\b"), "bold red"),
    (re.compile(r"(?<=: )ADVISORY\b|(?<=^  )ADVISORY\b"), "yellow"),
    (re.compile(r"(?<=: )WAIVED\b|(?<=^  )WAIVED\b"), "cyan"),
    (re.compile(r"^PASS:"), "bold green"),
    (re.compile(r"^FAIL:"), "bold red"),
)


def styled(report: str) -> Text:
    text = Text(report)
    start = 0
    for line in report.splitlines(keepends=True):
        for pattern, style in _STYLES:
            for m in pattern.finditer(line):
                text.stylize(style, start + m.start(), start + m.end())
        start += len(line)
    return text


def show(report: str, console: Console | None = None) -> None:
    """Print a text report; rich drops the colours by itself when the output is not a terminal."""
    (console or Console(soft_wrap=True, highlight=False)).print(styled(report), end="")
