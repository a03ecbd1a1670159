"""Run the policy catalogue against the domain model and collect evidence for every result."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from zwvl.inventory import Inventory, InventoryError
from zwvl.model import Obj, Src, Waiver
from zwvl.policy.topology import Topology
from zwvl.yamlsrc import Problem, YamlError, YList, YMap, load_file, locate

Severity = Literal["mandatory", "advisory"]
Status = Literal["pass", "fail", "waived"]


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    title: str
    severity: Severity
    rationale: str


class ManualSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    why: str
    evidence: str


class PrincipleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    group: str
    title: str
    statement: str
    kind: Literal["executable", "manual"]
    rules: list[RuleSpec] = []
    manual: ManualSpec | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    object: str  # "kind:key", what waivers name
    status: Status
    message: str
    evidence: dict[str, Any]
    src: Src | None = None
    waiver: Waiver | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "object": self.object,
            "status": self.status,
            "message": self.message,
            "evidence": self.evidence,
            "location": str(self.src) if self.src else None,
        }
        if self.waiver is not None:
            out["waiver"] = {
                "reason": self.waiver.reason,
                "approver": self.waiver.approver,
                "expires": self.waiver.expires.isoformat(),
                "location": str(self.waiver.src),
            }
        return out


@dataclass
class Context:
    """What a rule may read: the model, the repository, live evidence and the date."""

    inv: Inventory
    repo_root: Path
    today: dt.date
    circuit_status: dict[str, str] = field(default_factory=dict)  # live, from NetBox
    live_source: str | None = None
    waivers: list[Waiver] = field(default_factory=list)
    # (rule, object) -> "pass"/"fail" of every finding of the rules that run first; the rules that
    # judge the waivers themselves (registered with after_others=True) read it
    evaluated: dict[tuple[str, str], str] = field(default_factory=dict)

    @cached_property
    def topology(self) -> Topology:
        return Topology(self.inv, status_override=self.circuit_status)

    def finding(
        self, rule: str, obj: Obj | str, ok: bool, message: str, src: Src | None = None, /, **evidence: Any
    ) -> Finding:
        """A pass or fail with its evidence: the fields checked and their values."""
        if isinstance(obj, Obj):
            name = f"{type(obj).__name__.lower()}:{obj.key}"
            src = src or obj.src
        else:
            name = obj
        return Finding(rule, name, "pass" if ok else "fail", message, evidence, src)


RuleFn = Callable[[Context], Iterable[Finding]]
RULES: dict[str, RuleFn] = {}
# rules about the waivers themselves: they run after every other rule and cannot be waived
WAIVER_RULES: set[str] = set()


def rule(rule_id: str, *, after_others: bool = False) -> Callable[[RuleFn], RuleFn]:
    """Register the implementation of a catalogue rule.

    `after_others`: the rule judges the waivers, so it runs once every other rule has filled
    `Context.evaluated`, and no waiver may name it.
    """

    def deco(fn: RuleFn) -> RuleFn:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id} registered twice")
        RULES[rule_id] = fn
        if after_others:
            WAIVER_RULES.add(rule_id)
        return fn

    return deco


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


def _load_list(path: Path, key: str, display: str) -> tuple[Any, YList]:
    doc = load_file(path, display)
    if not isinstance(doc, YMap) or not isinstance(doc.get(key), YList):
        line, col = getattr(doc, "mark", (1, 1))
        raise InventoryError([Problem(display, line, col, f"expected a top-level list {key!r}")])
    return doc, doc[key]


def load_catalogue(policies: Path) -> list[PrincipleSpec]:
    path = policies / "catalogue.yaml"
    display = f"{policies.name}/catalogue.yaml"
    if not path.is_file():
        raise InventoryError(
            [Problem(str(path), 0, 0, "no policy catalogue here; name the folder with --policies DIR")]
        )
    try:
        doc, items = _load_list(path, "principles", display)
    except YamlError as exc:
        raise InventoryError([exc.problem]) from None
    try:
        specs = TypeAdapter(list[PrincipleSpec]).validate_python(list(items))
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            line, col = locate(doc, ("principles", *err["loc"]))
            problems.append(Problem(display, line, col, f"{'.'.join(map(str, err['loc']))}: {err['msg']}"))
        raise InventoryError(problems) from None
    problems = []
    for i, p in enumerate(specs):
        for j, r in enumerate(p.rules):
            if r.id not in RULES:
                line, col = locate(doc, ("principles", i, "rules", j, "id"))
                problems.append(Problem(display, line, col, f"rule {r.id!r} has no implementation"))
        if p.kind == "manual" and p.manual is None:
            line, col = locate(doc, ("principles", i))
            problems.append(Problem(display, line, col, f"manual principle {p.id} needs why/evidence"))
    if problems:
        raise InventoryError(problems)
    return specs


def load_waivers(policies: Path, known_rules: set[str]) -> list[Waiver]:
    path = policies / "waivers.yaml"
    if not path.exists():
        return []
    display = f"{policies.name}/waivers.yaml"
    try:
        doc, items = _load_list(path, "waivers", display)
    except YamlError as exc:
        raise InventoryError([exc.problem]) from None
    problems: list[Problem] = []
    out: list[Waiver] = []
    for i, raw in enumerate(items):
        try:
            w = Waiver.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                line, col = locate(doc, ("waivers", i, *err["loc"]))
                problems.append(
                    Problem(
                        display, line, col, f"waiver {i + 1}: {'.'.join(map(str, err['loc']))}: {err['msg']}"
                    )
                )
            continue
        line, col = items.marks[i]
        w._src = Src(display, line, col)
        if w.rule in WAIVER_RULES:
            problems.append(
                Problem(
                    display,
                    *locate(doc, ("waivers", i, "rule")),
                    f"waiver names rule {w.rule!r}, which checks the waivers themselves and cannot be waived",
                )
            )
        elif w.rule not in known_rules:
            problems.append(
                Problem(
                    display, *locate(doc, ("waivers", i, "rule")), f"waiver names unknown rule {w.rule!r}"
                )
            )
        for a, b in ((x, w) for x in out if (x.rule, x.object) == (w.rule, w.object)):
            problems.append(
                Problem(display, line, col, f"duplicate waiver for {b.rule} {b.object} (first at {a.src})")
            )
        out.append(w)
    if problems:
        raise InventoryError(problems)
    return out


def run_checks(
    inv: Inventory,
    repo_root: Path,
    policies: Path | None = None,
    today: dt.date | None = None,
    circuit_status: dict[str, str] | None = None,
    live_source: str | None = None,
) -> CheckResult:
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
    return CheckResult(results, indicators(ctx), inv.counts(), ctx.today, live_source, ctx.topology)
