"""Run the task guides in docs/ against a throw-away copy of the repository, so they cannot rot.

A guide is Markdown. Every fenced block is exercised, in order, in one copy of the repository
(a git checkout of its own). An HTML comment on the line before a block (invisible when rendered)
says how; without one, a shell block runs and must exit 0:

    <!-- test: exit 1 -->         the shell block below must exit 1 (0 when not said)
    <!-- test: netbox exit 2 -->  needs a NetBox: run only by the NetBox guide test
    <!-- test: output -->         the block below is the output of the previous shell block
                                  (doctest rules: `...` matches anything, whitespace is normalised)
    <!-- test: merge PATH -->     the YAML block below is added to PATH: lists are extended,
                                  mappings merged, other values replaced (what the reader does by hand)
    <!-- test: write PATH -->     the block below becomes the file PATH
    <!-- test: skip REASON -->    not run, for a reason written down (a push to the remote)

A YAML or text block without a directive is an error: every snippet a reader copies is checked.
"""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
SHELL_LANGS = {"sh", "bash", "shell"}
DIRECTIVE = re.compile(r"^<!--\s*test:\s*(?P<body>.*?)\s*-->$")
FENCE = re.compile(r"^(?P<fence>```+)(?P<info>[^`]*)$")
# What the guides' checkout holds: the region, its policies and what the guides read. The code is
# the installed `zwvl`; leaving the rest out keeps the guides independent of unrelated work in
# progress (SEC-no-secrets, for one, scans every file of the checkout).
CHECKOUT = ("inventory/", "policies/", "docs/", "monitoring/", "CODEOWNERS", "README.md", ".gitignore")


class GuideError(AssertionError):
    """A guide is malformed or one of its steps did not do what the guide says."""


@dataclass(frozen=True)
class Directive:
    netbox: bool = False
    exit: int = 0
    output: bool = False
    merge: str | None = None
    write: str | None = None
    skip: str | None = None

    @classmethod
    def parse(cls, body: str, where: str) -> Directive:
        words = body.split()
        kw: dict[str, Any] = {}
        i = 0
        while i < len(words):
            w = words[i]
            if w == "netbox":
                kw["netbox"] = True
            elif w == "output":
                kw["output"] = True
            elif w in ("exit", "merge", "write") and i + 1 < len(words):
                i += 1
                kw[w] = int(words[i]) if w == "exit" else words[i]
            elif w == "skip":
                kw["skip"] = " ".join(words[i + 1 :])
                if not kw["skip"]:
                    raise GuideError(f"{where}: `skip` needs a reason")
                break
            else:
                raise GuideError(f"{where}: unknown test directive {body!r}")
            i += 1
        return cls(**kw)


@dataclass(frozen=True)
class Block:
    guide: str
    line: int
    lang: str
    text: str
    directive: Directive

    @property
    def where(self) -> str:
        return f"{self.guide}:{self.line}"

    @property
    def kind(self) -> str:
        d = self.directive
        if d.skip is not None:
            return "skip"
        if d.merge:
            return "merge"
        if d.write:
            return "write"
        if d.output:
            return "output"
        if self.lang in SHELL_LANGS:
            return "run"
        raise GuideError(
            f"{self.where}: a ```{self.lang or '(no language)'} block needs a test directive "
            "(merge, write, output or skip with a reason)"
        )


