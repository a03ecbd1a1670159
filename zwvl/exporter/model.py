"""The domain model and policy results, loaded once and reloaded only when the files change.

Metrics: inventory state, policy results per principle, rule, severity and partner, programme
indicators, fibre coverage of public buildings per partner, and the datasets' declared freshness.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.core import Metric

from zwvl.exporter.base import SourceError, gauge, info
from zwvl.inventory import Inventory, InventoryError, load_inventory
from zwvl.monitoring.names import MetricName
from zwvl.policy.runner import CheckResult, run_checks

PRINCIPLE_STATUSES = ("pass", "fail", "warn", "waived", "manual")
FINDING_STATUSES = ("pass", "fail", "waived")
REGION = "region"  # partner label of findings that belong to no single partner


@dataclass(frozen=True)
class Snapshot:
    inv: Inventory
    result: CheckResult
    loaded_at: float  # epoch seconds
    signature: tuple[tuple[str, int, int], ...]


def tree_signature(*roots: Path) -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime_ns) of every YAML file under the roots: cheap, and changes on any edit."""
    out: list[tuple[str, int, int]] = []
    for root in roots:
        if not root.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for fn in sorted(filenames):
                if fn.endswith((".yaml", ".yml")):
                    p = os.path.join(dirpath, fn)
                    try:
                        st = os.stat(p)
                    except OSError:
                        continue
                    out.append((p, st.st_size, st.st_mtime_ns))
    return tuple(out)


class ModelCache:
    """Holds the last good domain model and check result; reloads when the YAML files change.

    An invalid edit keeps the last good snapshot (reported with zwvl_inventory_valid 0).
    """

    def __init__(self, inventory_dir: Path, policies_dir: Path | None = None) -> None:
        self.inventory_dir = inventory_dir.resolve()
        self.repo_root = self.inventory_dir.parent
        self.policies_dir = (policies_dir or self.repo_root / "policies").resolve()
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self.valid = False
        self.problems = 0

    def get(self) -> Snapshot:
        with self._lock:
            sig = tree_signature(self.inventory_dir, self.policies_dir)
            if self._snapshot is not None and self._snapshot.signature == sig:
                return self._snapshot
            try:
                inv = load_inventory(self.inventory_dir)
                result = run_checks(inv, self.repo_root, self.policies_dir)
            except InventoryError as exc:
                self.valid = False
                self.problems = len(exc.problems)
                if self._snapshot is None:
                    raise SourceError(f"inventory invalid: {len(exc.problems)} problem(s)") from None
                return self._snapshot
            self.valid = True
            self.problems = 0
            self._snapshot = Snapshot(inv, result, time.time(), sig)
            return self._snapshot


def object_partner(inv: Inventory, obj: str) -> str:
    """The partner a finding's object ("kind:key") belongs to, or 'region' for shared objects."""
    kind, _, key = obj.partition(":")
    site: str | None = None
    if kind == "partner" and key in inv.partners:
        return key
    if kind == "site":
        site = key
    elif kind == "device" and key in inv.devices:
        site = inv.devices[key].site
    elif kind == "service" and key in inv.services:
        return inv.services[key].partner
    elif kind == "circuit" and key in inv.circuits:
        ckt = inv.circuits[key]
        pa = inv.sites[ckt.a.site].partner if ckt.a.site in inv.sites else None
        pz = inv.sites[ckt.z.site].partner if ckt.z.site in inv.sites else None
        return pa if pa is not None and pa == pz else REGION
    if site is not None and site in inv.sites:
        return inv.sites[site].partner
    return REGION


