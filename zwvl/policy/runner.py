"""Run the policy catalogue against the domain model and collect evidence for every result."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zwvl.inventory import Inventory
from zwvl.policy.catalogue import PrincipleSpec, RuleSpec, load_catalogue, load_waivers
from zwvl.policy.findings import Context, Finding
from zwvl.policy.registry import RULES, WAIVER_RULES
from zwvl.policy.topology import Topology


@dataclass
class RuleResult:
    spec: RuleSpec
    findings: list[Finding]

    @property
    def status(self) -> str:
        if any(f.status == "fail" for f in self.findings):
            return "fail"
        if any(f.status == "waived" for f in self.findings):
            return "waived"
        return "pass"


@dataclass
class PrincipleResult:
    spec: PrincipleSpec
    rules: list[RuleResult]

    @property
    def status(self) -> str:
        if self.spec.kind == "manual":
            return "manual"
        statuses = [(r.spec.severity, r.status) for r in self.rules]
        if ("mandatory", "fail") in statuses:
            return "fail"
        if ("advisory", "fail") in statuses:
            return "warn"
        if any(s == "waived" for _, s in statuses):
            return "waived"
        return "pass"


@dataclass
class CheckResult:
    principles: list[PrincipleResult]
    indicators: list[dict[str, Any]]
    inventory_counts: dict[str, int]
    today: dt.date
    live_source: str | None
    topology: Topology

    @property
    def rules(self) -> list[RuleResult]:
        return [r for p in self.principles for r in p.rules]

    @property
    def failed_mandatory(self) -> list[Finding]:
        return [
            f for r in self.rules if r.spec.severity == "mandatory" for f in r.findings if f.status == "fail"
        ]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed_mandatory else 0

    def summary(self) -> dict[str, Any]:
        by_status: Counter[str] = Counter()
        by_sev: dict[str, Counter[str]] = {"mandatory": Counter(), "advisory": Counter()}
        for r in self.rules:
            for f in r.findings:
                by_status[f.status] += 1
                by_sev[r.spec.severity][f.status] += 1
        principles: Counter[str] = Counter(p.status for p in self.principles)
        return {
            "result": "fail" if self.failed_mandatory else "pass",
            "findings": {s: by_status.get(s, 0) for s in ("pass", "fail", "waived")},
            "by_severity": {
                sev: {s: c.get(s, 0) for s in ("pass", "fail", "waived")} for sev, c in by_sev.items()
            },
            "principles": {s: principles.get(s, 0) for s in ("pass", "fail", "warn", "waived", "manual")},
            "rules": len(self.rules),
        }


def run_checks(
    inv: Inventory,
    repo_root: Path,
    policies: Path | None = None,
    today: dt.date | None = None,
    circuit_status: dict[str, str] | None = None,
    live_source: str | None = None,
    tls_observed: dict[str, dict[str, Any]] | None = None,
) -> CheckResult:
    """`circuit_status` and `live_source` are NetBox's live evidence (`--netbox`), `tls_observed` what
    each service's url served (`--live`, `zwvl.policy.probes`); without them rules judge the model."""
    from zwvl.policy import rules as _rules  # noqa: F401  (registers the rules)
    from zwvl.policy.indicators import indicators

    if policies is None:  # beside the inventory (a generated region has its own), else the working copy's
        policies = repo_root / "policies"
        if not policies.is_dir() and Path("policies").is_dir():
            policies = Path("policies")
    specs = load_catalogue(policies)
    known = {r.id for p in specs for r in p.rules}
    waivers = load_waivers(policies, known)
    ctx = Context(
        inv=inv,
        repo_root=repo_root,
        today=today or dt.date.today(),
        circuit_status=circuit_status or {},
        live_source=live_source,
        tls_observed=tls_observed,
        waivers=waivers,
    )
    active = {(w.rule, w.object): w for w in waivers if w.expires >= ctx.today}
    order = [r for p in specs for r in p.rules]
    # every other rule first, so that the rules about waivers see what was evaluated
    raw = {r.id: list(RULES[r.id](ctx)) for r in order if r.id not in WAIVER_RULES}
    for fs in raw.values():
        for f in fs:
            if ctx.evaluated.get((f.rule, f.object)) != "fail":
                ctx.evaluated[(f.rule, f.object)] = f.status
    raw.update({r.id: list(RULES[r.id](ctx)) for r in order if r.id in WAIVER_RULES})
    results = []
    for p in specs:
        rule_results = []
        for r in p.rules:
            findings = []
            for f in raw[r.id]:
                w = active.get((f.rule, f.object))
                if f.status == "fail" and w is not None:
                    f = Finding(f.rule, f.object, "waived", f.message, f.evidence, f.src, w)
                findings.append(f)
            findings.sort(key=lambda f: (f.status != "fail", f.status != "waived", f.object))
            rule_results.append(RuleResult(r, findings))
        results.append(PrincipleResult(p, rule_results))
    sources = [live_source] if live_source else []
    if tls_observed is not None:
        sources.append(f"TLS probes of {len(tls_observed)} service URL{'s' * (len(tls_observed) != 1)}")
    live = "; ".join(sources) or None
    return CheckResult(results, indicators(ctx), inv.counts(), ctx.today, live, ctx.topology)
