"""Ansible inventory plugin: the backbone routers zwvl manages in NetBox, in one round of requests.

The fibre play's inventory (inventory/zwvl_netbox.yml). It gives the hosts and groups (site_, tenant_,
role_, platform_) and host variables netbox.netbox.nb_inventory gives (inventory-nb/netbox.yml;
scripts/bench-inventory compares the two), without nb_inventory's OpenAPI schema download and
per-object lookups, plus ``backbone_loopback`` and ``backbone_links``: each router's loopback and lit
links from zwvl.backbone, the one place that decides which circuits carry OSPF. It reads NetBox with
the zwvl package's reader (zwvl.netbox.reader: devices, interfaces, IP addresses, circuits and circuit
terminations with ``fields=``; link peers joined by cable; the addresses by the ownership tag, so
every read goes out at once, and an interface that counts an address without the tag read again).
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: zwvl_netbox
short_description: Routers, interfaces and addresses from NetBox in a few requests
description:
  - Devices with the given role and platform, their interfaces (with IP addresses, link peers and the
    far end of their circuit) and nb_inventory-compatible host variables.
  - Host variables C(backbone_loopback) - the router's loopback (CIDR; the IPv4 address of interface lo, else
    the primary IPv4) and C(backbone_links) - its lit fibre links (circuit status active or planned, both ends
    cabled to enabled router interfaces with one IPv4 address each) with circuit id, interface, address,
    OSPF cost and peer, both as zwvl.backbone decides them; the frr_ospf role configures OSPF from them.
  - The configuration file's name must end with C(zwvl_netbox.yml) or C(zwvl_netbox.yaml).
extends_documentation_fragment:
  - constructed
options:
  plugin:
    description: Marks the file as a source for this plugin.
    required: true
    choices: ["zwvl_netbox"]
  api_endpoint:
    description: NetBox URL.
    required: true
    env:
      - name: NETBOX_API
      - name: NETBOX_URL
  token:
    description: NetBox API token (v1 or v2).
    required: true
    env:
      - name: NETBOX_TOKEN
  role:
    description: Device role slug of the hosts.
    default: router
  platform:
    description: Platform slug of the hosts.
    default: frr
  tag:
    description:
      - Only devices carrying this tag, zwvl's ownership tag (zwvl.netbox.kinds.TAG) by default, so that
        routers another tool put in NetBox are never configured. An empty value lists every device.
    default: zwvl-managed
  interfaces:
    description:
      - Which interfaces the host variable C(interfaces) lists, in nb_inventory's shape. C(none) - no such
        variable (the roles read C(backbone_loopback) and C(backbone_links)). C(connected) - the cabled ones
        and the loopback (lo). C(all) - every interface, the unused ports
        of the device type too, as nb_inventory lists them.
    choices: [none, connected, all]
    default: none
  group_by:
    description: Groups to make, like nb_inventory with plurals off (site, tenant, role, platform, status).
    type: list
    elements: str
    default: [site, tenant, role, platform]
"""

from typing import Any  # noqa: E402 - after DOCUMENTATION, as Ansible plugins are written

from ansible.errors import AnsibleError  # noqa: E402
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable  # noqa: E402
from ansible.utils.unsafe_proxy import wrap_var  # noqa: E402


def _slug(obj: Any) -> str | None:
    if isinstance(obj, dict):
        return obj.get("slug") or obj.get("value") or obj.get("name")
    return obj


