"""The zwvl Prometheus exporter (`zwvl exporter`).

One custom collector builds fresh metrics on every scrape from pluggable sources: the domain model
and policy results, NetBox drift and the last apply, the backbone routers (FRR), the helpdesk (Request
Tracker REST2) and the data platform (PostgreSQL). Every metric name starts with ``zwvl_``; the
names are `zwvl.monitoring.names.MetricName` (shared with the rules and dashboards), and
``monitoring/README.md`` lists them with their labels.

The configuration generated for Prometheus, Alertmanager and Grafana is `zwvl.monitoring`.
"""
