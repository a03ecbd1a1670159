"""zwvl.policy.rules.procurement: A1 buy once, A2 reuse before buy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.conftest import Region, find
from tests.unit.policy.support import failed, findings


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
