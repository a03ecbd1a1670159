"""NetBox ``dcim``: the region, sites and their locations, device types and devices.

Forward:

- region -> region (custom fields: inhabitants, time_zone, targets);
- site kinds -> site groups; sites (region, group, tenant, status, address, lat/lon, time zone); a
  site's locations (rooms, halls) -> locations of that site (natural key: site slug + location slug;
  tenant = the site's partner, status active, no parent: zwvl keeps them flat);
- device types (devicetype-library format) -> manufacturers, device types and interface templates;
  device roles, platforms, devices (location, tenant = the site's partner, custom field monitoring,
  primary IPv4 = the loopback); NetBox instantiates the interfaces from the templates, ``lo``
  (virtual) is added for a loopback, with its address.

Reverse: the region the sites use (else the first), sites with their locations embedded (a parent
is dropped with a warning), device types with their interface templates (written in the
devicetype-library layout), devices whose site, role and device type were imported (the loopback is
the address on ``lo``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, get_args

from zwvl.inventory import DEVICE_TYPE_DIR, Inventory
from zwvl.model import Device, DeviceMonitoring, DeviceRole, DeviceType, Region, Site, SiteKind
from zwvl.netbox.apps.common import DesiredState, Imported, copied, file_of, key_of, slugify, source_where
from zwvl.netbox.kinds import LOOPBACK_INTERFACE, Ref
from zwvl.netbox.state import Record
from zwvl.netbox.vocab import (
    DEVICE_STATUS,
    DEVICE_STATUS_BACK,
    IP_STATUS,
    LOCATION_STATUS,
    SITE_STATUS,
    SITE_STATUS_BACK,
)

SITE_GROUPS = {
    "town-hall": "Town halls",
    "library": "Libraries",
    "social-house": "Social houses",
    "depot": "Depots",
    "service-centre": "Service centres",
    "sports-centre": "Sports centres",
    "office": "Offices",
    "local-datacenter": "Local datacenters",
    "regional-datacenter": "Regional datacenter",
}
# what the domain model accepts on import; anything else NetBox holds maps to a default
SITE_KINDS = frozenset(get_args(SiteKind))
DEVICE_ROLES = frozenset(get_args(DeviceRole))
MONITORING = frozenset(get_args(DeviceMonitoring))
ROLE_COLORS = {"router": "2196f3", "switch": "4caf50", "server": "9c27b0", "firewall": "f44336"}
PLATFORM_NAMES = {"frr": "FRRouting", "debian-12": "Debian 12", "junos": "Junos"}

# ------------------------------------------------------------------------------------------ forward


def map_region(ds: DesiredState, inv: Inventory) -> None:
    if inv.region is None:
        return
    r = inv.region
    ds.add(
        "dcim.region",
        {
            "slug": r.slug,
            "name": r.name,
            "description": "",
            "cf.inhabitants": r.inhabitants,
            "cf.time_zone": r.timezone,
            "cf.targets": r.targets.model_dump(mode="json"),
        },
        *source_where(inv, r),
    )


def map_sites(ds: DesiredState, inv: Inventory) -> None:
    region_ref = Ref("dcim.region", (inv.region.slug,)) if inv.region else None
    tz = inv.region.timezone if inv.region else None
    ds.add_named("dcim.sitegroup", {s.kind for s in inv.sites.values()}, SITE_GROUPS)
    names: dict[str, str] = {}
    for s in inv.sites.values():
        ds.unique_name(names, "site", s.name, s)
        at = source_where(inv, s)  # a site's locations are written in the site's file
        ds.add(
            "dcim.site",
            {
                "slug": s.slug,
                "name": s.name,
                "status": SITE_STATUS[s.status],
                "region": region_ref,
                "group": Ref("dcim.sitegroup", (s.kind,)),
                "tenant": Ref("tenancy.tenant", (s.partner,)),
                "physical_address": s.address,
                "latitude": s.lat,
                "longitude": s.lon,
                "time_zone": tz,
                "description": s.description,
            },
            *at,
        )
        for loc in s.locations:
            ds.add(
                "dcim.location",
                {
                    "site": Ref("dcim.site", (s.slug,)),
                    **copied(loc, "slug", "name"),
                    "parent": None,
                    "status": LOCATION_STATUS,
                    "tenant": Ref("tenancy.tenant", (s.partner,)),
                    "description": loc.description,
                },
                *at,
            )


def map_device_types(ds: DesiredState, inv: Inventory) -> None:
    for dt in inv.device_types.values():
        at = source_where(inv, dt)
        mslug = slugify(dt.manufacturer)
        ds.add("dcim.manufacturer", {"slug": mslug, "name": dt.manufacturer}, None)
        ds.add(
            "dcim.devicetype",
            {
                "slug": dt.slug,
                "manufacturer": Ref("dcim.manufacturer", (mslug,)),
                **copied(dt, "model", "part_number", "u_height", "is_full_depth", "airflow", "comments"),
            },
            *at,
        )
        for it in dt.interfaces:
            ds.add(
                "dcim.interfacetemplate",
                {
                    "device_type": Ref("dcim.devicetype", (dt.slug,)),
                    **copied(it, "name", "type", "mgmt_only", "label"),
                },
                *at,
            )


def map_devices(ds: DesiredState, inv: Inventory) -> None:
    for device_role in sorted({d.role for d in inv.devices.values()}):
        ds.add(
            "dcim.devicerole",
            {
                "slug": device_role,
                "name": device_role,
                "color": ROLE_COLORS.get(device_role, "9e9e9e"),
                "description": "",
            },
            None,
        )
    for plat in sorted({d.platform for d in inv.devices.values() if d.platform}):
        ds.add(
            "dcim.platform", {"slug": plat, "name": PLATFORM_NAMES.get(plat, plat), "description": ""}, None
        )
    for dev in inv.devices.values():
        _device(ds, inv, dev)


def _device(ds: DesiredState, inv: Inventory, dev: Device) -> None:
    at = source_where(inv, dev)
    site = inv.sites[dev.site]
    dtype = inv.device_types[dev.device_type]
    lo_ip = str(dev.loopback) if dev.loopback is not None else None
    primary = str(dev.primary_address) if dev.primary_address is not None else None
    ds.add(
        "dcim.device",
        {
            "name": dev.name,
            "device_type": Ref("dcim.devicetype", (dev.device_type,)),
            "role": Ref("dcim.devicerole", (dev.role,)),
            "site": Ref("dcim.site", (dev.site,)),
            "location": Ref("dcim.location", (dev.site, dev.location)) if dev.location else None,
            "tenant": Ref("tenancy.tenant", (site.partner,)),
            "platform": Ref("dcim.platform", (dev.platform,)) if dev.platform else None,
            "status": DEVICE_STATUS[dev.status],
            "serial": dev.serial,
            "description": dev.description,
            "cf.monitoring": dev.monitoring,
            "primary_ip4": Ref("ipam.ipaddress", (primary,)) if primary else None,
        },
        *at,
        weight=1.0 + len(dtype.interfaces),
    )
    dref = Ref("dcim.device", (dev.name,))
    for it in dtype.interfaces:
        ds.add(
            "dcim.interface",
            {"device": dref, "name": it.name, "type": it.type, "description": ""},
            *at,
            implicit=True,
        )
    if lo_ip is not None:
        ds.add(
            "dcim.interface",
            {"device": dref, "name": LOOPBACK_INTERFACE, "type": "virtual", "description": "Loopback"},
            *at,
        )
        ds.add(
            "ipam.ipaddress",
            {
                "address": lo_ip,
                "status": IP_STATUS[dev.status],
                "role": "loopback",
                "tenant": Ref("tenancy.tenant", (site.partner,)),
                "assigned_object": Ref("dcim.interface", (dev.name, LOOPBACK_INTERFACE)),
                "description": f"Loopback of {dev.name}",
            },
            *at,
        )
    if dev.primary_ip4 is not None:
        ds.add(
            "ipam.ipaddress",
            {
                "address": str(dev.primary_ip4.address),
                "status": IP_STATUS[dev.status],
                "role": None,
                "tenant": Ref("tenancy.tenant", (site.partner,)),
                "assigned_object": Ref("dcim.interface", (dev.name, dev.primary_ip4.interface)),
                "description": f"Primary address of {dev.name}",
            },
            *at,
        )


# ------------------------------------------------------------------------------------------ reverse


def import_region(im: Imported) -> None:
    regions = im.of("dcim.region")
    site_regions = [key_of(s.fields.get("region")) for s in im.of("dcim.site")]
    region_rec = None
    if regions:
        used = max(set(site_regions) - {None}, key=site_regions.count, default=None)
        region_rec = next((r for r in regions if r.key[0] == used), regions[0])
    targets = (region_rec.fields.get("cf.targets") if region_rec else None) or {}
    region = im.dump(
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
    )
    if region is not None:
        im.set(file_of(region_rec, "region.yaml"), "region", region)


def _locations(im: Imported) -> dict[str, list[dict[str, Any]]]:
    """Locations by site slug, as the sites embed them (zwvl keeps them flat: a parent is dropped)."""
    locations: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for loc in im.of("dcim.location"):
        site_slug, slug = loc.key
        parent = loc.fields.get("parent")
        if parent is not None:
            im.warn(
                f"location {site_slug} {slug}: imported without its parent {parent} (zwvl keeps them flat)"
            )
        room: dict[str, Any] = {"slug": slug, "name": loc.fields.get("name") or slug}
        if any(room["slug"] == o["slug"] or room["name"] == o["name"] for o in locations[site_slug]):
            im.warn(f"skipped location {site_slug} {slug}: its slug or name is used twice in the site")
            continue
        if loc.fields.get("description"):
            room["description"] = loc.fields["description"]
        locations[site_slug].append(room)
    return locations


def import_sites(im: Imported) -> None:
    locations = _locations(im)
    for s in im.of("dcim.site"):
        f = s.fields
        partner = key_of(f.get("tenant"))
        if partner not in im.partners:
            im.warn(f"skipped site {s.key[0]}: no tenant (partner)")
            continue
        kind = key_of(f.get("group"))
        data = im.dump(
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
        )
        if data is None:
            continue
        assert partner is not None
        im.sites[s.key[0]] = partner
        im.site_locations[s.key[0]] = {loc["slug"] for loc in data.get("locations", [])}
        im.counts["locations"] += len(im.site_locations[s.key[0]])
        im.add(file_of(s, f"partners/{partner}/sites.yaml"), "sites", data)
        im.counts["sites"] += 1


def import_device_types(im: Imported) -> None:
    manufacturers = {r.key[0]: r.fields.get("name") or r.key[0] for r in im.of("dcim.manufacturer")}
    templates: dict[str, list[Record]] = defaultdict(list)
    for it in im.of("dcim.interfacetemplate"):
        templates[it.key[0]].append(it)
    for d in im.of("dcim.devicetype"):
        f = d.fields
        man = manufacturers.get(key_of(f.get("manufacturer")) or "", "Generic")
        ifaces = []
        for it in sorted(templates.get(d.key[0], []), key=lambda r: r.id):
            item: dict[str, Any] = {"name": it.key[1], "type": it.fields.get("type")}
            if it.fields.get("mgmt_only"):
                item["mgmt_only"] = True
            if it.fields.get("label"):
                item["label"] = it.fields["label"]
            ifaces.append(item)
        data = im.dump(
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
        )
        if data is None:
            continue
        rel = file_of(d, f"{DEVICE_TYPE_DIR}/{slugify(man)}/{d.key[0]}.yaml")
        if not rel.startswith(DEVICE_TYPE_DIR + "/"):
            rel = f"{DEVICE_TYPE_DIR}/{slugify(man)}/{d.key[0]}.yaml"
        im.device_type_files[rel] = data
        im.device_types[d.key[0]] = len(ifaces)
        im.counts["device_types"] += 1


def _primary_ip4(im: Imported, d: Record) -> dict[str, str] | None:
    """A device's primary IPv4 and the interface it is on (a server's; a router's is its loopback)."""
    ref = d.fields.get("primary_ip4")
    if not isinstance(ref, Ref):
        return None
    for (device, interface), ips in im.ips_on.items():
        if device == d.key[0] and any(ip.key == ref.key for ip in ips):
            return {"interface": interface, "address": ref.key[0]}
    return None


