"""What the lab builds, as plain data: routers (one network namespace each) and fibre links (one veth
pair each), read from NetBox records by :func:`spec_from_netbox`.

Pure code, no side effects: it is unit-tested offline on recorded NetBox answers. Every address must
lie in the addressing plan (100.64.0.0/10); anything else is refused before the lab touches the
kernel.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface
from typing import Any

from zwvl.backbone import LOOPBACK_INTERFACE, Backbone, End, Link, Router, from_netbox
from zwvl.model import ADDRESSING_PLAN
from zwvl.netbox.reader import NetboxRecords

PLAN = ADDRESSING_PLAN
"""The region's addressing plan: the only addresses the lab ever configures or contacts."""

__all__ = ["LOOPBACK_INTERFACE", "PLAN", "End", "LabSpec", "Link", "Router", "SpecError", "spec_from_netbox"]

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
_IFNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$")


class SpecError(ValueError):
    """NetBox does not describe a lab that can be built (bad names, addresses outside the plan...)."""


@dataclass
class LabSpec(Backbone):
    """The backbone (``zwvl.backbone``) the lab builds: one namespace per router, one veth pair per
    link; what was left out and why shows in ``status`` and reports."""

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
                claim(end.address, f"circuit {lk.cid} {end}")
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
                    problems.append(f"circuit {lk.cid}: {end} is also used by {used[key]}")
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


def spec_from_netbox(rec: NetboxRecords, *, design: bool = True) -> LabSpec:
    """The lab of the backbone NetBox describes: lit by design (active and planned circuits) unless
    ``design`` is false (active only)."""
    bb = from_netbox(rec, design=design)
    return LabSpec(routers=bb.routers, links=bb.links, skipped=bb.skipped)
