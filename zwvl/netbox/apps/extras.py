"""NetBox ``extras``: zwvl's own schema (owner, tag, custom fields and their choice sets).

Forward: the owner ``zwvl`` (``kinds.OWNER``), the ``zwvl-managed`` tag (``kinds.TAG``), the custom
fields the other apps fill and ``zwvl_source`` / ``zwvl_hash``; every object whose NetBox type has an
owner field gets the owner ``zwvl`` (custom fields and choice sets included: that is how zwvl
recognises the ones it created; the tag by its description, ``kinds.TAG_MARK``).

Reverse: none. The schema is zwvl's, not the inventory's; the import reads the custom fields' values
with the objects that carry them (tenancy, dcim, circuits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zwvl.netbox.apps.common import DesiredState
from zwvl.netbox.kinds import CF_HASH, CF_SOURCE, KINDS, OWNER, OWNER_KIND, TAG, TAG_MARK, Ref

MAGDA_CHOICES = "zwvl-magda-document-service"
MONITORING_CHOICES = "zwvl-monitoring"
TAGGABLE_TYPES = tuple(sorted(k.name for k in KINDS if k.taggable))


@dataclass(frozen=True)
class CustomField:
    """A custom field zwvl writes: name, data type, the object types that carry it, label and
    description; choice set, validation range, UI group and weight where it has them."""

    name: str
    type: str
    object_types: tuple[str, ...]
    label: str
    description: str
    # where and how the UI shows it
    group: str = ""
    weight: int = 100
    visible: str = "always"
    editable: str = "yes"
    # what NetBox accepts as its value
    choice_set: str | None = None
    minimum: int | None = None
    maximum: int | None = None

    def fields(self) -> dict[str, Any]:
        """The ``extras.customfield`` object's fields."""
        choices = Ref("extras.customfieldchoiceset", (self.choice_set,)) if self.choice_set else None
        return {
            "name": self.name,
            "type": self.type,
            "object_types": sorted(self.object_types),
            "label": self.label,
            "group_name": self.group,
            "description": self.description,
            "choice_set": choices,
            "ui_visible": self.visible,
            "ui_editable": self.editable,
            "validation_minimum": self.minimum,
            "validation_maximum": self.maximum,
            "weight": self.weight,
        }


TENANT = ("tenancy.tenant",)
REGION = ("dcim.region",)

CUSTOM_FIELDS: tuple[CustomField, ...] = (
    # bookkeeping, hidden or read-only in the UI
    CustomField(
        CF_SOURCE,
        "text",
        TAGGABLE_TYPES,
        "Inventory file",
        "Where zwvl manages this object (path in the repository)",
        editable="no",
        group="zwvl",
        weight=1000,
    ),
    CustomField(
        CF_HASH,
        "text",
        TAGGABLE_TYPES,
        "Last written state",
        "Hash of the fields zwvl last wrote (drift detection)",
        visible="hidden",
        editable="hidden",
        group="zwvl",
        weight=1001,
    ),
    # partners
    CustomField("partner_code", "text", TENANT, "Partner code", "Three-character partner code"),
    CustomField("partner_team", "text", TENANT, "Team", "Owning team (code owners)"),
    CustomField(
        "digital_satisfaction_pct",
        "integer",
        TENANT,
        "Digital satisfaction (%)",
        "Satisfaction with digital services (Stads- en Gemeentemonitor 2020)",
        minimum=0,
        maximum=100,
    ),
    CustomField(
        "it_challenges_2022",
        "integer",
        TENANT,
        "IT challenges 2022",
        "IT challenges named in the 2022 survey",
        minimum=0,
    ),
    CustomField(
        "it_projects_2022",
        "integer",
        TENANT,
        "IT projects 2022",
        "IT projects named in the 2022 survey",
        minimum=0,
    ),
    CustomField("ebox", "boolean", TENANT, "eBox sender", "Delivers documents to citizens' eBox"),
    CustomField(
        "magda_document_service",
        "select",
        TENANT,
        "MAGDA document service",
        "Use of the MAGDA document service",
        choice_set=MAGDA_CHOICES,
    ),
    CustomField(
        "helpdesk", "json", TENANT, "Helpdesk pool", "Membership of the pooled helpdesk: queue and headcount"
    ),
    # the region, devices and circuits
    CustomField("inhabitants", "integer", REGION, "Inhabitants", "Inhabitants of the region", minimum=0),
    CustomField("time_zone", "text", REGION, "Time zone", "Time zone of the region"),
    CustomField("targets", "json", REGION, "Programme targets", "Targets of the regional programme"),
    CustomField(
        "monitoring",
        "select",
        ("dcim.device",),
        "Monitoring",
        "How the device is monitored",
        choice_set=MONITORING_CHOICES,
    ),
    CustomField(
        "ospf_cost",
        "integer",
        ("circuits.circuit",),
        "OSPF cost",
        "OSPF cost of the link",
        minimum=1,
        maximum=65535,
    ),
)
"""Every custom field zwvl writes, in the order they are added."""


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
    for cf in CUSTOM_FIELDS:
        ds.add("extras.customfield", cf.fields(), None)
