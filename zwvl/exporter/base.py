"""What every exporter source shares: the Source protocol and small metric helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric

from zwvl.monitoring.names import PREFIX


class SourceError(RuntimeError):
    """A source could not be read this scrape; its message is safe to log (no secrets)."""


class Source(Protocol):
    """One part of the exporter's data. `collect` is called once per scrape and builds new families."""

    name: str

    def collect(self) -> Iterable[Metric]: ...


def metric_name(name: str) -> str:
    """The family's full name. Sources pass a `zwvl.monitoring.names.MetricName` (prefix included);
    a bare name without the prefix still gets it (``"up"`` is ``zwvl_up``)."""
    return str(name) if name.startswith(f"{PREFIX}_") else f"{PREFIX}_{name}"


def gauge(name: str, doc: str, labels: Sequence[str] = (), unit: str = "") -> GaugeMetricFamily:
    return GaugeMetricFamily(metric_name(name), doc, labels=list(labels), unit=unit)


def counter(name: str, doc: str, labels: Sequence[str] = ()) -> CounterMetricFamily:
    # exposed as <family>_total: prometheus_client drops a given _total and appends it itself
    return CounterMetricFamily(metric_name(name), doc, labels=list(labels))


def info(name: str, doc: str, labels: Sequence[str] = ()) -> InfoMetricFamily:
    # exposed as <family>_info: the name is given as PromQL reads it (with _info) or without it
    return InfoMetricFamily(metric_name(name).removesuffix("_info"), doc, labels=list(labels))


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
