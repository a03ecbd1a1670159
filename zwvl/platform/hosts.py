"""Where a shared service runs: NetBox's application service of that name, on its device, at the
device's primary IPv4 (the reconciler writes both from the inventory).

Nothing in ansible/ or pulumi/ names a host or an address: the programs ask here. A stack may pin
an address explicitly (e.g. a lab reached through a tunnel), which wins over NetBox.
"""

from __future__ import annotations

import os

from zwvl.inventory import Inventory
from zwvl.netbox.client import NetboxClient, NetboxError


class HostError(LookupError):
    pass


def _client(what: str, url: str | None, token: str | None) -> tuple[NetboxClient, str]:
    url = (url or os.environ.get("NETBOX_URL") or os.environ.get("NETBOX_API") or "").rstrip("/")
    token = token or os.environ.get("NETBOX_TOKEN", "")
    if not url or not token:
        raise HostError(
            f"{what}: set NETBOX_URL (or NETBOX_API) and NETBOX_TOKEN, or pin the address in the stack config"
        )
    return NetboxClient(url, token, timeout=30.0, retries=3), url


def _primary(client: NetboxClient, endpoint: str, params: dict[str, str]) -> str | None:
    for obj in client.list(endpoint, fields=["id", "primary_ip4"], params=params):
        ip = (obj.get("primary_ip4") or {}).get("address")
        if ip:
            return str(ip).split("/")[0]
    return None


def netbox_address(device: str, url: str | None = None, token: str | None = None) -> str:
    """Primary IPv4 address (without prefix length) of a device or virtual machine in NetBox."""
    client, url = _client(f"address of {device!r}", url, token)
    try:
        for endpoint in ("dcim/devices", "virtualization/virtual-machines"):
            ip = _primary(client, endpoint, {"name": device})
            if ip:
                return ip
    except NetboxError as exc:
        raise HostError(f"address of {device!r}: {exc}") from exc
    raise HostError(f"{device!r} has no primary IPv4 address in NetBox at {url}")


_PARENTS = {"dcim.device": "dcim/devices", "virtualization.virtualmachine": "virtualization/virtual-machines"}


def netbox_service_address(service: str, url: str | None = None, token: str | None = None) -> str:
    """The primary IPv4 of the first device (by name) NetBox runs the application service `service` on."""
    client, url = _client(f"address of service {service!r}", url, token)
    try:
        found = client.list(
            "ipam/services",
            fields=["id", "parent_object_type", "parent_object_id", "parent"],
            params={"name": service},
        )
        parents = sorted(
            (
                (s.get("parent") or {}).get("name") or "",
                str(s["parent_object_type"]),
                int(s["parent_object_id"]),
            )
            for s in found
            if s.get("parent_object_type") in _PARENTS
        )
        for _name, kind, obj_id in parents:
            ip = _primary(client, _PARENTS[kind], {"id": str(obj_id)})
            if ip:
                return ip
    except NetboxError as exc:
        raise HostError(f"address of service {service!r}: {exc}") from exc
    if not parents:
        raise HostError(f"NetBox at {url} runs no service {service!r} on a device (run `zwvl apply`)")
    names = ", ".join(p[0] for p in parents)
    raise HostError(
        f"service {service!r} runs on {names} in NetBox at {url}, which has no primary IPv4 address"
    )


def service_address(inv: Inventory, service: str, pinned: str | None = None) -> str:
    """The address to reach `service` at: the pinned one, else its device's primary IP in NetBox."""
    if service not in inv.services:
        raise HostError(f"no service {service!r} in the inventory")
    if pinned:
        return pinned
    return netbox_service_address(service)
