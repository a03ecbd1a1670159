"""`zwvl import`: write inventory YAML from an existing NetBox (a partner bringing its own data).

The state is read exactly as the reconciler reads it and mapped back to the domain model's sections
(the inverse of ``zwvl.netbox.mapping``). Objects go to the file named by their ``zwvl_source``
custom field when they have one, else to the repository's usual layout (``partners/<slug>/...``), so
that importing a NetBox zwvl manages and then planning against it shows no changes. What NetBox
cannot hold (the standards' naming rules, the helpdesk's SLAs) is written as a reviewed stub. The
result is validated with the ordinary loader before the command reports success.

NetBox is read completely before the output folder is touched. The inventory is written into a
temporary folder beside it (same file system), validated, and then takes the folder's place in one
step (`_swap`), so an unreachable NetBox, a NetBox error or an import that does not validate leaves
the folder exactly as it was.
"""

from __future__ import annotations

import ctypes
import dataclasses
import datetime as dt
import errno
import ipaddress
import os
import shutil
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from zwvl.inventory import DEVICE_TYPE_DIR, InventoryError, load_inventory
from zwvl.model import (
    Circuit,
    Contact,
    Device,
    DeviceMonitoring,
    DeviceRole,
    DeviceType,
    Helpdesk,
    Partner,
    Prefix,
    Provider,
    Region,
    Site,
    SiteKind,
    Standards,
    Vlan,
)
from zwvl.netbox.client import NetboxClient
from zwvl.netbox.kinds import CF_SOURCE, Ref
from zwvl.netbox.mapping import (
    CIRCUIT_STATUS,
    DEVICE_STATUS,
    LOOPBACK_INTERFACE,
    POOL_ROLES,
    PREFIX_STATUS,
    SITE_STATUS,
    slugify,
)
from zwvl.netbox.state import Record, State, read_state

Warn = Callable[[str], None]
# what the domain model accepts; anything else NetBox holds maps to a default
SITE_KINDS = frozenset(get_args(SiteKind))
DEVICE_ROLES = frozenset(get_args(DeviceRole))
MONITORING = frozenset(get_args(DeviceMonitoring))


def _reverse(mapping: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    out = {v: k for k, v in mapping.items()}
    out.update(extra)
    return out


SITE_STATUS_BACK = _reverse(SITE_STATUS, {"staging": "planned", "decommissioning": "decommissioned"})
DEVICE_STATUS_BACK = _reverse(
    DEVICE_STATUS,
    {"staged": "planned", "inventory": "planned", "offline": "decommissioned", "failed": "active"},
)
CIRCUIT_STATUS_BACK = _reverse(
    CIRCUIT_STATUS,
    {"provisioning": "planned", "offline": "decommissioned", "deprovisioning": "decommissioned"},
)
PREFIX_STATUS_BACK = _reverse(PREFIX_STATUS, {"container": "active"})


class ImportError_(RuntimeError):
    """The import cannot be written (e.g. the output folder is not empty)."""


@dataclass
class ImportResult:
    out: Path
    files: list[str]
    counts: dict[str, int]
    warnings: list[str] = field(default_factory=list)


def _key(ref: Any) -> str | None:
    return ref.key[0] if isinstance(ref, Ref) and ref.key else None


def _src(rec: Record | None, default: str) -> str:
    """Where to write an object: its zwvl_source (inside the inventory) or the default path."""
    if rec is not None and rec.source and rec.source.startswith("inventory/"):
        rel = rec.source.removeprefix("inventory/")
        parts = rel.split("/")
        if rel.endswith((".yaml", ".yml")) and ".." not in parts and "" not in parts:
            return rel
    return default


def _dump(model: type[BaseModel], data: dict[str, Any], what: str, warn: Warn) -> dict[str, Any] | None:
    try:
        obj = model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in first["loc"])
        warn(f"skipped {what}: {loc}: {first['msg']}")
        return None
    return obj.model_dump(mode="json", exclude_defaults=True, by_alias=False)


