"""The secret scanner behind SEC-no-secrets: detect-secrets' plugins plus the repository's own names.

detect-secrets (Yelp) brings the detectors for well-known credential formats and its filters for
obvious non-secrets; the two small detectors below add what only this repository knows: the
``ZWVL_*_PASSWORD`` variables, ``*_password``/``*_token`` keys and NetBox v1/v2 tokens. Every line is
first matched against the union of all detectors' own regexes, so the plugins and filters only
run on the few lines that could hold a secret (detect-secrets' full ``scan`` takes ~30 s here).

The reviewed ``.secrets.baseline`` at the repository root (detect-secrets' format) lists the known
false positives by file, type and hashed value; a finding listed there is no failure.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from detect_secrets.core.scan import _is_filtered_out
from detect_secrets.plugins.base import BasePlugin
from detect_secrets.settings import transient_settings
from detect_secrets.util.code_snippet import get_code_snippet

from zwvl.policy.secret_detectors import NetBoxTokenDetector, ZwvlPasswordDetector

BASELINE = ".secrets.baseline"
# detect-secrets' detectors of fixed credential formats (precise: a prefix or a key shape), and its
# two entropy detectors at their default limits. Left out: KeywordDetector (ZwvlPasswordDetector
# replaces it with the names this repository uses, unquoted YAML included), IPPublicDetector (an
# infrastructure repository is full of public addresses), and the IBM/Cloudant/Softlayer detectors
# (keyword guesses for clouds the region does not use).
PLUGINS: list[dict[str, Any]] = [
    {"name": "AWSKeyDetector"},
    {"name": "ArtifactoryDetector"},
    {"name": "AzureStorageKeyDetector"},
    {"name": "BasicAuthDetector"},
    {"name": "DiscordBotTokenDetector"},
    {"name": "GitHubTokenDetector"},
    {"name": "GitLabTokenDetector"},
    {"name": "JwtTokenDetector"},
    {"name": "MailchimpDetector"},
    {"name": "NpmDetector"},
    {"name": "OpenAIDetector"},
    {"name": "PrivateKeyDetector"},
    {"name": "PypiTokenDetector"},
    {"name": "SendGridDetector"},
    {"name": "SlackDetector"},
    {"name": "SquareOAuthDetector"},
    {"name": "StripeDetector"},
    {"name": "TelegramBotTokenDetector"},
    {"name": "TwilioKeyDetector"},
    {"name": "Base64HighEntropyString", "limit": 4.5},
    {"name": "HexHighEntropyString", "limit": 3.0},
]
# detect-secrets drops 'x' or 'abc' as a "sequential string"; a ZWVL password may be that short
_DISABLED_FILTERS = ["detect_secrets.filters.heuristic.is_sequential_string"]
_SETTINGS = {"plugins_used": PLUGINS}


@dataclass(frozen=True, order=True)
class Hit:
    """One secret found: where, which detector, and its hash (the value itself is never kept)."""

    file: str
    line: int
    kind: str
    hashed: str
    length: int
    commit: str | None = None

    @property
    def masked(self) -> str:
        return f"<{self.length} characters, masked>"


def _plugins() -> list[BasePlugin]:
    from detect_secrets.settings import get_plugins

    return [NetBoxTokenDetector(), ZwvlPasswordDetector(), *get_plugins()]


def _prefilter(plugins: list[BasePlugin]) -> re.Pattern[str]:
    """One regex that matches every line any plugin could flag: the union of their own regexes, and
    the quoted strings long enough to pass an entropy limit (9 hex or 23 base64 characters)."""
    parts = [r"([\"'])(?:[0-9a-fA-F]{9,}|[A-Za-z0-9+/=_\\-]{23,})\1"]
    for p in plugins:
        for r in getattr(p, "triggers", None) or getattr(p, "denylist", None) or ():
            pattern = r.pattern.removeprefix("(?i)")
            flags = "i" if r.flags & re.IGNORECASE or pattern != r.pattern else ""
            flags += "x" if r.flags & re.VERBOSE else ""  # each part keeps its own flags
            parts.append(f"(?{flags}:{pattern})")
    return re.compile("|".join(parts), re.MULTILINE)


class Scanner:
    """detect-secrets' chosen plugins and filters, set up once for many texts."""

    def __init__(self) -> None:
        self._ctx = transient_settings(_SETTINGS)
        settings = self._ctx.__enter__()
        settings.disable_filters(*_DISABLED_FILTERS)
        self.plugins = _plugins()
        self.prefilter = _prefilter(self.plugins)

    def close(self) -> None:
        self._ctx.__exit__(None, None, None)

    def __enter__(self) -> Scanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def candidates(self, text: str) -> Iterator[int]:
        """The 0-based numbers of the lines of text the prefilter matches (one search of the text)."""
        pos = line = 0
        while (m := self.prefilter.search(text, pos)) is not None:
            line += text.count("\n", pos, m.start())
            yield line
            end = text.find("\n", m.start())
            if end < 0:
                return
            line += 1
            pos = end + 1

    def scan_text(self, rel: str, text: str) -> list[Hit]:
        lines = text.split("\n")
        return self.scan_lines(rel, lines, None, self.candidates(text))

    def scan_lines(
        self, rel: str, lines: list[str], numbers: list[int] | None = None, todo: Iterable[int] | None = None
    ) -> list[Hit]:
        """The secrets in lines of file rel (numbered 1.. or by numbers), one per line and value."""
        hits: dict[tuple[int, str], Hit] = {}
        for i in todo if todo is not None else self.candidates("\n".join(lines)):
            line = lines[i].rstrip()
            no = numbers[i] if numbers else i + 1
            found = [
                (p, s) for p in self.plugins for s in p.analyze_line(filename=rel, line=line, line_number=no)
            ]
            if not found:
                continue
            snippet = get_code_snippet(lines=lines, line_number=i + 1)
            if _is_filtered_out(["line"], filename=rel, line=line, context=snippet):
                continue
            for plugin, s in found:
                value = s.secret_value or ""
                args = {"filename": rel, "secret": value, "plugin": plugin, "line": line}
                if _is_filtered_out(["secret"], **args) or _is_filtered_out(
                    ["context"], context=snippet, **args
                ):
                    continue
                hits.setdefault((no, s.secret_hash), Hit(rel, no, s.type, s.secret_hash, len(value)))
        return sorted(hits.values())


