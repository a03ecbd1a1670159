"""zwvl.lab offline: building the lab's plan from NetBox records, scoping it, and the policy's
prediction of what a fibre cut does (no root, no NetBox)."""

from __future__ import annotations

from ipaddress import IPv4Interface
from pathlib import Path
from typing import Any

import pytest

from tests.unit.backbone_records import records
from zwvl.inventory import load_inventory
from zwvl.lab.ansible import parse_recap
from zwvl.lab.netns import namespace_name
from zwvl.lab.spec import End, LabSpec, Link, Router, SpecError, spec_from_netbox
from zwvl.lab.verify import (
    check_adjacencies,
    check_reachability,
    hub_routers,
    predicted_unreachable,
    redundant_links,
    single_point_links,
)

REPO = Path(__file__).resolve().parents[2]


def test_spec_from_netbox_records() -> None:
    spec = spec_from_netbox(records())
    assert sorted(spec.routers) == ["a-rtr", "b-rtr", "c-rtr"]
    assert spec.routers["c-rtr"].loopback == IPv4Interface("100.126.0.3/32")
    assert sorted(spec.links) == ["C-1", "C-2", "C-3"]
    c1 = spec.links["C-1"]
    assert (c1.a, c1.z, c1.cost) == (
        End("a-rtr", "eth0", IPv4Interface("100.64.0.0/31")),
        End("b-rtr", "eth0", IPv4Interface("100.64.0.1/31")),
        15,
    )
    assert spec.links["C-2"].cost is None
    assert spec.links["C-3"].status == "planned"
    assert "one termination" in spec.skipped["C-4"]
    spec.validate()
    active = spec_from_netbox(records(), design=False)
    assert "C-3" not in active.links and active.skipped["C-3"] == "circuit status planned"


def test_select_keeps_links_inside_the_scope() -> None:
    spec = spec_from_netbox(records())
    sub = spec.select(tenants=["p1"])
    assert sorted(sub.routers) == ["a-rtr", "b-rtr"]
    assert sorted(sub.links) == ["C-1"]
    assert sub.skipped["C-2"] == "outside the selected scope"
    assert sorted(spec.select(sites=["s3"], routers=["b-rtr"]).links) == ["C-2", "C-3"]


def test_round_trip_through_the_state_file() -> None:
    spec = spec_from_netbox(records())
    again = LabSpec.from_dict(spec.as_dict())
    assert again.routers == spec.routers and again.links == spec.links


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.routers.__setitem__("a-rtr", Router("a-rtr", IPv4Interface("10.0.0.1/32"))), "outside"),
        (
            lambda s: s.routers.__setitem__("B_RTR", Router("B_RTR", IPv4Interface("100.126.9.9/32"))),
            "namespace",
        ),
        (
            lambda s: s.links.__setitem__(
                "X",
                Link(
                    "X",
                    End("a-rtr", "eth9", IPv4Interface("100.64.9.0/31")),
                    End("b-rtr", "eth0", IPv4Interface("100.64.9.1/31")),
                ),
            ),
            "also used by",
        ),
        (
            lambda s: s.links.__setitem__(
                "Y",
                Link(
                    "Y",
                    End("a-rtr", "eth7", IPv4Interface("100.64.8.0/31")),
                    End("b-rtr", "eth7", IPv4Interface("100.64.9.1/31")),
                ),
            ),
            "different subnets",
        ),
    ],
)
def test_validate_refuses_unsafe_specs(change: Any, message: str) -> None:
    spec = spec_from_netbox(records())
    change(spec)
    with pytest.raises(SpecError, match=message):
        spec.validate()


def test_namespace_names() -> None:
    assert namespace_name("main", "kor-th-rtr01") == "zl-kor-th-rtr01"
    assert namespace_name("t42", "kor-th-rtr01") == "zl-t42.kor-th-rtr01"


def test_router_files_come_from_the_packaged_templates(tmp_path: Path) -> None:
    """The files a router and the lab get are rendered from zwvl/lab/templates/ (package data)."""
    from zwvl.lab import templates
    from zwvl.lab.routerfs import write_ssh_files
    from zwvl.lab.state import LabFolder

    assert templates.text("router-init.sh").startswith("#!/bin/bash\n")
    sshd = templates.render("sshd_config", router="kor-th-rtr01", loopback="100.126.0.1")
    assert "ListenAddress 100.126.0.1\n" in sshd and "$" not in sshd
    frr = templates.render("frr.conf", router="kor-th-rtr01")
    assert "hostname kor-th-rtr01\n" in frr
    rules = templates.render("cut.nft", table="zwvl_cut_eth1", ifname="eth1")
    assert rules.startswith("table inet zwvl_cut_eth1 {\n") and rules.count('"eth1" drop;') == 4

    lab = LabFolder("t42", tmp_path)
    spec = spec_from_netbox(records())
    for name in spec.routers:
        keys = lab.router_folder(name) / "etc/ssh"
        keys.mkdir(parents=True)
        (keys / "ssh_host_ed25519_key.pub").write_text(f"ssh-ed25519 KEY{name} root@{name}\n")
    lab.ssh_dir.mkdir(parents=True)
    write_ssh_files(lab, spec, lambda r: namespace_name(lab.name, r))
    config = lab.ssh_config.read_text()
    for name, router in spec.routers.items():
        assert f"Host {name} {router.loopback_ip}\n" in config
        assert f"  ProxyCommand ip netns exec zl-t42.{name} nc %h %p\n" in config
        assert f"{name} ssh-ed25519 KEY{name}\n" in lab.known_hosts.read_text()
    assert f"  ControlPath {lab.ssh_dir}/cm-%C\n" in config and "$" not in config


