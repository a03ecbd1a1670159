"""Data markets: freshness of the shared data platform's datasets and who takes part."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from zwvl.monitoring.dashboards.common import (
    GREEN,
    ORANGE,
    RED,
    YELLOW,
    any_is,
    bargauge_panel,
    base,
    days_old,
    label_variable,
    row,
    stat_panel,
    steps,
    table_panel,
    timeseries_panel,
    with_info,
)
from zwvl.monitoring.names import AlertName, MetricName, RecordName, selector

DOMAIN = 'domain=~"$domain"'
AGE = selector(RecordName.DATASET_AGE_SECONDS, DOMAIN)
STALENESS = selector(RecordName.DATASET_STALENESS, DOMAIN)


def dashboard() -> Dashboard:
    d = base(
        "zwvl-data-markets",
        "Data markets: dataset freshness",
        "The shared data platform's datasets (mobility, climate and energy, open data): time since the "
        "last load against each dataset's own limit, and the partners that take part.",
        ["data-platform"],
        None,
    ).with_variable(label_variable("domain", "Domain", MetricName.DATASET_STALE_AFTER_SECONDS))
    return _history(_freshness(d))


def _freshness(d: Dashboard) -> Dashboard:
    """Stale datasets and each dataset's age against its limit."""
    return row(
        d,
        "Freshness",
        stat_panel(
            "Stale datasets",
            f"count({STALENESS} > 1) or vector(0)",
            f"Datasets loaded longer ago than their limit allows (alert {AlertName.DATASET_STALE}).",
            any_is(RED),
        ),
        stat_panel(
            "Datasets",
            f"count({selector(MetricName.DATASET_STALE_AFTER_SECONDS, DOMAIN)})",
            "Datasets declared in the inventory.",
            steps((None, GREEN)),
        ),
        stat_panel(
            "Oldest load",
            f"max({AGE})",
            "Time since the least recently loaded dataset was loaded.",
            days_old(),
            unit="s",
        ),
        stat_panel(
            "Data platform partners",
            selector(MetricName.INDICATOR_VALUE, 'indicator="data-platform-partners"'),
            "Partners taking part in at least one dataset.",
            steps((None, ORANGE), (3, GREEN)),
        ),
        bargauge_panel(
            "Age against limit",
            "Time since the last load as a share of the dataset's limit; above 100% is stale.",
            STALENESS,
            "{{dataset}}",
            "percentunit",
            steps((None, GREEN), (0.8, YELLOW), (1, RED)),
            max_value=1.5,
        ),
        table_panel(
            "Datasets",
            "Each dataset with its classification, hosting service and time since the last load.",
            with_info(AGE, "dataset", "classification, open_data, name", MetricName.DATASET_INFO),
        ),
    )


def _history(d: Dashboard) -> Dashboard:
    """Age and partners per dataset over time."""
    return row(
        d,
        "History",
        timeseries_panel(
            "Time since the last load",
            "Per dataset; a saw-tooth means regular loads.",
            AGE,
            "{{dataset}}",
            unit="s",
        ),
        timeseries_panel(
            "Partners per dataset",
            "Partners taking part in each dataset.",
            selector(MetricName.DATASET_PARTNERS, DOMAIN),
            "{{dataset}}",
        ),
    )