class ModelSource:
    """Inventory, policy results, indicators and fibre coverage from the domain model."""

    name = "model"

    def __init__(self, cache: ModelCache) -> None:
        self.cache = cache

    def collect(self) -> Iterable[Metric]:
        snap = self.cache.get()
        inv, result = snap.inv, snap.result

        valid = gauge(MetricName.INVENTORY_VALID)
        valid.add_metric([], 1.0 if self.cache.valid else 0.0)
        yield valid
        loaded = gauge(MetricName.INVENTORY_LAST_LOAD_TIMESTAMP_SECONDS)
        loaded.add_metric([], snap.loaded_at)
        yield loaded
        objects = gauge(MetricName.INVENTORY_OBJECTS)
        for kind, n in sorted(inv.counts().items()):
            objects.add_metric([kind], float(n))
        yield objects

        yield from self._policy(inv, result)
        yield from self._indicators(result)
        yield from self._fibre_coverage(result)
        yield from self._datasets(inv)

    def _policy(self, inv: Inventory, result: CheckResult) -> Iterable[Metric]:
        pinfo = info(MetricName.POLICY_PRINCIPLE_INFO)
        pstatus = gauge(MetricName.POLICY_PRINCIPLE_STATUS)
        rinfo = info(MetricName.POLICY_RULE_INFO)
        failures = gauge(MetricName.POLICY_RULE_FAILURES)
        findings = gauge(MetricName.POLICY_FINDINGS)
        for p in result.principles:
            pinfo.add_metric([p.spec.id], {"group": p.spec.group, "kind": p.spec.kind, "title": p.spec.title})
            for st in PRINCIPLE_STATUSES:
                pstatus.add_metric([p.spec.id, p.spec.group, st], 1.0 if p.status == st else 0.0)
            for r in p.rules:
                rinfo.add_metric(
                    [r.spec.id], {"principle": p.spec.id, "severity": r.spec.severity, "title": r.spec.title}
                )
                fails = sum(1 for f in r.findings if f.status == "fail")
                failures.add_metric([p.spec.id, r.spec.id, r.spec.severity], float(fails))
                counts: Counter[tuple[str, str]] = Counter(
                    (f.status, object_partner(inv, f.object)) for f in r.findings
                )
                for (status, partner), n in sorted(counts.items()):
                    findings.add_metric([p.spec.id, r.spec.id, r.spec.severity, status, partner], float(n))
        yield from (pinfo, pstatus, rinfo, failures, findings)

    def _indicators(self, result: CheckResult) -> Iterable[Metric]:
        iinfo = info(MetricName.INDICATOR_INFO)
        value = gauge(MetricName.INDICATOR_VALUE)
        target = gauge(MetricName.INDICATOR_TARGET)
        for ind in result.indicators:
            iinfo.add_metric([ind["id"]], {"title": ind["title"], "unit": ind["unit"]})
            value.add_metric([ind["id"]], float(ind["value"]))
            if ind.get("target") is not None:
                target.add_metric([ind["id"]], float(ind["target"]))
        yield from (iinfo, value, target)

    def _fibre_coverage(self, result: CheckResult) -> Iterable[Metric]:
        """The per-partner detail of the fibre-coverage indicator: public buildings, and those connected."""
        buildings = gauge(MetricName.FIBRE_PUBLIC_BUILDINGS)
        connected = gauge(MetricName.FIBRE_PUBLIC_BUILDINGS_CONNECTED)
        for ind in result.indicators:
            if ind["id"] == "fibre-coverage":
                for partner, d in sorted(ind["detail"].items()):
                    buildings.add_metric([partner], float(d["total"]))
                    connected.add_metric([partner], float(d["connected"]))
        yield from (buildings, connected)

    def _datasets(self, inv: Inventory) -> Iterable[Metric]:
        dinfo = info(MetricName.DATASET_INFO)
        stale = gauge(MetricName.DATASET_STALE_AFTER_SECONDS)
        partners = gauge(MetricName.DATASET_PARTNERS)
        for ds in sorted(inv.datasets.values(), key=lambda d: d.slug):
            dinfo.add_metric(
                [ds.slug],
                {
                    "domain": ds.domain,
                    "classification": ds.classification,
                    "service": ds.service,
                    "open_data": "true" if ds.open_data else "false",
                    "name": ds.name,
                },
            )
            stale.add_metric([ds.slug, ds.domain], float(ds.stale_after_hours * 3600))
            partners.add_metric([ds.slug, ds.domain], float(len(ds.partners)))
        yield from (dinfo, stale, partners)
