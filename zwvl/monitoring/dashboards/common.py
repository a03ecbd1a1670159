"""Building blocks of the dashboards (`spec` fills them from YAML): data source and label variables,
rows, panels."""

from __future__ import annotations

from grafana_foundation_sdk.builders import bargauge, prometheus, stat, statetimeline, table, timeseries
from grafana_foundation_sdk.builders.dashboard import (
    Dashboard,
    DashboardLink,
    DatasourceVariable,
    QueryVariable,
    Row,
    ThresholdsConfig,
)
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DashboardLinkType,
    DataSourceRef,
    Panel,
    Threshold,
    ThresholdsMode,
    ValueMap,
    ValueMapping,
    ValueMappingResult,
    VariableHide,
    VariableRefresh,
    VariableSort,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

DS = DataSourceRef(type_val="prometheus", uid="${datasource}")
GREEN, RED = "green", "red"


def base(uid: str, title: str, description: str, tags: list[str], partner_metric: str | None) -> Dashboard:
    d = (
        Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["zwvl", *tags])
        .timezone("Europe/Brussels")
        .time("now-24h", "now")
        .refresh("1m")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .readonly()
        .link(
            DashboardLink("zwvl dashboards")
            .type(DashboardLinkType.DASHBOARDS)
            .tags(["zwvl"])
            .as_dropdown(True)
        )
        .with_variable(
            DatasourceVariable("datasource")
            .label("Prometheus")
            .type("prometheus")
            .hide(VariableHide.DONT_HIDE)
        )
    )
    if partner_metric:
        d = d.with_variable(label_variable("partner", "Partner", partner_metric))
    return d


def row(d: Dashboard, title: str, *panels: Builder[Panel]) -> Dashboard:
    """`d` with a row named `title` and, under it, `panels` in order."""
    d = d.with_row(Row(title))
    for panel in panels:
        d = d.with_panel(panel)
    return d


def label_variable(label: str, title: str, metric: str) -> QueryVariable:
    """A multi-value variable over the values of `label` on `metric` ("All" matches everything);
    panels select with ``label=~"$label"``."""
    return (
        QueryVariable(label)
        .label(title)
        .datasource(DS)
        .query(f"label_values({metric}, {label})")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
    )


def q(expr: str, legend: str = "", ref: str = "A") -> prometheus.Dataquery:
    query = prometheus.Dataquery().expr(expr).ref_id(ref).datasource(DS)
    return query.legend_format(legend) if legend else query


def table_q(expr: str, ref: str = "A") -> prometheus.Dataquery:
    return (
        prometheus.Dataquery().expr(expr).ref_id(ref).datasource(DS).instant().format(PromQueryFormat.TABLE)
    )


def steps(*pairs: tuple[float | None, str]) -> ThresholdsConfig:
    return (
        ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps([Threshold(value=v, color=c) for v, c in pairs])
    )


def _panel[P: (bargauge.Panel, stat.Panel, statetimeline.Panel, table.Panel, timeseries.Panel)](
    p: P, title: str, description: str, target: prometheus.Dataquery, height: int, width: int
) -> P:
    """`p` with what every panel has: title, description, the data source, its one query, its size."""
    return (
        p.title(title).description(description).datasource(DS).with_target(target).height(height).span(width)
    )


def stat_panel(
    title: str, expr: str, description: str, thresholds: ThresholdsConfig, unit: str = "none", width: int = 6
) -> stat.Panel:
    return (
        _panel(stat.Panel(), title, description, q(expr).instant(), 4, width)
        .unit(unit)
        .thresholds(thresholds)
    )


def timeseries_panel(
    title: str, description: str, expr: str, legend: str, unit: str = "none", width: int = 12
) -> timeseries.Panel:
    return _panel(timeseries.Panel(), title, description, q(expr, legend), 8, width).unit(unit)


def table_panel(title: str, description: str, expr: str, width: int = 12, height: int = 8) -> table.Panel:
    return _panel(table.Panel(), title, description, table_q(expr), height, width)


def bargauge_panel(
    title: str,
    description: str,
    expr: str,
    legend: str,
    unit: str,
    thresholds: ThresholdsConfig,
    width: int = 12,
    max_value: float | None = None,
) -> bargauge.Panel:
    p = (
        _panel(bargauge.Panel(), title, description, q(expr, legend).instant(), 8, width)
        .unit(unit)
        .min(0)
        .thresholds(thresholds)
    )
    return p.max(max_value) if max_value is not None else p


def up_down_mappings() -> list[ValueMapping]:
    return [
        ValueMap(
            options={
                "0": ValueMappingResult(text="down", color=RED, index=0),
                "1": ValueMappingResult(text="up", color=GREEN, index=1),
            }
        )
    ]


def state_timeline_panel(
    title: str, description: str, expr: str, legend: str, width: int = 24
) -> statetimeline.Panel:
    return (
        _panel(statetimeline.Panel(), title, description, q(expr, legend), 10, width)
        .mappings(up_down_mappings())
        .thresholds(steps((None, RED), (1, GREEN)))
    )
