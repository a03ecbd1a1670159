"""zwvl.backbone offline: the one rule for lit circuits, and the backbone from NetBox records as the
lab, the Ansible inventory plugin and the policy topology read it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tests.unit.backbone_records import records
from zwvl.backbone import DESIGN, LIVE, from_netbox, is_lit
from zwvl.inventory import load_inventory
from zwvl.policy.topology import Topology


@pytest.mark.parametrize(
    ("status", "design", "lit"),
    [
        ("active", True, True),
        ("active", False, True),
        ("planned", True, True),
        ("planned", False, False),
        ("decommissioned", True, False),
        ("decommissioned", False, False),
    ],
)
def test_is_lit(status: str, design: bool, lit: bool) -> None:
    assert is_lit(status, design=design) is lit
    assert LIVE <= DESIGN


def test_design_lights_planned_live_does_not() -> None:
    design, live = from_netbox(records()), from_netbox(records(), design=False)
    assert sorted(design.links) == ["C-1", "C-2", "C-3"]
    assert sorted(live.links) == ["C-1", "C-2"]
    assert live.skipped["C-3"] == "circuit status planned"


def test_netbox_choices_are_read_in_the_inventorys_words() -> None:
    """NetBox's provisioning is the inventory's planned, offline its decommissioned (netbox.vocab)."""
    rec = copy.deepcopy(records())
    by_cid = {c["cid"]: c for c in rec.circuits}
    by_cid["C-1"]["status"] = {"value": "provisioning"}
    by_cid["C-2"]["status"] = {"value": "offline"}
    bb = from_netbox(rec)
    assert bb.links["C-1"].status == "planned"
    assert "C-2" not in bb.links and bb.skipped["C-2"] == "circuit status decommissioned"
    assert "C-1" not in from_netbox(rec, design=False).links


def test_a_disabled_end_unlights_the_link() -> None:
    rec = copy.deepcopy(records())
    next(i for i in rec.interfaces if i["id"] == 21)["enabled"] = False
    bb = from_netbox(rec)
    assert "C-1" not in bb.links
    assert bb.skipped["C-1"] == "b-rtr eth0 is disabled in NetBox"


def test_ospf_links_are_the_routers_side_of_each_lit_link() -> None:
    bb = from_netbox(records())
    links = bb.ospf_links("b-rtr")
    assert [lk["interface"] for lk in links] == ["eth0", "eth1", "eth2"]
    first = links[0]
    assert first == {
        "cid": "C-1",
        "interface": "eth0",
        "address": "100.64.0.1/31",
        "cost": 15,
        "status": "active",
        "peer": "a-rtr",
        "peer_interface": "eth0",
        "peer_address": "100.64.0.0",
    }
    assert links[1]["cost"] is None  # no ospf_cost: the router's default
    assert [lk["cid"] for lk in bb.ospf_links("a-rtr")] == ["C-1"]
    assert bb.ospf_links("nobody") == []


def test_topology_reads_the_same_rule() -> None:
    """The policy topology's design/live graphs are is_lit applied to the inventory's circuits."""
    inv = load_inventory(Path(__file__).resolve().parents[2] / "inventory")
    for design in (True, False):
        topo = Topology(inv, design=design)
        want = {c.cid for c in inv.circuits.values() if is_lit(c.status, design=design)}
        got = {cid for _a, _z, data in topo.graph.edges(data=True) for cid in data["circuits"]}
        assert got <= want
        assert all(topo.usable(c) == is_lit(c.status, design=design) for c in inv.circuits.values())


@pytest.mark.parametrize("n", [0, 1, 149, 150, 151, 216, 301, 1000])
def test_device_ids_go_in_equal_chunks_of_at_most_150(n: int) -> None:
    from zwvl.netbox.reader import _chunks

    chunks = _chunks(list(range(n)))
    assert [i for c in chunks for i in c] == list(range(n))
    assert all(len(c) <= 150 for c in chunks)
    assert not chunks or max(map(len, chunks)) - min(map(len, chunks)) <= 1