class _Files:
    def __init__(self) -> None:
        self.sections: dict[str, dict[str, Any]] = defaultdict(dict)
        self.single: dict[str, dict[str, Any]] = {}

    def add(self, rel: str, section: str, item: dict[str, Any]) -> None:
        self.sections[rel].setdefault(section, []).append(item)

    def set(self, rel: str, section: str, item: dict[str, Any]) -> None:
        self.sections[rel][section] = item


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


def import_state(state: State, out: Path, *, url: str, warn: Warn) -> ImportResult:
    files = _Files()
    counts: dict[str, int] = defaultdict(int)
    recs = state.records

    def all_of(kind: str) -> list[Record]:
        return recs.get(kind, [])

    # region
    regions = all_of("dcim.region")
    site_regions = [_key(s.fields.get("region")) for s in all_of("dcim.site")]
    region_rec = None
    if regions:
        used = max(set(site_regions) - {None}, key=site_regions.count, default=None)
        region_rec = next((r for r in regions if r.key[0] == used), regions[0])
    targets = (region_rec.fields.get("cf.targets") if region_rec else None) or {}
    region = _dump(
        Region,
        {
            "slug": region_rec.key[0] if region_rec else "region",
            "name": (region_rec.fields.get("name") if region_rec else None) or "Region",
            "inhabitants": (region_rec.fields.get("cf.inhabitants") if region_rec else None) or 0,
            "timezone": (region_rec.fields.get("cf.time_zone") if region_rec else None) or "Europe/Brussels",
            "targets": {
                "magda_document_service_partners": targets.get("magda_document_service_partners", 0),
                "data_platform_min_partners": targets.get("data_platform_min_partners", 0),
                "local_datacenters_today": targets.get("local_datacenters_today", 0),
                "regional_datacenters_target": targets.get("regional_datacenters_target", 1),
            },
        },
        "region",
        warn,
    )
    if region is not None:
        files.set(_src(region_rec, "region.yaml"), "region", region)

    # partners and contacts
    codes: set[str] = set()
    partners: dict[str, dict[str, Any]] = {}
    partner_file: dict[str, str] = {}
    for t in all_of("tenancy.tenant"):
        slug = t.key[0]
        f = t.fields
        code = f.get("cf.partner_code") or ""
        if not code or code in codes:
            base = "".join(ch for ch in slug if ch.isalnum())[:3].ljust(3, "x")
            code, n = base, 0
            while code in codes:
                n += 1
                code = f"{base[:2]}{n % 10}"
        codes.add(code)
        group = _key(f.get("group"))
        data = _dump(
            Partner,
            {
                "slug": slug,
                "name": f.get("name") or slug,
                "code": code,
                "type": group if group in ("municipality", "intermunicipal") else "municipality",
                "team": f.get("cf.partner_team") or f"@{slug}",
                "digital_satisfaction_pct": f.get("cf.digital_satisfaction_pct"),
                "it_challenges_2022": f.get("cf.it_challenges_2022"),
                "it_projects_2022": f.get("cf.it_projects_2022"),
                "ebox": bool(f.get("cf.ebox")),
                "magda_document_service": f.get("cf.magda_document_service") or "not-started",
                "helpdesk": f.get("cf.helpdesk"),
                "description": f.get("description") or "",
            },
            f"tenant {slug}",
            warn,
        )
        if data is None:
            continue
        rel = _src(t, f"partners/{slug}/partner.yaml")
        partners[slug] = data
        partner_file[slug] = rel
        files.set(rel, "partner", data)
        counts["partners"] += 1
    contacts = {r.key[0]: r for r in all_of("tenancy.contact")}
    for a in all_of("tenancy.contactassignment"):
        obj = a.fields.get("object")
        if not isinstance(obj, Ref) or obj.kind != "tenancy.tenant" or obj.key[0] not in partners:
            continue
        c = contacts.get(_key(a.fields.get("contact")) or "")
        role = _key(a.fields.get("role"))
        if c is None or role is None:
            continue
        data = _dump(
            Contact,
            {
                "partner": obj.key[0],
                "role": role,
                "name": c.key[0],
                "email": c.fields.get("email") or "",
                "phone": c.fields.get("phone") or "",
            },
            f"contact {c.key[0]}",
            warn,
        )
        if data is not None:
            files.add(_src(a, partner_file[obj.key[0]]), "contacts", data)
            counts["contacts"] += 1

    # locations, embedded in their sites (zwvl keeps them flat: a parent is dropped with a warning)
    locations: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for loc in all_of("dcim.location"):
        site_slug, slug = loc.key
        parent = loc.fields.get("parent")
        if parent is not None:
            warn(f"location {site_slug} {slug}: imported without its parent {parent} (zwvl keeps them flat)")
        room: dict[str, Any] = {"slug": slug, "name": loc.fields.get("name") or slug}
        if any(room["slug"] == o["slug"] or room["name"] == o["name"] for o in locations[site_slug]):
            warn(f"skipped location {site_slug} {slug}: its slug or name is used twice in the site")
            continue
        if loc.fields.get("description"):
            room["description"] = loc.fields["description"]
        locations[site_slug].append(room)

    # sites
    sites: dict[str, str] = {}  # slug -> partner
    site_locations: dict[str, set[str]] = {}
    for s in all_of("dcim.site"):
        f = s.fields
        partner = _key(f.get("tenant"))
        if partner not in partners:
            warn(f"skipped site {s.key[0]}: no tenant (partner)")
            continue
        kind = _key(f.get("group"))
        data = _dump(
            Site,
            {
                "slug": s.key[0],
                "name": f.get("name") or s.key[0],
                "partner": partner,
                "kind": kind if kind in SITE_KINDS else "office",
                "status": SITE_STATUS_BACK.get(str(f.get("status")), "active"),
                "address": f.get("physical_address") or (f.get("name") or s.key[0]),
                "lat": f.get("latitude") if f.get("latitude") is not None else 0.0,
                "lon": f.get("longitude") if f.get("longitude") is not None else 0.0,
                "description": f.get("description") or "",
                "locations": locations.get(s.key[0], []),
            },
            f"site {s.key[0]}",
            warn,
        )
        if data is None:
            continue
        assert partner is not None
        sites[s.key[0]] = partner
        site_locations[s.key[0]] = {loc["slug"] for loc in data.get("locations", [])}
        counts["locations"] += len(site_locations[s.key[0]])
        files.add(_src(s, f"partners/{partner}/sites.yaml"), "sites", data)
        counts["sites"] += 1

    # device types
    manufacturers = {r.key[0]: r.fields.get("name") or r.key[0] for r in all_of("dcim.manufacturer")}
    templates: dict[str, list[Record]] = defaultdict(list)
    for it in all_of("dcim.interfacetemplate"):
        templates[it.key[0]].append(it)
    device_types: dict[str, int] = {}
    dt_files: dict[str, dict[str, Any]] = {}
    for d in all_of("dcim.devicetype"):
        f = d.fields
        man = manufacturers.get(_key(f.get("manufacturer")) or "", "Generic")
        ifaces = []
        for it in sorted(templates.get(d.key[0], []), key=lambda r: r.id):
            item: dict[str, Any] = {"name": it.key[1], "type": it.fields.get("type")}
            if it.fields.get("mgmt_only"):
                item["mgmt_only"] = True
            if it.fields.get("label"):
                item["label"] = it.fields["label"]
            ifaces.append(item)
        data = _dump(
            DeviceType,
            {
                "manufacturer": man,
                "model": f.get("model") or d.key[0],
                "slug": d.key[0],
                "part_number": f.get("part_number") or "",
                "u_height": f.get("u_height") if f.get("u_height") is not None else 1,
                "is_full_depth": bool(f.get("is_full_depth")),
                "airflow": f.get("airflow"),
                "comments": f.get("comments") or "",
                "interfaces": ifaces,
            },
            f"device type {d.key[0]}",
            warn,
        )
        if data is None:
            continue
        rel = _src(d, f"{DEVICE_TYPE_DIR}/{slugify(man)}/{d.key[0]}.yaml")
        if not rel.startswith(DEVICE_TYPE_DIR + "/"):
            rel = f"{DEVICE_TYPE_DIR}/{slugify(man)}/{d.key[0]}.yaml"
        dt_files[rel] = data
        device_types[d.key[0]] = len(ifaces)
        counts["device_types"] += 1

    # IP addresses by interface
    ips_on: dict[tuple[str, ...], list[Record]] = defaultdict(list)
    for addr in all_of("ipam.ipaddress"):
        target = addr.fields.get("assigned_object")
        if isinstance(target, Ref) and target.kind == "dcim.interface":
            ips_on[target.key].append(addr)

    # devices
    devices: dict[str, str] = {}  # name -> site
    for d in all_of("dcim.device"):
        f = d.fields
        site = _key(f.get("site"))
        role = _key(f.get("role"))
        dtype = _key(f.get("device_type"))
        if site not in sites or role not in DEVICE_ROLES or dtype not in device_types:
            warn(f"skipped device {d.key[0]}: its site, role or device type cannot be imported")
            continue
        in_room = f.get("location")
        location = None
        if isinstance(in_room, Ref) and len(in_room.key) == 2:
            location = in_room.key[1]
            if in_room.key[0] != site or location not in site_locations.get(site, set()):
                warn(f"device {d.key[0]}: location {in_room} is not a location of site {site}; left out")
                location = None
        on_lo = ips_on.get((d.key[0], LOOPBACK_INTERFACE), [])
        loopback = on_lo[0].key[0] if on_lo else None
        monitoring = f.get("cf.monitoring")
        data = _dump(
            Device,
            {
                "name": d.key[0],
                "site": site,
                "role": role,
                "device_type": dtype,
                "platform": _key(f.get("platform")),
                "location": location,
                "status": DEVICE_STATUS_BACK.get(str(f.get("status")), "active"),
                "serial": f.get("serial") or "",
                "loopback": loopback,
                "monitoring": monitoring if monitoring in MONITORING else "none",
                "description": f.get("description") or "",
            },
            f"device {d.key[0]}",
            warn,
        )
        if data is None:
            continue
        assert site is not None
        devices[d.key[0]] = site
        files.add(_src(d, f"partners/{sites[site]}/devices.yaml"), "devices", data)
        counts["devices"] += 1

    # providers
    providers: set[str] = set()
    for p in all_of("circuits.provider"):
        data = _dump(
            Provider,
            {
                "slug": p.key[0],
                "name": p.fields.get("name") or p.key[0],
                "description": p.fields.get("description") or "",
            },
            f"provider {p.key[0]}",
            warn,
        )
        if data is not None:
            providers.add(p.key[0])
            files.add(_src(p, "backbone/providers.yaml"), "providers", data)
            counts["providers"] += 1

    # circuits: terminations -> cables -> interfaces -> addresses
    terms = {r.key: r for r in all_of("circuits.circuittermination")}
    cable_to: dict[tuple[str, ...], tuple[str, ...]] = {}
    for cab in all_of("dcim.cable"):
        refs = list(cab.fields.get("a_terminations") or []) + list(cab.fields.get("b_terminations") or [])
        tref = next((e for e in refs if isinstance(e, Ref) and e.kind == "circuits.circuittermination"), None)
        iref = next((e for e in refs if isinstance(e, Ref) and e.kind == "dcim.interface"), None)
        if tref is not None and iref is not None:
            cable_to[tref.key] = iref.key
    p2p_prefixes = {r.fields.get("description"): r.key[0] for r in all_of("ipam.prefix")}
    circuit_prefixes: set[str] = set()
    for c in all_of("circuits.circuit"):
        cid = c.key[0]
        f = c.fields
        ends: dict[str, dict[str, Any]] = {}
        for side in ("A", "Z"):
            term = terms.get((cid, side))
            site = term.fields.get("termination") if term else None
            iface = cable_to.get((cid, side))
            if not isinstance(site, Ref) or site.kind != "dcim.site" or iface is None:
                break
            ips = ips_on.get(iface, [])
            want = p2p_prefixes.get(cid)
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
        if len(ends) != 2:
            warn(
                f"skipped circuit {cid}: both ends need a site termination, a cable to an interface and an IP"
            )
            continue
        prefix = str(ipaddress.ip_interface(ends["a"]["address"]).network)
        distance = f.get("distance")
        if distance is not None and f.get("distance_unit") == "m":
            distance = distance / 1000
        elif distance is not None and f.get("distance_unit") not in (None, "km"):
            distance = None
        data = _dump(
            Circuit,
            {
                "cid": cid,
                "provider": _key(f.get("provider")),
                "type": _key(f.get("type")) or "dark-fibre",
                "status": CIRCUIT_STATUS_BACK.get(str(f.get("status")), "active"),
                "prefix": prefix,
                "ospf_cost": f.get("cf.ospf_cost") or 10,
                "length_km": distance or None,
                "a": ends["a"],
                "z": ends["z"],
                "description": f.get("description") or "",
            },
            f"circuit {cid}",
            warn,
        )
        if data is None:
            continue
        circuit_prefixes.add(prefix)
        site_a = ends["a"]["site"]
        files.add(_src(c, f"partners/{sites.get(site_a, 'backbone')}/circuits.yaml"), "circuits", data)
        counts["circuits"] += 1

    # VLANs and prefixes
    vlan_vid: dict[tuple[str, ...], int] = {}
    for v in all_of("ipam.vlan"):
        partner = _key(v.fields.get("tenant"))
        vid = v.fields.get("vid")
        if partner not in partners or vid is None:
            warn(f"skipped VLAN {' '.join(v.key)}: no tenant (partner)")
            continue
        data = _dump(
            Vlan,
            {
                "partner": partner,
                "vid": vid,
                "name": slugify(str(v.fields.get("name") or vid)),
                "description": v.fields.get("description") or "",
            },
            f"VLAN {' '.join(v.key)}",
            warn,
        )
        if data is not None:
            vlan_vid[v.key] = int(vid)
            files.add(_src(v, f"partners/{partner}/network.yaml"), "vlans", data)
            counts["vlans"] += 1
    pool_roles = {role: attr for attr, (role, _name) in POOL_ROLES.items()}
    pools: dict[str, ipaddress.IPv4Network] = {}
    pool_rec: Record | None = None
    for pf in all_of("ipam.prefix"):
        f = pf.fields
        role = _key(f.get("role"))
        if role in pool_roles:
            pools[pool_roles[role]] = ipaddress.IPv4Network(pf.key[0])
            pool_rec = pool_rec or pf
            continue
        if pf.key[0] in circuit_prefixes and len(pf.key) == 1:
            continue
        partner = _key(f.get("tenant"))
        if partner not in partners:
            warn(f"skipped prefix {' '.join(pf.key)}: no tenant (partner)")
            continue
        vlan = f.get("vlan")
        scope = f.get("scope")
        status = str(f.get("status"))
        data = _dump(
            Prefix,
            {
                "partner": partner,
                "prefix": pf.key[0],
                "role": role or "unassigned",
                "status": PREFIX_STATUS_BACK.get(status, "active"),
                "vlan": vlan_vid.get(vlan.key) if isinstance(vlan, Ref) else None,
                "site": scope.key[0] if isinstance(scope, Ref) and scope.kind == "dcim.site" else None,
                "container": status == "container",
                "description": f.get("description") or "",
            },
            f"prefix {pf.key[0]}",
            warn,
        )
        if data is not None:
            files.add(_src(pf, f"partners/{partner}/network.yaml"), "prefixes", data)
            counts["prefixes"] += 1

    # standards (addressing from the pool prefixes, else the smallest networks that cover the data)
    p2p = [ipaddress.IPv4Network(p) for p in circuit_prefixes]
    loops = [
        ipaddress.IPv4Interface(ip.key[0]).network
        for k, v in ips_on.items()
        if k[1] == LOOPBACK_INTERFACE
        for ip in v
    ]
    point_to_point = pools.get("point_to_point") or _covering(p2p) or ipaddress.IPv4Network("100.64.0.0/12")
    loopbacks = pools.get("loopbacks") or _covering(loops) or ipaddress.IPv4Network("100.126.0.0/15")
    supernet = pools.get("supernet") or _covering([point_to_point, loopbacks])
    standards = _dump(
        Standards,
        {
            "approved_device_types": sorted(device_types),
            "naming": {"device": r"^[a-z0-9][a-z0-9-]*$", "site": r"^[a-z0-9-]+$"},
            "addressing": {
                "supernet": str(supernet),
                "point_to_point": str(point_to_point),
                "loopbacks": str(loopbacks),
            },
        },
        "standards",
        warn,
    )
    if standards is not None:
        files.set(_src(pool_rec, "standards.yaml"), "standards", standards)

    # helpdesk: not in NetBox; a stub whose roles cover the partners' headcounts
    roles = sorted({r for p in partners.values() for r in (p.get("helpdesk") or {}).get("headcount", {})})
    helpdesk = _dump(
        Helpdesk,
        {
            "business_hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:30", "end": "17:00"},
            "sla": [
                {"name": "P3-normal", "priority": 3, "acknowledge_minutes": 240, "resolve_minutes": 2550}
            ],
            "default_sla": "P3-normal",
            "categories": ["incident"],
            "roles": {r: r.replace("-", " ").capitalize() for r in roles},
            "groups": [],
        },
        "helpdesk",
        warn,
    )
    if helpdesk is not None:
        files.set("helpdesk/pool.yaml", "helpdesk", helpdesk)

    # write
    header = (
        f"# Imported from NetBox {url} by `zwvl import` on {dt.date.today().isoformat()}.\n"
        "# Review before committing: NetBox holds no standards or helpdesk SLAs (stubs were written).\n"
    )
    written: list[str] = []
    for rel, body in sorted(files.sections.items()):
        if rel.startswith(DEVICE_TYPE_DIR + "/"):
            warn(f"{rel}: not written (device-types/ holds device types only)")
            continue
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=110), encoding="utf-8"
        )
        written.append(rel)
    for rel, body in sorted(dt_files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "# devicetype-library format; imported from NetBox by `zwvl import`.\n"
            + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=110),
            encoding="utf-8",
        )
        written.append(rel)
    return ImportResult(out, written, dict(counts))


