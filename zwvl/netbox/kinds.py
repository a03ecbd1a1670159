"""The NetBox object types the reconciler manages: endpoints, natural keys, compared fields, references.

A record read from NetBox is normalised into *key space*: foreign keys become :class:`Ref` (the
referenced object's kind and natural key) instead of numeric ids, choices become their value, decimals
are rounded. Desired objects (see ``zwvl.netbox.apps``) are built in the same space, so comparing,
hashing and printing never depend on database ids.

Field names are NetBox API names, plus pseudo fields:

- ``cf.<name>``: one custom field value;
- a *generic* reference (``assigned_object``, ``termination``, ``scope``, ``object``) stands for the
  API pair ``<x>_type`` / ``<x>_id``;
- ``a_terminations`` / ``b_terminations`` of cables: lists of generic references.

Ownership (see docs/architecture.md, "Ownership"): an object is zwvl's when it carries the tag
:data:`TAG`. The schema objects cannot carry tags: custom fields and choice sets are zwvl's when their
NetBox owner (``users.owner``, NetBox 4.5+) is :data:`OWNER`, the tag itself when its description
starts with :data:`TAG_MARK` (NetBox 4.7's API does not expose a tag's owner). Every managed object
that has an ``owner`` field gets that owner. These constants are the only place that names them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

TAG = "zwvl-managed"
"""The ownership tag: zwvl updates and deletes only objects that carry it. Namespaced on purpose."""
LEGACY_TAG = "gitops"
"""The tag of earlier zwvl versions: a generic name other tools use too, so an object carrying only it
is *not* managed (where it holds a desired key it is a conflict; ``--adopt`` takes it over)."""
OWNER = "zwvl"
"""Name of the NetBox owner (``users.owner``) of zwvl's objects, and the mark of its schema objects."""
OWNER_KIND = "users.owner"
LOOPBACK_INTERFACE = "lo"
"""The interface zwvl adds to every device for its loopback address (the router id)."""
TAG_MARK = "Managed by zwvl"
"""How the ownership tag's description begins when zwvl made it (its mark, as the owner is for the
custom fields)."""
MIN_OWNER_VERSION = (4, 5)
"""NetBox has owners from 4.5 on; zwvl needs them (the schema objects' mark)."""
CF_SOURCE = "zwvl_source"
CF_HASH = "zwvl_hash"
LOCK_TAG = "zwvl-apply-lock"
UNKNOWN = "#"  # key prefix for objects whose natural key is unknown: ("#<id>",)


@dataclass(frozen=True, order=True)
class Ref:
    """A reference to another object by kind and natural key."""

    kind: str
    key: tuple[str, ...]

    def __str__(self) -> str:
        return " ".join(self.key)

    def label(self) -> str:
        return f"{self.kind}:{self}"


