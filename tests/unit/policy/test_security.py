"""zwvl.policy.rules.security: SEC (secrets, exposed services) and GOV (the waivers themselves)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Region, find
from tests.unit.policy.support import failed, findings


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
