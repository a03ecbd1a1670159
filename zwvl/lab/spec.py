"""What the lab builds, as plain data: routers (one network namespace each) and fibre links (one veth
pair each), read from NetBox records by :func:`spec_from_netbox`.

Pure code, no side effects: it is unit-tested offline on recorded NetBox answers. Every address must
lie in the addressing plan (100.64.0.0/10); anything else is refused before the lab touches the
kernel.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface
from typing import Any

from zwvl.model import ADDRESSING_PLAN
from zwvl.netbox.reader import CIRCUIT_TERMINATION, NetboxRecords

PLAN = ADDRESSING_PLAN
"""The region's addressing plan: the only addresses the lab ever configures or contacts."""

LOOPBACK_INTERFACE = "lo"
DEFAULT_STATUSES = ("active", "planned")
"""Circuit statuses the lab lights by default: the designed backbone, as the I1 policy reads it."""

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
_IFNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$")


class SpecError(ValueError):
    """NetBox does not describe a lab that can be built (bad names, addresses outside the plan...)."""


@dataclass(frozen=True)
class End:
    """One end of a fibre link: a router interface and its point-to-point address."""

    router: str
    interface: str
    address: IPv4Interface


@dataclass(frozen=True)
class Link:
    """A fibre circuit between two router interfaces: one veth pair in the lab."""

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
    """A router device: one network namespace with its loopback address on ``lo``."""

    name: str
    loopback: IPv4Interface
    site: str = ""
    tenant: str = ""
    status: str = "active"

    @property
    def loopback_ip(self) -> IPv4Address:
        return self.loopback.ip


