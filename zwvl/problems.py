"""Problems that name where they are: the file:line:col of a field inside a loaded object, and a
did-you-mean for unknown names. Shared by the loader and the checks over the whole inventory."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from zwvl.model import Obj
from zwvl.yamlsrc import Problem, locate


class ProblemsError[P](Exception):
    """Every problem found, at once: `problems` lists them, `str()` counts them and says `where`."""

    where = "found"

    def __init__(self, problems: list[P]) -> None:
        super().__init__(f"{len(problems)} problem(s) {self.where}")
        self.problems = problems


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def position(obj: Obj, *path: Any) -> tuple[str, int, int]:
    """Position of a field inside an object (falls back to the object itself)."""
    line, col = locate(obj._raw, path, (obj.src.line, obj.src.col))
    return obj.src.file, line, col


def problem(obj: Obj, path: tuple[Any, ...], message: str) -> Problem:
    return Problem(*position(obj, *path), f"{obj.label}: {message}")
