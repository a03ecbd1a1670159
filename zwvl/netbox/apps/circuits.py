"""NetBox ``circuits``: providers and the circuits between sites, with what hangs off them.

Forward: providers, circuit types, circuits (distance in km, custom field ospf_cost), their A/Z
terminations on sites (4.x termination API), one cable per end from the termination to the device
interface (``dcim.cable``), one /31 per circuit (``ipam.prefix``, role point-to-point) and the
address of each end on its interface (``ipam.ipaddress``).

Reverse: providers; a circuit whose two ends each have a site termination, a cable to an interface
and an address on it (the one in the circuit's /31 first), followed termination -> cable ->
interface -> address. The distance is read in km (metres converted, other units dropped).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from zwvl.inventory import Inventory
from zwvl.model import Circuit, Provider, Status
from zwvl.netbox.apps.common import DesiredState, Imported, file_of, key_of, source_where
from zwvl.netbox.kinds import Ref
from zwvl.netbox.state import Record
from zwvl.netbox.vocab import CABLE_STATUS, CIRCUIT_STATUS, CIRCUIT_STATUS_BACK, IP_STATUS, PREFIX_STATUS

P2P_ROLE = ("point-to-point", "Point-to-point link")

# ------------------------------------------------------------------------------------------ forward


def map_providers(ds: DesiredState, inv: Inventory) -> None:
    names: dict[str, str] = {}
    for prov in inv.providers.values():
        ds.unique_name(names, "provider", prov.name, prov)
        ds.add(
            "circuits.provider",
            {"slug": prov.slug, "name": prov.name, "description": prov.description},
            *source_where(inv, prov),
        )


def map_circuits(ds: DesiredState, inv: Inventory) -> None:
    ds.add_named("circuits.circuittype", {c.type for c in inv.circuits.values()})
    if inv.circuits:
        ds.add("ipam.role", {"slug": P2P_ROLE[0], "name": P2P_ROLE[1], "description": ""}, None)
    for ckt in inv.circuits.values():
        _circuit(ds, inv, ckt)


def _circuit(ds: DesiredState, inv: Inventory, ckt: Circuit) -> None:
    at = source_where(inv, ckt)
    status: Status = ckt.status
    ds.add(
        "circuits.circuit",
        {
            "cid": ckt.cid,
            "provider": Ref("circuits.provider", (ckt.provider,)),
            "type": Ref("circuits.circuittype", (ckt.type,)),
            "status": CIRCUIT_STATUS[status],
            "description": ckt.description,
            "distance": ckt.length_km,
            "distance_unit": "km" if ckt.length_km is not None else None,
            "cf.ospf_cost": ckt.ospf_cost,
        },
        *at,
    )
    ds.add(
        "ipam.prefix",
        {
            "prefix": str(ckt.prefix),
            "status": PREFIX_STATUS[status],
            "role": Ref("ipam.role", (P2P_ROLE[0],)),
            "tenant": None,
            "vlan": None,
            "scope": None,
            "description": ckt.cid,
        },
        *at,
    )
    cref = Ref("circuits.circuit", (ckt.cid,))
    for side, end in (("A", ckt.a), ("Z", ckt.z)):
        tref = Ref("circuits.circuittermination", (ckt.cid, side))
        iref = Ref("dcim.interface", (end.device, end.interface))
        ds.add(
            "circuits.circuittermination",
            {
                "circuit": cref,
                "term_side": side,
                "termination": Ref("dcim.site", (end.site,)),
                "description": "",
            },
            *at,
        )
        ds.add(
            "dcim.cable",
            {
                "label": cable_label(ckt.cid, side),
                "a_terminations": [tref],
                "b_terminations": [iref],
                "status": CABLE_STATUS[status],
                "description": "",
            },
            *at,
        )
        ds.add(
            "ipam.ipaddress",
            {
                "address": str(end.address),
                "status": IP_STATUS[status],
                "role": None,
                "tenant": Ref("tenancy.tenant", (inv.sites[end.site].partner,)),
                "assigned_object": iref,
                "description": f"{ckt.cid} {side}",
            },
            *at,
        )


def cable_label(cid: str, side: str) -> str:
    return f"{cid}/{side}"


# ------------------------------------------------------------------------------------------ reverse


def import_providers(im: Imported) -> None:
    for p in im.of("circuits.provider"):
        data = im.dump(
            Provider,
            {
                "slug": p.key[0],
                "name": p.fields.get("name") or p.key[0],
                "description": p.fields.get("description") or "",
            },
            f"provider {p.key[0]}",
        )
        if data is not None:
            im.add(file_of(p, "backbone/providers.yaml"), "providers", data)
            im.counts["providers"] += 1


def _cabled(im: Imported) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Circuit termination key -> the key of the interface its cable ends on."""
    cable_to: dict[tuple[str, ...], tuple[str, ...]] = {}
    for cab in im.of("dcim.cable"):
        refs = list(cab.fields.get("a_terminations") or []) + list(cab.fields.get("b_terminations") or [])
        tref = next((e for e in refs if isinstance(e, Ref) and e.kind == "circuits.circuittermination"), None)
        iref = next((e for e in refs if isinstance(e, Ref) and e.kind == "dcim.interface"), None)
        if tref is not None and iref is not None:
            cable_to[tref.key] = iref.key
    return cable_to


