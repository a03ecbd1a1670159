"""Ownership is exact, on real NetBoxes: the namespaced tag, the zwvl owner, schema objects zwvl did not
create, the upgrade from the generic ``gitops`` tag of earlier versions, and the Ansible inventories
that list only what zwvl manages.

Each test gets its own NetBox cloned from the small region's applied template (see
reconcile_support.py) and walks through a few steps on it.
"""

from __future__ import annotations

import json
from dataclasses import astuple
from pathlib import Path
from typing import Any

from devtools import netbox as local
from tests.integration.reconcile_support import (
    SMALL,
    change_count,
    client_for,
    env_for,
    state_of,
    zwvl,
)
from zwvl.inventory import load_inventory
from zwvl.netbox.apps import desired_state
from zwvl.netbox.client import NetboxClient
from zwvl.netbox.kinds import LEGACY_TAG, OWNER, TAG, TAG_MARK


def _run(inst: local.Instance, *args: str | Path) -> Any:
    return zwvl(*args, env=env_for(inst))


def _one(client: NetboxClient, endpoint: str, **lookup: str) -> dict[str, Any]:
    found = client.list(endpoint, params=lookup)
    assert len(found) == 1, (endpoint, lookup, found)
    return found[0]


def _tags(obj: dict[str, Any]) -> set[str]:
    return {t["slug"] for t in obj.get("tags") or []}


def _owner(obj: dict[str, Any]) -> str | None:
    return (obj.get("owner") or {}).get("name")


def test_gitops_tagged_and_hand_made_schema_objects_are_conflicts_until_adopted(
    small_nb: local.Instance, inventory: Path
) -> None:
    client = client_for(small_nb)
    # an earlier zwvl left a site tagged only 'gitops' (and without owner); another tool that also tags
    # 'gitops' made a circuit; a hand-made custom field holds zwvl's name with another object type in use
    client.create_one("extras/tags", {"name": LEGACY_TAG, "slug": LEGACY_TAG})
    site = _one(client, "dcim/sites", slug="avelgem-library")
    client.bulk_update("dcim/sites", [{"id": site["id"], "tags": [{"slug": LEGACY_TAG}], "owner": None}])
    provider = client.list("circuits/providers", fields=["id"])[0]
    ctype = client.list("circuits/circuit-types", fields=["id"])[0]
    other = {"cid": "OTHER-TOOL-1", "provider": provider["id"], "type": ctype["id"]}
    stray = client.create_one("circuits/circuits", {**other, "tags": [{"slug": LEGACY_TAG}]})
    cf = _one(client, "extras/custom-fields", name="ospf_cost")
    client.bulk_update(
        "extras/custom-fields",
        [{"id": cf["id"], "owner": None, "object_types": ["circuits.circuit", "dcim.interface"]}],
    )
    dev = _one(client, "dcim/devices", name="spi-th-rtr01")
    hand = client.create_one(
        "dcim/interfaces",
        {"device": dev["id"], "name": "hand0", "type": "virtual", "custom_fields": {"ospf_cost": 77}},
    )

    before = change_count(small_nb)
    proc = _run(small_nb, "plan", "--inventory", inventory)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "! dcim.site avelgem-library" in proc.stdout and f"tagged {LEGACY_TAG!r}" in proc.stdout
    assert "! extras.customfield ospf_cost" in proc.stdout and "not created by zwvl" in proc.stdout
    assert "OTHER-TOOL-1" not in proc.stdout  # not zwvl's, not desired: left alone, never deleted
    proc = _run(small_nb, "apply", "--inventory", inventory)
    assert proc.returncode == 1 and "--adopt" in proc.stderr and "zwvl plan --adopt" in proc.stderr
    assert change_count(small_nb) == before
    # the hand-made custom field is as it was: both object types, the interface's value kept
    assert sorted(_one(client, "extras/custom-fields", name="ospf_cost")["object_types"]) == [
        "circuits.circuit",
        "dcim.interface",
    ]
    assert _one(client, "dcim/interfaces", id=str(hand["id"]))["custom_fields"]["ospf_cost"] == 77
    assert _tags(_one(client, "dcim/sites", slug="avelgem-library")) == {LEGACY_TAG}

    # the upgrade path: review `plan --adopt`, then `apply --adopt`
    proc = _run(small_nb, "plan", "--inventory", inventory, "--adopt", "--format", "json")
    assert proc.returncode == 2, proc.stderr
    ops = {(o["kind"], " ".join(o["key"])): o for o in json.loads(proc.stdout)["ops"]}
    assert ops[("dcim.site", "avelgem-library")]["reason"] == "adopt"
    cf_op = ops[("extras.customfield", "ospf_cost")]
    assert cf_op["reason"] == "adopt" and set(cf_op["fields"]) == {"object_types", "owner"}
    proc = _run(small_nb, "apply", "--inventory", inventory, "--adopt")
    assert proc.returncode == 0, proc.stderr
    site = _one(client, "dcim/sites", slug="avelgem-library")
    assert _tags(site) == {LEGACY_TAG, TAG} and _owner(site) == OWNER  # the other tags are kept
    cf = _one(client, "extras/custom-fields", name="ospf_cost")
    assert cf["object_types"] == ["circuits.circuit"] and _owner(cf) == OWNER
    after = _one(client, "circuits/circuits", cid="OTHER-TOOL-1")
    assert after["last_updated"] == stray["last_updated"] and _tags(after) == {LEGACY_TAG}
    assert _run(small_nb, "plan", "--inventory", inventory).returncode == 0


