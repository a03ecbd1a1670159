"""Read the backbone from NetBox in one or two rounds of concurrent requests: what ``zwvl.backbone`` builds
the lab and the Ansible inventory plugin's host variables from, on zwvl's one NetBox client
(retries, every page).

``fields=`` keeps each answer small and cheap for NetBox to build: the routers (devices filtered by
role and platform), their interfaces, the IP addresses on those interfaces, the circuits (status and
custom fields such as ``ospf_cost``) and the circuit terminations with their cables. An interface's
link peer (the circuit termination its cable reaches) is joined here by cable id rather than asked of
NetBox: serialising ``link_peers`` costs NetBox three times the whole interface list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from zwvl.netbox.client import NetboxClient
from zwvl.netbox.kinds import LOOPBACK_INTERFACE

CIRCUIT_TERMINATION = "circuits.circuittermination"


@dataclass
class NetboxRecords:
    """The backbone as NetBox answers it (``fields=``-trimmed REST records)."""

    devices: list[dict[str, Any]]
    interfaces: list[dict[str, Any]]
    ip_addresses: list[dict[str, Any]]
    circuits: list[dict[str, Any]]


DEVICE_FIELDS = ("id", "name", "status", "site", "tenant", "primary_ip4")
INTERFACE_FIELDS = ("id", "name", "device", "enabled", "type", "description", "mtu", "cable")
IP_FIELDS = ("id", "address", "status", "assigned_object_type", "assigned_object_id", "role")
CIRCUIT_FIELDS = ("id", "cid", "status", "type", "custom_fields", "description")
TERMINATION_FIELDS = ("id", "circuit", "term_side", "cable")

# NetBox answers 414 for very long URLs: device ids go in chunks
_ID_CHUNK = 150
# concurrent reads after the devices: the local NetBox runs a few gunicorn workers with threads
_READERS = 4


def _chunks(ids: Sequence[int], n: int = _ID_CHUNK) -> list[list[int]]:
    """At most ``n`` ids a chunk, in chunks of equal size: read concurrently, none lags behind."""
    count = -(-len(ids) // n)
    out: list[list[int]] = []
    start = 0
    for k in range(count):
        size = len(ids) // count + (k < len(ids) % count)
        out.append(list(ids[start : start + size]))
        start += size
    return out


def join_link_peers(interfaces: list[dict[str, Any]], terminations: list[dict[str, Any]]) -> None:
    """Give each interface cabled to a circuit termination ``link_peers`` and ``link_peers_type`` as
    NetBox's REST API would (the termination with its circuit id and side)."""
    by_cable = {
        t["cable"]["id"]: t for t in terminations if t.get("cable") and (t.get("circuit") or {}).get("cid")
    }
    for itf in interfaces:
        term = by_cable.get((itf.get("cable") or {}).get("id"))
        if term is None:
            itf.setdefault("link_peers", [])
            itf.setdefault("link_peers_type", None)
            continue
        itf["link_peers"] = [
            {"id": term["id"], "circuit": {"cid": term["circuit"]["cid"]}, "term_side": term["term_side"]}
        ]
        itf["link_peers_type"] = CIRCUIT_TERMINATION


