"""D1 (one source of truth), B6 (business ownership), A3 (shared platform), I5 (OSLO)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from zwvl.model import Dataset, Service
from zwvl.policy.findings import Context, Finding
from zwvl.policy.registry import rule
from zwvl.yamlsrc import Src

_CODE_DIRS = ("ansible", "pulumi")
_CODE_SUFFIXES = {".py", ".yml", ".yaml", ".j2", ".cfg", ".ini", ".toml", ".json", ".sh"}
_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:/\d{1,2})?(?![\w.])"
)
_FQDN = re.compile(
    r"(?<![\w.-])(?:[a-z0-9-]+\.)+(?:be|eu|com|net|org|local|internal|lan|example)(?![\w-])", re.I
)
# addresses that are not hosts: wildcard/loopback binds, masks
_ALLOWED_IPS = {"0.0.0.0", "127.0.0.1", "127.0.0.1/32", "255.255.255.255", "0.0.0.0/0", "::1"}
_ALLOWED_HOSTS = {
    "localhost",
    "example.com",
    "github.com",
    "docs.ansible.com",
    "galaxy.ansible.com",
    "pulumi.com",
}


def _code_files(root: Path) -> Iterator[Path]:
    for d in _CODE_DIRS:
        base = root / d
        if base.is_dir():
            for p in sorted(base.rglob("*")):
                if p.is_file() and p.suffix in _CODE_SUFFIXES and "__pycache__" not in p.parts:
                    yield p


@rule("D1-no-hardcoded-addresses")
def no_hardcoded_addresses(ctx: Context) -> Iterator[Finding]:
    scanned = 0
    for path in _code_files(ctx.repo_root):
        rel = path.relative_to(ctx.repo_root).as_posix()
        scanned += 1
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (UnicodeDecodeError, OSError):
            continue
        hits = []
        for no, line in enumerate(lines, 1):
            if line.lstrip().startswith("#") or "zwvl: allow-address" in line:
                continue
            for m in _IPV4.finditer(line):
                if m.group(0) not in _ALLOWED_IPS:
                    hits.append((no, m.start() + 1, m.group(0)))
            for m in _FQDN.finditer(line):
                if m.group(0).lower() not in _ALLOWED_HOSTS:
                    hits.append((no, m.start() + 1, m.group(0)))
        if hits:
            no, col, text = hits[0]
            yield ctx.finding(
                "D1-no-hardcoded-addresses",
                f"file:{rel}",
                False,
                f"{len(hits)} hard-coded address(es) or hostname(s), first {text!r} at line {no}; "
                "read them from NetBox instead",
                Src(rel, no, col),
                lines_scanned=len(lines),
                hits=[{"line": h[0], "text": h[2]} for h in hits[:20]],
            )
        else:
            yield ctx.finding(
                "D1-no-hardcoded-addresses",
                f"file:{rel}",
                True,
                "no hard-coded address or hostname",
                Src(rel, 1, 1),
                lines_scanned=len(lines),
                hits=[],
            )
    if not scanned:
        yield ctx.finding(
            "D1-no-hardcoded-addresses",
            "repository",
            True,
            "no code in ansible/ or pulumi/ to scan",
            files_scanned=0,
            folders=list(_CODE_DIRS),
        )


@rule("D1-one-authoritative-source")
def one_authoritative_source(ctx: Context) -> Iterator[Finding]:
    for ds in ctx.inv.datasets.values():
        auth = [s.name for s in ds.sources if s.authoritative]
        ok = len(auth) == 1
        msg = (
            f"authoritative source: {auth[0]}"
            if ok
            else f"{len(auth)} authoritative sources ({', '.join(auth) or 'none'}); "
            "exactly one must hold the truth"
        )
        yield ctx.finding(
            "D1-one-authoritative-source",
            ds,
            ok,
            msg,
            authoritative=auth,
            sources=[s.name for s in ds.sources],
        )


@rule("B6-business-owner")
def business_owner(ctx: Context) -> Iterator[Finding]:
    objs: list[Dataset | Service] = [*ctx.inv.datasets.values(), *ctx.inv.services.values()]
    for obj in objs:
        owner = obj.business_owner.strip()
        yield ctx.finding(
            "B6-business-owner",
            obj,
            bool(owner),
            f"business owner: {owner}" if owner else "no business owner named",
            business_owner=owner,
        )


@rule("A3-shared-datasets")
def shared_datasets(ctx: Context) -> Iterator[Finding]:
    need = ctx.inv.region.targets.data_platform_min_partners if ctx.inv.region else 3
    for ds in ctx.inv.datasets.values():
        if ds.domain not in ("mobility", "climate-energy"):
            continue
        n = len(set(ds.partners))
        yield ctx.finding(
            "A3-shared-datasets",
            ds,
            n >= need,
            f"shared by {n} partner(s), target at least {need}",
            partners=sorted(set(ds.partners)),
        )


@rule("I5-oslo-vocabulary")
def oslo_vocabulary(ctx: Context) -> Iterator[Finding]:
    for ds in ctx.inv.datasets.values():
        ok = ds.oslo.strip().upper().startswith("OSLO")
        yield ctx.finding(
            "I5-oslo-vocabulary",
            ds,
            ok,
            f"follows {ds.oslo}" if ok else f"vocabulary {ds.oslo!r} is not an OSLO standard",
            oslo=ds.oslo,
            oslo_standard=ok,
        )