def _entries_not_inventory(folder: Path) -> str | None:
    """The first entry of `folder` that is neither a folder nor a YAML file (as the loader reads)."""
    for dirpath, dirs, names in os.walk(folder):
        for name in sorted(dirs):
            if os.path.islink(os.path.join(dirpath, name)):
                return os.path.relpath(os.path.join(dirpath, name), folder)
        for name in sorted(names):
            if not name.endswith((".yaml", ".yml")):
                return os.path.relpath(os.path.join(dirpath, name), folder)
    return None


def _contains(folder: Path, path: Path) -> bool:
    return path == folder or folder in path.parents


def check_out(out: Path, force: bool) -> bool:
    """Refuse an output folder that is not safe to write or to replace, before NetBox is read.

    True when ``out`` holds something the import will replace (only with ``force``). A symbolic
    link, a file or a mount point is never replaced (the swap renames the folder itself); with
    ``force`` the folder must hold nothing but folders and YAML files, must not hold the current
    folder, and must not be the inventory the other commands read (``./inventory``): an import is
    lossy (NetBox holds no standards or helpdesk SLAs), so it goes to another folder to compare.
    """
    if out.is_symlink():
        raise ImportError_(
            f"{out} is a symbolic link (to {os.readlink(out)}): name the folder itself "
            "(the import replaces a folder, never a link)"
        )
    if not out.exists():
        return False
    if not out.is_dir():
        raise ImportError_(f"{out} is a file, not a folder: it is not replaced")
    real = Path(os.path.realpath(out))
    if os.path.ismount(real):
        raise ImportError_(f"{out} is a mount point: it cannot be replaced; import into a folder inside it")
    if _contains(real, Path(os.path.realpath(os.getcwd()))):
        raise ImportError_(f"{out} holds the current folder: it is not replaced")
    if not any(real.iterdir()):
        return False
    if not force:
        raise ImportError_(f"{out} is not empty (pass --force to replace it)")
    if real == Path(os.path.realpath("inventory")):
        raise ImportError_(
            f"{out} is the inventory zwvl reads: an import does not replace it (NetBox holds no "
            "standards or helpdesk SLAs); import into another folder and compare"
        )
    other = _entries_not_inventory(real)
    if other is not None:
        raise ImportError_(
            f"{out} holds {other}, which is not inventory YAML: --force replaces only a folder of "
            "folders and .yaml files"
        )
    return True


