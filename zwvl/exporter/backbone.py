"""Backbone state read from FRRouting on the routers: link up per circuit end, OSPF adjacencies, and
per site the number of node-disjoint paths to a regional datacenter that are up now vs. by design.

How a router's vtysh is reached is pluggable (`RouterAccess`):

- ``lab``: the fibre lab of ``zwvl.lab`` (its Python API lists the routers and their init PIDs;
  vtysh runs inside each router's namespaces through nsenter);
- ``netns``: one FRR instance per network namespace started with ``-N <ns>`` (FRR's pathspace; the
  fibre lab instead gives each router its own mount namespace, hence ``lab``); the namespace name
  comes from a template (default: the device name). A router counts as monitored when its namespace
  exists.
- ``sockets``: FRR daemons started with ``--vty_socket <root>/<device>``; monitored when the
  folder holds ``zebra.vty``.
- ``command``: any argv template with ``{device}`` (e.g. ``nsenter ... vtysh``), monitored when its
  namespace exists.

Only routers that exist in the domain model and are monitored are read; circuits count when both
ends are monitored, so a lab holding a subset of the region reports that subset consistently.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from prometheus_client.core import Metric

from zwvl.backbone import is_lit
from zwvl.exporter.base import SourceError, gauge
from zwvl.exporter.model import ModelCache
from zwvl.inventory import Inventory
from zwvl.monitoring.names import MetricName
from zwvl.policy.topology import Topology

OSPF_STATES = ("Full", "Loading", "Exchange", "ExStart", "2-Way", "Init", "Attempt", "Down")
NETNS_DIR = Path("/run/netns")
SHOW_COMMANDS = ("show interface json", "show ip ospf neighbor json")


@dataclass
class RouterState:
    interfaces: dict[str, bool] = field(default_factory=dict)  # interface -> operationally up
    neighbors: list[tuple[str, str, str]] = field(default_factory=list)  # (router id, interface, state)

    def adjacency_full(self, interface: str) -> bool:
        return any(i == interface and s == "Full" for _, i, s in self.neighbors)


class RouterAccess(Protocol):
    def covered(self, devices: Sequence[str]) -> set[str]: ...

    def vtysh_argv(self, device: str) -> list[str]: ...


def netns_names() -> set[str]:
    try:
        return set(os.listdir(NETNS_DIR))
    except OSError:
        return set()


class NetnsPathspace:
    """FRR with ``-N <namespace>``; vtysh -N reaches it from the root namespace."""

    def __init__(self, template: str = "{device}", vtysh: str = "vtysh") -> None:
        self.template = template
        self.vtysh = vtysh

    def ns(self, device: str) -> str:
        return self.template.format(device=device)

    def covered(self, devices: Sequence[str]) -> set[str]:
        present = netns_names()
        return {d for d in devices if self.ns(d) in present}

    def vtysh_argv(self, device: str) -> list[str]:
        return [self.vtysh, "-N", self.ns(device)]


class SocketDirs:
    """FRR daemons started with ``--vty_socket <root>/<device>``."""

    def __init__(self, root: Path, vtysh: str = "vtysh") -> None:
        self.root = root
        self.vtysh = vtysh

    def covered(self, devices: Sequence[str]) -> set[str]:
        return {d for d in devices if (self.root / d / "zebra.vty").exists()}

    def vtysh_argv(self, device: str) -> list[str]:
        return [self.vtysh, "--vty_socket", str(self.root / device)]


class CommandTemplate:
    """Any vtysh command line with ``{device}``; a router is monitored when its namespace exists."""

    def __init__(self, template: str, netns_template: str = "{device}") -> None:
        self.template = template
        self.netns_template = netns_template

    def covered(self, devices: Sequence[str]) -> set[str]:
        present = netns_names()
        return {d for d in devices if self.netns_template.format(device=d) in present}

    def vtysh_argv(self, device: str) -> list[str]:
        return [part.format(device=device) for part in shlex.split(self.template)]


class LabRouters:
    """The fibre lab's routers (`zwvl.lab`): each runs in its own network, mount, UTS and PID
    namespaces, so vtysh runs inside them with nsenter on the router's init process. The lab's state
    folder is $ZWVL_LAB_DIR (default /run/zwvl-lab)."""

    def __init__(self, name: str = "main") -> None:
        self.name = name
        self._init: dict[str, int] = {}

    def covered(self, devices: Sequence[str]) -> set[str]:
        from zwvl.lab import Lab, LabError

        try:
            routers = Lab(self.name).routers()
        except LabError as exc:
            raise SourceError(f"lab {self.name!r}: {exc}") from None
        self._init = {r.name: r.init_pid for r in routers if r.alive and r.init_pid is not None}
        # a router of the lab that is not running still counts: its links are down
        wanted = set(devices)
        return {r.name for r in routers if r.name in wanted}

    def vtysh_argv(self, device: str) -> list[str]:
        init = self._init.get(device)
        if init is None:
            return ["false"]  # not running: read fails, router_up 0
        return ["nsenter", "-t", str(init), "-m", "-u", "-n", "-p", "--wd=/", "--", "vtysh"]


def access_from_spec(spec: str) -> RouterAccess:
    """``lab[:<name>]``, ``netns[:<template>]``, ``sockets:<dir>`` or ``command:<argv template>``."""
    kind, _, arg = spec.partition(":")
    if kind == "lab":
        return LabRouters(arg or "main")
    if kind == "netns":
        return NetnsPathspace(arg or "{device}")
    if kind == "sockets" and arg:
        return SocketDirs(Path(arg))
    if kind == "command" and arg:
        return CommandTemplate(arg)
    raise ValueError(
        f"unknown FRR access {spec!r}: use lab[:NAME], netns[:TEMPLATE], sockets:DIR or command:ARGV"
    )


def _json_objects(text: str) -> list[object]:
    """vtysh prints one JSON document per -c command, back to back."""
    dec = json.JSONDecoder()
    out: list[object] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        obj, i = dec.raw_decode(text, i)
        out.append(obj)
    return out


def normalize_state(state: str) -> str:
    base = state.split("/", 1)[0]
    return base if base in OSPF_STATES else "Down"


def parse_router(text: str) -> RouterState:
    try:
        docs = _json_objects(text)
    except ValueError:
        raise SourceError("vtysh printed something that is not JSON") from None
    if len(docs) != 2 or not all(isinstance(d, dict) for d in docs):
        raise SourceError("vtysh did not answer both show commands")
    interfaces_doc, neighbors_doc = docs
    assert isinstance(interfaces_doc, dict) and isinstance(neighbors_doc, dict)
    state = RouterState()
    for name, data in interfaces_doc.items():
        if isinstance(data, dict):
            state.interfaces[name] = data.get("operationalStatus") == "up"
    neighbors = neighbors_doc.get("neighbors", {})
    if isinstance(neighbors, dict):
        for rid, entries in neighbors.items():
            for e in entries if isinstance(entries, list) else [entries]:
                if not isinstance(e, dict):
                    continue
                iface = str(e.get("ifaceName", "")).split(":", 1)[0]
                raw = e.get("nbrState") or e.get("state") or "Down"
                state.neighbors.append((rid, iface, normalize_state(str(raw))))
    return state


def read_router(argv: list[str], timeout: float) -> RouterState:
    cmd = list(argv)
    for c in SHOW_COMMANDS:
        cmd += ["-c", c]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceError(f"vtysh failed: {exc.__class__.__name__}") from None
    if proc.returncode != 0:
        raise SourceError(f"vtysh exited {proc.returncode}")
    return parse_router(proc.stdout)


def site_paths(topo: Topology, site: str) -> int:
    """Node-disjoint paths from a site to a regional datacenter, capped at 2."""
    if not topo.reachable(site):
        return 0
    return 2 if topo.redundant_hub(site) is not None else 1


def routers(inv: Inventory) -> list[str]:
    return sorted(d.name for d in inv.devices.values() if d.role == "router" and d.status == "active")


class BackboneSource:
    name = "backbone"

    def __init__(
        self, cache: ModelCache, access: RouterAccess, timeout: float = 5.0, parallel: int = 4
    ) -> None:
        self.cache = cache
        self.access = access
        self.timeout = timeout
        self.parallel = max(1, parallel)

    def read_all(self, devices: Sequence[str]) -> dict[str, RouterState | None]:
        def one(device: str) -> RouterState | None:
            try:
                return read_router(self.access.vtysh_argv(device), self.timeout)
            except SourceError:
                return None

        with ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="zwvl-frr") as pool:
            return dict(zip(devices, pool.map(one, devices), strict=True))

    def collect(self) -> Iterable[Metric]:
        inv = self.cache.get().inv
        covered = sorted(self.access.covered(routers(inv)))
        states = self.read_all(covered)

        router_up = gauge(MetricName.BACKBONE_ROUTER_UP)
        neighbors = gauge(MetricName.BACKBONE_OSPF_NEIGHBORS)
        for dev in covered:
            site = inv.devices[dev].site
            st = states[dev]
            router_up.add_metric([dev, site, inv.sites[site].partner], 1.0 if st else 0.0)
            counts = Counter(s for _, _, s in st.neighbors) if st else Counter()
            for s in OSPF_STATES:
                neighbors.add_metric([dev, s], float(counts.get(s, 0)))

        iface_up = gauge(MetricName.BACKBONE_INTERFACE_UP)
        adj_full = gauge(MetricName.BACKBONE_OSPF_ADJACENCY_FULL)
        link_up = gauge(MetricName.BACKBONE_LINK_UP)
        covered_set = set(covered)
        live: dict[str, str] = {}
        design: dict[str, str] = {}
        for ckt in sorted(inv.circuits.values(), key=lambda c: c.cid):
            if not is_lit(ckt.status, design=False) or not {ckt.a.device, ckt.z.device} <= covered_set:
                live[ckt.cid] = design[ckt.cid] = "decommissioned"
                continue
            design[ckt.cid] = "active"
            both = True
            for end, peer in ((ckt.a, ckt.z), (ckt.z, ckt.a)):
                st = states[end.device]
                up_if = bool(st and st.interfaces.get(end.interface, False))
                full = bool(st and st.adjacency_full(end.interface))
                labels = [
                    ckt.cid,
                    end.site,
                    peer.site,
                    end.device,
                    end.interface,
                    inv.sites[end.site].partner,
                ]
                iface_up.add_metric(labels, 1.0 if up_if else 0.0)
                adj_full.add_metric(labels, 1.0 if full else 0.0)
                link_up.add_metric(labels, 1.0 if up_if and full else 0.0)
                both = both and up_if and full
            live[ckt.cid] = "active" if both else "decommissioned"

        paths = gauge(MetricName.BACKBONE_SITE_PATHS)
        design_paths = gauge(MetricName.BACKBONE_SITE_DESIGN_PATHS)
        live_topo = Topology(inv, status_override=live, design=False)
        design_topo = Topology(inv, status_override=design, design=False)
        for site in sorted({inv.devices[d].site for d in covered}):
            labels = [site, inv.sites[site].partner]
            paths.add_metric(labels, float(site_paths(live_topo, site)))
            design_paths.add_metric(labels, float(site_paths(design_topo, site)))
        yield from (router_up, neighbors, iface_up, adj_full, link_up, paths, design_paths)
