"""What NetBox says to monitor: the scrape targets (served as Prometheus HTTP service discovery) and
the OSPF adjacency every lit, cabled circuit should have (``zwvl_backbone_adjacency_expected``).

NetBox is read in the background every ``refresh`` seconds (the first read before the exporter
serves), never while a scrape or an SD request waits: a region's read takes seconds, a scrape must
not. Both answers come from the same read. A failed read keeps the last good view (a NetBox restart
does not empty Prometheus' targets, nor the expected adjacencies FibreLinkDown needs); with no good
read yet, the SD endpoint answers 503 and Prometheus keeps what it had, and the source reports itself
down (``zwvl_source_up{source="netbox-backbone"} 0``).

The backbone is `zwvl.backbone.from_netbox` of the same records the Ansible inventory plugin and the
lab read, with ``design=False``: planned circuits are configured on the routers but expect no
neighbour yet.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client.core import Metric

from zwvl.backbone import Backbone, from_netbox
from zwvl.exporter.base import SourceError, gauge
from zwvl.exporter.model import ModelCache
from zwvl.monitoring.names import MetricName
from zwvl.monitoring.scrape import Target, netbox_device_targets, service_targets
from zwvl.netbox.client import NetboxClient
from zwvl.netbox.reader import fetch_records

log = logging.getLogger("zwvl.exporter")


@dataclass(frozen=True)
class View:
    targets: tuple[Target, ...]
    backbone: Backbone


class NetboxView:
    """The last good view of NetBox, read again every ``refresh`` seconds by a background thread."""

    def __init__(self, client: Callable[[], NetboxClient], cache: ModelCache, refresh: float = 60.0) -> None:
        self._client = client
        self._cache = cache
        self.refresh = refresh
        self._lock = threading.Lock()
        self._view: View | None = None
        self._error: str | None = "NetBox not read yet"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _read(self) -> View:
        client = self._client()
        # the device jobs from NetBox; the services' monitoring kind only the model holds
        targets = netbox_device_targets(client) + service_targets(self._cache.get().inv)
        backbone = from_netbox(fetch_records(client, interfaces="connected"), design=False)
        return View(tuple(targets), backbone)

    def read_once(self) -> bool:
        """Read NetBox now; on failure keep the last good view. True when the read succeeded."""
        try:
            view = self._read()
        except Exception as exc:  # noqa: BLE001 (any failed read keeps the last good view)
            with self._lock:
                self._error = f"reading NetBox: {exc}"
            log.warning("reading NetBox: %s", exc)
            return False
        with self._lock:
            self._view, self._error = view, None
        return True

    def start(self) -> None:
        """The first read now, then one every ``refresh`` seconds until `stop`."""
        self.read_once()

        def loop() -> None:
            while not self._stop.wait(self.refresh):
                self.read_once()

        self._thread = threading.Thread(target=loop, name="zwvl-netbox-view", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def get(self) -> View:
        """The last good view (a failed read is logged and keeps it); raises SourceError while NetBox
        has never been read successfully."""
        with self._lock:
            if self._view is None:
                raise SourceError(self._error or "NetBox not read yet")
            return self._view

    def http_sd(self, job: str) -> list[dict[str, object]]:
        """Prometheus' HTTP SD answer for one job: a target group per target, with its labels."""
        return [
            {"targets": [t.address], "labels": dict(t.labels)}
            for t in sorted(self.get().targets, key=lambda t: (t.address, t.labels))
            if t.job == job
        ]

    def jobs(self) -> list[str]:
        return sorted({t.job for t in self.get().targets})


class ExpectedBackboneSource:
    """``zwvl_backbone_adjacency_expected``: 1 for each end of a lit circuit cabled to two routers in
    NetBox. The FibreLinkDown rule compares it with prometheus-frr-exporter's adjacencies."""

    name = "netbox-backbone"

    def __init__(self, view: NetboxView) -> None:
        self.view = view

    def collect(self) -> Iterable[Metric]:
        bb = self.view.get().backbone
        expected = gauge(MetricName.BACKBONE_ADJACENCY_EXPECTED)
        for link in sorted(bb.links.values(), key=lambda lk: lk.cid):
            for end, peer in ((link.a, link.z), (link.z, link.a)):
                router, other = bb.routers[end.router], bb.routers[peer.router]
                labels = [
                    link.cid,
                    router.site,
                    other.site,
                    end.router,
                    end.interface,
                    router.tenant,
                    peer.router,
                ]
                expected.add_metric(labels, 1.0)
        yield expected
