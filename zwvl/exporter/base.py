"""What every exporter source shares: the Source protocol and small metric helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric

from zwvl.monitoring.names import METRICS, MetricName


class SourceError(RuntimeError):
    """A source could not be read this scrape; its message is safe to log (no secrets)."""


class Source(Protocol):
    """One part of the exporter's data. `collect` is called once per scrape and builds new families."""

    name: str

    def collect(self) -> Iterable[Metric]: ...


def gauge(name: MetricName) -> GaugeMetricFamily:
    """An empty gauge family with the help text and labels of the catalogue (`METRICS`)."""
    spec = METRICS[name]
    return GaugeMetricFamily(str(name), spec.help, labels=list(spec.labels))


def counter(name: MetricName) -> CounterMetricFamily:
    # exposed as <family>_total: prometheus_client drops a given _total and appends it itself
    spec = METRICS[name]
    return CounterMetricFamily(str(name), spec.help, labels=list(spec.labels))


def info(name: MetricName) -> InfoMetricFamily:
    # exposed as <family>_info: the name is given as PromQL reads it, with _info
    spec = METRICS[name]
    return InfoMetricFamily(str(name).removesuffix("_info"), spec.help, labels=list(spec.labels))


def add_info(fam: InfoMetricFamily, labels: Sequence[str], value: Mapping[str, str]) -> None:
    fam.add_metric(list(labels), dict(value))


def timestamp(when: dt.datetime | None) -> float:
    """Seconds since the epoch (0 for 'never'), timezone-aware or UTC assumed."""
    if when is None:
        return 0.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def parse_time(text: str | None) -> dt.datetime | None:
    """An ISO 8601 time (a trailing Z allowed); None for empty or RT's 'not set' value."""
    if not text:
        return None
    text = text.strip()
    if text.startswith("1970-01-01"):
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SourceError(f"not an ISO 8601 time: {text[:40]!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