def parse(path: Path) -> list[Block]:
    rel = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else str(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start = i
        fence, lang = m.group("fence"), m.group("info").strip().split(" ")[0]
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != fence:
            j += 1
        if j == len(lines):
            raise GuideError(f"{rel}:{start + 1}: unclosed code block")
        k = start - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        directive = Directive()
        if k >= 0 and (d := DIRECTIVE.match(lines[k].strip())):
            directive = Directive.parse(d.group("body"), f"{rel}:{k + 1}")
        text = "\n".join(lines[start + 1 : j]) + "\n"
        block = Block(rel, start + 1, lang, text, directive)
        block.kind  # noqa: B018 - validates the directive for this kind of block
        blocks.append(block)
        i = j + 1
    return blocks


NOT_GUIDES = {"README.md", "architecture.md"}  # the index and the architecture notes: no steps to run


def guides() -> list[Path]:
    return sorted(p for p in DOCS.glob("*.md") if p.name not in NOT_GUIDES)


def deep_merge(into: Any, extra: Any) -> Any:
    if isinstance(into, dict) and isinstance(extra, dict):
        for k, v in extra.items():
            into[k] = deep_merge(into[k], v) if k in into else v
        return into
    if isinstance(into, list) and isinstance(extra, list):
        return into + extra
    return extra


def repo_files() -> Iterator[str]:
    """The CHECKOUT part of a fresh clone: tracked files plus new, unignored ones."""
    out = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    for p in out.split("\0"):
        if p and p.startswith(CHECKOUT) and (REPO / p).is_file():
            yield p


def checkout(dest: Path) -> Path:
    """A copy of the repository as a git repository of its own, on a clean `main`."""
    for rel in repo_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, target)
    env = git_env()
    for cmd in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "commit", "-q", "-m", "The region as of this test"],
    ):
        subprocess.run(cmd, cwd=dest, env=env, check=True, capture_output=True, timeout=120)
    return dest


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETBOX_", "GIT_", "ZWVL_"))}
    env.update(
        GIT_AUTHOR_NAME="Regional specialist",
        GIT_AUTHOR_EMAIL="specialist@zwvl.example",
        GIT_COMMITTER_NAME="Regional specialist",
        GIT_COMMITTER_EMAIL="specialist@zwvl.example",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


@dataclass
class GuideRun:
    """Runs one guide's blocks in a checkout; `netbox` is (url, token) for the NetBox blocks."""

    root: Path
    netbox: tuple[str, str] | None = None
    log: list[str] = field(default_factory=list)
    ran: int = 0
    pending_netbox: int = 0

    def env(self) -> dict[str, str]:
        env = git_env()
        bindir = str(Path(sys.executable).parent)
        env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
        env["NO_COLOR"] = "1"
        env["COLUMNS"] = "200"
        # the docs' `zwvl check` evaluates waivers on the real date, as a reader would
        if self.netbox is not None:
            env["NETBOX_URL"], env["NETBOX_TOKEN"] = self.netbox
        return env

    def shell(self, block: Block) -> str:
        proc = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + block.text],
            cwd=self.root,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
        )
        self.ran += 1
        self.log.append(f"$ {block.where}\n{block.text}{proc.stdout}")
        if proc.returncode != block.directive.exit:
            raise GuideError(
                f"{block.where}: exited {proc.returncode}, the guide says {block.directive.exit}\n"
                f"{block.text}---\n{proc.stdout}"
            )
        return proc.stdout

    def run(self, blocks: list[Block]) -> None:
        last: str | None = None
        last_block: Block | None = None
        for block in blocks:
            kind = block.kind
            if kind == "skip":
                continue
            if kind == "merge":
                assert block.directive.merge is not None
                path = self.root / block.directive.merge
                if not path.is_file():
                    raise GuideError(f"{block.where}: {block.directive.merge} does not exist")
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
                data = deep_merge(data, yaml.safe_load(block.text))
                path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
            elif kind == "write":
                assert block.directive.write is not None
                path = self.root / block.directive.write
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(block.text, encoding="utf-8")
            elif kind == "run":
                if block.directive.netbox and self.netbox is None:
                    self.pending_netbox += 1
                    last, last_block = None, block
                    continue
                last, last_block = self.shell(block), block
            elif kind == "output":
                if last_block is None:
                    raise GuideError(f"{block.where}: an output block must follow a shell block")
                if last is None:  # its command needs NetBox and none was given
                    continue
                checker = doctest.OutputChecker()
                flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
                if not checker.check_output(block.text, last, flags):
                    raise GuideError(
                        f"{block.where}: the output of {last_block.where} does not match the guide\n"
                        f"--- the guide shows\n{block.text}--- the command printed\n{last}"
                    )
