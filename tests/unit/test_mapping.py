"""The domain model as NetBox objects (no NetBox needed): counts, references, sources, statuses, hashing."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, Region
from zwvl.inventory import InventoryError, load_inventory, parse_inventory
from zwvl.netbox.apps import desired_state
from zwvl.netbox.apps.common import Desired, DesiredState, MappingError
from zwvl.netbox.kinds import BY_NAME, KINDS, LEGACY_TAG, LEVELS, ORDER, SCHEMA_KINDS, TAG, Ref
from zwvl.netbox.plan import state_hash, with_bookkeeping

SMALL = REPO / "tests" / "fixtures" / "small-region"


@pytest.fixture(scope="module")
def desired() -> DesiredState:
    return desired_state(load_inventory(REPO / "inventory"))


def _count(ds: DesiredState, kind: str, **where: Any) -> int:
    return sum(
        1 for d in ds.objects.get(kind, {}).values() if all(d.fields.get(k) == v for k, v in where.items())
    )


def _refs(value: Any) -> list[Ref]:
    if isinstance(value, Ref):
        return [value]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def test_the_region_maps_to_the_expected_objects(desired: DesiredState) -> None:
    c = {k: len(v) for k, v in desired.objects.items()}
    assert c["tenancy.tenant"] == 15 and c["tenancy.tenantgroup"] == 2
    assert c["dcim.region"] == 1 and c["dcim.site"] == 72 and c["dcim.sitegroup"] == 7
    assert c["dcim.devicetype"] == 5 and c["dcim.interfacetemplate"] == 87 and c["dcim.manufacturer"] == 3
    assert c["dcim.device"] == 125
    assert c["dcim.location"] == 13 + 24 + 2  # town halls, local datacenters, two RDC halls
    assert _count(desired, "dcim.interface") == 1549 + 72
    assert sum(1 for d in desired.objects["dcim.interface"].values() if d.implicit) == 1549
    assert c["circuits.circuit"] == 75 and c["circuits.circuittermination"] == 150 and c["dcim.cable"] == 150
    # both ends of every circuit, one loopback per router, the three platform servers' addresses
    assert c["ipam.ipaddress"] == 150 + 72 + 3
    assert c["ipam.prefix"] == 106 + 75 + 3  # partners' prefixes, one /31 per circuit, three pools
    assert c["ipam.vlangroup"] == 15 and c["ipam.vlan"] == 91
    assert c["ipam.service"] == 4  # the four services with devices, one device each
    assert c["tenancy.contact"] == 45 and c["tenancy.contactassignment"] == 45
    assert c["extras.tag"] == 1 and c["extras.customfield"] >= 14


def test_every_reference_points_to_a_desired_object(desired: DesiredState) -> None:
    for d in desired.all():
        for name, value in d.fields.items():
            for ref in _refs(value):
                assert ref.key in desired.objects.get(
                    ref.kind, {}
                ), f"{d.kind} {d.key}: {name} -> {ref.label()}"


def test_every_desired_object_carries_all_compared_fields(desired: DesiredState) -> None:
    for d in desired.all():
        spec = BY_NAME[d.kind]
        missing = set(spec.key + spec.fields) - set(d.fields)
        assert not missing, f"{d.kind} {d.key} lacks {missing}"


def test_sources_are_inventory_files_of_the_repository(desired: DesiredState) -> None:
    for d in desired.all():
        if BY_NAME[d.kind].taggable and d.kind not in (
            "tenancy.tenantgroup",
            "dcim.sitegroup",
            "dcim.manufacturer",
            "dcim.devicerole",
            "dcim.platform",
            "circuits.circuittype",
            "ipam.role",
            "tenancy.contactrole",
        ):
            assert d.source is not None, f"{d.kind} {d.key}"
        if d.source is not None:
            assert d.source.startswith("inventory/") and (REPO / d.source).is_file(), d.source
    site = desired.objects["dcim.site"][("kortrijk-library",)]
    assert site.source == "inventory/partners/kortrijk/sites.yaml"
    pool = desired.objects["ipam.prefix"][("100.64.0.0/12",)]
    assert pool.source == "inventory/standards.yaml"


def test_sources_do_not_depend_on_where_the_inventory_folder_is(tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere"
    shutil.copytree(SMALL, copy)
    ds = desired_state(load_inventory(copy))
    site = ds.objects["dcim.site"][("avelgem-town-hall",)]
    assert site.source == "inventory/partners/avelgem/sites.yaml"


def test_what_becomes_what(desired: DesiredState) -> None:
    dev = desired.objects["dcim.device"][("kor-th-rtr01",)]
    assert dev.fields["primary_ip4"] == Ref("ipam.ipaddress", ("100.126.0.20/32",))
    assert dev.fields["tenant"] == Ref("tenancy.tenant", ("kortrijk",))
    assert dev.fields["cf.monitoring"] == "frr-exporter"
    assert dev.weight == 1 + 17  # the core router's interfaces come with it
    lo = desired.objects["dcim.interface"][("kor-th-rtr01", "lo")]
    assert lo.fields["type"] == "virtual" and not lo.implicit
    ip = desired.objects["ipam.ipaddress"][("100.126.0.20/32",)]
    assert ip.fields["role"] == "loopback" and ip.fields["assigned_object"] == Ref("dcim.interface", lo.key)
    cable = desired.objects["dcim.cable"][("ZWVL-FO-0015/A",)]
    assert cable.fields["a_terminations"] == [Ref("circuits.circuittermination", ("ZWVL-FO-0015", "A"))]
    assert cable.fields["b_terminations"] == [Ref("dcim.interface", ("kor-th-rtr01", "eth0"))]
    term = desired.objects["circuits.circuittermination"][("ZWVL-FO-0015", "Z")]
    assert term.fields["termination"] == Ref("dcim.site", ("kortrijk-library",))
    ckt = desired.objects["circuits.circuit"][("ZWVL-FO-0015",)]
    assert (
        ckt.fields["distance"] == 0.6
        and ckt.fields["distance_unit"] == "km"
        and ckt.fields["cf.ospf_cost"] == 10
    )
    tenant = desired.objects["tenancy.tenant"][("kortrijk",)]
    assert tenant.fields["cf.digital_satisfaction_pct"] == 80 and tenant.fields["cf.ebox"] is True
    assert tenant.fields["cf.magda_document_service"] == "in-use"
    assert tenant.fields["group"] == Ref("tenancy.tenantgroup", ("municipality",))
    agg = desired.objects["ipam.prefix"][("10.1.64.0/20",)]
    assert agg.fields["status"] == "container"
    admin = desired.objects["ipam.prefix"][("10.1.64.0/24",)]
    assert admin.fields["vlan"] == Ref("ipam.vlan", ("kortrijk-vlans", "10"))
    assert admin.fields["role"] == Ref("ipam.role", ("admin",))
    site = desired.objects["dcim.site"][("kortrijk-town-hall",)]
    assert site.fields["group"] == Ref("dcim.sitegroup", ("town-hall",))
    assert (site.fields["latitude"], site.fields["longitude"]) == (50.8276, 3.265)
    assign = desired.objects["tenancy.contactassignment"]
    assert ("tenancy.tenant:kortrijk", "IT-coördinator Kortrijk", "it-coordinator") in assign


def test_locations_of_sites_and_the_devices_in_them(desired: DesiredState) -> None:
    hall = desired.objects["dcim.location"][("regional-datacenter", "hall-b")]
    assert hall.fields == {
        "site": Ref("dcim.site", ("regional-datacenter",)),
        "slug": "hall-b",
        "name": "Zaal B",
        "parent": None,
        "status": "active",
        "tenant": Ref("tenancy.tenant", ("leiedal",)),
        "description": "Second core switch and the shared services",
        "owner": Ref("users.owner", ("zwvl",)),
    }
    assert hall.source == "inventory/partners/leiedal/sites.yaml"
    room = desired.objects["dcim.location"][("kortrijk-dc2", "server-room")]
    assert room.fields["name"] == "Serverlokaal" and room.fields["tenant"] == Ref(
        "tenancy.tenant", ("kortrijk",)
    )
    devices = desired.objects["dcim.device"]
    assert devices[("lei-rdc-srv02",)].fields["location"] == Ref(
        "dcim.location", ("regional-datacenter", "hall-b")
    )
    assert devices[("kor-th-rtr01",)].fields["location"] == Ref(
        "dcim.location", ("kortrijk-town-hall", "technical-room")
    )
    assert devices[("kor-lib-rtr01",)].fields["location"] is None  # the library has no rooms
    # tagged and owned like the other kinds, written after sites and before devices
    spec = BY_NAME["dcim.location"]
    assert spec.taggable and spec.key == ("site", "slug")
    source_cf = desired.objects["extras.customfield"][("zwvl_source",)]
    assert "dcim.location" in source_cf.fields["object_types"]
    assert LEVELS["dcim.site"] < LEVELS["dcim.location"] < LEVELS["dcim.device"]


def test_statuses_follow_the_inventory(region: Region) -> None:
    def plan_it(d: dict[str, Any]) -> None:
        d["circuits"][0]["status"] = "planned"

    region.edit("inventory/partners/kortrijk/circuits.yaml", plan_it)
    region.edit(
        "inventory/partners/kortrijk/sites.yaml", lambda d: d["sites"][1].update(status="decommissioned")
    )
    ds = desired_state(region.load())
    assert ds.objects["circuits.circuit"][("ZWVL-FO-0015",)].fields["status"] == "planned"
    assert ds.objects["dcim.cable"][("ZWVL-FO-0015/A",)].fields["status"] == "planned"
    assert ds.objects["ipam.ipaddress"][("100.64.0.28/31",)].fields["status"] == "reserved"
    assert ds.objects["ipam.prefix"][("100.64.0.28/31",)].fields["status"] == "reserved"
    assert ds.objects["dcim.site"][("kortrijk-library",)].fields["status"] == "retired"


def test_names_netbox_keeps_unique_are_checked_with_their_place(region: Region) -> None:
    def same_name(d: dict[str, Any]) -> None:
        d["sites"][1]["name"] = d["sites"][0]["name"]

    region.edit("inventory/partners/kortrijk/sites.yaml", same_name)
    # the loader reports it first (zwvl validate); the mapping checks it again on what it is given
    with pytest.raises(InventoryError) as bad:
        region.load()
    assert [p.message for p in bad.value.problems if "duplicate site name" in p.message]
    inv, _problems = parse_inventory(region.inventory)
    with pytest.raises(MappingError) as err:
        desired_state(inv)
    assert len(err.value.problems) == 1
    assert err.value.problems[0].startswith("inventory/partners/kortrijk/sites.yaml:")
    assert "NetBox needs unique site names" in err.value.problems[0]


def test_the_hash_covers_the_fields_zwvl_writes(desired: DesiredState) -> None:
    site = desired.objects["dcim.site"][("kortrijk-library",)]
    fields = with_bookkeeping(site)
    h = fields["cf.zwvl_hash"]
    assert h == state_hash("dcim.site", fields) and len(h) == 16
    changed = Desired(site.kind, site.key, {**site.fields, "status": "planned"}, site.source)
    assert with_bookkeeping(changed)["cf.zwvl_hash"] != h
    moved = Desired(site.kind, site.key, site.fields, "inventory/elsewhere.yaml")
    assert with_bookkeeping(moved)["cf.zwvl_hash"] != h
    # the stored hash itself is not part of what is hashed
    assert state_hash("dcim.site", {**fields, "cf.zwvl_hash": "x"}) == h


def test_dependency_order() -> None:
    pos = {k: i for i, k in enumerate(ORDER)}
    assert set(ORDER) == {k.name for k in KINDS}
    for kind in KINDS:
        for field, target in kind.refs.items():
            if field not in kind.deferred and target != kind.name:
                assert pos[target] < pos[kind.name], f"{kind.name}.{field} -> {target}"
        for name in kind.after:
            assert LEVELS[name] < LEVELS[kind.name]
        if not kind.schema:
            assert all(LEVELS[s] < LEVELS[kind.name] for s in SCHEMA_KINDS)
    # templates before devices (NetBox instantiates interfaces at creation), IPs before primary_ip4
    assert LEVELS["dcim.interfacetemplate"] < LEVELS["dcim.device"] < LEVELS["ipam.ipaddress"]
    assert "primary_ip4" in BY_NAME["dcim.device"].deferred


def test_the_ownership_names_live_in_kinds_only() -> None:
    """zwvl/ names the ownership tag and the legacy tag only through kinds.py; the Ansible
    inventories and lookups, which cannot import it, filter on the same tag."""
    import yaml

    assert TAG == "zwvl-managed" and LEGACY_TAG == "gitops" and TAG != LEGACY_TAG
    for path in sorted((REPO / "zwvl").rglob("*.py")):
        if path.name == "kinds.py" and path.parent.name == "netbox":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [
            n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in (TAG, LEGACY_TAG)
        ]
        assert names == [], path
    ansible = REPO / "ansible"
    fibre = yaml.safe_load((ansible / "inventory-nb" / "netbox.yml").read_text())
    platform = yaml.safe_load((ansible / "inventory-platform" / "netbox.yml").read_text())
    for conf in (fibre, platform):
        assert {"tag": TAG} in conf["device_query_filters"]
    plugin = (ansible / "plugins" / "inventory" / "zwvl_netbox.py").read_text()
    doc = yaml.safe_load(plugin.split('DOCUMENTATION = r"""', 1)[1].split('"""', 1)[0])
    assert doc["options"]["tag"]["default"] == TAG
    assert f"tag={TAG}" in (ansible / "data-platform.yml").read_text()


def test_a_server_has_its_address_on_its_interface_and_its_services(desired: DesiredState) -> None:
    """The platform servers: the primary IPv4 on the interface the inventory names (not a loopback),
    and each service on them as NetBox's application service with its ports."""
    dev = desired.objects["dcim.device"][("lei-rdc-srv02",)]
    assert dev.fields["primary_ip4"] == Ref("ipam.ipaddress", ("10.1.230.12/24",))
    ip = desired.objects["ipam.ipaddress"][("10.1.230.12/24",)]
    assert ip.fields["assigned_object"] == Ref("dcim.interface", ("lei-rdc-srv02", "eno1"))
    assert ip.fields["role"] is None
    svc = desired.objects["ipam.service"][("dcim.device:lei-rdc-srv02", "helpdesk")]
    assert svc.fields["protocol"] == "tcp" and svc.fields["ports"] == [80, 443]
    assert svc.fields["parent_object"] == Ref("dcim.device", ("lei-rdc-srv02",))
