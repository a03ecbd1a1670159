"""A dashboard's content as data: one YAML file per dashboard beside this module, built into Grafana's
model with the panel helpers of `common`.

A file holds ``uid``, ``title``, ``tags``, ``description``; optionally ``partner_metric`` (the metric
whose ``partner`` label fills the partner variable), ``variables`` (more label variables: ``name``,
``label``, ``metric``) and ``vars`` (named expression parts, in order); and ``rows``, each a
``title`` and its ``panels`` in layout order. A panel has ``type`` (stat, timeseries, table, bargauge,
state-timeline), ``title``, ``expr``, ``description`` and, where its type takes them, ``legend``,
``unit``, ``thresholds``, ``max``, ``width``, ``height``.

Names are never spelled out: ``${metric.X}``, ``${record.X}`` and ``${alert.X}`` are the members of
`MetricName`, `RecordName` and `AlertName` (the names the exporter and the rules use), ``${var.X}`` a
``vars`` entry; any other ``${...}`` is Grafana's. Thresholds read ``green, orange from 1, red from 5``:
the base colour, then each step's colour and lower bound.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from grafana_foundation_sdk.builders.dashboard import Dashboard, ThresholdsConfig
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models.dashboard import Panel
from pydantic import BaseModel, ConfigDict, ValidationError

from zwvl.inventory import InventoryError
from zwvl.monitoring.dashboards import common
from zwvl.monitoring.names import AlertName, MetricName, RecordName
from zwvl.yamlsrc import Problem, YamlError, YMap, load_file, locate, schema_problems

SPEC_DIR = Path(__file__).parent
NAME = re.compile(r"\$\{(metric|record|alert|var)\.(\w+)\}")
ENUMS: dict[str, type[MetricName] | type[RecordName] | type[AlertName]] = {
    "metric": MetricName,
    "record": RecordName,
    "alert": AlertName,
}
COLOUR = r"[a-z-]+|#[0-9a-fA-F]{6}"  # Grafana's named colours, or hex
STEP = re.compile(rf"(?P<color>{COLOUR}) from (?P<value>-?\d+(?:\.\d+)?)")
PanelType = Literal["stat", "timeseries", "table", "bargauge", "state-timeline"]
# per type: the optional fields it must have, and those it may have
FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "stat": ({"thresholds"}, {"unit", "width"}),
    "timeseries": ({"legend"}, {"unit", "width"}),
    "table": (set(), {"width", "height"}),
    "bargauge": ({"legend", "unit", "thresholds"}, {"width", "max"}),
    "state-timeline": ({"legend"}, {"width"}),
}


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VariableSpec(_Spec):
    name: str
    label: str
    metric: str


class PanelSpec(_Spec):
    type: PanelType
    title: str
    expr: str
    description: str
    # None: the type's default, or (FIELDS) not taken by the type
    max: int | float | None = None
    width: int | None = None
    height: int | None = None
    legend: str | None = None
    unit: str | None = None
    thresholds: str | None = None


class RowSpec(_Spec):
    title: str
    panels: list[PanelSpec]


class DashboardSpec(_Spec):
    uid: str
    title: str
    tags: list[str]
    description: str
    partner_metric: str | None = None
    variables: list[VariableSpec] = []
    vars: dict[str, str] = {}
    rows: list[RowSpec]


class _Builder:
    """Builds one spec; every problem is collected with the file, line and object it concerns."""

    def __init__(self, doc: YMap, display: str, spec: DashboardSpec) -> None:
        self.doc, self.display, self.spec = doc, display, spec
        self.problems: list[Problem] = []
        self.vars: dict[str, str] = {}
        for name, text in spec.vars.items():
            self.vars[name] = self.resolve(text, ("vars", name), f"var {name}")

    def problem(self, at: tuple[str | int, ...], message: str) -> None:
        self.problems.append(Problem(self.display, *locate(self.doc, at), message))

    def resolve(self, text: str, at: tuple[str | int, ...], what: str) -> str:
        def one(m: re.Match[str]) -> str:
            space, name = m.groups()
            if space == "var":
                if name in self.vars:
                    return self.vars[name]
            elif name in ENUMS[space].__members__:
                return str(ENUMS[space][name])
            self.problem(at, f"{what}: unknown name {m.group(0)}")
            return m.group(0)

        return NAME.sub(one, text)

    def thresholds(self, text: str, at: tuple[str | int, ...], what: str) -> ThresholdsConfig:
        base, *rest = (part.strip() for part in text.split(","))
        if not re.fullmatch(COLOUR, base):
            self.problem(at, f"{what}: thresholds start with a colour, not {base!r}")
        pairs: list[tuple[float | None, str]] = [(None, base)]
        for part in rest:
            m = STEP.fullmatch(part)
            if m is None:
                self.problem(at, f"{what}: threshold step {part!r} is not 'COLOUR from NUMBER'")
                continue
            value = m["value"]
            pairs.append((float(value) if "." in value else int(value), m["color"]))
        return common.steps(*pairs)

    def panel(self, p: PanelSpec, at: tuple[str | int, ...]) -> Builder[Panel] | None:
        what = f"panel {p.title!r}"
        required, allowed = FIELDS[p.type]
        given = {
            f for f in ("legend", "unit", "thresholds", "max", "width", "height") if getattr(p, f) is not None
        }
        if missing := sorted(required - given):
            self.problem(at, f"{what}: a {p.type} panel needs {', '.join(missing)}")
        if extra := sorted(given - required - allowed):
            self.problem(at, f"{what}: a {p.type} panel takes no {', '.join(extra)}")
        if missing or extra:
            return None
        expr = self.resolve(p.expr, (*at, "expr"), what)
        description = self.resolve(p.description, (*at, "description"), what)
        legend, unit = p.legend or "", p.unit or "none"
        match p.type:
            case "stat":
                th = self.thresholds(p.thresholds or "", (*at, "thresholds"), what)
                return common.stat_panel(p.title, expr, description, th, unit, p.width or 6)
            case "timeseries":
                return common.timeseries_panel(p.title, description, expr, legend, unit, p.width or 12)
            case "table":
                return common.table_panel(p.title, description, expr, p.width or 12, p.height or 8)
            case "bargauge":
                th = self.thresholds(p.thresholds or "", (*at, "thresholds"), what)
                return common.bargauge_panel(
                    p.title, description, expr, legend, unit, th, p.width or 12, p.max
                )
            case "state-timeline":
                return common.state_timeline_panel(p.title, description, expr, legend, p.width or 24)

    def build(self) -> Dashboard:
        s = self.spec
        partner = (
            self.resolve(s.partner_metric, ("partner_metric",), "partner_metric")
            if s.partner_metric
            else None
        )
        d = common.base(
            s.uid, s.title, self.resolve(s.description, ("description",), "description"), s.tags, partner
        )
        for i, v in enumerate(s.variables):
            metric = self.resolve(v.metric, ("variables", i, "metric"), f"variable {v.name}")
            d = d.with_variable(common.label_variable(v.name, v.label, metric))
        for i, r in enumerate(s.rows):
            panels = [self.panel(p, ("rows", i, "panels", j)) for j, p in enumerate(r.panels)]
            d = common.row(d, r.title, *(p for p in panels if p is not None))
        return d


def display_name(path: Path) -> str:
    """How problems name a spec file: repository-relative for the repository's own."""
    return f"zwvl/monitoring/dashboards/{path.name}" if path.parent == SPEC_DIR else str(path)


def load(path: Path) -> Dashboard:
    """The dashboard a spec file describes; InventoryError lists every problem with its line."""
    display = display_name(path)
    try:
        doc = load_file(path, display)
    except YamlError as exc:
        raise InventoryError([exc.problem]) from None
    if not isinstance(doc, YMap):
        raise InventoryError([Problem(display, 1, 1, "expected a mapping (uid, title, ..., rows)")])
    try:
        spec = DashboardSpec.model_validate(doc)
    except ValidationError as exc:
        raise InventoryError(schema_problems(exc, doc, display)) from None
    builder = _Builder(doc, display, spec)
    dashboard = builder.build()
    if builder.problems:
        raise InventoryError(builder.problems)
    return dashboard
