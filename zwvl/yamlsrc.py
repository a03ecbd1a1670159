"""YAML loading that keeps line numbers, built on PyYAML's C parser.

The composer (C) gives nodes with marks; we construct plain dicts and lists ourselves so that
every mapping and sequence remembers where it and each of its entries came from, duplicate keys
are errors instead of silently overwritten, and the cost stays close to a plain `yaml.load`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml is part of the PyYAML wheels
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Mark = tuple[int, int]  # 1-based line and column


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation problem, printed as `path:line:col: message`."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"


class YamlError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class YMap(dict[str, Any]):
    """A mapping that remembers its own position and the position of each key."""

    __slots__ = ("mark", "marks")

    def __init__(self, mark: Mark) -> None:
        super().__init__()
        self.mark = mark
        self.marks: dict[Any, Mark] = {}


class YList(list[Any]):
    __slots__ = ("mark", "marks")

    def __init__(self, mark: Mark) -> None:
        super().__init__()
        self.mark = mark
        self.marks: list[Mark] = []


_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_MERGE = "tag:yaml.org,2002:merge"


def _mark(node: yaml.Node) -> Mark:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, loader: Any, path: str) -> None:
        self.loader = loader
        self.path = path

    def fail(self, node: yaml.Node, message: str) -> YamlError:
        line, col = _mark(node)
        return YamlError(Problem(self.path, line, col, message))

    def build(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            tag = node.tag
            if tag == _STR:
                return node.value
            if tag == _INT:
                try:
                    return int(node.value.replace("_", ""), 0)
                except ValueError:
                    pass
            elif tag == _NULL:
                return None
            elif tag == _BOOL:
                word = node.value.lower()
                if word in ("true", "yes", "on", "false", "no", "off"):
                    return word in ("true", "yes", "on")
                raise self.fail(node, f"cannot read value {node.value!r}: not a boolean")
            try:
                return self.loader.construct_object(node, deep=True)
            except yaml.MarkedYAMLError as exc:
                raise self.fail(node, f"cannot read value {node.value!r}: {exc.problem}") from None
            except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
                # an explicit tag whose value does not fit it (!!int abc, !!timestamp 2020-13-45)
                shown = tag.replace("tag:yaml.org,2002:", "!!")
                raise self.fail(node, f"cannot read value {node.value!r} as {shown}: {exc}") from None
        if isinstance(node, yaml.SequenceNode):
            seq = YList(_mark(node))
            for item in node.value:
                seq.append(self.build(item))
                seq.marks.append(_mark(item))
            return seq
        if isinstance(node, yaml.MappingNode):
            mapping = YMap(_mark(node))
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    raise self.fail(key_node, "merge keys (<<) are not supported in the inventory")
                key = self.build(key_node)
                if isinstance(key, (dict, list)):
                    raise self.fail(key_node, "a mapping key must be a plain value")
                if key in mapping:
                    first = mapping.marks[key]
                    raise self.fail(key_node, f"duplicate key {key!r} (first defined at line {first[0]})")
                mapping[key] = self.build(value_node)
                mapping.marks[key] = _mark(key_node)
            return mapping
        raise self.fail(node, f"unsupported YAML node {node!r}")  # pragma: no cover


def load_text(text: str, path: str) -> Any:
    """Parse one YAML document; every failure becomes a YamlError with a position."""
    if "\x00" in text:
        raise YamlError(Problem(path, 1, 1, "file is binary (contains NUL bytes), expected YAML"))
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            what = exc.problem or exc.context or "syntax error"
            raise YamlError(Problem(path, line, col, f"YAML syntax error: {what}")) from None
        except yaml.YAMLError as exc:
            raise YamlError(Problem(path, 1, 1, f"YAML error: {exc}")) from None
        if node is None:
            raise YamlError(Problem(path, 1, 1, "file is empty, expected a YAML mapping"))
        return _Builder(loader, path).build(node)
    finally:
        loader.dispose()


def load_file(path: Path, display: str | None = None) -> Any:
    name = display or str(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(
            Problem(name, 1, 1, f"file is not UTF-8 text (byte {exc.start}), expected YAML")
        ) from None
    return load_text(text, name)


def locate(doc: Any, loc: tuple[Any, ...]) -> Mark:
    """The best known position for a path of keys/indices inside a loaded document."""
    best: Mark = getattr(doc, "mark", (1, 1))
    node = doc
    for part in loc:
        if (
            isinstance(node, YMap)
            and part in node
            or isinstance(node, YList)
            and isinstance(part, int)
            and 0 <= part < len(node)
        ):
            best = node.marks[part]
            node = node[part]
        else:
            break
    return best
