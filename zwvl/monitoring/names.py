"""The names the monitoring shares: one place for what the exporter emits, the rules record and alert on,
the dashboards query and Alertmanager inhibits.

- `MetricName`: every series the exporter (`zwvl exporter`) exposes, spelt as PromQL reads it (counters
  with ``_total``, info metrics with ``_info``); the exporter's metric helpers take these names.
- `RecordName`: the recording rules of monitoring/prometheus/rules/zwvl-recording.yml.
- `AlertName`: the alerts of monitoring/prometheus/rules/zwvl-alerts.yml.

The rules themselves are YAML written by hand; tests/monitoring/test_names.py holds them and these
names together (every record and alert of the rules files is here and the other way round, and every
``zwvl_`` series a rule or dashboard reads is a `MetricName`). Rename a metric or an alert here and in
the rules, runbooks and promtool tests in one change.
"""

from __future__ import annotations

from enum import StrEnum

PREFIX = "zwvl"
"""Every metric name of the exporter starts with ``zwvl_``."""


class MetricName(StrEnum):
    """The series the exporter exposes (see monitoring/README.md for labels and sources)."""

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
    # helpdesk: Request Tracker
    HELPDESK_OPEN_TICKETS = "zwvl_helpdesk_open_tickets"
    HELPDESK_SLA_BREACHED_TICKETS = "zwvl_helpdesk_sla_breached_tickets"
    HELPDESK_TICKETS_CREATED_TOTAL = "zwvl_helpdesk_tickets_created_total"
    HELPDESK_TICKETS_RESOLVED_TOTAL = "zwvl_helpdesk_tickets_resolved_total"
    HELPDESK_LAST_READ_TIMESTAMP_SECONDS = "zwvl_helpdesk_last_read_timestamp_seconds"
    # datasets: the data platform's load log
    DATASET_LAST_LOAD_TIMESTAMP_SECONDS = "zwvl_dataset_last_load_timestamp_seconds"


class RecordName(StrEnum):
    """The recording rules (monitoring/prometheus/rules/zwvl-recording.yml)."""

    BACKBONE_CIRCUIT_UP = "zwvl:backbone_circuit_up:min"
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