def test_a_pre_existing_unmarked_tag_is_a_conflict(small_nb: local.Instance, inventory: Path) -> None:
    """The ownership tag itself, made by someone else (its description is not zwvl's mark: NetBox 4.7's
    API has no owner for tags): zwvl does not rewrite it."""
    client = client_for(small_nb)
    tag = _one(client, "extras/tags", slug=TAG)
    assert tag["description"].startswith(TAG_MARK)
    client.bulk_update("extras/tags", [{"id": tag["id"], "description": "Ours", "color": "000000"}])
    proc = _run(small_nb, "plan", "--inventory", inventory)
    assert proc.returncode == 1 and f"! extras.tag {TAG}" in proc.stdout
    assert _run(small_nb, "apply", "--inventory", inventory).returncode == 1
    assert _one(client, "extras/tags", slug=TAG)["color"] == "000000"
    assert _run(small_nb, "apply", "--inventory", inventory, "--adopt").returncode == 0
    tag = _one(client, "extras/tags", slug=TAG)
    assert tag["description"].startswith(TAG_MARK) and tag["color"] != "000000"


def test_managed_objects_carry_the_zwvl_owner_and_a_hand_change_is_drift(
    small_nb: local.Instance, inventory: Path
) -> None:
    client = client_for(small_nb)
    assert [o["name"] for o in client.list("users/owners", params={"name": OWNER})] == [OWNER]
    desired = desired_state(load_inventory(SMALL))
    for endpoint in ("dcim/sites", "dcim/devices", "dcim/interfaces", "ipam/prefixes", "circuits/circuits"):
        tagged = client.list(endpoint, params={"tag": TAG}, fields=["id", "owner"])
        assert tagged and {_owner(o) for o in tagged} == {OWNER}, endpoint
    # NetBox's own interfaces (from the device-type templates) are not zwvl's: no tag, no owner
    untagged = client.list("dcim/interfaces", params={"tag__n": TAG}, fields=["id", "owner"])
    assert untagged and {_owner(o) for o in untagged} == {None}
    for endpoint, kind, key in (
        ("extras/custom-fields", "extras.customfield", "name"),
        ("extras/custom-field-choice-sets", "extras.customfieldchoiceset", "name"),
    ):
        owners = {o[key]: _owner(o) for o in client.list(endpoint, fields=["id", key, "owner"])}
        assert all(owners[k[0]] == OWNER for k in desired.objects[kind]), (endpoint, owners)

    dev = _one(client, "dcim/devices", name="ave-th-rtr01")
    client.bulk_update("dcim/devices", [{"id": dev["id"], "owner": None}])
    proc = _run(small_nb, "plan", "--inventory", inventory)
    assert proc.returncode == 2 and "~ dcim.device ave-th-rtr01" in proc.stdout
    assert f"owner: null -> {OWNER}" in proc.stdout.replace('"', ""), proc.stdout
    proc = _run(small_nb, "drift", "--inventory", inventory, "--format", "json")
    assert proc.returncode == 2
    (item,) = json.loads(proc.stdout)["objects"]
    assert item["key"] == ["ave-th-rtr01"] and [c["field"] for c in item["changes"]] == ["owner"]
    assert _run(small_nb, "apply", "--inventory", inventory).returncode == 0
    assert _owner(_one(client, "dcim/devices", name="ave-th-rtr01")) == OWNER
    assert _run(small_nb, "drift", "--inventory", inventory).returncode == 0
    assert state_of(small_nb).managed_count() > 0


