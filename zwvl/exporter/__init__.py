"""The zwvl Prometheus exporter (`zwvl exporter`).

One custom collector builds fresh metrics on every scrape from pluggable sources: the domain model
and policy results, NetBox drift and the last apply, the backbone routers (FRR), the helpdesk (Request
Tracker REST2) and the data platform (PostgreSQL). Every metric name starts with ``zwvl_``; see
``monitoring/README.md`` for the list.
"""

PREFIX = "zwvl"