@dataclass
class LabSpec:
    """Routers and links to build, plus what was left out and why (for ``status`` and reports)."""

    routers: dict[str, Router] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    """Circuit id (or device name) -> why it is not in the lab."""

    def links_of(self, router: str) -> list[Link]:
        return [lk for lk in self.links.values() if router in lk.routers]

    def validate(self) -> None:
        """Refuse names that are not safe as namespace/interface names and addresses outside the plan."""
        problems: list[str] = []
        seen_ips: dict[IPv4Address, str] = {}

        def claim(ip: IPv4Interface, who: str) -> None:
            if not ip.network.subnet_of(PLAN):
                problems.append(f"{who}: {ip} is outside the addressing plan {PLAN}")
            if ip.ip in seen_ips:
                problems.append(f"{who}: {ip.ip} is also used by {seen_ips[ip.ip]}")
            seen_ips[ip.ip] = who

        for r in self.routers.values():
            if not _NAME_RE.match(r.name):
                problems.append(f"router {r.name!r}: not usable as a namespace name (a-z, 0-9, '-')")
            claim(r.loopback, f"router {r.name} loopback")
        for lk in self.links.values():
            for end in (lk.a, lk.z):
                if end.router not in self.routers:
                    problems.append(f"circuit {lk.cid}: router {end.router} is not in the lab")
                if not _IFNAME_RE.match(end.interface) or end.interface == LOOPBACK_INTERFACE:
                    problems.append(f"circuit {lk.cid}: bad interface name {end.interface!r}")
                claim(end.address, f"circuit {lk.cid} {end.router} {end.interface}")
            if lk.a.address.network != lk.z.address.network:
                problems.append(
                    f"circuit {lk.cid}: ends are in different subnets ({lk.a.address}, {lk.z.address})"
                )
            if lk.a.router == lk.z.router:
                problems.append(f"circuit {lk.cid}: both ends on router {lk.a.router}")
        used: dict[tuple[str, str], str] = {}
        for lk in self.links.values():
            for end in (lk.a, lk.z):
                key = (end.router, end.interface)
                if key in used:
                    problems.append(
                        f"circuit {lk.cid}: {end.router} {end.interface} is also used by {used[key]}"
                    )
                used[key] = lk.cid
        if problems:
            raise SpecError("NetBox describes no buildable lab:\n  " + "\n  ".join(problems))

    def select(
        self,
        *,
        tenants: Iterable[str] = (),
        sites: Iterable[str] = (),
        routers: Iterable[str] = (),
    ) -> LabSpec:
        """A sub-lab: the routers of these tenants (partners), sites and names, and the links among them."""
        tenants, sites, names = set(tenants), set(sites), set(routers)
        keep = {n: r for n, r in self.routers.items() if r.tenant in tenants or r.site in sites or n in names}
        out = LabSpec(routers=keep, skipped=dict(self.skipped))
        for cid, lk in self.links.items():
            if lk.a.router in keep and lk.z.router in keep:
                out.links[cid] = lk
            else:
                out.skipped[cid] = "outside the selected scope"
        for n in self.routers:
            if n not in keep:
                out.skipped[n] = "outside the selected scope"
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "routers": {
                n: {"loopback": str(r.loopback), "site": r.site, "tenant": r.tenant, "status": r.status}
                for n, r in sorted(self.routers.items())
            },
            "links": {
                cid: {
                    "a": [lk.a.router, lk.a.interface, str(lk.a.address)],
                    "z": [lk.z.router, lk.z.interface, str(lk.z.address)],
                    "cost": lk.cost,
                    "status": lk.status,
                }
                for cid, lk in sorted(self.links.items())
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabSpec:
        spec = cls()
        for n, r in data.get("routers", {}).items():
            spec.routers[n] = Router(
                n,
                IPv4Interface(r["loopback"]),
                r.get("site", ""),
                r.get("tenant", ""),
                r.get("status", "active"),
            )
        for cid, lk in data.get("links", {}).items():
            a, z = lk["a"], lk["z"]
            spec.links[cid] = Link(
                cid,
                End(a[0], a[1], IPv4Interface(a[2])),
                End(z[0], z[1], IPv4Interface(z[2])),
                lk.get("cost"),
                lk.get("status", "active"),
            )
        return spec


# ------------------------------------------------------------------------------ from NetBox records


def _slug(obj: Any) -> str:
    if isinstance(obj, Mapping):
        return str(obj.get("slug") or obj.get("value") or obj.get("name") or "")
    return "" if obj is None else str(obj)


def _value(obj: Any) -> str:
    if isinstance(obj, Mapping):
        return str(obj.get("value") or "")
    return "" if obj is None else str(obj)


def spec_from_netbox(
    rec: NetboxRecords,
    *,
    statuses: Sequence[str] = DEFAULT_STATUSES,
    cost_field: str = "ospf_cost",
) -> LabSpec:
    """Routers are the given devices; links are circuits whose two terminations are cabled to
    interfaces of those devices, with the IPv4 addresses NetBox assigns to the interfaces."""
    spec = LabSpec()
    devices = {d["id"]: d for d in rec.devices}
    ifaces = {i["id"]: i for i in rec.interfaces if (i.get("device") or {}).get("id") in devices}
    v4: dict[int, list[IPv4Interface]] = {}
    for ip in rec.ip_addresses:
        if ip.get("assigned_object_type") != "dcim.interface" or ip.get("assigned_object_id") not in ifaces:
            continue
        addr = IPv4Interface(ip["address"]) if ":" not in str(ip["address"]) else None
        if addr is not None:
            v4.setdefault(ip["assigned_object_id"], []).append(addr)

    for dev_id, dev in sorted(devices.items(), key=lambda kv: kv[1]["name"]):
        name = dev["name"]
        lo = next(
            (
                v4[i][0]
                for i, itf in ifaces.items()
                if itf["device"]["id"] == dev_id and itf["name"] == LOOPBACK_INTERFACE and v4.get(i)
            ),
            None,
        )
        if lo is None and dev.get("primary_ip4"):
            lo = IPv4Interface(dev["primary_ip4"]["address"])
        if lo is None:
            spec.skipped[name] = "no loopback address (interface lo or primary IPv4) in NetBox"
            continue
        spec.routers[name] = Router(
            name, lo, _slug(dev.get("site")), _slug(dev.get("tenant")), _value(dev.get("status")) or "active"
        )

    circuits = {c["cid"]: c for c in rec.circuits}
    ends: dict[str, dict[str, tuple[dict[str, Any], int]]] = {}
    for iid, itf in ifaces.items():
        if itf.get("link_peers_type") != CIRCUIT_TERMINATION:
            continue
        for peer in itf.get("link_peers") or []:
            circuit = peer.get("circuit") or {}
            cid = circuit.get("cid")
            if cid:
                ends.setdefault(cid, {})[str(peer.get("term_side", "?"))] = (itf, iid)

    for cid in sorted(ends):
        sides = ends[cid]
        ckt = circuits.get(cid, {})
        status = _value(ckt.get("status")) or "active"
        if status not in statuses:
            spec.skipped[cid] = f"circuit status {status}"
            continue
        if set(sides) != {"A", "Z"}:
            spec.skipped[cid] = "only one termination is cabled to a router"
            continue
        built: list[End] = []
        for side in ("A", "Z"):
            itf, iid = sides[side]
            router = devices[itf["device"]["id"]]["name"]
            addrs = v4.get(iid, [])
            if router not in spec.routers:
                break
            if len(addrs) != 1:
                spec.skipped[cid] = f"{router} {itf['name']} has {len(addrs)} IPv4 addresses (want 1)"
                break
            built.append(End(router, itf["name"], addrs[0]))
        if len(built) != 2:
            spec.skipped.setdefault(cid, "an end is not on a lab router")
            continue
        cost = (ckt.get("custom_fields") or {}).get(cost_field)
        spec.links[cid] = Link(cid, built[0], built[1], int(cost) if cost is not None else None, status)
    return spec
