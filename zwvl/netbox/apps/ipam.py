"""NetBox ``ipam``: the standards' address pools, the partners' VLANs and prefixes.

Forward: the standards' supernet / point-to-point / loopback pools (status ``container``, each with
its role); one VLAN group per partner and its VLANs; the partners' prefixes (status ``container``
for containers, scope = site, VLAN, role). The circuits' /31s and addresses and the loopbacks come
with their circuits and devices (``circuits``, ``dcim``).

Reverse: the addresses on each interface (read by devices and circuits); VLANs and prefixes with a
tenant (partner), except the circuits' /31s; the standards from the pool prefixes, else the
smallest networks that cover the data (the naming rules, which NetBox does not hold, as a stub).
"""

from __future__ import annotations

import ipaddress

from zwvl.inventory import Inventory
from zwvl.model import Prefix, Service, Standards, Vlan
from zwvl.netbox.apps.common import DesiredState, Imported, file_of, key_of, slugify, source_where
from zwvl.netbox.kinds import LOOPBACK_INTERFACE, Ref
from zwvl.netbox.state import Record
from zwvl.netbox.vocab import PREFIX_CONTAINER, PREFIX_STATUS, PREFIX_STATUS_BACK, VLAN_STATUS

POOL_ROLES = {
    "supernet": ("backbone-supernet", "Backbone supernet"),
    "point_to_point": ("point-to-point-pool", "Point-to-point pool"),
    "loopbacks": ("loopback-pool", "Loopback pool"),
}

# ------------------------------------------------------------------------------------------ forward


def map_services(ds: DesiredState, inv: Inventory) -> None:
    """Each service on each of its devices: NetBox's application service (name = the service's slug)."""
    for svc in inv.services.values():
        for dev in svc.devices:
            ds.add(
                "ipam.service",
                {
                    "parent_object": Ref("dcim.device", (dev,)),
                    "name": svc.slug,
                    "protocol": svc.protocol,
                    "ports": sorted(svc.ports),
                    "description": svc.name,
                },
                *source_where(inv, svc),
            )


def map_pools(ds: DesiredState, inv: Inventory) -> None:
    if inv.standards is None:
        return
    std = inv.standards
    for attr, (pool_role, role_name) in POOL_ROLES.items():
        ds.add("ipam.role", {"slug": pool_role, "name": role_name, "description": ""}, None)
        net = getattr(std.addressing, attr)
        ds.add(
            "ipam.prefix",
            {
                "prefix": str(net),
                "status": PREFIX_CONTAINER,
                "role": Ref("ipam.role", (pool_role,)),
                "tenant": None,
                "vlan": None,
                "scope": None,
                "description": role_name,
            },
            *source_where(inv, std),
        )


def map_vlans(ds: DesiredState, inv: Inventory) -> None:
    for slug in sorted({v.partner for v in inv.vlans}):
        p = inv.partners[slug]
        ds.add(
            "ipam.vlangroup",
            {"slug": f"{slug}-vlans", "name": f"{p.name} VLANs", "description": ""},
            *source_where(inv, p),
        )
    for v in inv.vlans:
        ds.add(
            "ipam.vlan",
            {
                "group": Ref("ipam.vlangroup", (f"{v.partner}-vlans",)),
                "vid": v.vid,
                "name": v.name,
                "status": VLAN_STATUS,
                "tenant": Ref("tenancy.tenant", (v.partner,)),
                "description": v.description,
            },
            *source_where(inv, v),
        )


def map_prefixes(ds: DesiredState, inv: Inventory) -> None:
    ds.add_named("ipam.role", {pf.role for pf in inv.prefixes})
    for pf in inv.prefixes:
        ds.add(
            "ipam.prefix",
            {
                "prefix": str(pf.prefix),
                "status": PREFIX_CONTAINER if pf.container else PREFIX_STATUS[pf.status],
                "role": Ref("ipam.role", (pf.role,)),
                "tenant": Ref("tenancy.tenant", (pf.partner,)),
                "vlan": Ref("ipam.vlan", (f"{pf.partner}-vlans", str(pf.vlan)))
                if pf.vlan is not None
                else None,
                "scope": Ref("dcim.site", (pf.site,)) if pf.site else None,
                "description": pf.description,
            },
            *source_where(inv, pf),
        )


# ------------------------------------------------------------------------------------------ reverse


def find_addresses(im: Imported) -> None:
    """The IP addresses by the interface they are assigned to (``im.ips_on``)."""
    for addr in im.of("ipam.ipaddress"):
        target = addr.fields.get("assigned_object")
        if isinstance(target, Ref) and target.kind == "dcim.interface":
            im.ips_on[target.key].append(addr)


def import_vlans(im: Imported) -> dict[tuple[str, ...], int]:
    """Write the VLANs; their VIDs by NetBox key (the prefixes refer to them)."""
    vlan_vid: dict[tuple[str, ...], int] = {}
    for v in im.of("ipam.vlan"):
        partner = key_of(v.fields.get("tenant"))
        vid = v.fields.get("vid")
        if partner not in im.partners or vid is None:
            im.warn(f"skipped VLAN {' '.join(v.key)}: no tenant (partner)")
            continue
        data = im.dump(
            Vlan,
            {
                "partner": partner,
                "vid": vid,
                "name": slugify(str(v.fields.get("name") or vid)),
                "description": v.fields.get("description") or "",
            },
            f"VLAN {' '.join(v.key)}",
        )
        if data is not None:
            vlan_vid[v.key] = int(vid)
            im.add(file_of(v, f"partners/{partner}/network.yaml"), "vlans", data)
            im.counts["vlans"] += 1
    return vlan_vid


