"""Monitoring generated from the source of truth, and the names every part of it shares.

- `names`: the metric names the exporter emits and the dashboards and rules read, the recording
  rules' names and the alert names of monitoring/prometheus/rules/ (a test holds them together).
- `scrape`: Prometheus' scrape configuration (`zwvl monitoring scrape-config`).
- `alertmanager`: Alertmanager's routes and inhibitions (`zwvl monitoring alertmanager-config`).
- `dashboards`: the Grafana dashboards as code (`zwvl dashboards`).
- `cli`: those commands.

The exporter itself (`zwvl exporter`) is `zwvl.exporter`.
"""
