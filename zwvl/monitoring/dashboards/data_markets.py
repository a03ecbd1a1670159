"""Data markets: freshness of the shared data platform's datasets and who takes part."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard, Row

from zwvl.monitoring.dashboards.common import (
    GREEN,
    ORANGE,
    RED,
    YELLOW,
    bargauge_panel,
    base,
    q,
    stat_panel,
    steps,
    table_panel,
    timeseries_panel,
)

DOMAIN = 'domain=~"$domain"'


def dashboard() -> Dashboard:
    from grafana_foundation_sdk.builders.dashboard import QueryVariable
    from grafana_foundation_sdk.models.dashboard import VariableRefresh, VariableSort

    from zwvl.monitoring.dashboards.common import DS

    d = base(
        "zwvl-data-markets",
        "Data markets: dataset freshness",
        "The shared data platform's datasets (mobility, climate and energy, open data): time since the "
        "last load against each dataset's own limit, and the partners that take part.",
        ["data-platform"],
        None,
    ).with_variable(
        QueryVariable("domain")
        .label("Domain")
        .datasource(DS)
        .query("label_values(zwvl_dataset_stale_after_seconds, domain)")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
    )
    return (
        d.with_row(Row("Freshness"))
        .with_panel(
            stat_panel(
                "Stale datasets",
                f"count(zwvl:dataset_staleness:ratio{{{DOMAIN}}} > 1) or vector(0)",
                "Datasets loaded longer ago than their limit allows (alert DatasetStale).",
                steps((None, GREEN), (1, RED)),
            )
        )
        .with_panel(
            stat_panel(
                "Datasets",
                f"count(zwvl_dataset_stale_after_seconds{{{DOMAIN}}})",
                "Datasets declared in the inventory.",
                steps((None, GREEN)),
            )
        )
        .with_panel(
            stat_panel(
                "Oldest load",
                f"max(zwvl:dataset_age_seconds{{{DOMAIN}}})",
                "Time since the least recently loaded dataset was loaded.",
                steps((None, GREEN), (86400, YELLOW), (172800, RED)),
                unit="s",
            )
        )
        .with_panel(
            stat_panel(
                "Data platform partners",
                'zwvl_indicator_value{indicator="data-platform-partners"}',
                "Partners taking part in at least one dataset.",
                steps((None, ORANGE), (3, GREEN)),
            )
        )
        .with_panel(
            bargauge_panel(
                "Age against limit",
                "Time since the last load as a share of the dataset's limit; above 100% is stale.",
                f"zwvl:dataset_staleness:ratio{{{DOMAIN}}}",
                "{{dataset}}",
                "percentunit",
                steps((None, GREEN), (0.8, YELLOW), (1, RED)),
                max_value=1.5,
            )
        )
        .with_panel(
            table_panel(
                "Datasets",
                "Each dataset with its classification, hosting service and time since the last load.",
                f"zwvl:dataset_age_seconds{{{DOMAIN}}} * on (dataset) group_left (classification, "
                "open_data, name) zwvl_dataset_info",
            )
        )
        .with_row(Row("History"))
        .with_panel(
            timeseries_panel(
                "Time since the last load",
                "Per dataset; a saw-tooth means regular loads.",
                [q(f"zwvl:dataset_age_seconds{{{DOMAIN}}}", "{{dataset}}")],
                unit="s",
            )
        )
        .with_panel(
            timeseries_panel(
                "Partners per dataset",
                "Partners taking part in each dataset.",
                [q(f"zwvl_dataset_partners{{{DOMAIN}}}", "{{dataset}}")],
            )
        )
    )
