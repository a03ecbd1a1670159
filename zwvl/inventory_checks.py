"""Checks over the whole inventory once every file is loaded: references between objects (with a
did-you-mean), locations, circuits and the addressing plan. Each appends problems; none raises."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import TYPE_CHECKING, Any

from zwvl.model import ADDRESSING_PLAN, Circuit, Device, Obj, Site
from zwvl.problems import did_you_mean, position, problem
from zwvl.yamlsrc import Problem

if TYPE_CHECKING:
    from zwvl.inventory import Inventory


class _Refs:
    """Reference checks with a did-you-mean."""

    def __init__(self, problems: list[Problem], rejected: dict[str, set[Any]]) -> None:
        self.problems = problems
        self.rejected = rejected

    def check(self, obj: Obj, path: tuple[Any, ...], value: Any, table: Any, what: str) -> bool:
        if value in table:
            return True
        if value in self.rejected.get(what, ()):
            return False  # defined, but its own definition is invalid: already reported there
        hint = did_you_mean(str(value), [str(k) for k in table])
        self.problems.append(problem(obj, path, f"unknown {what} {value!r}{hint}"))
        return False


def check_references(inv: Inventory, problems: list[Problem]) -> None:
    refs = _Refs(problems, inv.rejected)
    roles = inv.helpdesk.roles if inv.helpdesk else {}
    for p in inv.partners.values():
        if p.helpdesk and inv.helpdesk is not None:  # absent or invalid: reported once already
            for role in p.helpdesk.headcount:
                refs.check(p, ("helpdesk", "headcount", role), role, roles, "helpdesk role")
    if inv.helpdesk:
        levels = {lvl.name for lvl in inv.helpdesk.sla}
        refs.check(inv.helpdesk, ("default_sla",), inv.helpdesk.default_sla, levels, "SLA level")
        for i, g in enumerate(inv.helpdesk.groups):
            refs.check(inv.helpdesk, ("groups", i, "role"), g.role, roles, "helpdesk role")
    for ct in inv.contacts:
        refs.check(ct, ("partner",), ct.partner, inv.partners, "partner")
    for s in inv.sites.values():
        refs.check(s, ("partner",), s.partner, inv.partners, "partner")
        _check_locations(s, problems)
    for d in inv.devices.values():
        if refs.check(d, ("site",), d.site, inv.sites, "site") and d.location is not None:
            rooms = [loc.slug for loc in inv.sites[d.site].locations]
            if d.location not in rooms:
                hint = did_you_mean(d.location, rooms)
                problems.append(
                    problem(d, ("location",), f"unknown location {d.location!r} at site {d.site!r}{hint}")
                )
        refs.check(d, ("device_type",), d.device_type, inv.device_types, "device type")
    for v in inv.vlans:
        refs.check(v, ("partner",), v.partner, inv.partners, "partner")
    vids = {(v.partner, v.vid) for v in inv.vlans}
    for pf in inv.prefixes:
        refs.check(pf, ("partner",), pf.partner, inv.partners, "partner")
        if pf.site is not None:
            refs.check(pf, ("site",), pf.site, inv.sites, "site")
        if (
            pf.vlan is not None
            and (pf.partner, pf.vlan) not in vids
            and (pf.partner, pf.vlan) not in inv.rejected.get("VLAN", ())
        ):
            problems.append(problem(pf, ("vlan",), f"unknown VLAN {pf.vlan} of partner {pf.partner!r}"))
    for svc in inv.services.values():
        refs.check(svc, ("partner",), svc.partner, inv.partners, "partner")
        if svc.site is not None:
            refs.check(svc, ("site",), svc.site, inv.sites, "site")
        for i, dev in enumerate(svc.devices):
            refs.check(svc, ("devices", i), dev, inv.devices, "device")
        if svc.devices and not svc.ports:
            problems.append(
                problem(svc, ("ports",), "a service on devices needs its ports (NetBox's service)")
            )
    for ds in inv.datasets.values():
        refs.check(ds, ("service",), ds.service, inv.services, "service")
        for i, slug in enumerate(ds.partners):
            refs.check(ds, ("partners", i), slug, inv.partners, "partner")
    for sw in inv.software.values():
        for i, slug in enumerate(sw.partners):
            refs.check(sw, ("partners", i), slug, inv.partners, "partner")
    _check_circuits(inv, refs, problems)


def _check_locations(site: Site, problems: list[Problem]) -> None:
    """A site's location slugs and names are unique within it, as NetBox requires."""
    for attr in ("slug", "name"):
        first: dict[str, int] = {}
        for i, loc in enumerate(site.locations):
            value = getattr(loc, attr)
            j = first.setdefault(value, i)
            if j != i:
                where = "{}:{}:{}".format(*position(site, "locations", j, attr))
                problems.append(
                    problem(
                        site,
                        ("locations", i, attr),
                        f"duplicate location {attr} {value!r} (first defined at {where})",
                    )
                )


