"""Compliance: the architecture principles per partner, and the programme indicators."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard, Row

from zwvl.monitoring.dashboards.common import (
    ALL_PARTNERS,
    BLUE,
    GREEN,
    ORANGE,
    RED,
    bargauge_panel,
    base,
    q,
    stat_panel,
    steps,
    table_panel,
    timeseries_panel,
)


def dashboard() -> Dashboard:
    d = base(
        "zwvl-compliance",
        "Compliance: principles per partner",
        "Results of the architecture-principle catalogue (zwvl check) per partner, rule and severity, "
        "and the programme indicators against their targets.",
        ["compliance", "policy"],
        "zwvl_policy_findings",
    )
    return (
        d.with_row(Row("Principles"))
        .with_panel(
            stat_panel(
                "Mandatory failures",
                "zwvl:policy_mandatory_failures:sum",
                "Unwaived failing findings of mandatory rules: 0 is required to merge.",
                steps((None, GREEN), (1, RED)),
            )
        )
        .with_panel(
            stat_panel(
                "Advisory failures",
                'sum(zwvl_policy_rule_failures{severity="advisory"})',
                "Failing findings of advisory rules.",
                steps((None, GREEN), (1, ORANGE)),
            )
        )
        .with_panel(
            stat_panel(
                "Waived findings",
                f'sum(zwvl_policy_findings{{status="waived",{ALL_PARTNERS}}}) or vector(0)',
                "Findings covered by a reviewed, unexpired waiver (policies/waivers.yaml).",
                steps((None, GREEN), (1, BLUE)),
            )
        )
        .with_panel(
            stat_panel(
                "Principles failing",
                'count(zwvl_policy_principle_status{status=~"fail|warn"} == 1) or vector(0)',
                "Executable principles with a failing rule (fail: mandatory, warn: advisory).",
                steps((None, GREEN), (1, ORANGE)),
            )
        )
        .with_panel(
            bargauge_panel(
                "Findings passing per partner",
                "Share of each partner's findings that pass or are waived.",
                f"zwvl:policy_pass:ratio_by_partner{{{ALL_PARTNERS}}}",
                "{{partner}}",
                "percentunit",
                steps((None, RED), (0.95, ORANGE), (1, GREEN)),
                max_value=1,
            )
        )
        .with_panel(
            table_panel(
                "Failing findings per partner and principle",
                "Unwaived failing findings ('region' holds shared objects).",
                "sum by (partner, principle, severity) "
                f'(zwvl_policy_findings{{status="fail",{ALL_PARTNERS}}})',
            )
        )
        .with_panel(
            table_panel(
                "Principle status",
                "Current status of every principle of the catalogue.",
                "zwvl_policy_principle_status == 1",
                width=12,
                height=10,
            )
        )
        .with_panel(
            table_panel(
                "Rules",
                "Every executable rule with its unwaived failures.",
                "zwvl_policy_rule_failures * on (rule) group_left (title) zwvl_policy_rule_info",
                width=12,
                height=10,
            )
        )
        .with_panel(
            timeseries_panel(
                "Failing findings over time",
                "Unwaived failing findings per severity.",
                [
                    q(
                        f'sum by (severity) (zwvl_policy_findings{{status="fail",{ALL_PARTNERS}}})',
                        "{{severity}}",
                    )
                ],
                width=24,
            )
        )
        .with_row(Row("Programme indicators"))
        .with_panel(
            bargauge_panel(
                "Indicators against target",
                "Each programme indicator as a share of its target (MAGDA document service: eight partners).",
                "zwvl_indicator_value / on (indicator) (zwvl_indicator_target > 0)",
                "{{indicator}}",
                "percentunit",
                steps((None, RED), (0.5, ORANGE), (1, GREEN)),
                width=12,
                max_value=1,
            )
        )
        .with_panel(
            table_panel(
                "Indicators",
                "Value and target of each indicator.",
                "zwvl_indicator_value * on (indicator) group_left (title, unit) zwvl_indicator_info",
            )
        )
    )
