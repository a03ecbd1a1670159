"""Live evidence from NetBox for the policy check (`zwvl check --netbox`): what NetBox says now.

One read (circuits with ``fields=cid,status``); NetBox statuses are mapped back to the inventory's
(``provisioning`` -> planned, ``offline`` / ``deprovisioning`` -> decommissioned). Raises
``NetboxError`` / ``NetboxSettingsError`` (one-line messages) when NetBox cannot be read.
"""

from __future__ import annotations

from zwvl.netbox.reconcile import connect
from zwvl.netbox.vocab import CIRCUIT_STATUS_BACK


def circuit_status(url: str | None = None, token: str | None = None) -> tuple[dict[str, str], str]:
    """({cid: active|planned|decommissioned}, "NetBox <url>") for every circuit in NetBox."""
    client = connect(url, token)
    live: dict[str, str] = {}
    for row in client.list("circuits/circuits", fields=["id", "cid", "status"]):
        status = row.get("status")
        value = str(status.get("value") if isinstance(status, dict) else status)
        live[str(row["cid"])] = CIRCUIT_STATUS_BACK.get(value, value)
    return live, f"NetBox {client.url}"
