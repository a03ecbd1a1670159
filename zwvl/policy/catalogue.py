"""The policy catalogue (``policies/catalogue.yaml``: principles and their rules) and the reviewed
waivers (``policies/waivers.yaml``), loaded with file:line:col for every problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from zwvl.inventory import InventoryError
from zwvl.model import Waiver
from zwvl.policy.findings import Severity
from zwvl.policy.registry import RULES, WAIVER_RULES
from zwvl.yamlsrc import Problem, Src, YamlError, YList, YMap, load_file, locate, schema_problems


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
        raise InventoryError(schema_problems(exc, doc, display, ("principles",))) from None
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
            problems += schema_problems(exc, doc, display, ("waivers", i), f"waiver {i + 1}")
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
