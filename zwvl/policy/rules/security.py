"""The cyber-safe baseline: no secrets in the repository, TLS and MFA on exposed services; waivers."""

from __future__ import annotations

import difflib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zwvl.model import Service
from zwvl.policy.findings import Context, Finding
from zwvl.policy.registry import rule
from zwvl.policy.secrets import BASELINE, PLUGINS, Hit, Scanner, load_baseline, removed_secrets, scan_history
from zwvl.yamlsrc import Src

HISTORY_COMMITS = 500  # the newest commits of every branch whose added lines are scanned as well
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


def _tree_hits(
    scanner: Scanner, root: Path, files: list[Path], tracked: set[Path] | None, lines: dict[str, set[str]]
) -> tuple[list[tuple[Hit, bool]], int]:
    """The hits in every file (and whether git tracks it), how many tracked files were read; lines
    gets the lines of each file, which the history scan need not read again."""
    hits: list[tuple[Hit, bool]] = []
    tracked_scanned = 0
    for path in files:
        if not path.is_file() or path.stat().st_size > _MAX_BYTES or path.name == BASELINE:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        is_tracked = tracked is not None and path in tracked
        tracked_scanned += is_tracked
        rel = path.relative_to(root).as_posix()
        lines[rel] = set(text.split("\n"))
        hits += [(h, is_tracked) for h in scanner.scan_text(rel, text)]
    return hits, tracked_scanned


def _history(scanner: Scanner, root: Path, lines: dict[str, set[str]]) -> list[Hit] | None:
    """The history's hits; None if git cannot read it (the tree scan still counts). Other branches
    move on their own, so how many commits were read is left out of the (reproducible) report."""
    try:
        return scan_history(scanner, root, HISTORY_COMMITS, lines)[0]
    except (OSError, subprocess.SubprocessError):
        return None


@rule("SEC-no-secrets")
def no_secrets(ctx: Context) -> Iterator[Finding]:
    files, tracked = repo_files(ctx.repo_root)
    allowed = load_baseline(ctx.repo_root)
    with Scanner() as scanner:
        lines: dict[str, set[str]] = {}
        found, tracked_scanned = _tree_hits(scanner, ctx.repo_root, files, tracked, lines)
        history = _history(scanner, ctx.repo_root, lines) if tracked is not None else None
    removed = [
        h
        for h in removed_secrets(history or [], [h for h, _ in found])
        if (h.file, h.kind, h.hashed) not in allowed
    ]
    hits = [(h, t) for h, t in found if (h.file, h.kind, h.hashed) not in allowed]
    for h, is_tracked in hits:
        yield ctx.finding(
            "SEC-no-secrets",
            f"file:{h.file}",
            False,
            f"{h.kind} committed at line {h.line}"
            if is_tracked
            else f"{h.kind} at line {h.line}"
            + (" (untracked, not committed yet)" if tracked is not None else ""),
            Src(h.file, h.line, 1),
            file=h.file,
            line=h.line,
            kind=h.kind,
            tracked=is_tracked,
            secret=h.masked,
        )
    for h in removed:
        yield ctx.finding(
            "SEC-no-secrets",
            f"history:{h.commit}:{h.file}",
            False,
            f"{h.kind} committed in {h.commit} at line {h.line} of {h.file}, removed since but still in the "
            "history (rotate it)",
            Src(h.file, h.line, 1),
            file=h.file,
            line=h.line,
            kind=h.kind,
            commit=h.commit,
            secret=h.masked,
        )
    if not hits and not removed:
        if tracked is None:
            msg, scope = "no secret found in any file (not a git checkout)", "every file of the folder"
        else:
            where = "untracked ones or the history" if history is not None else "nor in untracked ones"
            msg = f"no secret found in {tracked_scanned} tracked files, {where}"
            msg += "" if history is not None else " (the history was not readable)"
            scope = (
                "files git tracks, and untracked ones it does not ignore (scanned, not counted); the lines "
                f"added by the newest {HISTORY_COMMITS} commits of every branch"
            )
        yield ctx.finding(
            "SEC-no-secrets",
            "repository",
            True,
            msg,
            scope=scope,
            tracked_files_scanned=tracked_scanned if tracked is not None else None,
            history_scanned=history is not None,
            baseline_entries=len(allowed),
            detectors=sorted(p["name"] for p in PLUGINS) + ["NetBoxTokenDetector", "ZwvlPasswordDetector"],
        )


def _observed_note(svc: Service, seen: dict[str, Any]) -> str:
    """What the url served, in one line for the finding's message."""
    if seen["problems"]:
        return f"TLS declared but not served at {svc.url}: " + "; ".join(seen["problems"])
    return (
        f"TLS observed at {svc.url}: {seen['protocol']}, certificate {seen['subject']} from {seen['issuer']} "
        f"valid until {seen['not_after']}; http:// answers {seen['http_status']} to {seen['http_location']}"
    )


@rule("SEC-exposed-tls-mfa")
def exposed_tls_mfa(ctx: Context) -> Iterator[Finding]:
    """Exposed services declare TLS and MFA. What is served is SEC-tls-served's (a waiver of a missing
    MFA here can never excuse TLS that is declared but not served)."""
    for svc in ctx.inv.services.values():
        if not svc.exposed:
            continue
        missing = [n for n, v in (("TLS", svc.tls), ("MFA", svc.mfa)) if v is not True]
        message = f"exposed without {' and '.join(missing)}" if missing else "exposed with TLS and MFA"
        yield ctx.finding(
            "SEC-exposed-tls-mfa", svc, not missing, message, exposed=svc.exposed, tls=svc.tls, mfa=svc.mfa
        )


@rule("SEC-tls-served")
def tls_served(ctx: Context) -> Iterator[Finding]:
    """Every service that declares TLS serves it: with live evidence (`--live`) its url must answer with
    a verified certificate for its name, TLS 1.2 or newer, and plain HTTP redirecting to https. Without
    evidence the finding passes and says TLS was not observed."""
    observed = ctx.tls_observed
    for svc in ctx.inv.services.values():
        if svc.tls is not True:
            continue
        seen = observed.get(svc.slug) if observed is not None else None
        evidence: dict[str, Any] = {"exposed": svc.exposed, "tls": svc.tls, "mfa": svc.mfa, "url": svc.url}
        evidence["observed"] = seen if seen is not None else "none"
        if seen is not None:
            yield ctx.finding("SEC-tls-served", svc, seen["served"], _observed_note(svc, seen), **evidence)
        else:
            why = "no url to probe" if not svc.url else "run zwvl check --live to probe it"
            yield ctx.finding("SEC-tls-served", svc, True, f"TLS declared, not observed ({why})", **evidence)


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