@dataclass(frozen=True)
class Kind:
    name: str
    """NetBox object type, e.g. ``dcim.site``."""
    endpoint: str
    key: tuple[str, ...]
    """Fields (normalised names) that make up the natural key, in order."""
    fields: tuple[str, ...]
    """Compared fields (normalised names), without the bookkeeping custom fields."""
    refs: dict[str, str] = field(default_factory=dict)
    """Foreign-key field -> referenced kind."""
    generic: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Pseudo field -> (API type field, API id field)."""
    ref_lists: frozenset[str] = frozenset()
    floats: frozenset[str] = frozenset()
    sorted_lists: frozenset[str] = frozenset()
    taggable: bool = True
    """Carries the ownership tag and the zwvl_source / zwvl_hash custom fields."""
    owned: bool = True
    """Has NetBox's ``owner`` field (compared like any field; zwvl writes :data:`OWNER`)."""
    parent: str | None = None
    """For kinds that cannot be tagged: the key field whose object owns this one."""
    deferred: frozenset[str] = frozenset()
    """Fields written in a final pass (they reference objects created later)."""
    after: tuple[str, ...] = ()
    """Kinds that must be written before this one although it does not reference them."""
    schema: bool = False
    """The owner, tags, custom fields, choice sets: created and updated, never deleted; zwvl's only
    when marked so (owner :data:`OWNER`; the tag: :data:`TAG_MARK`; the owner: its name)."""
    extra_read: tuple[str, ...] = ()
    """API fields read for bookkeeping only (e.g. vrf for prefixes)."""
    joined: frozenset[str] = frozenset()
    """Fields not read from the endpoint but joined in from another list (cable terminations)."""
    sparse_tags: bool = False
    """Read tags and custom fields only for tagged objects (most are NetBox's own, e.g. interfaces)."""
    create_nulls: tuple[str, ...] = ()
    """API fields NetBox requires on create although null is valid (sent as null; not compared)."""

    @property
    def label(self) -> str:
        return self.name.split(".", 1)[1]

    def api_fields(self, *, owners: bool = True) -> list[str]:
        """The ``fields=`` list to read: everything compared, the key, and bookkeeping (``owner`` only
        when NetBox has owners)."""
        out = ["id", "last_updated"]
        if self.taggable and not self.sparse_tags:
            out += ["tags", "custom_fields"]
        for name in self.key + self.fields:
            if name in self.joined:
                continue
            if name.startswith("cf."):
                if "custom_fields" not in out:
                    out.append("custom_fields")
            elif name in self.generic:
                out += list(self.generic[name])
            elif name == "owner" and not owners:
                continue
            elif name not in out:
                out.append(name)
        out += [f for f in self.extra_read if f not in out]
        return out

    def referenced_kinds(self) -> set[str]:
        deps = set(self.refs.values()) | set(self.after)
        return {d for d in deps if d != self.name}


# NetBox 4.7 API objects without an ``owner`` field: models without OwnerMixin, and tags (the model has
# one, TagSerializer does not list it: an owner sent is silently dropped)
_NO_OWNER = frozenset(
    {
        OWNER_KIND,
        "extras.tag",
        "dcim.interfacetemplate",
        "circuits.circuittermination",
        "tenancy.contactassignment",
    }
)


def _k(name: str, endpoint: str, key: tuple[str, ...], fields: tuple[str, ...], **kw: Any) -> Kind:
    if name in _NO_OWNER:
        return Kind(name, endpoint, key, fields, owned=False, **kw)
    refs = {**kw.pop("refs", {}), "owner": OWNER_KIND}
    return Kind(name, endpoint, key, (*fields, "owner"), refs=refs, **kw)


def owner_ref() -> Ref:
    return Ref(OWNER_KIND, (OWNER,))


def has_owners(version: str) -> bool:
    """Whether a NetBox of this version (``/api/status/`` netbox-version) has owners."""
    m = re.match(r"\s*v?(\d+)\.(\d+)", version)
    return m is None or (int(m.group(1)), int(m.group(2))) >= MIN_OWNER_VERSION


CF_TENANT = (
    "cf.partner_code",
    "cf.partner_team",
    "cf.digital_satisfaction_pct",
    "cf.it_challenges_2022",
    "cf.it_projects_2022",
    "cf.ebox",
    "cf.magda_document_service",
    "cf.helpdesk",
)

