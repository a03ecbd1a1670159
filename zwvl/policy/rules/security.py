"""The cyber-safe baseline: no secrets in the repository, TLS and MFA on exposed services; waivers."""

from __future__ import annotations

import difflib
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

from zwvl.policy.findings import Context, Finding
from zwvl.policy.registry import rule
from zwvl.yamlsrc import Src

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
    "private key",
    "nbt_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "akia",
    "passw",
    "secret",
    "token",
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


def _git_ls(root: Path, *args: str) -> list[Path]:
    out = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", *args], capture_output=True, check=True, timeout=30
    ).stdout
    return [root / p for p in out.decode().split("\0") if p]


def repo_files(root: Path) -> tuple[list[Path], set[Path] | None]:
    """Every file to scan, sorted, and which of them git tracks (None outside a git checkout).

    Untracked, unignored files are scanned too (a secret must not wait for `git add`), but only
    tracked ones are counted: a report written into the working copy must not change the next one.
    """
    try:
        tracked = set(_git_ls(root, "--cached"))
        untracked = _git_ls(root, "--others", "--exclude-standard")
        return sorted(tracked.union(untracked)), tracked
    except (OSError, subprocess.SubprocessError):
        files = [p for p in root.rglob("*") if p.is_file() and not (_SKIP_DIRS & set(p.parts))]
        return sorted(files), None


@rule("SEC-no-secrets")
def no_secrets(ctx: Context) -> Iterator[Finding]:
    hits = []
    tracked_scanned = 0
    files, tracked = repo_files(ctx.repo_root)
    for path in files:
        if not path.is_file() or path.stat().st_size > _MAX_BYTES:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        is_tracked = tracked is not None and path in tracked
        tracked_scanned += is_tracked
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
                    hits.append((rel, no, m.start() + 1, kind, is_tracked))
    for rel, no, col, kind, is_tracked in hits:
        yield ctx.finding(
            "SEC-no-secrets",
            f"file:{rel}",
            False,
            f"{kind} committed at line {no}"
            if is_tracked
            else f"{kind} at line {no}" + (" (untracked, not committed yet)" if tracked is not None else ""),
            Src(rel, no, col),
            kind=kind,
            line=no,
            tracked=is_tracked,
        )
    if not hits:
        if tracked is None:
            msg, scope = "no secret found in any file (not a git checkout)", "every file of the folder"
        else:
            msg = f"no secret found in {tracked_scanned} tracked files, nor in untracked ones"
            scope = "files git tracks, and untracked ones it does not ignore (scanned, not counted)"
        yield ctx.finding(
            "SEC-no-secrets",
            "repository",
            True,
            msg,
            scope=scope,
            tracked_files_scanned=tracked_scanned if tracked is not None else None,
            patterns=sorted(SECRET_PATTERNS),
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
            exposed=svc.exposed,
            tls=svc.tls,
            mfa=svc.mfa,
        )


@rule("GOV-waiver-current", after_others=True)
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
            today=ctx.today.isoformat(),
            approver=w.approver,
        )


@rule("GOV-waiver-applies", after_others=True)
def waiver_applies(ctx: Context) -> Iterator[Finding]:
    """A waiver must name an object its rule evaluates; else it is stale (or has a typo)."""
    by_rule: dict[str, list[str]] = {}
    for rule_id, obj in ctx.evaluated:
        by_rule.setdefault(rule_id, []).append(obj)
    for w in ctx.waivers:
        status = ctx.evaluated.get((w.rule, w.object))
        evidence: dict[str, object] = {"rule": w.rule, "object": w.object, "evaluated": status is not None}
        if status is not None:
            evidence["finding_status"] = status
            now = "fails, so the waiver applies" if status == "fail" else "passes today"
            msg = f"{w.rule} evaluates {w.object} ({now})"
        else:
            close = difflib.get_close_matches(w.object, by_rule.get(w.rule, []), n=1, cutoff=0.6)
            evidence["did_you_mean"] = close[0] if close else None
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            msg = (
                f"stale waiver: {w.rule} evaluates no object {w.object!r}{hint}; "
                "the object does not exist or the rule does not apply to it"
            )
        yield ctx.finding(
            "GOV-waiver-applies", f"waiver:{w.rule}:{w.object}", status is not None, msg, w.src, **evidence
        )