def _interfaces(rec: Any, circuit_termination: str) -> dict[int, list[dict[str, Any]]]:
    """Each device's interfaces in nb_inventory's shape: IP addresses, link peers and the far end of
    their circuit as connected_endpoints (only built when the option interfaces asks for them)."""
    ips: dict[int, list[dict[str, Any]]] = {}
    for ip in rec.ip_addresses:
        if ip.get("assigned_object_type") == "dcim.interface":
            ips.setdefault(ip["assigned_object_id"], []).append(
                {"address": ip["address"], "status": ip.get("status"), "role": ip.get("role")}
            )
    by_device: dict[int, list[dict[str, Any]]] = {}
    ends: dict[str, dict[str, dict[str, Any]]] = {}
    for itf in sorted(rec.interfaces, key=lambda i: i["id"]):
        item = {
            k: itf.get(k)
            for k in (
                "id",
                "name",
                "enabled",
                "type",
                "description",
                "mtu",
                "cable",
                "link_peers",
                "link_peers_type",
            )
        }
        item["ip_addresses"] = ips.get(itf["id"], [])
        item["connected_endpoints"] = []
        by_device.setdefault(itf["device"]["id"], []).append(item)
        if itf.get("link_peers_type") == circuit_termination:
            for peer in itf.get("link_peers") or []:
                cid = (peer.get("circuit") or {}).get("cid")
                if cid:
                    ends.setdefault(cid, {})[str(peer.get("term_side"))] = {
                        "item": item,
                        "device": itf["device"],
                    }
    # the far end of each circuit, as nb_inventory's connected_endpoints (cable path through it)
    for sides in ends.values():
        if set(sides) == {"A", "Z"}:
            a, z = sides["A"], sides["Z"]
            a["item"]["connected_endpoints"] = [{"name": z["item"]["name"], "device": z["device"]}]
            z["item"]["connected_endpoints"] = [{"name": a["item"]["name"], "device": a["device"]}]
    return by_device


class InventoryModule(BaseInventoryPlugin, Constructable):
    NAME = "zwvl_netbox"

    def verify_file(self, path: str) -> bool:
        return super().verify_file(path) and path.endswith(("zwvl_netbox.yml", "zwvl_netbox.yaml"))

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        try:
            from zwvl.backbone import from_netbox
            from zwvl.netbox.client import NetboxClient, NetboxError
            from zwvl.netbox.reader import CIRCUIT_TERMINATION, fetch_records
        except ImportError as exc:
            raise AnsibleError(f"zwvl_netbox needs the zwvl package in Ansible's Python: {exc}") from exc
        url = str(self.get_option("api_endpoint")).rstrip("/")
        try:
            client = NetboxClient(url, str(self.get_option("token")), timeout=120.0, retries=3)
            tag = self.get_option("tag")
            rec = fetch_records(
                client,
                role=self.get_option("role"),
                platform=self.get_option("platform"),
                device_filters={"tag": tag} if tag else None,
                interfaces="all" if self.get_option("interfaces") == "all" else "connected",
                address_tag=tag or None,
            )
        except NetboxError as exc:
            raise AnsibleError(str(exc)) from exc
        by_device = _interfaces(rec, CIRCUIT_TERMINATION) if self.get_option("interfaces") != "none" else None
        self._populate(rec, from_netbox(rec), by_device)

    def _populate(self, rec: Any, backbone: Any, by_device: dict[int, list[dict[str, Any]]] | None) -> None:
        strict = self.get_option("strict")
        group_by = self.get_option("group_by")
        for dev in sorted(rec.devices, key=lambda d: d["name"]):
            host = dev["name"]
            self.inventory.add_host(host)
            primary = (dev.get("primary_ip4") or {}).get("address")
            router = backbone.routers.get(host)
            hostvars: dict[str, Any] = {
                "site": _slug(dev.get("site")),
                "tenant": _slug(dev.get("tenant")),
                "role": _slug(dev.get("role")),
                "platform": _slug(dev.get("platform")),
                "status": dev.get("status"),
                "interfaces": None if by_device is None else by_device.get(dev["id"], []),
                # the router's loopback and lit fibre links (zwvl.backbone): what frr_ospf writes
                "backbone_loopback": str(router.loopback) if router else None,
                "backbone_links": backbone.ospf_links(host),
            }
            if primary:
                hostvars["primary_ip4"] = primary.split("/")[0]
                hostvars["ansible_host"] = primary.split("/")[0]
            for key, value in hostvars.items():
                if value is not None:
                    # NetBox's text is data, never a template (as nb_inventory marks it)
                    self.inventory.set_variable(host, key, wrap_var(value))
            for attr in group_by:
                value = _slug(hostvars.get(attr)) if attr != "status" else _slug(dev.get("status"))
                if value:
                    group = self.inventory.add_group(f"{attr}_{value}")
                    self.inventory.add_child(group, host)
            self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)
