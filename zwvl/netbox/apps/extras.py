"""NetBox ``extras``: zwvl's own schema (owner, tag, custom fields and their choice sets).

Forward: the owner ``zwvl`` (``kinds.OWNER``), the ``zwvl-managed`` tag (``kinds.TAG``), the custom
fields the other apps fill and ``zwvl_source`` / ``zwvl_hash``; every object whose NetBox type has an
owner field gets the owner ``zwvl`` (custom fields and choice sets included: that is how zwvl
recognises the ones it created; the tag by its description, ``kinds.TAG_MARK``).

Reverse: none. The schema is zwvl's, not the inventory's; the import reads the custom fields' values
with the objects that carry them (tenancy, dcim, circuits).
"""

from __future__ import annotations

from zwvl.netbox.apps.common import DesiredState
from zwvl.netbox.kinds import CF_HASH, CF_SOURCE, KINDS, OWNER, OWNER_KIND, TAG, TAG_MARK, Ref

MAGDA_CHOICES = "zwvl-magda-document-service"
MONITORING_CHOICES = "zwvl-monitoring"
TAGGABLE_TYPES = sorted(k.name for k in KINDS if k.taggable)


def map_schema(ds: DesiredState) -> None:
    """The owner, the tag, the choice sets and every custom field zwvl writes."""
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
    _bookkeeping_fields(ds)
    _tenant_fields(ds)
    _other_fields(ds)


def _cf(
    ds: DesiredState,
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


def _bookkeeping_fields(ds: DesiredState) -> None:
    _cf(
        ds,
        CF_SOURCE,
        "text",
        TAGGABLE_TYPES,
        "Inventory file",
        "Where zwvl manages this object (path in the repository)",
        editable="no",
        group="zwvl",
        weight=1000,
    )
    _cf(
        ds,
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


def _tenant_fields(ds: DesiredState) -> None:
    tenant = ["tenancy.tenant"]
    _cf(ds, "partner_code", "text", tenant, "Partner code", "Three-character partner code")
    _cf(ds, "partner_team", "text", tenant, "Team", "Owning team (code owners)")
    _cf(
        ds,
        "digital_satisfaction_pct",
        "integer",
        tenant,
        "Digital satisfaction (%)",
        "Satisfaction with digital services (Stads- en Gemeentemonitor 2020)",
        minimum=0,
        maximum=100,
    )
    _cf(
        ds,
        "it_challenges_2022",
        "integer",
        tenant,
        "IT challenges 2022",
        "IT challenges named in the 2022 survey",
        minimum=0,
    )
    _cf(
        ds,
        "it_projects_2022",
        "integer",
        tenant,
        "IT projects 2022",
        "IT projects named in the 2022 survey",
        minimum=0,
    )
    _cf(ds, "ebox", "boolean", tenant, "eBox sender", "Delivers documents to citizens' eBox")
    _cf(
        ds,
        "magda_document_service",
        "select",
        tenant,
        "MAGDA document service",
        "Use of the MAGDA document service",
        choice_set=MAGDA_CHOICES,
    )
    _cf(
        ds,
        "helpdesk",
        "json",
        tenant,
        "Helpdesk pool",
        "Membership of the pooled helpdesk: queue and headcount",
    )


def _other_fields(ds: DesiredState) -> None:
    region = ["dcim.region"]
    _cf(ds, "inhabitants", "integer", region, "Inhabitants", "Inhabitants of the region", minimum=0)
    _cf(ds, "time_zone", "text", region, "Time zone", "Time zone of the region")
    _cf(ds, "targets", "json", region, "Programme targets", "Targets of the regional programme")
    _cf(
        ds,
        "monitoring",
        "select",
        ["dcim.device"],
        "Monitoring",
        "How the device is monitored",
        choice_set=MONITORING_CHOICES,
    )
    _cf(
        ds,
        "ospf_cost",
        "integer",
        ["circuits.circuit"],
        "OSPF cost",
        "OSPF cost of the link",
        minimum=1,
        maximum=65535,
    )
