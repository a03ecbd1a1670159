"""YAML loading that keeps line numbers, built on PyYAML's C parser.

The composer (C) gives nodes with marks; we construct plain dicts and lists ourselves so that
every mapping and sequence remembers where it and each of its entries came from, duplicate keys
are errors instead of silently overwritten, and the cost stays close to a plain `yaml.load`.

Hostile files are refused as problems, within bounded time and memory: a file larger than
MAX_FILE_BYTES is not read, a document that builds more than MAX_NODES nodes (aliases count once
per use, so a "billion laughs" file stops there) or nests deeper than MAX_DEPTH levels is refused
at the node that crosses the limit, and a RecursionError is a problem of the file, never a traceback.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml is part of the PyYAML wheels
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Mark = tuple[int, int]  # 1-based line and column

MAX_FILE_BYTES = 1024 * 1024
"""Largest file read: 120 times the largest file of the region (8.5 kB; at 100x the files stay that
size, the region grows by files). It bounds what the C composer builds before we see a node: at
worst (a flow list of one-letter items) about 150 MB and a few seconds."""
MAX_NODES = 250_000
"""Most nodes one document may build, counting an anchor's nodes again at every alias to it. The
inventory's style takes about 12 bytes a node, so a file of MAX_FILE_BYTES holds ~90,000; past the
limit the builder stops, so a "billion laughs" file costs about 60 MB and a second."""
MAX_DEPTH = 100
"""Deepest nesting of mappings and sequences (the inventory uses five levels); far below Python's
recursion limit, so a deep document is refused before the stack runs out."""


@dataclass(frozen=True, slots=True)
class Src:
    """Where an object was defined, or a problem found: inventory-relative file and 1-based line/column."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Problem(Src):
    """One validation problem: where it is and what, printed as `path:line:col: message`."""

    message: str

    @property
    def path(self) -> str:
        return self.file

    def __str__(self) -> str:
        return f"{Src.__str__(self)}: {self.message}"


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


def _brief(value: str) -> str:
    """A scalar as messages quote it: short, whatever the file holds."""
    return repr(value) if len(value) <= 80 else f"{value[:60]!r}... ({len(value):,} characters)"


class _Builder:
    def __init__(self, loader: Any, path: str) -> None:
        self.loader = loader
        self.path = path
        # counted per mapping or sequence (its children), not per scalar: a bound at a small cost
        self.nodes_left = MAX_NODES
        self.depth = 0
        self.node: yaml.Node | None = None  # the innermost mapping or sequence entered

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
                raise self.fail(node, f"cannot read value {_brief(node.value)}: not a boolean")
            try:
                return self.loader.construct_object(node, deep=True)
            except yaml.MarkedYAMLError as exc:
                raise self.fail(node, f"cannot read value {_brief(node.value)}: {exc.problem}") from None
            except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
                # an explicit tag whose value does not fit it (!!int abc, !!timestamp 2020-13-45)
                shown = tag.replace("tag:yaml.org,2002:", "!!")
                raise self.fail(node, f"cannot read value {_brief(node.value)} as {shown}: {exc}") from None
        if isinstance(node, yaml.SequenceNode):
            self.enter(node, len(node.value))
            seq = YList(_mark(node))
            for item in node.value:
                seq.append(self.build(item))
                seq.marks.append(_mark(item))
            self.depth -= 1
            return seq
        if isinstance(node, yaml.MappingNode):
            self.enter(node, 2 * len(node.value))  # a key and a value per entry
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
            self.depth -= 1
            return mapping
        raise self.fail(node, f"unsupported YAML node {node!r}")  # pragma: no cover

    def enter(self, node: yaml.Node, children: int) -> None:
        """Count a mapping's or sequence's child nodes and its depth before building them."""
        self.node = node
        self.depth += 1
        self.nodes_left -= children
        if self.nodes_left < 0:
            raise self.fail(
                node,
                f"the document builds more than {MAX_NODES:,} nodes here (an alias counts its "
                "anchor's nodes each time it is used): refused",
            )
        if self.depth > MAX_DEPTH:
            raise self.fail(node, f"nested more than {MAX_DEPTH} levels deep: refused")


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
        except RecursionError:
            raise YamlError(Problem(path, 1, 1, "YAML nested too deeply to parse")) from None
        if node is None:
            raise YamlError(Problem(path, 1, 1, "file is empty, expected a YAML mapping"))
        builder = _Builder(loader, path)
        try:
            return builder.build(node)
        except RecursionError:
            # MAX_DEPTH keeps the builder far from Python's limit; this is for a caller that is
            # itself deep in the stack. The problem points at the innermost mapping or sequence.
            raise builder.fail(builder.node or node, "nested too deeply to build: refused") from None
    finally:
        loader.dispose()


def _read(path: Path, name: str) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES; anything else is a problem."""
    try:
        # O_NONBLOCK: a FIFO named *.yaml must not hang the loader (it is refused below)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise YamlError(Problem(name, 1, 1, f"cannot read the file: {exc.strerror}")) from None
    with open(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise YamlError(Problem(name, 1, 1, "not a regular file, expected YAML"))
        if st.st_size > MAX_FILE_BYTES:
            raise YamlError(Problem(name, 1, 1, _too_big(st.st_size)))
        try:
            raw = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise YamlError(Problem(name, 1, 1, f"cannot read the file: {exc.strerror}")) from None
    if len(raw) > MAX_FILE_BYTES:  # grew while being read
        raise YamlError(Problem(name, 1, 1, _too_big(len(raw))))
    return raw


def _too_big(size: int) -> str:
    return (
        f"file is {size:,} bytes, over the limit of {MAX_FILE_BYTES:,} bytes "
        f"({MAX_FILE_BYTES // 2**20} MiB) for one inventory file: split it"
    )


def load_file(path: Path, display: str | None = None) -> Any:
    name = display or str(path)
    raw = _read(path, name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(
            Problem(name, 1, 1, f"file is not UTF-8 text (byte {exc.start}), expected YAML")
        ) from None
    return load_text(text, name)


def schema_problems(
    exc: ValidationError, doc: Any, display: str, at: tuple[Any, ...] = (), what: str = ""
) -> list[Problem]:
    """A schema's errors as problems at their lines: `at` is the validated item's path in `doc`,
    `what` (when given) starts each message."""
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        message = f"{'.'.join(map(str, loc))}: {err['msg']}"
        out.append(Problem(display, *locate(doc, (*at, *loc)), f"{what}: {message}" if what else message))
    return out


def locate(doc: Any, loc: tuple[Any, ...], start: Mark | None = None) -> Mark:
    """The best known position for a path of keys/indices inside a loaded document (where not even
    the first step is found: `start`, else the document's own mark)."""
    best: Mark = getattr(doc, "mark", (1, 1)) if start is None else start
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
