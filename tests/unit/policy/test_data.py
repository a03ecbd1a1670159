"""zwvl.policy.rules.data: D1 one source, B6 business owner, A3 shared datasets, I5 OSLO vocabulary."""

from __future__ import annotations

from typing import Any

from tests.conftest import Region, find
from tests.unit.policy.support import failed, findings


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


def test_i5_oslo_and_a3_shared(region: Region) -> None:
    region.edit(
        "inventory/platform/datasets.yaml",
        lambda d: find(d["datasets"], slug="speed-signs").update(oslo="vendor CSV", partners=["kortrijk"]),
    )
    res = region.check()
    assert set(failed(res, "I5-oslo-vocabulary")) == {"dataset:speed-signs"}
    assert set(failed(res, "A3-shared-datasets")) == {"dataset:speed-signs"}