def test_ansible_inventories_list_only_the_devices_zwvl_manages(small_nb: local.Instance) -> None:
    """A router and a server another tool put in NetBox (same role and platform, tagged 'gitops') are
    in none of the inventories: Ansible never configures what zwvl does not manage."""
    from zwvl.lab.ansible import build_inventory

    client = client_for(small_nb)
    client.create_one("extras/tags", {"name": LEGACY_TAG, "slug": LEGACY_TAG})
    for name, like in (("hand-rtr01", "spi-th-rtr01"), ("hand-srv01", "spi-dc1-srv01")):
        model = _one(client, "dcim/devices", name=like)
        client.create_one(
            "dcim/devices",
            {
                "name": name,
                "device_type": model["device_type"]["id"],
                "role": model["role"]["id"],
                "platform": model["platform"]["id"],
                "site": model["site"]["id"],
                "status": "active",
                "tags": [{"slug": LEGACY_TAG}],
            },
        )
    inv = load_inventory(SMALL)
    routers = {d.name for d in inv.devices.values() if d.role == "router" and d.platform == "frr"}
    servers = {d.name for d in inv.devices.values() if d.role == "server"}
    assert routers and servers
    for config, want in (
        ("inventory/zwvl_netbox.yml", routers),
        ("inventory-nb/netbox.yml", routers),
        ("inventory-platform/netbox.yml", servers),
    ):
        _s, data = build_inventory(small_nb.url, small_nb.token, config)
        assert set(data["_meta"]["hostvars"]) == want, config  # type: ignore[index]


def test_reader_connected_interfaces_give_the_same_backbone(small_nb: local.Instance) -> None:
    """The inventory plugin's read (interfaces="connected": the cabled ones and the loopbacks) yields
    the backbone reading every interface yields, with the unused ports left out; reading the addresses
    by zwvl's tag in the first round (address_tag) gives the same records, an untagged one included."""
    from zwvl.backbone import from_netbox
    from zwvl.netbox.reader import NetboxRecords, fetch_records

    client = client_for(small_nb)
    every = fetch_records(client, device_filters={"tag": TAG})
    connected = fetch_records(client, device_filters={"tag": TAG}, interfaces="connected")
    addressed = {ip["assigned_object_id"] for ip in every.ip_addresses}
    used = sorted(
        (i for i in every.interfaces if i.get("cable") or i["id"] in addressed), key=lambda i: i["id"]
    )
    assert len(used) < len(every.interfaces)
    assert sorted(connected.interfaces, key=lambda i: i["id"]) == used
    assert (connected.devices, connected.ip_addresses) == (every.devices, every.ip_addresses)
    full, fast = from_netbox(every), from_netbox(connected)
    assert fast.links and (fast.routers, fast.links, fast.skipped) == (full.routers, full.links, full.skipped)

    def one_round(mode: str) -> NetboxRecords:
        return fetch_records(client, device_filters={"tag": TAG}, interfaces=mode, address_tag=TAG)

    # the plugin's read, the addresses by zwvl's tag in the first round: the same records
    for mode, read in (("all", every), ("connected", connected)):
        assert astuple(one_round(mode)) == astuple(read), mode
    # an address another tool put on a router's interface, without the tag, is read by interface
    lo = next(i for i in connected.interfaces if i["name"] == "lo")
    extra = {
        "address": "198.18.77.1/32",
        "assigned_object_type": "dcim.interface",
        "assigned_object_id": lo["id"],
    }
    made = client.create_one("ipam/ip-addresses", extra)
    tagged, by_device = (
        one_round("connected"),
        fetch_records(client, device_filters={"tag": TAG}, interfaces="connected"),
    )
    assert made["id"] in {ip["id"] for ip in tagged.ip_addresses}
    assert astuple(tagged) == astuple(by_device)
