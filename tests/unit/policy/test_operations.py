"""zwvl.policy.rules.operations: B7 helpdesk pool, B8 monitored, I2 hosting declared."""

from __future__ import annotations

from typing import Any

from tests.conftest import Region, find
from tests.unit.policy.support import failed


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
