"""Recorded NetBox answers for a small backbone, as zwvl.netbox.reader.fetch_records returns them."""

from __future__ import annotations

from typing import Any

from zwvl.netbox.reader import NetboxRecords


def _dev(i: int, name: str, tenant: str, site: str) -> dict[str, Any]:
    return {
        "id": i,
        "name": name,
        "status": {"value": "active"},
        "site": {"id": i, "slug": site},
        "tenant": {"slug": tenant},
        "role": {"slug": "router"},
        "platform": {"slug": "frr"},
        "primary_ip4": {"address": f"100.126.0.{i}/32"},
    }


def _itf(i: int, dev: int, name: str, cid: str | None = None, side: str = "A") -> dict[str, Any]:
    peers = [{"id": 900 + i, "circuit": {"cid": cid}, "term_side": side}] if cid else []
    return {
        "id": i,
        "name": name,
        "device": {"id": dev},
        "enabled": True,
        "link_peers": peers,
        "link_peers_type": "circuits.circuittermination" if cid else None,
    }


def _ip(i: int, itf: int, addr: str) -> dict[str, Any]:
    return {"id": i, "address": addr, "assigned_object_type": "dcim.interface", "assigned_object_id": itf}


def records() -> NetboxRecords:
    """Three routers in a line a - b - c, plus a planned circuit b - c and a half-cabled one."""
    devices = [_dev(1, "a-rtr", "p1", "s1"), _dev(2, "b-rtr", "p1", "s2"), _dev(3, "c-rtr", "p2", "s3")]
    interfaces = [
        _itf(10, 1, "lo"),
        _itf(20, 2, "lo"),  # c-rtr has no lo: primary IPv4 is its loopback
        _itf(11, 1, "eth0", "C-1", "A"),
        _itf(21, 2, "eth0", "C-1", "Z"),
        _itf(22, 2, "eth1", "C-2", "A"),
        _itf(31, 3, "eth0", "C-2", "Z"),
        _itf(23, 2, "eth2", "C-3", "A"),
        _itf(32, 3, "eth1", "C-3", "Z"),
        _itf(24, 2, "eth3", "C-4", "A"),
        _itf(99, 42, "eth0", "C-9", "A"),  # not a router's
    ]
    ips = [
        _ip(1, 10, "100.126.0.1/32"),
        _ip(2, 20, "100.126.0.2/32"),
        _ip(3, 11, "100.64.0.0/31"),
        _ip(4, 21, "100.64.0.1/31"),
        _ip(5, 22, "100.64.0.2/31"),
        _ip(6, 31, "100.64.0.3/31"),
        _ip(7, 23, "100.64.0.4/31"),
        _ip(8, 32, "100.64.0.5/31"),
        _ip(9, 23, "2001:db8::1/64"),
    ]
    circuits = [
        {"cid": "C-1", "status": {"value": "active"}, "custom_fields": {"ospf_cost": 15}},
        {"cid": "C-2", "status": {"value": "active"}, "custom_fields": {"ospf_cost": None}},
        {"cid": "C-3", "status": {"value": "planned"}, "custom_fields": {}},
        {"cid": "C-4", "status": {"value": "active"}, "custom_fields": {}},
    ]
    return NetboxRecords(devices, interfaces, ips, circuits)
