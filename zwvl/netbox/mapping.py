"""The domain model (``zwvl.inventory.Inventory``) as the NetBox objects it should be.

Every desired object has a kind (NetBox object type), a natural key, its compared fields in key space
(references are :class:`~zwvl.netbox.kinds.Ref`, never ids) and the inventory file it comes from.

What becomes what:

- region -> region (custom fields: inhabitants, time_zone, targets); partners -> tenants in the tenant
  groups ``municipality`` / ``intermunicipal`` (custom fields: code, team, the indicators' digital
  satisfaction, IT challenges/projects, eBox, MAGDA document service, helpdesk membership);
- site kinds -> site groups; sites (region, group, tenant, status, address, lat/lon, time zone); a
  site's locations (rooms, halls) -> locations of that site (natural key: site slug + location slug;
  tenant = the site's partner, status active, no parent: zwvl keeps them flat);
- device types (devicetype-library format) -> manufacturers, device types and interface templates;
  device roles, platforms, devices (location, tenant = the site's partner, custom field monitoring,
  primary IPv4 = the loopback); NetBox instantiates the interfaces from the templates, ``lo``
  (virtual) is added for a loopback;
- providers, circuit types, circuits (distance in km, custom field ospf_cost), their A/Z terminations
  on sites (4.x termination API), one cable per end from the termination to the device interface;
- prefixes: the partners' prefixes (status ``container`` for containers, scope = site, VLAN, role),
  one /31 per circuit, the standards' supernet / point-to-point / loopback pools; IP addresses: both
  ends of every circuit on their interfaces, loopbacks on ``lo``;
- one VLAN group per partner and its VLANs; contacts, contact roles and their assignments to tenants;
- the owner ``zwvl`` (``kinds.OWNER``), the ``zwvl-managed`` tag (``kinds.TAG``), the custom fields
  above and ``zwvl_source`` / ``zwvl_hash``; every object whose NetBox type has an owner field gets
  the owner ``zwvl`` (custom fields and choice sets included: that is how zwvl recognises the ones it
  created; the tag by its description, ``kinds.TAG_MARK``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from zwvl.inventory import Inventory
from zwvl.model import Circuit, Device, Obj, Status
from zwvl.netbox.kinds import (
    BY_NAME,
    CF_HASH,
    CF_SOURCE,
    KINDS,
    OWNER,
    OWNER_KIND,
    TAG,
    TAG_MARK,
    Ref,
    owner_ref,
)
from zwvl.netbox.state import make_key

SITE_STATUS: dict[str, str] = {"active": "active", "planned": "planned", "decommissioned": "retired"}
DEVICE_STATUS: dict[str, str] = {
    "active": "active",
    "planned": "planned",
    "decommissioned": "decommissioning",
}
CIRCUIT_STATUS: dict[str, str] = {
    "active": "active",
    "planned": "planned",
    "decommissioned": "decommissioned",
}
LOCATION_STATUS = "active"
PREFIX_STATUS: dict[str, str] = {"active": "active", "planned": "reserved", "decommissioned": "deprecated"}
IP_STATUS = PREFIX_STATUS
CABLE_STATUS: dict[str, str] = {
    "active": "connected",
    "planned": "planned",
    "decommissioned": "decommissioning",
}

TENANT_GROUPS = {"municipality": "Municipalities", "intermunicipal": "Intermunicipal partners"}
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
ROLE_COLORS = {"router": "2196f3", "switch": "4caf50", "server": "9c27b0", "firewall": "f44336"}
PLATFORM_NAMES = {"frr": "FRRouting", "debian-12": "Debian 12", "junos": "Junos"}
CONTACT_ROLE_NAMES = {
    "it-coordinator": "IT coordinator",
    "dpo": "Data protection officer",
    "security-officer": "Information security officer",
}
POOL_ROLES = {
    "supernet": ("backbone-supernet", "Backbone supernet"),
    "point_to_point": ("point-to-point-pool", "Point-to-point pool"),
    "loopbacks": ("loopback-pool", "Loopback pool"),
}
P2P_ROLE = ("point-to-point", "Point-to-point link")
LOOPBACK_INTERFACE = "lo"
MAGDA_CHOICES = "zwvl-magda-document-service"
MONITORING_CHOICES = "zwvl-monitoring"

TAGGABLE_TYPES = sorted(k.name for k in KINDS if k.taggable)


class MappingError(Exception):
    """The inventory cannot be represented in NetBox (e.g. two sites with the same name)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) mapping the inventory to NetBox")
        self.problems = problems