def test_parse_recap() -> None:
    out = (
        "PLAY RECAP ****\nkor-th-rtr01               : ok=4    changed=1    unreachable=0    failed=0    "
        "skipped=1\nlei-rdc-rtr01 : ok=3 changed=0 unreachable=1 failed=0\n"
    )
    assert parse_recap(out) == {
        "kor-th-rtr01": {"ok": 4, "changed": 1, "unreachable": 0, "failed": 0},
        "lei-rdc-rtr01": {"ok": 3, "changed": 0, "unreachable": 1, "failed": 0},
    }


def _region_spec(inv: Any) -> LabSpec:
    """The whole region as a lab would see it (the inventory stands in for NetBox here)."""
    spec = LabSpec()
    for d in inv.devices.values():
        if d.role == "router" and d.loopback is not None:
            spec.routers[d.name] = Router(d.name, d.loopback, d.site, inv.sites[d.site].partner)
    for c in inv.circuits.values():
        spec.links[c.cid] = Link(
            c.cid,
            End(c.a.device, c.a.interface, c.a.address),
            End(c.z.device, c.z.interface, c.z.address),
            c.ospf_cost,
            c.status,
        )
    return spec


def test_policy_prediction_for_the_region_and_a_subset() -> None:
    inv = load_inventory(REPO / "inventory")
    spec = _region_spec(inv)
    spec.validate()
    assert hub_routers(inv, spec) == ["lei-rdc-rtr01"]
    town_halls = {d.name for d in inv.devices.values() if inv.sites[d.site].kind == "town-hall"}
    # the whole region meets I1: no single fibre cuts a town hall off
    for lk, cut_off in single_point_links(inv, spec):
        assert not cut_off & town_halls, (lk.cid, cut_off)
    ring = [lk for lk in redundant_links(inv, spec) if "lei-rdc-rtr01" in lk.routers]
    assert ring
    # in the Kortrijk + Zwevegem + W13 lab the ring is broken: Zwevegem hangs off one fibre
    sub = spec.select(tenants=["kortrijk", "zwevegem", "w13"], sites=["regional-datacenter"])
    zwevegem = {n for n, r in sub.routers.items() if r.tenant == "zwevegem"}
    assert len(zwevegem) == 6
    worst, cut_off = single_point_links(inv, sub)[0]
    assert worst.cid == "ZWVL-FO-0058" and cut_off == zwevegem
    assert predicted_unreachable(inv, sub, "ZWVL-FO-0057") == set()


def test_checks_report_problems() -> None:
    spec = spec_from_netbox(records())
    adj = {"C-1": {"a-rtr": "Full/-", "b-rtr": "Full/-"}, "C-2": {"b-rtr": "Init/-"}}
    rep = check_adjacencies(spec, adj, skip=["C-3"])
    assert not rep.ok and any("c-rtr eth0 neighbour state none" in p for p in rep.problems)
    assert check_reachability({"a-rtr": set(), "b-rtr": {"c-rtr"}, "c-rtr": set()}).details == {
        "pairs": 6,
        "failed": 1,
    }


def test_link_peers_joined_by_cable() -> None:
    from zwvl.netbox.reader import join_link_peers

    itfs: list[dict[str, Any]] = [
        {"id": 1, "name": "eth0", "cable": {"id": 7}},
        {"id": 2, "name": "eth1", "cable": None},
        {"id": 3, "name": "eth2", "cable": {"id": 8}},  # cabled to another interface, not a circuit
    ]
    terms = [
        {"id": 50, "circuit": {"cid": "C-1"}, "term_side": "Z", "cable": {"id": 7}},
        {"id": 51, "circuit": {"cid": "C-1"}, "term_side": "A", "cable": None},
    ]
    join_link_peers(itfs, terms)
    assert itfs[0]["link_peers"] == [{"id": 50, "circuit": {"cid": "C-1"}, "term_side": "Z"}]
    assert itfs[0]["link_peers_type"] == "circuits.circuittermination"
    assert itfs[1]["link_peers"] == [] and itfs[1]["link_peers_type"] is None
    assert itfs[2]["link_peers"] == []
