"""The names the monitoring shares: one place for what the exporter emits, the rules record and alert on,
the dashboards query and Alertmanager inhibits.

- `MetricName`: every series the exporter (`zwvl exporter`) exposes, spelt as PromQL reads it (counters
  with ``_total``, info metrics with ``_info``); the exporter's metric helpers take these names.
- `METRICS`: the catalogue: each `MetricName`'s help text and label names (`MetricSpec`), so that the
  exporter declares a family by its name alone.
- `RecordName`: the recording rules of monitoring/prometheus/rules/zwvl-recording.yml.
- `AlertName`: the alerts of monitoring/prometheus/rules/zwvl-alerts.yml.

The rules themselves are YAML written by hand; tests/monitoring/test_names.py holds them and these
names together (every record and alert of the rules files is here and the other way round, and every
``zwvl_`` series a rule or dashboard reads is a `MetricName`). Rename a metric or an alert here and in
the rules, runbooks and promtool tests in one change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

PREFIX = "zwvl"
"""Every metric name of the exporter starts with ``zwvl_``."""


class MetricName(StrEnum):
    """The series the exporter exposes (help and labels in `METRICS`; sources in monitoring/README.md)."""

    # the exporter itself
    UP = "zwvl_up"
    BUILD_INFO = "zwvl_build_info"
    SCRAPES_TOTAL = "zwvl_scrapes_total"
    SCRAPE_DURATION_SECONDS = "zwvl_scrape_duration_seconds"
    SOURCE_UP = "zwvl_source_up"
    SOURCE_SCRAPE_DURATION_SECONDS = "zwvl_source_scrape_duration_seconds"
    SOURCE_ERRORS_TOTAL = "zwvl_source_errors_total"
    # model: inventory, policy results, indicators, fibre coverage, datasets
    INVENTORY_VALID = "zwvl_inventory_valid"
    INVENTORY_LAST_LOAD_TIMESTAMP_SECONDS = "zwvl_inventory_last_load_timestamp_seconds"
    INVENTORY_OBJECTS = "zwvl_inventory_objects"
    POLICY_PRINCIPLE_INFO = "zwvl_policy_principle_info"
    POLICY_PRINCIPLE_STATUS = "zwvl_policy_principle_status"
    POLICY_RULE_INFO = "zwvl_policy_rule_info"
    POLICY_RULE_FAILURES = "zwvl_policy_rule_failures"
    POLICY_FINDINGS = "zwvl_policy_findings"
    INDICATOR_INFO = "zwvl_indicator_info"
    INDICATOR_VALUE = "zwvl_indicator_value"
    INDICATOR_TARGET = "zwvl_indicator_target"
    FIBRE_PUBLIC_BUILDINGS = "zwvl_fibre_public_buildings"
    FIBRE_PUBLIC_BUILDINGS_CONNECTED = "zwvl_fibre_public_buildings_connected"
    DATASET_INFO = "zwvl_dataset_info"
    DATASET_STALE_AFTER_SECONDS = "zwvl_dataset_stale_after_seconds"
    DATASET_PARTNERS = "zwvl_dataset_partners"
    # netbox: drift and the last apply
    NETBOX_DRIFT_DETECTED = "zwvl_netbox_drift_detected"
    NETBOX_DRIFT_OBJECTS = "zwvl_netbox_drift_objects"
    NETBOX_DRIFT_LAST_CHECK_TIMESTAMP_SECONDS = "zwvl_netbox_drift_last_check_timestamp_seconds"
    NETBOX_LAST_APPLY_SUCCESS_TIMESTAMP_SECONDS = "zwvl_netbox_last_apply_success_timestamp_seconds"
    # backbone: FRR on the routers
    BACKBONE_ROUTER_UP = "zwvl_backbone_router_up"
    BACKBONE_OSPF_NEIGHBORS = "zwvl_backbone_ospf_neighbors"
    BACKBONE_INTERFACE_UP = "zwvl_backbone_interface_up"
    BACKBONE_OSPF_ADJACENCY_FULL = "zwvl_backbone_ospf_adjacency_full"
    BACKBONE_LINK_UP = "zwvl_backbone_link_up"
    BACKBONE_SITE_PATHS = "zwvl_backbone_site_paths"
    BACKBONE_SITE_DESIGN_PATHS = "zwvl_backbone_site_design_paths"
    # backbone: what NetBox expects of it
    BACKBONE_ADJACENCY_EXPECTED = "zwvl_backbone_adjacency_expected"
    # helpdesk: Request Tracker
    HELPDESK_OPEN_TICKETS = "zwvl_helpdesk_open_tickets"
    HELPDESK_SLA_BREACHED_TICKETS = "zwvl_helpdesk_sla_breached_tickets"
    HELPDESK_TICKETS_CREATED_TOTAL = "zwvl_helpdesk_tickets_created_total"
    HELPDESK_TICKETS_RESOLVED_TOTAL = "zwvl_helpdesk_tickets_resolved_total"
    HELPDESK_LAST_READ_TIMESTAMP_SECONDS = "zwvl_helpdesk_last_read_timestamp_seconds"
    # datasets: the data platform's load log
    DATASET_LAST_LOAD_TIMESTAMP_SECONDS = "zwvl_dataset_last_load_timestamp_seconds"


@dataclass(frozen=True)
class MetricSpec:
    """What the exporter declares for a metric besides its name: the help text and the label names, in
    the order the exporter gives their values (an info metric's info keys are not labels here)."""

    help: str
    labels: tuple[str, ...] = ()


_CIRCUIT_END = ("circuit", "site", "peer_site", "device", "interface", "partner")
"""One series per end of a fibre circuit."""
_DATASET = ("dataset", "domain")

METRICS: Final[Mapping[MetricName, MetricSpec]] = {
    MetricName.UP: MetricSpec("1 while the zwvl exporter answers scrapes."),
    MetricName.BUILD_INFO: MetricSpec("Version of the zwvl exporter."),
    MetricName.SCRAPES_TOTAL: MetricSpec("Scrapes served since the exporter started."),
    MetricName.SCRAPE_DURATION_SECONDS: MetricSpec("Time this scrape took to build every metric."),
    MetricName.SOURCE_UP: MetricSpec("1 when the source was read successfully this scrape.", ("source",)),
    MetricName.SOURCE_SCRAPE_DURATION_SECONDS: MetricSpec(
        "Time spent reading a source this scrape.", ("source",)
    ),
    MetricName.SOURCE_ERRORS_TOTAL: MetricSpec(
        "Failed reads per source since the exporter started.", ("source",)
    ),
    MetricName.INVENTORY_VALID: MetricSpec("1 when the inventory on disk loads and validates, else 0."),
    MetricName.INVENTORY_LAST_LOAD_TIMESTAMP_SECONDS: MetricSpec(
        "When the inventory and policies last loaded successfully."
    ),
    MetricName.INVENTORY_OBJECTS: MetricSpec("Objects in the domain model by kind.", ("kind",)),
    MetricName.POLICY_PRINCIPLE_INFO: MetricSpec("Architecture principles of the catalogue.", ("principle",)),
    MetricName.POLICY_PRINCIPLE_STATUS: MetricSpec(
        "Current status of each principle (1 for the status it has, 0 for the others).",
        ("principle", "group", "status"),
    ),
    MetricName.POLICY_RULE_INFO: MetricSpec("Executable policy rules.", ("rule",)),
    MetricName.POLICY_RULE_FAILURES: MetricSpec(
        "Unwaived failing findings per rule (0 when the rule passes).", ("principle", "rule", "severity")
    ),
    MetricName.POLICY_FINDINGS: MetricSpec(
        "Policy findings per principle, rule, severity, status and partner.",
        ("principle", "rule", "severity", "status", "partner"),
    ),
    MetricName.INDICATOR_INFO: MetricSpec("Programme indicators.", ("indicator",)),
    MetricName.INDICATOR_VALUE: MetricSpec("Current value of a programme indicator.", ("indicator",)),
    MetricName.INDICATOR_TARGET: MetricSpec(
        "Target of a programme indicator (where one is set).", ("indicator",)
    ),
    MetricName.FIBRE_PUBLIC_BUILDINGS: MetricSpec(
        "Public buildings (not decommissioned) per partner.", ("partner",)
    ),
    MetricName.FIBRE_PUBLIC_BUILDINGS_CONNECTED: MetricSpec(
        "Public buildings with an in-service fibre path to the regional datacenter, per partner.",
        ("partner",),
    ),
    MetricName.DATASET_INFO: MetricSpec("Datasets of the shared data platform.", ("dataset",)),
    MetricName.DATASET_STALE_AFTER_SECONDS: MetricSpec(
        "Age of the last load after which a dataset counts as stale.", _DATASET
    ),
    MetricName.DATASET_PARTNERS: MetricSpec("Partners taking part in a dataset.", _DATASET),
    MetricName.NETBOX_DRIFT_DETECTED: MetricSpec("1 when managed NetBox objects were changed by hand."),
    MetricName.NETBOX_DRIFT_OBJECTS: MetricSpec(
        "Managed NetBox objects changed by hand, per object kind.", ("kind",)
    ),
    MetricName.NETBOX_DRIFT_LAST_CHECK_TIMESTAMP_SECONDS: MetricSpec(
        "When drift was last checked successfully."
    ),
    MetricName.NETBOX_LAST_APPLY_SUCCESS_TIMESTAMP_SECONDS: MetricSpec(
        "When the reconciler last applied the inventory to NetBox successfully (0: never)."
    ),
    MetricName.BACKBONE_ROUTER_UP: MetricSpec(
        "1 when the router's FRR answered this scrape.", ("device", "site", "partner")
    ),
    MetricName.BACKBONE_OSPF_NEIGHBORS: MetricSpec(
        "OSPF neighbours of a router per adjacency state.", ("device", "state")
    ),
    MetricName.BACKBONE_INTERFACE_UP: MetricSpec(
        "Operational state of a circuit end's interface.", _CIRCUIT_END
    ),
    MetricName.BACKBONE_OSPF_ADJACENCY_FULL: MetricSpec(
        "1 when the OSPF adjacency on a circuit end is Full.", _CIRCUIT_END
    ),
    MetricName.BACKBONE_LINK_UP: MetricSpec(
        "1 when a fibre circuit end is up: interface up and OSPF adjacency Full.", _CIRCUIT_END
    ),
    MetricName.BACKBONE_SITE_PATHS: MetricSpec(
        "Node-disjoint paths from a site to a regional datacenter that are up now (0, 1 or 2+ as 2).",
        ("site", "partner"),
    ),
    MetricName.BACKBONE_SITE_DESIGN_PATHS: MetricSpec(
        "Node-disjoint paths from a site to a regional datacenter by design (0, 1 or 2+ as 2).",
        ("site", "partner"),
    ),
    MetricName.BACKBONE_ADJACENCY_EXPECTED: MetricSpec(
        "1 for each end of a lit circuit cabled to two routers in NetBox: an OSPF adjacency is expected "
        "on that interface with the peer device (compare frr_ospf_neighbor_adjacencies).",
        (*_CIRCUIT_END, "peer_device"),
    ),
    MetricName.HELPDESK_OPEN_TICKETS: MetricSpec(
        "Open (active) tickets per partner queue and ITIL category.", ("partner", "category")
    ),
    MetricName.HELPDESK_SLA_BREACHED_TICKETS: MetricSpec(
        "Open tickets past their SLA due date, per partner queue and ITIL category.", ("partner", "category")
    ),
    MetricName.HELPDESK_TICKETS_CREATED_TOTAL: MetricSpec(
        "Tickets created, per ITIL category.", ("category",)
    ),
    MetricName.HELPDESK_TICKETS_RESOLVED_TOTAL: MetricSpec(
        "Tickets resolved, per ITIL category.", ("category",)
    ),
    MetricName.HELPDESK_LAST_READ_TIMESTAMP_SECONDS: MetricSpec(
        "When the helpdesk was last read successfully."
    ),
    MetricName.DATASET_LAST_LOAD_TIMESTAMP_SECONDS: MetricSpec(
        "When a dataset was last loaded into the data platform (0: never).", _DATASET
    ),
}


class RecordName(StrEnum):
    """The recording rules (monitoring/prometheus/rules/zwvl-recording.yml)."""

    BACKBONE_CIRCUIT_UP = "zwvl:backbone_circuit_up:min"
    BACKBONE_ROUTER_UNREADABLE = "zwvl:backbone_router_unreadable:max"
    BACKBONE_ROUTERS_UNREADABLE = "zwvl:backbone_routers_unreadable:count"
    BACKBONE_CIRCUITS_DOWN = "zwvl:backbone_circuits_down:count"
    BACKBONE_SITES_ISOLATED = "zwvl:backbone_sites_isolated:count"
    BACKBONE_SITES_SINGLE_PATH = "zwvl:backbone_sites_single_path:count"
    FIBRE_COVERAGE = "zwvl:fibre_coverage:ratio"
    FIBRE_COVERAGE_REGION = "zwvl:fibre_coverage_region:ratio"
    POLICY_FAILED_FINDINGS = "zwvl:policy_failed_findings:sum_by_partner_principle"
    POLICY_MANDATORY_FAILURES = "zwvl:policy_mandatory_failures:sum"
    POLICY_PASS_RATIO = "zwvl:policy_pass:ratio_by_partner"
    HELPDESK_OPEN_TICKETS_BY_WORK = "zwvl:helpdesk_open_tickets:sum_by_work"
    HELPDESK_TICKETS_CREATED_1D = "zwvl:helpdesk_tickets_created:increase1d"
    HELPDESK_SLA_BREACHED_BY_PARTNER = "zwvl:helpdesk_sla_breached_tickets:sum_by_partner"
    DATASET_AGE_SECONDS = "zwvl:dataset_age_seconds"
    DATASET_STALENESS = "zwvl:dataset_staleness:ratio"


class AlertName(StrEnum):
    """The alerts (monitoring/prometheus/rules/zwvl-alerts.yml); runbooks in monitoring/runbooks/."""

    FIBRE_LINK_DOWN = "FibreLinkDown"
    FIBRE_SITE_ISOLATED = "FibreSiteIsolated"
    FIBRE_REDUNDANCY_LOST = "FibreRedundancyLost"
    FIBRE_ROUTER_NOT_ANSWERING = "FibreRouterNotAnswering"
    NETBOX_DRIFT_DETECTED = "NetboxDriftDetected"
    NETBOX_APPLY_OVERDUE = "NetboxApplyOverdue"
    POLICY_MANDATORY_FAILING = "PolicyMandatoryFailing"
    INVENTORY_INVALID = "ZwvlInventoryInvalid"
    HELPDESK_SLA_BREACH = "HelpdeskSlaBreach"
    DATASET_STALE = "DatasetStale"
    EXPORTER_DOWN = "ZwvlExporterDown"
    EXPORTER_SOURCE_FAILING = "ZwvlExporterSourceFailing"


def selector(metric: str, *matchers: str) -> str:
    """A series selector: ``selector(MetricName.UP, 'job="zwvl"')`` is ``zwvl_up{job="zwvl"}``."""
    return f"{metric}{{{','.join(matchers)}}}" if matchers else str(metric)