@dataclass
class Desired:
    kind: str
    key: tuple[str, ...]
    fields: dict[str, Any]
    source: str | None = None
    implicit: bool = False
    """Instantiated by NetBox itself (interfaces from templates): created only if missing, never updated."""
    weight: float = 1.0
    """Relative write cost (a device also writes its interfaces)."""


@dataclass
class DesiredState:
    objects: dict[str, dict[tuple[str, ...], Desired]] = field(default_factory=lambda: defaultdict(dict))
    problems: list[str] = field(default_factory=list)
    origin: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)

    def add(
        self, kind: str, fields: dict[str, Any], source: str | None, where: str = "", **kw: Any
    ) -> Desired:
        spec = BY_NAME[kind]
        if spec.owned:
            fields = {**fields, "owner": owner_ref()}
        fields = {n: canonical(kind, n, v) for n, v in fields.items()}
        key = make_key(spec, fields)
        d = Desired(kind, key, fields, source, **kw)
        existing = self.objects[kind].get(key)
        if existing is not None:
            if existing.fields != fields:
                first = self.origin.get((kind, key), existing.source or "?")
                self.problems.append(
                    f"{where or source}: {spec.label} {' '.join(key)!r} is defined twice with different "
                    f"values (first at {first})"
                )
            return existing
        self.objects[kind][key] = d
        self.origin[(kind, key)] = where or source or "?"
        return d

    def count(self) -> int:
        return sum(len(v) for v in self.objects.values())

    def all(self) -> list[Desired]:
        return [d for objs in self.objects.values() for d in objs.values()]


def canonical(kind: str, name: str, value: Any) -> Any:
    spec = BY_NAME[kind]
    if name in spec.floats and value is not None:
        return round(float(value), 6)
    if name in spec.sorted_lists and isinstance(value, list):
        return sorted(value)
    return value


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def source_of(inv: Inventory, obj: Obj) -> str:
    """The object's file relative to the repository: ``inventory/<path inside the inventory folder>``."""
    file = obj.src.file
    prefix = f"{inv.root.name}/" if inv.root.name else ""
    rel = file[len(prefix) :] if prefix and file.startswith(prefix) else file
    return f"inventory/{rel}"


def _where(obj: Obj) -> str:
    return f"{obj.src.file}:{obj.src.line}"


def _title(slug: str) -> str:
    text = slug.replace("-", " ").replace("_", " ")
    return text[:1].upper() + text[1:]


# ------------------------------------------------------------------------------------------ schema


