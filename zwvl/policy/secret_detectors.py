"""The repository's own secret detectors, in detect-secrets' plugin form (``RegexBasedDetector``).

SEC-no-secrets runs them beside detect-secrets' plugins (zwvl.policy.secrets); detect-secrets' own
command line loads them as well: ``detect-secrets scan --plugin zwvl/policy/secret_detectors.py``.
This module imports nothing from zwvl, since detect-secrets imports it as a loose file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from detect_secrets.core.potential_secret import PotentialSecret
from detect_secrets.plugins.base import RegexBasedDetector

# extensions where an unquoted value is a name in the code, not a literal
_INI_SUFFIXES = {".ini", ".cfg", ".conf", ".env", ".properties", ".toml"}
_CODE_SUFFIXES = {".py", ".pyi", ".js", ".ts", ".go", ".tf", ".hcl", ".j2", ".jinja"}


def _is_reference(value: str) -> bool:
    """A value that points at a secret (Jinja, shell or environment look-up, vault) or is none."""
    v = value.strip()
    return (
        not v
        or v.startswith(("$", "{", "<", "!vault", "%(", "(", "`"))
        or any(s in v for s in ("{{", "lookup(", "os.environ", "getenv", "${"))
        or v.lower() in {"null", "none", "~", "true", "false", "required", "..."}
        or re.fullmatch(r"[A-Z][A-Z0-9]*_[A-Z0-9_]+", v) is not None  # the name of a variable
    )


def _bare_value(m: re.Match[str], line: str, suffix: str) -> bool:
    """Whether an unquoted value is a literal: a YAML key at the start of its line, holding the rest
    of it; a shell/env ``UPPER_CASE=value``; or any ``name=value`` of an ini-like file. In code an
    unquoted value is a name, in prose a ``password: the ...`` is a sentence."""
    if suffix in _CODE_SUFFIXES:
        return False
    if m["op"] == ":":
        rest = line[m.end() :].split(" #")[0].strip()
        return not rest and not line[: m.start()].strip(" \t-") and not line.lstrip().startswith("#")
    return m["name"].isupper() or suffix in _INI_SUFFIXES


class NetBoxTokenDetector(RegexBasedDetector):
    """NetBox API tokens: v2 ``nbt_<key>.<secret>``, and v1 (40 hex) after a token name or header."""

    secret_type = "NetBox token"
    triggers = (re.compile(r"nbt_|[0-9a-f]{40}"),)
    denylist = (
        re.compile(r"\b(nbt_[A-Za-z0-9]{8,}\.[A-Za-z0-9]{16,})"),
        re.compile(r"(?i)(?:token|authorization)[\"']?\s*[:=]\s*[\"']?(?:token\s+)?([0-9a-f]{40})\b"),
    )


class ZwvlPasswordDetector(RegexBasedDetector):
    """A literal value given to a password, secret or token name: ``ZWVL_RT_PASSWORD=...`` in shell or
    env files, ``db_password = "..."`` in Python or ini, ``password: ...`` in YAML, ``"password": "..."`` in
    JSON. Even a one-letter value counts; a reference (``{{ lookup(...) }}``, ``$VAR``, ``${VAR}``,
    ``os.environ[...]``, ``!vault``) or an empty value does not."""

    secret_type = "ZWVL password or token"
    triggers = (re.compile("passw|secret|token", re.IGNORECASE),)
    denylist = (
        re.compile(
            r"""(?i)(?<![\w$-])(?<!\$\{)(?P<q>["']?)(?P<name>[\w-]*(?:password|passwd|secret|token))(?P=q)"""
            r"""\s*(?P<op>:=|=|:)(?![=?-])\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'#,;]+))"""
        ),
    )

    def analyze_line(  # type: ignore[override]
        self, filename: str, line: str, line_number: int = 0, **kw: Any
    ) -> set[PotentialSecret]:
        out = set()
        suffix = Path(filename).suffix
        for m in self.denylist[0].finditer(line):
            value = m["dq"] if m["dq"] is not None else m["sq"] if m["sq"] is not None else m["bare"]
            if _is_reference(value) or (m["bare"] is not None and not _bare_value(m, line, suffix)):
                continue
            out.add(PotentialSecret(self.secret_type, filename, value, line_number))
        return out