def load_baseline(root: Path) -> set[tuple[str, str, str]]:
    """(file, type, hashed secret) of every reviewed false positive in .secrets.baseline."""
    path = root / BASELINE
    if not path.is_file():
        return set()
    data = json.loads(path.read_text(encoding="utf-8"))
    return {(f, r["type"], r["hashed_secret"]) for f, rs in data.get("results", {}).items() for r in rs}


_HUNK = re.compile(r"^@@ -\S+ \+(\d+)(?:,\d+)? @@")


def _added_lines(log: str) -> Iterator[tuple[str, str, list[str], list[int]]]:
    """(commit, file, added lines, their numbers) of each file of each commit in `git log -p` output."""
    commit = path = ""
    lines: list[str] = []
    numbers: list[int] = []
    no = 0
    for raw in log.split("\n"):
        if raw.startswith("\0"):
            if lines:
                yield commit, path, lines, numbers
            commit, path, lines, numbers = raw[1:].strip(), "", [], []
        elif raw.startswith("+++ "):
            if lines:
                yield commit, path, lines, numbers
            path, lines, numbers = (raw[6:] if raw.startswith("+++ b/") else ""), [], []
        elif raw.startswith("@@"):
            m = _HUNK.match(raw)
            no = int(m.group(1)) if m else 0
        elif raw.startswith("+") and path:
            lines.append(raw[1:])
            numbers.append(no)
            no += 1
        elif raw.startswith(" "):
            no += 1
    if lines:
        yield commit, path, lines, numbers


def scan_history(
    scanner: Scanner, root: Path, max_commits: int, current: dict[str, set[str]] | None = None
) -> tuple[list[Hit], int]:
    """Secrets in the lines the last max_commits commits (of every branch) added, with the commit
    that added each, and how many commits were read. A line the file still holds (current: the
    lines of each file of the tree) is skipped: the tree scan reports what it holds."""
    cmd = ["git", "-C", str(root), "log", "--all", "-p", "--no-color", "--no-ext-diff", "-U0", "--no-renames"]
    out = subprocess.run(
        [*cmd, f"-n{max_commits}", "--format=%x00%H"], capture_output=True, check=True, timeout=120
    ).stdout.decode("utf-8", errors="replace")
    hits = []
    for commit, path, lines, numbers in _added_lines(out):
        if path == BASELINE:  # its hashes are no secrets
            continue
        still = (current or {}).get(path, set())
        keep = [i for i, line in enumerate(lines) if line not in still]
        if not keep:
            continue
        found = scanner.scan_lines(path, [lines[i] for i in keep], [numbers[i] for i in keep])
        hits += [Hit(h.file, h.line, h.kind, h.hashed, h.length, commit) for h in found]
    return hits, out.count("\0")


def removed_secrets(history: Iterable[Hit], current: Iterable[Hit]) -> list[Hit]:
    """The history hits whose value is no longer in the same file: committed once, later removed;
    the oldest commit of each (file, type, value) only."""
    now = {(h.file, h.kind, h.hashed) for h in current}
    seen: dict[tuple[str, str, str], Hit] = {}
    for h in history:  # git log lists the newest first, so the last one seen is the oldest
        key = (h.file, h.kind, h.hashed)
        if key not in now:
            seen[key] = h
    return sorted(seen.values())
