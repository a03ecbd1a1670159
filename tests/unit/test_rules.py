"""Every rule has a passing case (the repository's region) and a failing case (a targeted edit)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import zwvl.policy.rules  # noqa: F401  (registers the rules before parametrize reads RULES)
from tests.conftest import Region, find
from zwvl.policy.engine import RULES, CheckResult, Finding


def findings(result: CheckResult, rule: str) -> list[Finding]:
    return [f for r in result.rules if r.spec.id == rule for f in r.findings]


def failed(result: CheckResult, rule: str) -> dict[str, Finding]:
    return {f.object: f for f in findings(result, rule) if f.status == "fail"}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    return Region(tmp_path_factory.mktemp("base")).check()


def test_every_catalogue_rule_is_implemented_and_every_principle_present(baseline: CheckResult) -> None:
    ids = {p.spec.id for p in baseline.principles}
    expected = (
        {f"B{i}" for i in range(1, 11)} | {f"A{i}" for i in range(1, 6)} | {f"D{i}" for i in range(1, 7)}
    )
    expected |= {f"I{i}" for i in range(1, 7)} | {"SEC"}
    assert expected <= ids
    assert {r.spec.id for r in baseline.rules} == set(RULES)
    for p in baseline.principles:
        assert (p.spec.kind == "manual") == (not p.rules)
        if p.spec.kind == "manual":
            assert p.spec.manual and p.spec.manual.why and p.spec.manual.evidence


@pytest.mark.parametrize("rule", sorted(RULES))
def test_baseline_passes_with_evidence(baseline: CheckResult, rule: str) -> None:
    fs = findings(baseline, rule)
    assert fs, f"{rule} produced no evidence on the region"
    assert all(f.message for f in fs)
    if rule != "A2-reuse-framework":  # the region really buys TOPdesk/Ultimo locally (advisory)
        assert not failed(baseline, rule), failed(baseline, rule)


def cut(region: Region, *cids: str, status: str = "decommissioned") -> None:
    def edit(d: dict[str, Any]) -> None:
        for c in d["circuits"]:
            if c["cid"] in cids:
                c["status"] = status

    region.edit("inventory/backbone/core.yaml", edit)


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


def test_a1_buy_once_and_waiver_expiry(region: Region) -> None:
    res = region.check()
    topdesk = {f.object: f for f in findings(res, "A1-buy-once")}["software:topdesk"]
    assert topdesk.status == "waived" and topdesk.waiver is not None
    # after the waiver's expiry the failure counts again, and the waiver itself fails
    later = region.check(today=dt.date(2027, 7, 1))
    assert "software:topdesk" in failed(later, "A1-buy-once")
    assert "waiver:A1-buy-once:software:topdesk" in failed(later, "GOV-waiver-current")
    assert later.exit_code == 1


def test_a1_new_local_purchase(region: Region) -> None:
    region.edit(
        "inventory/software/applications.yaml",
        lambda d: d["software"].append(
            {
                "slug": "ultimo-2",
                "product": "Ultimo",
                "vendor": "Ultimo",
                "domain": "service management",
                "contract": "local-purchase",
                "partners": ["menen"],
            }
        ),
    )
    bad = failed(region.check(), "A1-buy-once")
    assert set(bad) == {"software:ultimo", "software:ultimo-2"}
    assert bad["software:ultimo"].evidence["partners"] == ["menen", "waregem"]


def test_a2_reuse_framework(region: Region) -> None:
    def all_framework(d: dict[str, Any]) -> None:
        for s in d["software"]:
            s["contract"] = "regional-framework"

    region.edit("inventory/software/applications.yaml", all_framework)
    assert not failed(region.check(), "A2-reuse-framework")
    region.edit(
        "inventory/software/applications.yaml",
        lambda d: find(d["software"], slug="cevi-finance").update(
            contract="local-purchase", partners=["kortrijk"]
        ),
    )
    res = region.check()
    assert set(failed(res, "A2-reuse-framework")) == set()  # no other finance product in a framework
    region.edit(
        "inventory/software/applications.yaml",
        lambda d: find(d["software"], slug="topdesk").update(contract="local-purchase"),
    )
    assert "software:topdesk" in failed(region.check(), "A2-reuse-framework")


def test_d1_one_authoritative_source(region: Region) -> None:
    def edit(d: dict[str, Any]) -> None:
        ds = find(d["datasets"], slug="telraam-counts")
        ds["sources"].append({"name": "Excel copy", "system": "sharepoint", "authoritative": True})
        find(d["datasets"], slug="bluebike-usage")["sources"][0]["authoritative"] = False

    region.edit("inventory/platform/datasets.yaml", edit)
    bad = failed(region.check(), "D1-one-authoritative-source")
    assert set(bad) == {"dataset:telraam-counts", "dataset:bluebike-usage"}
    assert "2 authoritative sources" in bad["dataset:telraam-counts"].message


def test_d1_no_hardcoded_addresses(region: Region) -> None:
    region.write(
        "ansible/playbooks/site.yml", "- hosts: all\n  vars:\n    db: 100.126.0.9  \n    ok: 127.0.0.1\n"
    )
    region.write("pulumi/helpdesk/__main__.py", "URL = 'https://rt.kortrijk.be/REST/2.0'\n")
    region.write("ansible/ok.yml", "- hosts: all\n  vars:\n    listen: 0.0.0.0\n")
    res = region.check()
    bad = failed(res, "D1-no-hardcoded-addresses")
    assert set(bad) == {"file:ansible/playbooks/site.yml", "file:pulumi/helpdesk/__main__.py"}
    assert bad["file:ansible/playbooks/site.yml"].src is not None
    assert bad["file:ansible/playbooks/site.yml"].src.line == 3
    assert {f.object for f in findings(res, "D1-no-hardcoded-addresses") if f.status == "pass"} == {
        "file:ansible/ok.yml"
    }


def test_b6_business_owner(region: Region) -> None:
    region.edit(
        "inventory/platform/services.yaml", lambda d: find(d["services"], slug="netbox").pop("business_owner")
    )
    assert set(failed(region.check(), "B6-business-owner")) == {"service:netbox"}


def test_b7_helpdesk_pool(region: Region) -> None:
    region.edit("inventory/partners/wervik/partner.yaml", lambda d: d["partner"].pop("helpdesk"))
    assert set(failed(region.check(), "B7-helpdesk-pool")) == {"partner:wervik"}


def test_b8_monitored(region: Region) -> None:
    region.edit(
        "inventory/partners/kortrijk/devices.yaml",
        lambda d: find(d["devices"], name="kor-dc1-sw01").update(monitoring="none"),
    )
    region.edit(
        "inventory/partners/menen/devices.yaml",
        lambda d: find(d["devices"], name="men-dc1-sw01").update(monitoring="none", status="planned"),
    )
    assert set(failed(region.check(), "B8-monitored")) == {"device:kor-dc1-sw01"}


def test_i2_hosting(region: Region) -> None:
    def edit(d: dict[str, Any]) -> None:
        find(d["services"], slug="netbox")["hosting"]["reason"] = ""
        find(d["services"], slug="monitoring").pop("hosting")

    region.edit("inventory/platform/services.yaml", edit)
    bad = failed(region.check(), "I2-hosting-declared")
    assert set(bad) == {"service:netbox", "service:monitoring"}
    assert "without a reason" in bad["service:netbox"].message


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


def test_i5_oslo_and_a3_shared(region: Region) -> None:
    region.edit(
        "inventory/platform/datasets.yaml",
        lambda d: find(d["datasets"], slug="speed-signs").update(oslo="vendor CSV", partners=["kortrijk"]),
    )
    res = region.check()
    assert set(failed(res, "I5-oslo-vocabulary")) == {"dataset:speed-signs"}
    assert set(failed(res, "A3-shared-datasets")) == {"dataset:speed-signs"}


def test_sec_no_secrets(region: Region) -> None:
    # fake secrets are assembled at run time so that this file itself holds none
    token = "nbt_" + "abcdefgh12345678" + "." + "0123456789abcdef0123"
    region.write("ansible/group_vars/all.yml", f"netbox_token: '{token}'\n")
    region.write("pulumi/key.pem", "-----BEGIN OPENSSH " + "PRIVATE KEY-----\nxx\n")
    region.write("ansible/ok.yml", 'password: \'{{ lookup("env", "PG_PASSWORD") }}\'\n')
    bad = failed(region.check(), "SEC-no-secrets")
    assert set(bad) == {"file:ansible/group_vars/all.yml", "file:pulumi/key.pem"}


def test_sec_exposed_tls_mfa(region: Region) -> None:
    region.edit(
        "inventory/platform/services.yaml", lambda d: find(d["services"], slug="helpdesk").update(mfa=False)
    )
    bad = failed(region.check(), "SEC-exposed-tls-mfa")
    assert set(bad) == {"service:helpdesk"} and "without MFA" in bad["service:helpdesk"].message


def test_waiver_for_unknown_rule_is_an_input_error(region: Region) -> None:
    from zwvl.inventory import InventoryError

    region.edit("policies/waivers.yaml", lambda d: d["waivers"][0].update(rule="A1-buy-twice"))
    with pytest.raises(InventoryError) as exc:
        region.check()
    assert "unknown rule 'A1-buy-twice'" in str(exc.value.problems[0])


def test_waiver_for_an_object_no_rule_evaluates_is_stale(region: Region) -> None:
    """A mistyped or removed object, or one the rule does not apply to, fails GOV-waiver-applies."""

    def edit(d: dict[str, Any]) -> None:
        d["waivers"][0]["object"] = "software:topdeks"
        base = {k: d["waivers"][0][k] for k in ("reason", "approver", "expires")}
        # B8 only evaluates active devices and services; a library is no town hall for I1
        d["waivers"].append({"rule": "I1-two-disjoint-paths", "object": "site:kortrijk-library", **base})
        d["waivers"].append({"rule": "B8-monitored", "object": "device:kor-th-rtr01", **base})

    region.edit("policies/waivers.yaml", edit)
    res = region.check()
    bad = failed(res, "GOV-waiver-applies")
    assert set(bad) == {
        "waiver:A1-buy-once:software:topdeks",
        "waiver:I1-two-disjoint-paths:site:kortrijk-library",
    }
    typo = bad["waiver:A1-buy-once:software:topdeks"]
    assert "stale waiver" in typo.message and "did you mean 'software:topdesk'" in typo.message
    assert typo.src is not None and typo.src.file == "policies/waivers.yaml" and typo.src.line > 1
    assert typo.evidence["evaluated"] is False
    ok = {f.object: f for f in findings(res, "GOV-waiver-applies")}["waiver:B8-monitored:device:kor-th-rtr01"]
    assert ok.status == "pass" and ok.evidence["finding_status"] == "pass"
    assert res.exit_code == 1
    # the waiver no longer matches, so the TOPdesk purchase fails again as well
    assert "software:topdesk" in failed(res, "A1-buy-once")


def test_waiver_rules_cannot_be_waived(region: Region) -> None:
    from zwvl.inventory import InventoryError

    region.edit("policies/waivers.yaml", lambda d: d["waivers"][0].update(rule="GOV-waiver-current"))
    with pytest.raises(InventoryError) as exc:
        region.check()
    assert "'GOV-waiver-current', which checks the waivers themselves" in str(exc.value.problems[0])
