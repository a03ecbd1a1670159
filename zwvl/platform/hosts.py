"""Where a shared service runs: its device from the domain model, its address from NetBox.

Nothing in ansible/ or pulumi/ names a host or an address: the programs ask here. A stack may pin
an address explicitly (e.g. a lab reached through a tunnel), which wins over NetBox.
"""

from __future__ import annotations

import os

from zwvl.inventory import Inventory
from zwvl.netbox.client import NetboxClient, NetboxError


class HostError(LookupError):
    pass


def service_device(inv: Inventory, service: str) -> str:
    svc = inv.services.get(service)
    if svc is None:
        raise HostError(f"no service {service!r} in the inventory")
    if not svc.devices:
        raise HostError(f"service {service!r} runs on no device in the inventory")
    return svc.devices[0]


def netbox_address(device: str, url: str | None = None, token: str | None = None) -> str:
    """Primary IPv4 address (without prefix length) of a device or virtual machine in NetBox."""
    url = (url or os.environ.get("NETBOX_URL") or os.environ.get("NETBOX_API") or "").rstrip("/")
    token = token or os.environ.get("NETBOX_TOKEN", "")
    if not url or not token:
        raise HostError(
            f"address of {device!r}: set NETBOX_URL (or NETBOX_API) and NETBOX_TOKEN, or pin the address in "
            "the stack config"
        )
    client = NetboxClient(url, token, timeout=30.0, retries=3)
    try:
        for endpoint in ("dcim/devices", "virtualization/virtual-machines"):
            for obj in client.list(endpoint, fields=["id", "primary_ip4"], params={"name": device}):
                ip = (obj.get("primary_ip4") or {}).get("address")
                if ip:
                    return str(ip).split("/")[0]
    except NetboxError as exc:
        raise HostError(f"address of {device!r}: {exc}") from exc
    raise HostError(f"{device!r} has no primary IPv4 address in NetBox at {url}")


def service_address(inv: Inventory, service: str, pinned: str | None = None) -> str:
    """The address to reach `service` at: the pinned one, else its device's primary IP in NetBox."""
    if pinned:
        return pinned
    return netbox_address(service_device(inv, service))
