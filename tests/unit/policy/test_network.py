"""zwvl.policy.rules.network: I1 (fibre to every building, two disjoint paths), I5 (types, naming)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Region, find
from tests.unit.policy.support import cut, failed, findings


def test_i1_two_disjoint_paths_names_single_points_of_failure(region: Region) -> None:
    # the west ring: rdc - wevelgem - wervik - menen - lendelede - rdc; cut lendelede - rdc
    core = region.load().circuits
    cid = next(
        c.cid for c in core.values() if {c.a.site, c.z.site} == {"lendelede-town-hall", "regional-datacenter"}
    )
    cut(region, cid)
    res = region.check()
    bad = failed(res, "I1-two-disjoint-paths")
    assert set(bad) == {
        "site:wevelgem-town-hall",
        "site:wervik-town-hall",
        "site:menen-town-hall",
        "site:lendelede-town-hall",
    }
    menen = bad["site:menen-town-hall"]
    assert menen.evidence["single_points_of_failure"]["sites"] == ["wervik-town-hall", "wevelgem-town-hall"]
    assert "site wervik-town-hall" in menen.message
    assert res.exit_code == 1
    assert "site:menen-town-hall" in {f.object for f in res.failed_mandatory}


def test_i1_two_disjoint_paths_live_evidence(region: Region) -> None:
    """A circuit planned in YAML but decommissioned in NetBox is evidence for a failure."""
    inv = region.load()
    cid = next(
        c.cid
        for c in inv.circuits.values()
        if {c.a.site, c.z.site} == {"kuurne-town-hall", "regional-datacenter"}
    )
    res = region.check(circuit_status={cid: "decommissioned"}, live_source="NetBox test")
    bad = failed(res, "I1-two-disjoint-paths")
    assert "site:kuurne-town-hall" in bad
    assert (
        bad["site:kuurne-town-hall"].evidence["live_circuits"][cid]
        == "inventory says active, NetBox test says decommissioned"
    )


def test_i1_building_on_backbone(region: Region) -> None:
    region.edit(
        "inventory/partners/avelgem/circuits.yaml", lambda d: d["circuits"][0].update(status="decommissioned")
    )
    res = region.check()
    assert set(failed(res, "I1-building-on-backbone")) == {"site:avelgem-library"}
    ok = {f.object: f for f in findings(res, "I1-building-on-backbone")}["site:kortrijk-library"]
    assert ok.evidence["path"][0] == "kortrijk-library" and ok.evidence["path"][-1] == "regional-datacenter"
    # a building on one access fibre passes, and the finding names what it hangs on
    access = region.load().sites["kortrijk-library"]
    cid = next(c.cid for c in region.load().circuits.values() if access.slug in (c.a.site, c.z.site))
    assert ok.evidence["single_points_of_failure"] == {"sites": ["kortrijk-town-hall"], "circuits": [cid]}
    assert ok.message.endswith(f"single points of failure: site kortrijk-town-hall, circuit {cid}")
    # a town hall on the ring names none
    ring = {f.object: f for f in findings(res, "I1-building-on-backbone")}["site:kortrijk-town-hall"]
    assert ring.evidence["single_points_of_failure"] == {"sites": [], "circuits": []}


def test_i5_device_types_and_naming(region: Region) -> None:
    region.edit(
        "inventory/standards.yaml",
        lambda d: d["standards"]["approved_device_types"].remove("juniper-ex2300-24t"),
    )
    bad = failed(region.check(), "I5-approved-device-types")
    assert len(bad) == 24 and "device:kor-dc1-sw01" in bad

    def rename(d: dict[str, Any]) -> None:
        find(d["devices"], name="kor-dc1-srv01")["name"] = "KortrijkServer1"
        find(d["devices"], name="kor-dc2-srv01")["name"] = "men-dc9-srv01"

    region.edit("inventory/partners/kortrijk/devices.yaml", rename)
    bad = failed(region.check(), "I5-naming-convention")
    assert set(bad) == {"device:KortrijkServer1", "device:men-dc9-srv01"}
    assert "partner code kor-" in bad["device:men-dc9-srv01"].message


def test_i5_naming_sites(region: Region) -> None:
    for rel in ("sites", "devices", "circuits"):
        path = region.root / f"inventory/partners/menen/{rel}.yaml"
        path.write_text(path.read_text().replace("menen-library", "library-menen"))
    region.edit("inventory/standards.yaml", lambda d: d["standards"]["naming"].update(site="^[a-z-]+$"))
    bad = failed(region.check(), "I5-naming-convention")
    assert "should start with the partner slug menen-" in bad.pop("site:library-menen").message
    # the stricter pattern: every site slug with a digit (the local datacenters), nothing else
    assert bad and all(k.startswith("site:") and any(c.isdigit() for c in k) for k in bad), sorted(bad)
    assert "does not match ^[a-z-]+$" in bad["site:kortrijk-dc1"].message
    assert "site:regional-datacenter" not in bad  # shared by every partner: no prefix