AT_FDCWD = -100
RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # no renameat2 in this C library (glibc < 2.28, musl)
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # kernel or file system without it
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def _swap(new: Path, out: Path, replace: bool, warn: Warn) -> None:
    """Put the folder ``new`` in the place of ``out``.

    ``out`` absent or empty: one rename (it fails, changing nothing, if ``out`` gained files since it
    was checked). ``out`` to be replaced: one atomic exchange, after which ``new`` holds the old
    folder and is removed. Where the exchange is not supported, ``out`` is renamed aside and ``new``
    renamed in; between those two renames ``out`` is absent (a crash there leaves the old folder as
    ``.NAME.replaced-*`` and the new one as ``.NAME.importing-*`` beside it) and a failure of the
    second rename puts the old folder back.
    """
    if not replace:
        os.rename(new, out)
        return
    if _exchange(new, out):
        old = new
    else:
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.replaced-", dir=out.parent))
        os.rename(out, old)  # over the empty folder just made
        try:
            os.rename(new, out)
        except BaseException:
            os.rename(old, out)
            raise
    try:
        shutil.rmtree(old)
    except OSError as exc:
        warn(f"the replaced folder is left at {old}: {exc}")


def import_netbox(
    client: NetboxClient, out: Path, *, force: bool = False, warn: Warn | None = None
) -> ImportResult:
    """Read NetBox, write the inventory under ``out`` and validate it with the loader.

    ``out`` is checked first (``check_out``) and touched only after NetBox has been read completely
    and the result validates; it is then replaced in one step (``_swap``).
    """
    warnings: list[str] = []

    def _warn(msg: str) -> None:
        warnings.append(msg)
        if warn is not None:
            warn(msg)

    replace = check_out(out, force)
    state = read_state(client)  # everything, before anything is written
    target = Path(os.path.abspath(out))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.importing-", dir=target.parent))
        os.chmod(tmp, _folder_mode(target))  # mkdtemp's 0700 would otherwise become the folder's
    except OSError as exc:
        raise ImportError_(f"cannot write beside {out}: {exc.strerror or exc}") from None
    try:
        result = import_state(state, tmp, url=client.url, warn=_warn)
        try:
            load_inventory(tmp)
        except InventoryError as exc:  # name the problems by the folder asked for, not the temporary one
            raise InventoryError(
                [dataclasses.replace(p, path=_renamed(p.path, tmp.name, target.name)) for p in exc.problems]
            ) from None
        _swap(tmp, target, replace, _warn)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ImportError_(f"cannot write {out}: {exc}; it was left as it was") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result.out = out
    result.warnings = warnings
    return result


def _folder_mode(out: Path) -> int:
    """The permissions the output folder keeps (when replaced) or gets (as ``mkdir`` would)."""
    if out.is_dir():
        return out.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def _renamed(path: str, old: str, new: str) -> str:
    return new + path[len(old) :] if path == old or path.startswith(old + "/") else path


__all__ = ["CF_SOURCE", "ImportError_", "ImportResult", "check_out", "import_netbox", "import_state"]
