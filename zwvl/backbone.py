"""The fibre backbone as NetBox holds it (routers, links with both ends, OSPF cost, status) and the one
rule for which circuits are lit.

Every part that asks "does this circuit carry OSPF?" asks here:

- :func:`is_lit`: a status is lit *by design* (``active`` or ``planned``: what the I1 policy counts,
  what the routers are configured for) or *live* (``active`` only: what carries traffic today, what
  the exporter expects an adjacency on). The status words of the domain model (``model.Status``) and
  NetBox's choices (``netbox.vocab``) are only vocabularies translated into each other.
- :func:`from_netbox`: the backbone from NetBox's records (``zwvl.netbox.reader``), with the links
  that are lit and, for every circuit left out, why. The lab builds its namespaces and veth pairs
  from it, and the ``zwvl_netbox`` Ansible inventory plugin gives each router its loopback and links
  as the host variables ``backbone_loopback`` and ``backbone_links`` (:meth:`Backbone.ospf_links`)
  that the ``frr_ospf`` role writes into frr.conf.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface
from typing import Any

from zwvl.netbox.kinds import LOOPBACK_INTERFACE
from zwvl.netbox.reader import CIRCUIT_TERMINATION, NetboxRecords
from zwvl.netbox.vocab import CIRCUIT_STATUS_BACK

LIVE = frozenset({"active"})
"""Circuit statuses that carry traffic today."""
DESIGN = LIVE | {"planned"}
"""Circuit statuses of the designed backbone: configured on the routers, counted by the I1 policy."""


COST_FIELD = "ospf_cost"
"""The NetBox circuit custom field holding the link's OSPF cost (empty: the router's default)."""


def is_lit(status: str, *, design: bool = True) -> bool:
    """Whether a circuit with this (inventory vocabulary) status carries OSPF."""
    return status in (DESIGN if design else LIVE)


@dataclass(frozen=True)
class End:
    """One end of a fibre link: a router interface and its point-to-point address."""

    router: str
    interface: str
    address: IPv4Interface

    def __str__(self) -> str:
        """How an operator names the end: router and interface."""
        return self.router + " " + self.interface


@dataclass(frozen=True)
class Link:
    """A lit fibre circuit between two router interfaces."""

    cid: str
    a: End
    z: End
    cost: int | None = None
    status: str = "active"

    @property
    def routers(self) -> tuple[str, str]:
        return self.a.router, self.z.router

    def end(self, router: str) -> End:
        if router == self.a.router:
            return self.a
        if router == self.z.router:
            return self.z
        raise KeyError(router)

    def peer(self, router: str) -> End:
        return self.z if router == self.a.router else self.a


@dataclass(frozen=True)
class Router:
    """A router device with its loopback address (router id)."""

    name: str
    loopback: IPv4Interface
    site: str = ""
    tenant: str = ""
    status: str = "active"

    @property
    def loopback_ip(self) -> IPv4Address:
        return self.loopback.ip


@dataclass
class Backbone:
    """Routers and lit links, plus what was left out and why."""

    routers: dict[str, Router] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    """Circuit id (or device name) -> why it is not in the backbone."""

    def links_of(self, router: str) -> list[Link]:
        return [lk for lk in self.links.values() if router in lk.routers]

    def ospf_links(self, router: str) -> list[dict[str, Any]]:
        """The router's lit links as plain data for the ``frr_ospf`` template, by interface name."""
        out = []
        for lk in self.links_of(router):
            end, peer = lk.end(router), lk.peer(router)
            out.append(
                {
                    "cid": lk.cid,
                    "interface": end.interface,
                    "address": str(end.address),
                    "cost": lk.cost,
                    "status": lk.status,
                    "peer": peer.router,
                    "peer_interface": peer.interface,
                    "peer_address": str(peer.address.ip),
                }
            )
        return sorted(out, key=lambda d: d["interface"])


def _slug(obj: Any) -> str:
    if isinstance(obj, Mapping):
        return str(obj.get("slug") or obj.get("value") or obj.get("name") or "")
    return "" if obj is None else str(obj)