def _check_circuits(inv: Inventory, refs: _Refs, problems: list[Problem]) -> None:
    used: dict[tuple[str, str], Circuit] = {}
    for cid in inv.circuits:
        ckt = inv.circuits[cid]
        refs.check(ckt, ("provider",), ckt.provider, inv.providers, "provider")
        if ckt.a.site == ckt.z.site:
            problems.append(problem(ckt, ("z", "site"), f"both ends are at the same site {ckt.a.site!r}"))
        if ckt.a.address.ip == ckt.z.address.ip:
            problems.append(problem(ckt, ("z", "address"), "both ends have the same address"))
        for side in ("a", "z"):
            end = getattr(ckt, side)
            if not refs.check(ckt, (side, "site"), end.site, inv.sites, "site"):
                continue
            if not refs.check(ckt, (side, "device"), end.device, inv.devices, "device"):
                continue
            dev = inv.devices[end.device]
            if dev.site != end.site:
                problems.append(
                    problem(
                        ckt,
                        (side, "device"),
                        f"device {end.device!r} is at site {dev.site!r}, not {end.site!r}",
                    )
                )
            dtype = inv.device_types.get(dev.device_type)
            if dtype is not None:
                names = [i.name for i in dtype.interfaces]
                if end.interface not in names:
                    hint = did_you_mean(end.interface, names)
                    problems.append(
                        problem(
                            ckt,
                            (side, "interface"),
                            f"device {end.device!r} ({dtype.slug}) has no interface {end.interface!r}{hint}",
                        )
                    )
            if (end.device, end.interface) in used:
                other = used[(end.device, end.interface)]
                problems.append(
                    problem(
                        ckt,
                        (side, "interface"),
                        f"{end.device} {end.interface} is already used by circuit {other.cid}",
                    )
                )
            used[(end.device, end.interface)] = ckt
            if end.address.network != ckt.prefix or end.address.ip not in ckt.prefix:
                problems.append(
                    problem(
                        ckt,
                        (side, "address"),
                        f"address {end.address} is outside the circuit prefix {ckt.prefix}",
                    )
                )


def _check_primary_addresses(inv: Inventory, used: dict[Any, Device], problems: list[Problem]) -> None:
    """A server's address: on one of its device type's interfaces, inside one of its partner's
    (non-container) prefixes with that prefix's length, used once; a router's primary is its loopback."""
    for dev in inv.devices.values():
        if dev.primary_ip4 is None:
            continue
        at = ("primary_ip4",)
        if dev.loopback is not None:
            problems.append(problem(dev, at, "a device with a loopback has that as its primary address"))
            continue
        dtype = inv.device_types.get(dev.device_type)
        names = [i.name for i in dtype.interfaces] if dtype else []
        if dtype and dev.primary_ip4.interface not in names:
            hint = did_you_mean(dev.primary_ip4.interface, names)
            problems.append(
                problem(
                    dev,
                    (*at, "interface"),
                    f"{dev.device_type} has no interface {dev.primary_ip4.interface!r}{hint}",
                )
            )
        addr = dev.primary_ip4.address
        site = inv.sites.get(dev.site)
        nets = [pf.prefix for pf in inv.prefixes if not pf.container and site and pf.partner == site.partner]
        if not any(addr.network == net for net in nets):
            problems.append(
                problem(
                    dev,
                    (*at, "address"),
                    f"{addr} is in no prefix of partner {site.partner if site else '?'!r}",
                )
            )
        if addr.ip in used:
            problems.append(
                problem(dev, (*at, "address"), f"{addr.ip} is already used by {used[addr.ip].name}")
            )
        used[addr.ip] = dev


def check_addressing(inv: Inventory, problems: list[Problem]) -> None:
    std = inv.standards
    # every prefix-like object, for one overlap sweep
    spans: list[tuple[IPv4Network, Obj, tuple[Any, ...], bool]] = []
    for pf in inv.prefixes:
        spans.append((pf.prefix, pf, ("prefix",), pf.container))
    for ckt in inv.circuits.values():
        spans.append((ckt.prefix, ckt, ("prefix",), False))
        if std and not ckt.prefix.subnet_of(std.addressing.point_to_point):
            problems.append(
                problem(
                    ckt,
                    ("prefix",),
                    f"prefix {ckt.prefix} is outside the point-to-point pool "
                    f"{std.addressing.point_to_point}",
                )
            )
    loopbacks: dict[Any, Device] = {}
    for dev in inv.devices.values():
        if dev.loopback is None:
            continue
        if std and dev.loopback.ip not in std.addressing.loopbacks:
            problems.append(
                problem(
                    dev,
                    ("loopback",),
                    f"loopback {dev.loopback} is outside the loopback pool " f"{std.addressing.loopbacks}",
                )
            )
        if dev.loopback.ip in loopbacks:
            problems.append(
                problem(
                    dev,
                    ("loopback",),
                    f"loopback {dev.loopback.ip} is already used by {loopbacks[dev.loopback.ip].name}",
                )
            )
        loopbacks[dev.loopback.ip] = dev
    _check_primary_addresses(inv, loopbacks, problems)
    if std:
        if not std.addressing.supernet.subnet_of(ADDRESSING_PLAN):
            problems.append(
                problem(
                    std,
                    ("addressing", "supernet"),
                    f"{std.addressing.supernet} is outside {ADDRESSING_PLAN} (RFC 6598 shared address "
                    "space), the only range the backbone and the lab may use",
                )
            )
        for net, name in (
            (std.addressing.point_to_point, "point_to_point"),
            (std.addressing.loopbacks, "loopbacks"),
        ):
            if not net.subnet_of(std.addressing.supernet):
                problems.append(
                    problem(
                        std,
                        ("addressing", name),
                        f"{net} is outside the supernet " f"{std.addressing.supernet}",
                    )
                )
    # overlap: sort by start address; a container may hold others, nothing else may overlap
    spans.sort(key=lambda s: (int(s[0].network_address), s[0].prefixlen))
    open_: list[tuple[IPv4Network, Obj, tuple[Any, ...], bool]] = []
    for span in spans:
        net, obj, path, _container = span
        while open_ and int(open_[-1][0].broadcast_address) < int(net.network_address):
            open_.pop()
        if open_:
            outer_net, outer, _p, outer_container = open_[-1]
            if not (outer_container and net.subnet_of(outer_net) and net != outer_net):
                problems.append(
                    problem(obj, path, f"{net} overlaps {outer_net} of {outer.label} ({outer.src})")
                )
                continue
        open_.append(span)
