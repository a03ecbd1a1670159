"""The cyber-safe baseline: no secrets in the repository, TLS and MFA on exposed services; waivers."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

from zwvl.model import Src
from zwvl.policy.engine import Context, Finding, rule

SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"),
    "NetBox token": re.compile(r"\bnbt_[A-Za-z0-9]{8,}\.[A-Za-z0-9]{16,}"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "password assignment": re.compile(
        r"""(?i:\b(?:password|passwd|secret|api_token|token)\b)\s*[:=]\s*["']([^"'\s{}$<>]{8,})["']"""
    ),
}
# literal words at least one of which every pattern needs: a cheap filter before the regexes
_TRIGGERS = (
    "private key", "nbt_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "akia", "passw", "secret", "token",
)
_SKIP_DIRS = {
    ".git",
    ".venv",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
}
_MAX_BYTES = 1_000_000


def repo_files(root: Path) -> list[Path]:
    """Files git tracks plus untracked, unignored ones; a plain walk outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout
        return sorted(root / p for p in out.decode().split("\0") if p)
    except (OSError, subprocess.SubprocessError):
        return sorted(p for p in root.rglob("*") if p.is_file() and not (_SKIP_DIRS & set(p.parts)))


@rule("SEC-no-secrets")
def no_secrets(ctx: Context) -> Iterator[Finding]:
    hits = []
    scanned = 0
    for path in repo_files(ctx.repo_root):
        if not path.is_file() or path.stat().st_size > _MAX_BYTES:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        scanned += 1
        low = text.lower()
        if not any(t in low for t in _TRIGGERS):
            continue
        rel = path.relative_to(ctx.repo_root).as_posix()
        for no, line in enumerate(text.splitlines(), 1):
            if "zwvl: allow-secret" in line:  # test fixtures that must contain a fake secret
                continue
            for kind, pat in SECRET_PATTERNS.items():
                m = pat.search(line)
                if m:
                    hits.append((rel, no, m.start() + 1, kind))
    for rel, no, col, kind in hits:
        yield ctx.finding(
            "SEC-no-secrets", f"file:{rel}", False, f"{kind} committed at line {no}", Src(rel, no, col)
        )
    if not hits:
        yield ctx.finding(
            "SEC-no-secrets", "repository", True, f"no secret found in {scanned} files", files_scanned=scanned
        )


@rule("SEC-exposed-tls-mfa")
def exposed_tls_mfa(ctx: Context) -> Iterator[Finding]:
    for svc in ctx.inv.services.values():
        if not svc.exposed:
            continue
        missing = [n for n, v in (("TLS", svc.tls), ("MFA", svc.mfa)) if v is not True]
        yield ctx.finding(
            "SEC-exposed-tls-mfa",
            svc,
            not missing,
            "exposed with TLS and MFA" if not missing else f"exposed without {' and '.join(missing)}",
        )


@rule("GOV-waiver-current")
def waiver_current(ctx: Context) -> Iterator[Finding]:
    for w in ctx.waivers:
        ok = w.expires >= ctx.today
        yield ctx.finding(
            "GOV-waiver-current",
            f"waiver:{w.rule}:{w.object}",
            ok,
            f"{'valid until' if ok else 'expired on'} {w.expires.isoformat()} (approved by {w.approver})",
            w.src,
            expires=w.expires.isoformat(),
        )
