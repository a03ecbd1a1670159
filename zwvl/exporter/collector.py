"""The custom collector: one pass over every source per scrape, each timed and isolated."""

from __future__ import annotations

import logging
import platform
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from prometheus_client.core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from zwvl import __version__
from zwvl.exporter.base import Source, SourceError, counter, gauge, info
from zwvl.monitoring.names import MetricName

log = logging.getLogger("zwvl.exporter")


def git_revision(repo: Path) -> str:
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else "unknown"


class ZwvlCollector(Collector):
    """Builds fresh metric families on every scrape from the configured sources."""

    def __init__(self, sources: Sequence[Source], revision: str = "unknown", timeout: float = 60.0) -> None:
        self.sources = list(sources)
        self.revision = revision
        self.timeout = timeout
        self.scrapes = 0
        self.errors: Counter[str] = Counter()
        self._lock = threading.Lock()

    def describe(self) -> Iterable[Metric]:
        return []  # names vary with the configured sources; no describe-time collect

    def collect(self) -> Iterable[Metric]:
        start = time.perf_counter()
        if not self._lock.acquire(timeout=self.timeout):
            log.warning("scrape skipped: another scrape is still running")
            return
        try:
            yield from self._collect(start)
        finally:
            self._lock.release()

    def _collect(self, start: float) -> Iterable[Metric]:
        self.scrapes += 1
        src_up = gauge(MetricName.SOURCE_UP)
        src_dur = gauge(MetricName.SOURCE_SCRAPE_DURATION_SECONDS)
        out: list[Metric] = []
        for src in self.sources:
            t0 = time.perf_counter()
            ok = True
            try:
                metrics = list(src.collect())
            except SourceError as exc:
                ok, metrics = False, []
                log.warning("source %s failed: %s", src.name, exc)
            except Exception as exc:  # one broken source must not take down the scrape
                ok, metrics = False, []
                log.warning("source %s failed: %s", src.name, exc.__class__.__name__)
            if not ok:
                self.errors[src.name] += 1
            out.extend(metrics)
            src_up.add_metric([src.name], 1.0 if ok else 0.0)
            src_dur.add_metric([src.name], time.perf_counter() - t0)
        yield from out
        yield src_up
        yield src_dur
        errors = counter(MetricName.SOURCE_ERRORS_TOTAL)
        for src in self.sources:
            errors.add_metric([src.name], float(self.errors.get(src.name, 0)))
        yield errors
        up = gauge(MetricName.UP)
        up.add_metric([], 1.0)
        yield up
        build = info(MetricName.BUILD_INFO)
        build.add_metric(
            [],
            {"version": __version__, "revision": self.revision, "python_version": platform.python_version()},
        )
        yield build
        scrapes = counter(MetricName.SCRAPES_TOTAL)
        scrapes.add_metric([], float(self.scrapes))
        yield scrapes
        dur = gauge(MetricName.SCRAPE_DURATION_SECONDS)
        dur.add_metric([], time.perf_counter() - start)
        yield dur


def registry_for(collector: ZwvlCollector) -> CollectorRegistry:
    """A registry with only our collector: no default process/platform metrics (one prefix)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(collector)
    return reg