def import_devices(im: Imported) -> None:
    for d in im.of("dcim.device"):
        f = d.fields
        site = key_of(f.get("site"))
        role = key_of(f.get("role"))
        dtype = key_of(f.get("device_type"))
        if site not in im.sites or role not in DEVICE_ROLES or dtype not in im.device_types:
            im.warn(f"skipped device {d.key[0]}: its site, role or device type cannot be imported")
            continue
        in_room = f.get("location")
        location = None
        if isinstance(in_room, Ref) and len(in_room.key) == 2:
            location = in_room.key[1]
            if in_room.key[0] != site or location not in im.site_locations.get(site, set()):
                im.warn(f"device {d.key[0]}: location {in_room} is not a location of site {site}; left out")
                location = None
        on_lo = im.ips_on.get((d.key[0], LOOPBACK_INTERFACE), [])
        loopback = on_lo[0].key[0] if on_lo else None
        primary = None if loopback else _primary_ip4(im, d)
        monitoring = f.get("cf.monitoring")
        data = im.dump(
            Device,
            {
                "name": d.key[0],
                "site": site,
                "role": role,
                "device_type": dtype,
                "platform": key_of(f.get("platform")),
                "location": location,
                "status": DEVICE_STATUS_BACK.get(str(f.get("status")), "active"),
                "serial": f.get("serial") or "",
                "loopback": loopback,
                "primary_ip4": primary,
                "monitoring": monitoring if monitoring in MONITORING else "none",
                "description": f.get("description") or "",
            },
            f"device {d.key[0]}",
        )
        if data is None:
            continue
        assert site is not None
        im.add(file_of(d, f"partners/{im.sites[site]}/devices.yaml"), "devices", data)
        im.device_sites[d.key[0]] = site
        im.counts["devices"] += 1