KINDS: list[Kind] = [
    # schema: owner, tag, choice sets, custom fields (never deleted, not tagged; marked by the owner)
    _k(
        OWNER_KIND,
        "users/owners",
        ("name",),
        ("description",),
        taggable=False,
        schema=True,
        create_nulls=("group",),
    ),
    _k("extras.tag", "extras/tags", ("slug",), ("name", "color", "description"), taggable=False, schema=True),
    _k(
        "extras.customfieldchoiceset",
        "extras/custom-field-choice-sets",
        ("name",),
        ("description", "extra_choices", "order_alphabetically"),
        taggable=False,
        schema=True,
    ),
    _k(
        "extras.customfield",
        "extras/custom-fields",
        ("name",),
        (
            "type",
            "object_types",
            "label",
            "group_name",
            "description",
            "choice_set",
            "ui_visible",
            "ui_editable",
            "validation_minimum",
            "validation_maximum",
            "weight",
        ),
        refs={"choice_set": "extras.customfieldchoiceset"},
        sorted_lists=frozenset({"object_types"}),
        taggable=False,
        schema=True,
    ),
    # organisation
    _k("tenancy.tenantgroup", "tenancy/tenant-groups", ("slug",), ("name", "description")),
    _k(
        "tenancy.tenant",
        "tenancy/tenants",
        ("slug",),
        ("name", "group", "description", *CF_TENANT),
        refs={"group": "tenancy.tenantgroup"},
    ),
    _k(
        "dcim.region",
        "dcim/regions",
        ("slug",),
        ("name", "description", "cf.inhabitants", "cf.time_zone", "cf.targets"),
    ),
    _k("dcim.sitegroup", "dcim/site-groups", ("slug",), ("name", "description")),
    _k(
        "dcim.site",
        "dcim/sites",
        ("slug",),
        (
            "name",
            "status",
            "region",
            "group",
            "tenant",
            "physical_address",
            "latitude",
            "longitude",
            "time_zone",
            "description",
        ),
        refs={"region": "dcim.region", "group": "dcim.sitegroup", "tenant": "tenancy.tenant"},
        floats=frozenset({"latitude", "longitude"}),
    ),
    _k(
        "dcim.location",
        "dcim/locations",
        ("site", "slug"),
        ("name", "parent", "status", "tenant", "description"),
        refs={"site": "dcim.site", "parent": "dcim.location", "tenant": "tenancy.tenant"},
    ),
    # hardware
    _k("dcim.manufacturer", "dcim/manufacturers", ("slug",), ("name",)),
    _k(
        "dcim.devicetype",
        "dcim/device-types",
        ("slug",),
        ("manufacturer", "model", "part_number", "u_height", "is_full_depth", "airflow", "comments"),
        refs={"manufacturer": "dcim.manufacturer"},
        floats=frozenset({"u_height"}),
    ),
    _k(
        "dcim.interfacetemplate",
        "dcim/interface-templates",
        ("device_type", "name"),
        ("type", "mgmt_only", "label"),
        refs={"device_type": "dcim.devicetype"},
        taggable=False,
        parent="device_type",
    ),
    _k("dcim.devicerole", "dcim/device-roles", ("slug",), ("name", "color", "description")),
    _k("dcim.platform", "dcim/platforms", ("slug",), ("name", "description")),
    _k(
        "dcim.device",
        "dcim/devices",
        ("name",),
        (
            "device_type",
            "role",
            "site",
            "location",
            "tenant",
            "platform",
            "status",
            "serial",
            "description",
            "cf.monitoring",
            "primary_ip4",
        ),
        refs={
            "device_type": "dcim.devicetype",
            "role": "dcim.devicerole",
            "site": "dcim.site",
            "location": "dcim.location",
            "tenant": "tenancy.tenant",
            "platform": "dcim.platform",
            "primary_ip4": "ipam.ipaddress",
        },
        deferred=frozenset({"primary_ip4"}),
        after=("dcim.interfacetemplate",),
    ),
    _k(
        "dcim.interface",
        "dcim/interfaces",
        ("device", "name"),
        ("type", "description"),
        refs={"device": "dcim.device"},
        sparse_tags=True,
    ),
    # circuits
    _k("circuits.provider", "circuits/providers", ("slug",), ("name", "description")),
    _k("circuits.circuittype", "circuits/circuit-types", ("slug",), ("name", "description")),
    _k(
        "circuits.circuit",
        "circuits/circuits",
        ("cid",),
        ("provider", "type", "status", "description", "distance", "distance_unit", "cf.ospf_cost"),
        refs={"provider": "circuits.provider", "type": "circuits.circuittype"},
        floats=frozenset({"distance"}),
    ),
    _k(
        "circuits.circuittermination",
        "circuits/circuit-terminations",
        ("circuit", "term_side"),
        ("termination", "description"),
        refs={"circuit": "circuits.circuit"},
        generic={"termination": ("termination_type", "termination_id")},
        after=("dcim.site",),
    ),
    _k(
        "dcim.cable",
        "dcim/cables",
        ("label",),
        ("a_terminations", "b_terminations", "status", "description"),
        ref_lists=frozenset({"a_terminations", "b_terminations"}),
        joined=frozenset({"a_terminations", "b_terminations"}),
        after=("circuits.circuittermination", "dcim.interface"),
    ),
    # IPAM
    _k("ipam.role", "ipam/roles", ("slug",), ("name", "description")),
    _k("ipam.vlangroup", "ipam/vlan-groups", ("slug",), ("name", "description")),
    _k(
        "ipam.vlan",
        "ipam/vlans",
        ("group", "vid"),
        ("name", "status", "tenant", "description"),
        refs={"group": "ipam.vlangroup", "tenant": "tenancy.tenant"},
    ),
    _k(
        "ipam.prefix",
        "ipam/prefixes",
        ("prefix",),
        ("status", "role", "tenant", "vlan", "scope", "description"),
        refs={"role": "ipam.role", "tenant": "tenancy.tenant", "vlan": "ipam.vlan"},
        generic={"scope": ("scope_type", "scope_id")},
        after=("dcim.site",),
        extra_read=("vrf",),
    ),
    _k(
        "ipam.ipaddress",
        "ipam/ip-addresses",
        ("address",),
        ("status", "role", "tenant", "assigned_object", "description"),
        extra_read=("vrf",),
        refs={"tenant": "tenancy.tenant"},
        after=("dcim.interface",),
        generic={"assigned_object": ("assigned_object_type", "assigned_object_id")},
    ),
    _k(
        "ipam.service",
        "ipam/services",
        ("parent_object", "name"),
        ("protocol", "ports", "description"),
        generic={"parent_object": ("parent_object_type", "parent_object_id")},
        sorted_lists=frozenset({"ports"}),
        after=("dcim.device",),
    ),
    # contacts
    _k("tenancy.contactrole", "tenancy/contact-roles", ("slug",), ("name", "description")),
    _k("tenancy.contact", "tenancy/contacts", ("name",), ("email", "phone", "description")),
    _k(
        "tenancy.contactassignment",
        "tenancy/contact-assignments",
        ("object", "contact", "role"),
        ("priority",),
        refs={"contact": "tenancy.contact", "role": "tenancy.contactrole"},
        generic={"object": ("object_type", "object_id")},
        after=("tenancy.tenant",),
    ),
]

BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}

CASCADES: dict[str, tuple[str, ...]] = {
    "dcim.location": ("site", "parent"),
    "dcim.interfacetemplate": ("device_type",),
    "dcim.interface": ("device",),
    "circuits.circuittermination": ("circuit",),
    "ipam.ipaddress": ("assigned_object",),
    "ipam.service": ("parent_object",),
    "tenancy.contactassignment": ("object",),
}
"""Reference fields whose target's deletion makes NetBox delete the referring object too (a Django
``CASCADE`` foreign key, or a ``GenericRelation`` such as an interface's IP addresses or any object's
contact assignments): what a delete takes with it beyond itself."""
SCHEMA_KINDS = [k.name for k in KINDS if k.schema]


def _levels() -> dict[str, int]:
    """Topological level of every kind: schema first, then by references (deferred ones excluded)."""
    level: dict[str, int] = {}

    def visit(name: str, stack: tuple[str, ...] = ()) -> int:
        if name in level:
            return level[name]
        if name in stack:
            raise RuntimeError(f"reference cycle between kinds: {' -> '.join(stack + (name,))}")
        kind = BY_NAME[name]
        deps = {d for f, d in kind.refs.items() if f not in kind.deferred} | set(kind.after)
        deps.discard(name)
        base = 0
        if not kind.schema:
            deps |= set(SCHEMA_KINDS)
        lvl = base
        for d in deps:
            lvl = max(lvl, visit(d, stack + (name,)) + 1)
        level[name] = lvl
        return lvl

    for k in KINDS:
        visit(k.name)
    return level


LEVELS: dict[str, int] = _levels()
ORDER: list[str] = sorted(BY_NAME, key=lambda n: (LEVELS[n], [k.name for k in KINDS].index(n)))
"""Kinds in dependency order (create order); deletes go in reverse."""


def key_text(key: tuple[str, ...]) -> str:
    return " ".join(key)