def _schema(ds: DesiredState) -> None:
    ds.add(
        OWNER_KIND,
        {"name": OWNER, "description": f"zwvl: objects managed from the versioned inventory (tag {TAG})"},
        None,
    )
    ds.add(
        "extras.tag",
        {
            "slug": TAG,
            "name": TAG,
            "color": "2e7d32",
            "description": f"{TAG_MARK} from the versioned inventory: change it there, not here",
        },
        None,
    )
    ds.add(
        "extras.customfieldchoiceset",
        {
            "name": MAGDA_CHOICES,
            "description": "Use of the MAGDA document service",
            "extra_choices": [["in-use", "In use"], ["planned", "Planned"], ["not-started", "Not started"]],
            "order_alphabetically": False,
        },
        None,
    )
    ds.add(
        "extras.customfieldchoiceset",
        {
            "name": MONITORING_CHOICES,
            "description": "How a device is monitored",
            "extra_choices": [
                ["node-exporter", "node-exporter"],
                ["frr-exporter", "frr-exporter"],
                ["snmp", "SNMP"],
                ["none", "None"],
            ],
            "order_alphabetically": False,
        },
        None,
    )

    def cf(
        name: str,
        type_: str,
        types: list[str],
        label: str,
        description: str,
        *,
        choice_set: str | None = None,
        visible: str = "always",
        editable: str = "yes",
        minimum: int | None = None,
        maximum: int | None = None,
        group: str = "",
        weight: int = 100,
    ) -> None:
        ds.add(
            "extras.customfield",
            {
                "name": name,
                "type": type_,
                "object_types": sorted(types),
                "label": label,
                "group_name": group,
                "description": description,
                "choice_set": Ref("extras.customfieldchoiceset", (choice_set,)) if choice_set else None,
                "ui_visible": visible,
                "ui_editable": editable,
                "validation_minimum": minimum,
                "validation_maximum": maximum,
                "weight": weight,
            },
            None,
        )

    cf(
        CF_SOURCE,
        "text",
        TAGGABLE_TYPES,
        "Inventory file",
        "Where zwvl manages this object (path in the repository)",
        editable="no",
        group="zwvl",
        weight=1000,
    )
    cf(
        CF_HASH,
        "text",
        TAGGABLE_TYPES,
        "Last written state",
        "Hash of the fields zwvl last wrote (drift detection)",
        visible="hidden",
        editable="hidden",
        group="zwvl",
        weight=1001,
    )
    tenant = ["tenancy.tenant"]
    cf("partner_code", "text", tenant, "Partner code", "Three-character partner code")
    cf("partner_team", "text", tenant, "Team", "Owning team (code owners)")
    cf(
        "digital_satisfaction_pct",
        "integer",
        tenant,
        "Digital satisfaction (%)",
        "Satisfaction with digital services (Stads- en Gemeentemonitor 2020)",
        minimum=0,
        maximum=100,
    )
    cf(
        "it_challenges_2022",
        "integer",
        tenant,
        "IT challenges 2022",
        "IT challenges named in the 2022 survey",
        minimum=0,
    )
    cf(
        "it_projects_2022",
        "integer",
        tenant,
        "IT projects 2022",
        "IT projects named in the 2022 survey",
        minimum=0,
    )
    cf("ebox", "boolean", tenant, "eBox sender", "Delivers documents to citizens' eBox")
    cf(
        "magda_document_service",
        "select",
        tenant,
        "MAGDA document service",
        "Use of the MAGDA document service",
        choice_set=MAGDA_CHOICES,
    )
    cf("helpdesk", "json", tenant, "Helpdesk pool", "Membership of the pooled helpdesk: queue and headcount")
    region = ["dcim.region"]
    cf("inhabitants", "integer", region, "Inhabitants", "Inhabitants of the region", minimum=0)
    cf("time_zone", "text", region, "Time zone", "Time zone of the region")
    cf("targets", "json", region, "Programme targets", "Targets of the regional programme")
    cf(
        "monitoring",
        "select",
        ["dcim.device"],
        "Monitoring",
        "How the device is monitored",
        choice_set=MONITORING_CHOICES,
    )
    cf(
        "ospf_cost",
        "integer",
        ["circuits.circuit"],
        "OSPF cost",
        "OSPF cost of the link",
        minimum=1,
        maximum=65535,
    )


# -------------------------------------------------------------------------------------------- build


