"""Internal IT operations: helpdesk incidents versus change/project work, SLA, and the tooling."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from zwvl.monitoring.dashboards.common import (
    ALL_PARTNERS,
    GREEN,
    ORANGE,
    RED,
    YELLOW,
    any_is,
    base,
    days_old,
    row,
    stat_panel,
    steps,
    table_panel,
    timeseries_panel,
)
from zwvl.monitoring.names import AlertName, MetricName, RecordName, selector

OPEN = MetricName.HELPDESK_OPEN_TICKETS
CHANGE_WORK = selector(OPEN, 'category="change"', ALL_PARTNERS)
INCIDENTS = selector(OPEN, 'category=~"incident|problem|service-request|none|other"', ALL_PARTNERS)


def dashboard() -> Dashboard:
    d = base(
        "zwvl-it-operations",
        "Internal IT operations",
        "The pooled helpdesk (Request Tracker): small incidents versus change and project work, SLA "
        "breaches per partner queue; and the health of the repository's own tooling (NetBox drift and "
        "apply, the exporter).",
        ["helpdesk", "operations"],
        OPEN,
    )
    return _tooling(_helpdesk(d))


def _helpdesk(d: Dashboard) -> Dashboard:
    """The pooled helpdesk: incidents versus change work, SLA breaches per partner."""
    return row(
        d,
        "Helpdesk",
        stat_panel(
            "Open incidents",
            f"sum({INCIDENTS})",
            "Open small incidents, problems and service requests.",
            steps((None, GREEN), (50, YELLOW), (100, ORANGE)),
        ),
        stat_panel(
            "Open change / project work",
            f"sum({CHANGE_WORK})",
            "Open tickets of the change category (changes and project work).",
            steps((None, GREEN), (30, YELLOW)),
        ),
        stat_panel(
            "Open tickets past SLA",
            f"sum({selector(MetricName.HELPDESK_SLA_BREACHED_TICKETS, ALL_PARTNERS)})",
            "Open tickets past their acknowledge or resolve due date "
            f"(alert {AlertName.HELPDESK_SLA_BREACH}).",
            any_is(RED),
        ),
        stat_panel(
            "Share of work that is change",
            f"sum({CHANGE_WORK}) / clamp_min(sum({selector(OPEN, ALL_PARTNERS)}), 1)",
            "Change and project work as a share of all open tickets: the pool's time for improvement.",
            steps((None, ORANGE), (0.2, GREEN)),
            unit="percentunit",
        ),
        timeseries_panel(
            "Open tickets: incidents vs change work",
            "Open tickets split into small incidents and change/project work (whole region).",
            RecordName.HELPDESK_OPEN_TICKETS_BY_WORK,
            "{{work}}",
        ),
        timeseries_panel(
            "Tickets created per day by ITIL category",
            "New tickets over the last day, per category.",
            f"sum by (category) (increase({MetricName.HELPDESK_TICKETS_CREATED_TOTAL}[1d]))",
            "{{category}}",
        ),
        table_panel(
            "Open tickets per partner queue and category",
            "Open tickets now.",
            f"sum by (partner, category) ({selector(OPEN, ALL_PARTNERS)}) > 0",
        ),
        table_panel(
            "SLA breaches per partner",
            "Open tickets past their due date, per partner queue.",
            selector(RecordName.HELPDESK_SLA_BREACHED_BY_PARTNER, ALL_PARTNERS),
        ),
    )


def _tooling(d: Dashboard) -> Dashboard:
    """The repository's own tooling: NetBox drift and apply, policy, the exporter."""
    return row(
        d,
        "Tooling",
        stat_panel(
            "NetBox drift",
            f"max({MetricName.NETBOX_DRIFT_DETECTED})",
            "1 when managed NetBox objects were changed by hand "
            f"(alert {AlertName.NETBOX_DRIFT_DETECTED}).",
            any_is(ORANGE),
        ),
        stat_panel(
            "Since the last NetBox apply",
            f"time() - max({MetricName.NETBOX_LAST_APPLY_SUCCESS_TIMESTAMP_SECONDS})",
            "Time since the reconciler last applied the inventory successfully (alert after two days).",
            days_old(),
            unit="s",
        ),
        stat_panel(
            "Mandatory policy failures",
            RecordName.POLICY_MANDATORY_FAILURES,
            "Unwaived failing findings of mandatory rules (zwvl check).",
            any_is(RED),
        ),
        stat_panel(
            "Exporter scrape time",
            f"max({MetricName.SCRAPE_DURATION_SECONDS})",
            "Time the zwvl exporter needs to build one scrape.",
            steps((None, GREEN), (10, YELLOW), (30, RED)),
            unit="s",
        ),
        timeseries_panel(
            "Exporter sources",
            "1 when a source of the exporter was read successfully "
            f"(alert {AlertName.EXPORTER_SOURCE_FAILING}).",
            MetricName.SOURCE_UP,
            "{{source}}",
        ),
        timeseries_panel(
            "Source read time",
            "Time per source per scrape.",
            MetricName.SOURCE_SCRAPE_DURATION_SECONDS,
            "{{source}}",
            unit="s",
        ),
    )