def _ends(
    im: Imported,
    cid: str,
    terms: dict[tuple[str, ...], Record],
    cable_to: dict[tuple[str, ...], tuple[str, ...]],
    want: str | None,
) -> dict[str, dict[str, Any]]:
    """The circuit's ends ``a`` / ``z`` that can be imported (both, or fewer when one cannot)."""
    ends: dict[str, dict[str, Any]] = {}
    for side in ("A", "Z"):
        term = terms.get((cid, side))
        site = term.fields.get("termination") if term else None
        iface = cable_to.get((cid, side))
        if not isinstance(site, Ref) or site.kind != "dcim.site" or iface is None:
            break
        ips = im.ips_on.get(iface, [])
        ip: Record | None = next(
            (x for x in ips if want and str(ipaddress.ip_interface(x.key[0]).network) == want), None
        )
        if ip is None and ips:
            ip = ips[0]
        if ip is None:
            break
        ends[side.lower()] = {
            "site": site.key[0],
            "device": iface[0],
            "interface": iface[1],
            "address": ip.key[0],
        }
    return ends


def import_circuits(im: Imported) -> None:
    terms = {r.key: r for r in im.of("circuits.circuittermination")}
    cable_to = _cabled(im)
    p2p_prefixes = {r.fields.get("description"): r.key[0] for r in im.of("ipam.prefix")}
    for c in im.of("circuits.circuit"):
        cid = c.key[0]
        f = c.fields
        ends = _ends(im, cid, terms, cable_to, p2p_prefixes.get(cid))
        if len(ends) != 2:
            im.warn(
                f"skipped circuit {cid}: both ends need a site termination, a cable to an interface and an IP"
            )
            continue
        prefix = str(ipaddress.ip_interface(ends["a"]["address"]).network)
        distance = f.get("distance")
        if distance is not None and f.get("distance_unit") == "m":
            distance = distance / 1000
        elif distance is not None and f.get("distance_unit") not in (None, "km"):
            distance = None
        data = im.dump(
            Circuit,
            {
                "cid": cid,
                "provider": key_of(f.get("provider")),
                "type": key_of(f.get("type")) or "dark-fibre",
                "status": CIRCUIT_STATUS_BACK.get(str(f.get("status")), "active"),
                "prefix": prefix,
                "ospf_cost": f.get("cf.ospf_cost") or 10,
                "length_km": distance or None,
                "a": ends["a"],
                "z": ends["z"],
                "description": f.get("description") or "",
            },
            f"circuit {cid}",
        )
        if data is None:
            continue
        im.circuit_prefixes.add(prefix)
        site_a = ends["a"]["site"]
        im.add(file_of(c, f"partners/{im.sites.get(site_a, 'backbone')}/circuits.yaml"), "circuits", data)
        im.counts["circuits"] += 1