def desired_state(inv: Inventory) -> DesiredState:
    """Map the whole inventory; raises MappingError when NetBox could not hold it as is."""
    ds = DesiredState()
    _schema(ds)
    src = lambda obj: source_of(inv, obj)  # noqa: E731

    if inv.region is not None:
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
            src(r),
            _where(r),
        )
    region_ref = Ref("dcim.region", (inv.region.slug,)) if inv.region else None
    tz = inv.region.timezone if inv.region else None

    names: dict[tuple[str, str], str] = {}

    def unique_name(kind: str, name: str, obj: Obj) -> None:
        k = (kind, name.lower())
        if k in names:
            ds.problems.append(
                f"{_where(obj)}: {obj.label}: NetBox needs unique {kind} names; {name!r} is also used at "
                f"{names[k]}"
            )
        else:
            names[k] = _where(obj)

    # partners
    for ptype in sorted({p.type for p in inv.partners.values()}):
        ds.add(
            "tenancy.tenantgroup",
            {"slug": ptype, "name": TENANT_GROUPS.get(ptype, _title(ptype)), "description": ""},
            None,
        )
    for p in inv.partners.values():
        unique_name("tenant", p.name, p)
        ds.add(
            "tenancy.tenant",
            {
                "slug": p.slug,
                "name": p.name,
                "group": Ref("tenancy.tenantgroup", (p.type,)),
                "description": p.description,
                "cf.partner_code": p.code,
                "cf.partner_team": p.team,
                "cf.digital_satisfaction_pct": p.digital_satisfaction_pct,
                "cf.it_challenges_2022": p.it_challenges_2022,
                "cf.it_projects_2022": p.it_projects_2022,
                "cf.ebox": p.ebox,
                "cf.magda_document_service": p.magda_document_service,
                "cf.helpdesk": p.helpdesk.model_dump(mode="json") if p.helpdesk else None,
            },
            src(p),
            _where(p),
        )

    # sites
    for kind in sorted({s.kind for s in inv.sites.values()}):
        ds.add(
            "dcim.sitegroup",
            {"slug": kind, "name": SITE_GROUPS.get(kind, _title(kind)), "description": ""},
            None,
        )
    for s in inv.sites.values():
        unique_name("site", s.name, s)
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
            src(s),
            _where(s),
        )
        for loc in s.locations:
            ds.add(
                "dcim.location",
                {
                    "site": Ref("dcim.site", (s.slug,)),
                    "slug": loc.slug,
                    "name": loc.name,
                    "parent": None,
                    "status": LOCATION_STATUS,
                    "tenant": Ref("tenancy.tenant", (s.partner,)),
                    "description": loc.description,
                },
                src(s),
                _where(s),
            )

    # hardware
    for dt in inv.device_types.values():
        mslug = slugify(dt.manufacturer)
        ds.add("dcim.manufacturer", {"slug": mslug, "name": dt.manufacturer}, None)
        ds.add(
            "dcim.devicetype",
            {
                "slug": dt.slug,
                "manufacturer": Ref("dcim.manufacturer", (mslug,)),
                "model": dt.model,
                "part_number": dt.part_number,
                "u_height": dt.u_height,
                "is_full_depth": dt.is_full_depth,
                "airflow": dt.airflow,
                "comments": dt.comments,
            },
            src(dt),
            _where(dt),
        )
        for it in dt.interfaces:
            ds.add(
                "dcim.interfacetemplate",
                {
                    "device_type": Ref("dcim.devicetype", (dt.slug,)),
                    "name": it.name,
                    "type": it.type,
                    "mgmt_only": it.mgmt_only,
                    "label": it.label,
                },
                src(dt),
                _where(dt),
            )
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
        _device(ds, inv, dev, src(dev))

    # circuits
    for prov in inv.providers.values():
        unique_name("provider", prov.name, prov)
        ds.add(
            "circuits.provider",
            {"slug": prov.slug, "name": prov.name, "description": prov.description},
            src(prov),
            _where(prov),
        )
    for ctype in sorted({c.type for c in inv.circuits.values()}):
        ds.add("circuits.circuittype", {"slug": ctype, "name": _title(ctype), "description": ""}, None)
    if inv.circuits:
        ds.add("ipam.role", {"slug": P2P_ROLE[0], "name": P2P_ROLE[1], "description": ""}, None)
    for ckt in inv.circuits.values():
        _circuit(ds, inv, ckt, src(ckt))

    # IPAM: pools, roles, VLANs, prefixes
    if inv.standards is not None:
        std = inv.standards
        for attr, (pool_role, role_name) in POOL_ROLES.items():
            ds.add("ipam.role", {"slug": pool_role, "name": role_name, "description": ""}, None)
            net = getattr(std.addressing, attr)
            ds.add(
                "ipam.prefix",
                {
                    "prefix": str(net),
                    "status": "container",
                    "role": Ref("ipam.role", (pool_role,)),
                    "tenant": None,
                    "vlan": None,
                    "scope": None,
                    "description": role_name,
                },
                src(std),
                _where(std),
            )
    partners_with_vlans = sorted({v.partner for v in inv.vlans})
    for slug in partners_with_vlans:
        p = inv.partners[slug]
        ds.add(
            "ipam.vlangroup",
            {"slug": f"{slug}-vlans", "name": f"{p.name} VLANs", "description": ""},
            source_of(inv, p),
            _where(p),
        )
    for v in inv.vlans:
        ds.add(
            "ipam.vlan",
            {
                "group": Ref("ipam.vlangroup", (f"{v.partner}-vlans",)),
                "vid": v.vid,
                "name": v.name,
                "status": "active",
                "tenant": Ref("tenancy.tenant", (v.partner,)),
                "description": v.description,
            },
            src(v),
            _where(v),
        )
    for prefix_role in sorted({pf.role for pf in inv.prefixes}):
        ds.add("ipam.role", {"slug": prefix_role, "name": _title(prefix_role), "description": ""}, None)
    for pf in inv.prefixes:
        ds.add(
            "ipam.prefix",
            {
                "prefix": str(pf.prefix),
                "status": "container" if pf.container else PREFIX_STATUS[pf.status],
                "role": Ref("ipam.role", (pf.role,)),
                "tenant": Ref("tenancy.tenant", (pf.partner,)),
                "vlan": Ref("ipam.vlan", (f"{pf.partner}-vlans", str(pf.vlan)))
                if pf.vlan is not None
                else None,
                "scope": Ref("dcim.site", (pf.site,)) if pf.site else None,
                "description": pf.description,
            },
            src(pf),
            _where(pf),
        )

    # contacts
    for contact_role in sorted({c.role for c in inv.contacts}):
        ds.add(
            "tenancy.contactrole",
            {
                "slug": contact_role,
                "name": CONTACT_ROLE_NAMES.get(contact_role, _title(contact_role)),
                "description": "",
            },
            None,
        )
    for c in inv.contacts:
        ds.add(
            "tenancy.contact",
            {"name": c.name, "email": c.email, "phone": c.phone, "description": ""},
            src(c),
            _where(c),
        )
        ds.add(
            "tenancy.contactassignment",
            {
                "object": Ref("tenancy.tenant", (c.partner,)),
                "contact": Ref("tenancy.contact", (c.name,)),
                "role": Ref("tenancy.contactrole", (c.role,)),
                "priority": None,
            },
            src(c),
            _where(c),
        )
    if ds.problems:
        raise MappingError(ds.problems)
    return ds


