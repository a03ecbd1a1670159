"""Problems that name where they are: the file:line:col of a field inside a loaded object, and a
did-you-mean for unknown names. Shared by the loader and the checks over the whole inventory."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from zwvl.model import Obj
from zwvl.yamlsrc import Problem, YList, YMap


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def position(obj: Obj, *path: Any) -> tuple[str, int, int]:
    """Position of a field inside an object (falls back to the object itself)."""
    line, col = obj.src.line, obj.src.col
    raw: Any = obj._raw
    for part in path:
        if (
            isinstance(raw, YMap)
            and part in raw
            or isinstance(raw, YList)
            and isinstance(part, int)
            and part < len(raw)
        ):
            line, col = raw.marks[part]
            raw = raw[part]
        else:
            break
    return obj.src.file, line, col


def problem(obj: Obj, path: tuple[Any, ...], message: str) -> Problem:
    return Problem(*position(obj, *path), f"{obj.label}: {message}")
