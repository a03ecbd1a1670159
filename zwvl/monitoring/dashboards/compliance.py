"""Compliance: the architecture principles per partner, and the programme indicators."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from zwvl.monitoring.dashboards.common import (
    ALL_PARTNERS,
    BLUE,
    ORANGE,
    RED,
    any_is,
    base,
    row,
    share_panel,
    stat_panel,
    table_panel,
    timeseries_panel,
    with_info,
)
from zwvl.monitoring.names import MetricName, RecordName, selector

FAILING = selector(MetricName.POLICY_FINDINGS, 'status="fail"', ALL_PARTNERS)


def dashboard() -> Dashboard:
    d = base(
        "zwvl-compliance",
        "Compliance: principles per partner",
        "Results of the architecture-principle catalogue (zwvl check) per partner, rule and severity, "
        "and the programme indicators against their targets.",
        ["compliance", "policy"],
        MetricName.POLICY_FINDINGS,
    )
    return _indicators(_principles(d))


def _principles(d: Dashboard) -> Dashboard:
    """Policy results per partner, principle and rule."""
    return row(
        d,
        "Principles",
        stat_panel(
            "Mandatory failures",
            RecordName.POLICY_MANDATORY_FAILURES,
            "Unwaived failing findings of mandatory rules: 0 is required to merge.",
            any_is(RED),
        ),
        stat_panel(
            "Advisory failures",
            f"sum({selector(MetricName.POLICY_RULE_FAILURES, 'severity="advisory"')})",
            "Failing findings of advisory rules.",
            any_is(ORANGE),
        ),
        stat_panel(
            "Waived findings",
            f"sum({selector(MetricName.POLICY_FINDINGS, 'status="waived"', ALL_PARTNERS)}) or vector(0)",
            "Findings covered by a reviewed, unexpired waiver (policies/waivers.yaml).",
            any_is(BLUE),
        ),
        stat_panel(
            "Principles failing",
            f"count({selector(MetricName.POLICY_PRINCIPLE_STATUS, 'status=~"fail|warn"')} == 1) "
            "or vector(0)",
            "Executable principles with a failing rule (fail: mandatory, warn: advisory).",
            any_is(ORANGE),
        ),
        share_panel(
            "Findings passing per partner",
            "Share of each partner's findings that pass or are waived.",
            selector(RecordName.POLICY_PASS_RATIO, ALL_PARTNERS),
            "{{partner}}",
            0.95,
        ),
        table_panel(
            "Failing findings per partner and principle",
            "Unwaived failing findings ('region' holds shared objects).",
            f"sum by (partner, principle, severity) ({FAILING})",
        ),
        table_panel(
            "Principle status",
            "Current status of every principle of the catalogue.",
            f"{MetricName.POLICY_PRINCIPLE_STATUS} == 1",
            width=12,
            height=10,
        ),
        table_panel(
            "Rules",
            "Every executable rule with its unwaived failures.",
            with_info(MetricName.POLICY_RULE_FAILURES, "rule", "title", MetricName.POLICY_RULE_INFO),
            width=12,
            height=10,
        ),
        timeseries_panel(
            "Failing findings over time",
            "Unwaived failing findings per severity.",
            f"sum by (severity) ({FAILING})",
            "{{severity}}",
            width=24,
        ),
    )


def _indicators(d: Dashboard) -> Dashboard:
    """The programme indicators against their targets."""
    return row(
        d,
        "Programme indicators",
        share_panel(
            "Indicators against target",
            "Each programme indicator as a share of its target (MAGDA document service: eight partners).",
            f"{MetricName.INDICATOR_VALUE} / on (indicator) ({MetricName.INDICATOR_TARGET} > 0)",
            "{{indicator}}",
            0.5,
            width=12,
        ),
        table_panel(
            "Indicators",
            "Value and target of each indicator.",
            with_info(MetricName.INDICATOR_VALUE, "indicator", "title, unit", MetricName.INDICATOR_INFO),
        ),
    )