def _device(ds: DesiredState, inv: Inventory, dev: Device, source: str) -> None:
    site = inv.sites[dev.site]
    dtype = inv.device_types[dev.device_type]
    lo_ip = str(dev.loopback) if dev.loopback is not None else None
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
            "primary_ip4": Ref("ipam.ipaddress", (lo_ip,)) if lo_ip else None,
        },
        source,
        _where(dev),
        weight=1.0 + len(dtype.interfaces),
    )
    dref = Ref("dcim.device", (dev.name,))
    for it in dtype.interfaces:
        ds.add(
            "dcim.interface",
            {"device": dref, "name": it.name, "type": it.type, "description": ""},
            source,
            _where(dev),
            implicit=True,
        )
    if lo_ip is not None:
        ds.add(
            "dcim.interface",
            {"device": dref, "name": LOOPBACK_INTERFACE, "type": "virtual", "description": "Loopback"},
            source,
            _where(dev),
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
            source,
            _where(dev),
        )


def _circuit(ds: DesiredState, inv: Inventory, ckt: Circuit, source: str) -> None:
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
        source,
        _where(ckt),
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
        source,
        _where(ckt),
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
            source,
            _where(ckt),
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
            source,
            _where(ckt),
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
            source,
            _where(ckt),
        )


def cable_label(cid: str, side: str) -> str:
    return f"{cid}/{side}"


__all__ = ["CF_HASH", "CF_SOURCE", "Desired", "DesiredState", "MappingError", "desired_state", "source_of"]
