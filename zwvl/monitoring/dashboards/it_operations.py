"""Internal IT operations: helpdesk incidents versus change/project work, SLA, and the tooling."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard, Row

from zwvl.monitoring.dashboards.common import (
    ALL_PARTNERS,
    GREEN,
    ORANGE,
    RED,
    YELLOW,
    base,
    q,
    stat_panel,
    steps,
    table_panel,
    timeseries_panel,
)


def dashboard() -> Dashboard:
    d = base(
        "zwvl-it-operations",
        "Internal IT operations",
        "The pooled helpdesk (Request Tracker): small incidents versus change and project work, SLA "
        "breaches per partner queue; and the health of the repository's own tooling (NetBox drift and "
        "apply, the exporter).",
        ["helpdesk", "operations"],
        "zwvl_helpdesk_open_tickets",
    )
    return (
        d.with_row(Row("Helpdesk"))
        .with_panel(
            stat_panel(
                "Open incidents",
                f'sum(zwvl_helpdesk_open_tickets{{category=~"incident|problem|service-request|none|other",'
                f"{ALL_PARTNERS}}})",
                "Open small incidents, problems and service requests.",
                steps((None, GREEN), (50, YELLOW), (100, ORANGE)),
            )
        )
        .with_panel(
            stat_panel(
                "Open change / project work",
                f'sum(zwvl_helpdesk_open_tickets{{category="change",{ALL_PARTNERS}}})',
                "Open tickets of the change category (changes and project work).",
                steps((None, GREEN), (30, YELLOW)),
            )
        )
        .with_panel(
            stat_panel(
                "Open tickets past SLA",
                f"sum(zwvl_helpdesk_sla_breached_tickets{{{ALL_PARTNERS}}})",
                "Open tickets past their acknowledge or resolve due date (alert HelpdeskSlaBreach).",
                steps((None, GREEN), (1, RED)),
            )
        )
        .with_panel(
            stat_panel(
                "Share of work that is change",
                f'sum(zwvl_helpdesk_open_tickets{{category="change",{ALL_PARTNERS}}}) '
                f"/ clamp_min(sum(zwvl_helpdesk_open_tickets{{{ALL_PARTNERS}}}), 1)",
                "Change and project work as a share of all open tickets: the pool's time for improvement.",
                steps((None, ORANGE), (0.2, GREEN)),
                unit="percentunit",
            )
        )
        .with_panel(
            timeseries_panel(
                "Open tickets: incidents vs change work",
                "Open tickets split into small incidents and change/project work (whole region).",
                [q("zwvl:helpdesk_open_tickets:sum_by_work", "{{work}}")],
            )
        )
        .with_panel(
            timeseries_panel(
                "Tickets created per day by ITIL category",
                "New tickets over the last day, per category.",
                [q("sum by (category) (increase(zwvl_helpdesk_tickets_created_total[1d]))", "{{category}}")],
            )
        )
        .with_panel(
            table_panel(
                "Open tickets per partner queue and category",
                "Open tickets now.",
                f"sum by (partner, category) (zwvl_helpdesk_open_tickets{{{ALL_PARTNERS}}}) > 0",
            )
        )
        .with_panel(
            table_panel(
                "SLA breaches per partner",
                "Open tickets past their due date, per partner queue.",
                f"zwvl:helpdesk_sla_breached_tickets:sum_by_partner{{{ALL_PARTNERS}}}",
            )
        )
        .with_row(Row("Tooling"))
        .with_panel(
            stat_panel(
                "NetBox drift",
                "max(zwvl_netbox_drift_detected)",
                "1 when managed NetBox objects were changed by hand (alert NetboxDriftDetected).",
                steps((None, GREEN), (1, ORANGE)),
            )
        )
        .with_panel(
            stat_panel(
                "Since the last NetBox apply",
                "time() - max(zwvl_netbox_last_apply_success_timestamp_seconds)",
                "Time since the reconciler last applied the inventory successfully (alert after two days).",
                steps((None, GREEN), (86400, YELLOW), (172800, RED)),
                unit="s",
            )
        )
        .with_panel(
            stat_panel(
                "Mandatory policy failures",
                "zwvl:policy_mandatory_failures:sum",
                "Unwaived failing findings of mandatory rules (zwvl check).",
                steps((None, GREEN), (1, RED)),
            )
        )
        .with_panel(
            stat_panel(
                "Exporter scrape time",
                "max(zwvl_scrape_duration_seconds)",
                "Time the zwvl exporter needs to build one scrape.",
                steps((None, GREEN), (10, YELLOW), (30, RED)),
                unit="s",
            )
        )
        .with_panel(
            timeseries_panel(
                "Exporter sources",
                "1 when a source of the exporter was read successfully (alert ZwvlExporterSourceFailing).",
                [q("zwvl_source_up", "{{source}}")],
            )
        )
        .with_panel(
            timeseries_panel(
                "Source read time",
                "Time per source per scrape.",
                [q("zwvl_source_scrape_duration_seconds", "{{source}}")],
                unit="s",
            )
        )
    )