Pools = tuple[dict[str, ipaddress.IPv4Network], Record | None]
"""The pool prefixes by ``Addressing`` attribute, and the first pool's record (where to write)."""


def import_prefixes(im: Imported, vlan_vid: dict[tuple[str, ...], int]) -> Pools:
    """Write the partners' prefixes; the pools go to the standards (``import_standards``)."""
    pool_roles = {role: attr for attr, (role, _name) in POOL_ROLES.items()}
    pools: dict[str, ipaddress.IPv4Network] = {}
    pool_rec: Record | None = None
    for pf in im.of("ipam.prefix"):
        f = pf.fields
        role = key_of(f.get("role"))
        if role in pool_roles:
            pools[pool_roles[role]] = ipaddress.IPv4Network(pf.key[0])
            pool_rec = pool_rec or pf
            continue
        if pf.key[0] in im.circuit_prefixes and len(pf.key) == 1:
            continue
        partner = key_of(f.get("tenant"))
        if partner not in im.partners:
            im.warn(f"skipped prefix {' '.join(pf.key)}: no tenant (partner)")
            continue
        vlan = f.get("vlan")
        scope = f.get("scope")
        status = str(f.get("status"))
        data = im.dump(
            Prefix,
            {
                "partner": partner,
                "prefix": pf.key[0],
                "role": role or "unassigned",
                "status": PREFIX_STATUS_BACK.get(status, "active"),
                "vlan": vlan_vid.get(vlan.key) if isinstance(vlan, Ref) else None,
                "site": scope.key[0] if isinstance(scope, Ref) and scope.kind == "dcim.site" else None,
                "container": status == PREFIX_CONTAINER,
                "description": f.get("description") or "",
            },
            f"prefix {pf.key[0]}",
        )
        if data is not None:
            im.add(file_of(pf, f"partners/{partner}/network.yaml"), "prefixes", data)
            im.counts["prefixes"] += 1
    return pools, pool_rec


def _covering(nets: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Network | None:
    if not nets:
        return None
    lo = min(int(n.network_address) for n in nets)
    hi = max(int(n.broadcast_address) for n in nets)
    prefixlen = 32
    while prefixlen > 0:
        net = ipaddress.IPv4Network(f"{ipaddress.IPv4Address(lo)}/{prefixlen}", strict=False)
        if int(net.broadcast_address) >= hi and int(net.network_address) <= lo:
            return net
        prefixlen -= 1
    return ipaddress.IPv4Network("0.0.0.0/0")


def import_standards(im: Imported, found: Pools) -> None:
    """Addressing from the pool prefixes, else the smallest networks that cover the data."""
    pools, pool_rec = found
    p2p = [ipaddress.IPv4Network(p) for p in im.circuit_prefixes]
    loops = [
        ipaddress.IPv4Interface(ip.key[0]).network
        for k, v in im.ips_on.items()
        if k[1] == LOOPBACK_INTERFACE
        for ip in v
    ]
    point_to_point = pools.get("point_to_point") or _covering(p2p) or ipaddress.IPv4Network("100.64.0.0/12")
    loopbacks = pools.get("loopbacks") or _covering(loops) or ipaddress.IPv4Network("100.126.0.0/15")
    supernet = pools.get("supernet") or _covering([point_to_point, loopbacks])
    standards = im.dump(
        Standards,
        {
            "approved_device_types": sorted(im.device_types),
            "naming": {"device": r"^[a-z0-9][a-z0-9-]*$", "site": r"^[a-z0-9-]+$"},
            "addressing": {
                "supernet": str(supernet),
                "point_to_point": str(point_to_point),
                "loopbacks": str(loopbacks),
            },
        },
        "standards",
    )
    if standards is not None:
        im.set(file_of(pool_rec, "standards.yaml"), "standards", standards)


def import_services(im: Imported) -> None:
    """The application services on imported devices, one service per name (its devices together);
    the partner and site are the first device's."""
    by_name: dict[str, list[Record]] = {}
    for rec in im.of("ipam.service"):
        parent = rec.fields.get("parent_object")
        if isinstance(parent, Ref) and parent.kind == "dcim.device" and parent.key[0] in im.device_sites:
            by_name.setdefault(str(rec.fields.get("name")), []).append(rec)
        else:
            im.warn(f"skipped service {' '.join(rec.key)}: not on an imported device")
    for name, recs in sorted(by_name.items()):
        first = recs[0].fields
        devices = sorted(key_of(r.fields["parent_object"]) or "" for r in recs)
        site = im.device_sites[devices[0]]
        data = im.dump(
            Service,
            {
                "slug": slugify(name),
                "name": first.get("description") or name,
                "partner": im.sites[site],
                "site": site,
                "devices": devices,
                "protocol": first.get("protocol") or "tcp",
                "ports": sorted(first.get("ports") or []),
            },
            f"service {name}",
        )
        if data is not None:
            im.add(file_of(recs[0], "platform/services.yaml"), "services", data)
            im.counts["services"] += 1
