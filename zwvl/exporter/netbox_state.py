"""NetBox reconciler state: drift (managed objects changed by hand) and the last successful apply.

Both are pluggable because the exporter must not slow down a scrape with NetBox reads:

- drift from a command (default ``zwvl drift --format json``), run in a background thread every
  ``interval`` seconds with a timeout; its exit code says whether there is drift (0 none, 2 drift,
  anything else an error, as the reconciler documents) and, when its JSON lists the drifted
  objects, they are counted per kind;
- drift from a JSON report file (e.g. written by CI with ``zwvl drift --format json --output``);
- the last successful apply from a state file the reconciler writes after each successful apply
  (JSON with ``finished_at``; without it the file's modification time counts).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.core import Metric

from zwvl.exporter.base import SourceError, gauge, parse_time, timestamp
from zwvl.monitoring.names import MetricName

KIND_KEYS = ("kind", "object_type", "type", "model")


@dataclass(frozen=True)
class DriftReport:
    checked_at: float  # epoch seconds
    drift: bool
    objects: dict[str, int] = field(default_factory=dict)  # kind -> drifted objects (when known)


def _count_kinds(data: Any) -> dict[str, int]:
    """Count drifted objects per kind in a JSON drift report (a list, or a dict holding one)."""
    items: Any = data
    if isinstance(data, dict):
        for key in ("drift", "objects", "changes", "items"):
            if isinstance(data.get(key), list):
                items = data[key]
                break
        else:
            return {}
    if not isinstance(items, list):
        return {}
    counts: Counter[str] = Counter()
    for item in items:
        if isinstance(item, dict):
            kind = next((str(item[k]) for k in KIND_KEYS if isinstance(item.get(k), str)), "unknown")
            counts[kind] += 1
    return dict(counts)


def read_drift_file(path: Path) -> DriftReport:
    """A JSON drift report: ``{"checked_at": ISO-8601, "drift": [{"kind": ..., ...}, ...]}``."""
    try:
        text = path.read_text(encoding="utf-8")
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise SourceError(f"cannot read drift report {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise SourceError(f"drift report {path} is not JSON") from None
    checked = parse_time(data.get("checked_at")) if isinstance(data, dict) else None
    objects = _count_kinds(data)
    drift = bool(objects) or (isinstance(data, dict) and bool(data.get("drift")))
    return DriftReport(timestamp(checked) if checked else mtime, drift, objects)


class DriftCommand:
    """Runs the reconciler's drift command in the background; `latest()` gives the last report."""

    def __init__(
        self, argv: list[str], interval: float = 300.0, timeout: float = 120.0, cwd: Path | None = None
    ) -> None:
        self.argv = argv
        self.cwd = cwd
        self.interval = interval
        self.timeout = timeout
        self._latest: DriftReport | None = None
        self._error: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def default(cls, inventory_dir: Path, interval: float = 300.0) -> DriftCommand:
        # run beside the inventory, as CI does: the reconciler finds inventory/ and NetBox itself
        argv = [sys.executable, "-m", "zwvl", "drift", "--format", "json"]
        return cls(argv, interval, cwd=inventory_dir.resolve().parent)

    @classmethod
    def from_string(cls, command: str, interval: float = 300.0) -> DriftCommand:
        return cls(shlex.split(command), interval)

    def run_once(self) -> DriftReport:
        try:
            proc = subprocess.run(
                self.argv,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                stdin=subprocess.DEVNULL,
                cwd=self.cwd,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SourceError(f"drift command failed: {exc.__class__.__name__}") from None
        if proc.returncode not in (0, 2):
            raise SourceError(f"drift command exited {proc.returncode}")
        try:
            data = json.loads(proc.stdout)
        except ValueError:
            # exit 2 is also click's usage error: without a JSON report it is no drift verdict
            raise SourceError(f"drift command exited {proc.returncode} without a JSON report") from None
        return DriftReport(time.time(), proc.returncode == 2, _count_kinds(data))

    def refresh(self) -> None:
        try:
            report = self.run_once()
        except SourceError as exc:
            with self._lock:
                self._error = str(exc)
            return
        with self._lock:
            self._latest, self._error = report, None

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                self.refresh()
                self._stop.wait(self.interval)

        self._thread = threading.Thread(target=loop, name="zwvl-drift", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def latest(self) -> DriftReport:
        with self._lock:
            if self._error is not None:
                raise SourceError(self._error)
            if self._latest is None:
                raise SourceError("drift not checked yet")
            return self._latest


def read_apply_state(path: Path) -> float | None:
    """Epoch seconds of the last successful apply, from the reconciler's state file (None: never)."""
    try:
        text = path.read_text(encoding="utf-8")
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SourceError(f"cannot read apply state {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        raise SourceError(f"apply state {path} is not JSON") from None
    finished = parse_time(data.get("finished_at")) if isinstance(data, dict) else None
    return timestamp(finished) if finished else mtime


class NetboxStateSource:
    """zwvl_netbox_* metrics from a drift reader and an apply-state reader (either may be absent)."""

    name = "netbox"

    def __init__(
        self,
        drift: Callable[[], DriftReport] | None = None,
        apply_state: Callable[[], float | None] | None = None,
    ) -> None:
        self.drift = drift
        self.apply_state = apply_state

    def collect(self) -> Iterable[Metric]:
        if self.drift is not None:
            report = self.drift()
            detected = gauge(MetricName.NETBOX_DRIFT_DETECTED)
            detected.add_metric([], 1.0 if report.drift else 0.0)
            objects = gauge(MetricName.NETBOX_DRIFT_OBJECTS)
            for kind, n in sorted(report.objects.items()):
                objects.add_metric([kind], float(n))
            checked = gauge(MetricName.NETBOX_DRIFT_LAST_CHECK_TIMESTAMP_SECONDS)
            checked.add_metric([], report.checked_at)
            yield from (detected, objects, checked)
        if self.apply_state is not None:
            when = self.apply_state()
            last = gauge(MetricName.NETBOX_LAST_APPLY_SUCCESS_TIMESTAMP_SECONDS)
            last.add_metric([], when or 0.0)
            yield last


def env_path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value) if value else None