def fetch_records(
    client: NetboxClient,
    *,
    role: str | None = "router",
    platform: str | None = "frr",
    device_filters: dict[str, Any] | None = None,
    interfaces: str = "all",
    address_tag: str | None = None,
) -> NetboxRecords:
    """Devices with this role and platform, and their interfaces, IP addresses and circuits.

    ``interfaces="connected"`` reads only the interfaces the backbone is made of: the cabled ones and
    the loopback (``lo``), leaving out a router's unused ports; ``"all"`` reads every one. The reads
    run concurrently in two rounds: the devices, circuits, terminations (and, with a role, the
    interfaces by device role) first; then what is filtered by device id.

    With a role and ``address_tag`` (the tag the routers' addresses carry: zwvl's ownership tag) the
    addresses are read in the first round too, by that tag, and each interface's address count
    (``count_ipaddresses``) tells whether one holds an address without it; only such interfaces are
    read again, by interface id. The answer is the same as by device id, on the interfaces read.
    """
    if interfaces not in ("all", "connected"):
        raise ValueError(f"interfaces must be 'all' or 'connected', not {interfaces!r}")
    params: dict[str, Any] = dict(device_filters or {})
    fields = list(DEVICE_FIELDS)
    # a filtered role or platform is known: not asking for it spares NetBox its nested serializer
    for key, value in (("role", role), ("platform", platform)):
        if value:
            params[key] = value
        else:
            fields.append(key)
    # interface filters: every interface, or the cabled ones and the loopbacks (one list each)
    kinds: list[dict[str, Any]] = (
        [{}] if interfaces == "all" else [{"cabled": "true"}, {"name": LOOPBACK_INTERFACE}]
    )
    one_round = bool(role and address_tag)
    first: list[_Read] = [
        ("dcim/devices", fields, params),
        ("circuits/circuits", CIRCUIT_FIELDS, {}),
        ("circuits/circuit-terminations", TERMINATION_FIELDS, {}),
        *([("ipam/ip-addresses", IP_FIELDS, {"tag": address_tag, **_ON_INTERFACE})] if one_round else []),
    ]
    if role:  # by device role: no need to wait for the device ids (the rest is dropped below)
        itf_fields = (*INTERFACE_FIELDS, "count_ipaddresses") if one_round else INTERFACE_FIELDS
        first += [("dcim/interfaces", itf_fields, {"device_role": role, **kind}) for kind in kinds]
    answers = _read_all(client, first)
    devices, circuits, terminations = answers[0], answers[1], answers[2]
    if not devices:
        return NetboxRecords(devices=[], interfaces=[], ip_addresses=[], circuits=[])
    for dev in devices:
        for key, value in (("role", role), ("platform", platform)):
            if value:
                dev[key] = {"slug": value}
    if one_round:
        return _records(client, devices, circuits, terminations, answers[3], answers[4:])
    chunks = _chunks(sorted(d["id"] for d in devices))
    second: list[_Read] = [
        ("ipam/ip-addresses", IP_FIELDS, {"device_id": chunk, **_ON_INTERFACE}) for chunk in chunks
    ]
    if not role:
        second += [
            ("dcim/interfaces", INTERFACE_FIELDS, {"device_id": chunk, **kind})
            for chunk in chunks
            for kind in kinds
        ]
    more = _read_all(client, second)
    ips = [rec for answer in more[: len(chunks)] for rec in answer]
    itfs = _of_devices(devices, answers[3:] + more[len(chunks) :])
    join_link_peers(itfs, terminations)
    return NetboxRecords(devices=devices, interfaces=itfs, ip_addresses=_by_id(ips), circuits=circuits)


def _records(
    client: NetboxClient,
    devices: list[dict[str, Any]],
    circuits: list[dict[str, Any]],
    terminations: list[dict[str, Any]],
    tagged: list[dict[str, Any]],
    interface_answers: list[list[dict[str, Any]]],
) -> NetboxRecords:
    """The one-round read: the tagged addresses on the routers' interfaces, completed by interface id
    where an interface counts more addresses than carry the tag."""
    itfs = _of_devices(devices, interface_answers)
    on = {i["id"] for i in itfs}
    ips = [
        ip
        for ip in tagged
        if ip.get("assigned_object_type") == "dcim.interface" and ip["assigned_object_id"] in on
    ]
    held = Counter(ip["assigned_object_id"] for ip in ips)
    short = [i["id"] for i in itfs if i.pop("count_ipaddresses", 0) > held[i["id"]]]
    if short:
        reads: list[_Read] = [("ipam/ip-addresses", IP_FIELDS, {"interface_id": c}) for c in _chunks(short)]
        ips += [rec for answer in _read_all(client, reads) for rec in answer]
    join_link_peers(itfs, terminations)
    return NetboxRecords(devices=devices, interfaces=itfs, ip_addresses=_by_id(ips), circuits=circuits)


def _of_devices(devices: list[dict[str, Any]], answers: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The interfaces of these devices in the answers, once each, by id."""
    ids = {d["id"] for d in devices}
    return _by_id([i for answer in answers for i in answer if (i.get("device") or {}).get("id") in ids])


def _by_id(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted({r["id"]: r for r in records}.values(), key=lambda r: r["id"])


_Read = tuple[str, Sequence[str], dict[str, Any]]
_ON_INTERFACE = {"assigned_to_interface": "true"}


def _read_all(client: NetboxClient, reads: list[_Read]) -> list[list[dict[str, Any]]]:
    """Each (endpoint, fields, params) listed, concurrently; answers in the order asked."""
    with ThreadPoolExecutor(max_workers=_READERS, thread_name_prefix="zwvl-nb-read") as pool:
        return list(pool.map(lambda read: client.list(read[0], fields=read[1], params=read[2]), reads))


def client_from_env(url: str | None = None, token: str | None = None) -> NetboxClient:
    """A client for NETBOX_URL/NETBOX_TOKEN, else the local instance (`zwvl netbox up`)."""
    from zwvl.netbox.settings import resolve_netbox

    if not (url and token):
        url, token = resolve_netbox()
    return NetboxClient(url, token, timeout=120.0, retries=3)