def _value(obj: Any) -> str:
    if isinstance(obj, Mapping):
        return str(obj.get("value") or "")
    return "" if obj is None else str(obj)


def from_netbox(rec: NetboxRecords, *, design: bool = True, cost_field: str = COST_FIELD) -> Backbone:
    """Routers are the given devices with a loopback; links are lit circuits whose two terminations
    are cabled to enabled interfaces of those routers, each with exactly one IPv4 address."""
    bb = Backbone()
    devices = {d["id"]: d for d in rec.devices}
    ifaces = {i["id"]: i for i in rec.interfaces if (i.get("device") or {}).get("id") in devices}
    v4: dict[int, list[IPv4Interface]] = {}
    for ip in rec.ip_addresses:
        if ip.get("assigned_object_type") != "dcim.interface" or ip.get("assigned_object_id") not in ifaces:
            continue
        if ":" not in str(ip["address"]):
            v4.setdefault(ip["assigned_object_id"], []).append(IPv4Interface(ip["address"]))
    loopbacks = {
        itf["device"]["id"]: v4[i][0]
        for i, itf in ifaces.items()
        if itf["name"] == LOOPBACK_INTERFACE and v4.get(i)
    }
    for dev_id, dev in sorted(devices.items(), key=lambda kv: kv[1]["name"]):
        name = dev["name"]
        lo = loopbacks.get(dev_id)
        if lo is None and dev.get("primary_ip4"):
            lo = IPv4Interface(dev["primary_ip4"]["address"])
        if lo is None:
            bb.skipped[name] = "no loopback address (interface lo or primary IPv4) in NetBox"
            continue
        bb.routers[name] = Router(
            name, lo, _slug(dev.get("site")), _slug(dev.get("tenant")), _value(dev.get("status")) or "active"
        )

    ends: dict[str, dict[str, tuple[dict[str, Any], int]]] = {}
    for iid, itf in ifaces.items():
        if itf.get("link_peers_type") != CIRCUIT_TERMINATION:
            continue
        for peer in itf.get("link_peers") or []:
            cid = (peer.get("circuit") or {}).get("cid")
            if cid:
                ends.setdefault(cid, {})[str(peer.get("term_side", "?"))] = (itf, iid)

    circuits = {c["cid"]: c for c in rec.circuits}
    for cid in sorted(ends):
        ckt = circuits.get(cid, {})
        # NetBox's choice in the inventory's words; a circuit NetBox does not list counts as active
        raw = _value(ckt.get("status")) or "active"
        status = CIRCUIT_STATUS_BACK.get(raw, raw)
        why = _why_not(ends[cid], status, design, devices, bb.routers, v4)
        if isinstance(why, str):
            bb.skipped[cid] = why
            continue
        cost = (ckt.get("custom_fields") or {}).get(cost_field)
        bb.links[cid] = Link(cid, why[0], why[1], int(cost) if cost is not None else None, status)
    return bb


def _why_not(
    sides: dict[str, tuple[dict[str, Any], int]],
    status: str,
    design: bool,
    devices: dict[int, dict[str, Any]],
    routers: dict[str, Router],
    v4: dict[int, list[IPv4Interface]],
) -> str | tuple[End, End]:
    """The circuit's two ends, or why it is not a lit link."""
    if not is_lit(status, design=design):
        return f"circuit status {status}"
    if set(sides) != {"A", "Z"}:
        return "only one termination is cabled to a router"
    built: list[End] = []
    for side in ("A", "Z"):
        itf, iid = sides[side]
        router = devices[itf["device"]["id"]]["name"]
        addrs = v4.get(iid, [])
        if router not in routers:
            return "an end is not on a backbone router"
        if itf.get("enabled") is False:
            return f"{router} {itf['name']} is disabled in NetBox"
        if len(addrs) != 1:
            return f"{router} {itf['name']} has {len(addrs)} IPv4 addresses (want 1)"
        built.append(End(router, itf["name"], addrs[0]))
    return built[0], built[1]
