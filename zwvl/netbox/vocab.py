"""Status and choice vocabularies, inventory <-> NetBox, both directions in one place.

Forward (``*_STATUS``): the inventory's status (active, planned, decommissioned) as the NetBox choice
zwvl writes. Back (``*_STATUS_BACK``): every NetBox choice as the inventory status the import writes;
the inverse of the forward table plus the NetBox choices zwvl never writes. Plain data with no
imports: the backbone reader (``zwvl.backbone``) uses it in the Ansible inventory plugin.
"""

from __future__ import annotations

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
VLAN_STATUS = "active"
PREFIX_STATUS: dict[str, str] = {"active": "active", "planned": "reserved", "decommissioned": "deprecated"}
PREFIX_CONTAINER = "container"
IP_STATUS = PREFIX_STATUS
CABLE_STATUS: dict[str, str] = {
    "active": "connected",
    "planned": "planned",
    "decommissioned": "decommissioning",
}


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
PREFIX_STATUS_BACK = _reverse(PREFIX_STATUS, {PREFIX_CONTAINER: "active"})
