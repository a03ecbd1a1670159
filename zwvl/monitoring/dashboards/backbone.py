"""Fibre backbone: the on-call view (what is cut, which sites are isolated or on one path)."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard, Row

from zwvl.monitoring.dashboards.common import (
    ALL_PARTNERS,
    GREEN,
    ORANGE,
    RED,
    YELLOW,
    bargauge_panel,
    base,
    q,
    stat_panel,
    state_timeline_panel,
    steps,
    table_panel,
    timeseries_panel,
)


def dashboard() -> Dashboard:
    d = base(
        "zwvl-backbone",
        "Fibre backbone (on-call)",
        "Inter-municipal fibre as FRR on the routers sees it: cut circuits, isolated sites, sites left "
        "on one path, OSPF adjacencies, and fibre coverage of public buildings. Alerts: runbooks in "
        "monitoring/runbooks/.",
        ["backbone", "on-call"],
        "zwvl_backbone_site_paths",
    )
    d = (
        d.with_row(Row("Now"))
        .with_panel(
            stat_panel(
                "Sites isolated",
                "zwvl:backbone_sites_isolated:count",
                "Sites with no working path to a regional datacenter (alert FibreSiteIsolated, critical).",
                steps((None, GREEN), (1, RED)),
            )
        )
        .with_panel(
            stat_panel(
                "Sites on a single path",
                "zwvl:backbone_sites_single_path:count",
                "Sites with two disjoint paths by design and one working now (alert FibreRedundancyLost).",
                steps((None, GREEN), (1, ORANGE)),
            )
        )
        .with_panel(
            stat_panel(
                "Circuits down",
                "zwvl:backbone_circuits_down:count",
                "Fibre circuits with at least one end down (interface down or no Full OSPF adjacency).",
                steps((None, GREEN), (1, YELLOW)),
            )
        )
        .with_panel(
            stat_panel(
                "Routers not answering",
                "count(zwvl_backbone_router_up == 0) or vector(0)",
                "Routers whose FRR the exporter could not read this scrape.",
                steps((None, GREEN), (1, ORANGE)),
            )
        )
        .with_panel(
            table_panel(
                "Circuit ends down",
                "Every circuit end that is down now, with the site, device and interface to check.",
                f"zwvl_backbone_link_up{{{ALL_PARTNERS}}} == 0",
            )
        )
        .with_panel(
            table_panel(
                "Sites below their designed paths",
                "Sites with fewer working node-disjoint paths to a regional datacenter than by design.",
                f"zwvl_backbone_site_paths{{{ALL_PARTNERS}}} < zwvl_backbone_site_design_paths",
            )
        )
        .with_row(Row("History"))
        .with_panel(
            state_timeline_panel(
                "Circuits",
                "Each circuit up (both ends) or down over time.",
                f"min by (circuit) (zwvl_backbone_link_up{{{ALL_PARTNERS}}})",
                "{{circuit}}",
            )
        )
        .with_panel(
            timeseries_panel(
                "OSPF neighbours by state",
                "Adjacencies of the monitored routers per OSPF state; anything but Full is converging "
                "or broken.",
                [
                    q(
                        "sum by (state) (zwvl_backbone_ospf_neighbors and on (device) "
                        f"zwvl_backbone_router_up{{{ALL_PARTNERS}}})",
                        "{{state}}",
                    )
                ],
            )
        )
        .with_panel(
            timeseries_panel(
                "Working paths per site",
                "Paths to a regional datacenter per site over time.",
                [q(f"zwvl_backbone_site_paths{{{ALL_PARTNERS}}}", "{{site}}")],
            )
        )
        .with_row(Row("Coverage"))
        .with_panel(
            bargauge_panel(
                "Public buildings on in-service fibre",
                "Share of each partner's public buildings with an in-service fibre path (I1).",
                f"zwvl:fibre_coverage:ratio{{{ALL_PARTNERS}}}",
                "{{partner}}",
                "percentunit",
                steps((None, RED), (0.8, ORANGE), (1, GREEN)),
                width=16,
                max_value=1,
            )
        )
        .with_panel(
            stat_panel(
                "Region coverage",
                "zwvl:fibre_coverage_region:ratio",
                "Public buildings of the whole region on in-service fibre.",
                steps((None, RED), (0.8, ORANGE), (1, GREEN)),
                unit="percentunit",
                width=8,
            )
        )
    )
    return d
