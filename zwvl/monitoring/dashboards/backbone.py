"""Fibre backbone: the on-call view (what is cut, which sites are isolated or on one path)."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from zwvl.monitoring.dashboards.common import (
    ALL_PARTNERS,
    ORANGE,
    RED,
    YELLOW,
    any_is,
    base,
    row,
    share_of_all,
    share_panel,
    stat_panel,
    state_timeline_panel,
    table_panel,
    timeseries_panel,
)
from zwvl.monitoring.names import AlertName, MetricName, RecordName, selector

LINK_UP = selector(MetricName.BACKBONE_LINK_UP, ALL_PARTNERS)
SITE_PATHS = selector(MetricName.BACKBONE_SITE_PATHS, ALL_PARTNERS)


def dashboard() -> Dashboard:
    d = base(
        "zwvl-backbone",
        "Fibre backbone (on-call)",
        "Inter-municipal fibre as FRR on the routers sees it: cut circuits, isolated sites, sites left "
        "on one path, OSPF adjacencies, and fibre coverage of public buildings. Alerts: runbooks in "
        "monitoring/runbooks/.",
        ["backbone", "on-call"],
        MetricName.BACKBONE_SITE_PATHS,
    )
    return _coverage(_history(_now(d)))


def _now(d: Dashboard) -> Dashboard:
    """The row to read first: what is cut, isolated or left on one path now."""
    return row(
        d,
        "Now",
        stat_panel(
            "Sites isolated",
            RecordName.BACKBONE_SITES_ISOLATED,
            "Sites with no working path to a regional datacenter "
            f"(alert {AlertName.FIBRE_SITE_ISOLATED}, critical).",
            any_is(RED),
        ),
        stat_panel(
            "Sites on a single path",
            RecordName.BACKBONE_SITES_SINGLE_PATH,
            "Sites with two disjoint paths by design and one working now "
            f"(alert {AlertName.FIBRE_REDUNDANCY_LOST}).",
            any_is(ORANGE),
        ),
        stat_panel(
            "Circuits down",
            RecordName.BACKBONE_CIRCUITS_DOWN,
            "Fibre circuits with at least one end down (interface down or no Full OSPF adjacency).",
            any_is(YELLOW),
        ),
        stat_panel(
            "Routers not answering",
            RecordName.BACKBONE_ROUTERS_UNREADABLE,
            "Routers whose FRR cannot be read now: their FRR exporter does not answer (router down) "
            "or cannot read ospfd, or the zwvl exporter's vtysh fails "
            f"(alert {AlertName.FIBRE_ROUTER_NOT_ANSWERING} after 5 minutes).",
            any_is(ORANGE),
        ),
        table_panel(
            "Circuit ends down",
            "Every circuit end that is down now, with the site, device and interface to check.",
            f"{LINK_UP} == 0",
        ),
        table_panel(
            "Sites below their designed paths",
            "Sites with fewer working node-disjoint paths to a regional datacenter than by design.",
            f"{SITE_PATHS} < {MetricName.BACKBONE_SITE_DESIGN_PATHS}",
        ),
    )


def _history(d: Dashboard) -> Dashboard:
    """Since when: circuits, OSPF adjacencies and paths per site over time."""
    return row(
        d,
        "History",
        state_timeline_panel(
            "Circuits",
            "Each circuit up (both ends) or down over time.",
            f"min by (circuit) ({LINK_UP})",
            "{{circuit}}",
        ),
        timeseries_panel(
            "OSPF neighbours by state",
            "Adjacencies of the monitored routers per OSPF state; anything but Full is converging "
            "or broken.",
            f"sum by (state) ({MetricName.BACKBONE_OSPF_NEIGHBORS} and on (device) "
            f"{selector(MetricName.BACKBONE_ROUTER_UP, ALL_PARTNERS)})",
            "{{state}}",
        ),
        timeseries_panel(
            "Working paths per site",
            "Paths to a regional datacenter per site over time.",
            SITE_PATHS,
            "{{site}}",
        ),
    )


def _coverage(d: Dashboard) -> Dashboard:
    """Fibre coverage of public buildings (principle I1)."""
    return row(
        d,
        "Coverage",
        share_panel(
            "Public buildings on in-service fibre",
            "Share of each partner's public buildings with an in-service fibre path (I1).",
            selector(RecordName.FIBRE_COVERAGE, ALL_PARTNERS),
            "{{partner}}",
            0.8,
            width=16,
        ),
        stat_panel(
            "Region coverage",
            RecordName.FIBRE_COVERAGE_REGION,
            "Public buildings of the whole region on in-service fibre.",
            share_of_all(0.8),
            unit="percentunit",
            width=8,
        ),
    )
