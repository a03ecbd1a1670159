"""The scrape configuration generated from NetBox, the source of truth: devices with their
`monitoring` custom field, tenant (partner), site, role and primary IPv4, as the reconciler maps them.

The objects are created here through NetBox's API (the reconciler's own tests cover `zwvl apply`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
import yaml

from devtools import netbox as local
from tests.integration.conftest import fresh_netbox, netbox_progress, netbox_template  # noqa: F401 (fixtures)
from zwvl.monitoring.scrape import Target, prometheus_config, targets_from_netbox

pytestmark = pytest.mark.integration


class Api:
    def __init__(self, nb: local.Instance) -> None:
        self.url = nb.url
        self.headers = nb.headers

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = requests.post(f"{self.url}/api/{path}", json=body, headers=self.headers, timeout=60)
        assert resp.status_code == 201, resp.text
        return dict(resp.json())

    def patch(self, path: str, body: dict[str, Any]) -> None:
        resp = requests.patch(f"{self.url}/api/{path}", json=body, headers=self.headers, timeout=60)
        assert resp.status_code == 200, resp.text


def test_scrape_targets_come_from_netbox(fresh_netbox: Callable[[], local.Instance]) -> None:  # noqa: F811
    netbox = fresh_netbox()  # stopped and dropped right after this test
    api = Api(netbox)
    api.post(
        "extras/custom-fields/",
        {"name": "monitoring", "label": "Monitoring", "type": "text", "object_types": ["dcim.device"]},
    )
    tenant = api.post("tenancy/tenants/", {"name": "Kortrijk", "slug": "kortrijk"})["id"]
    site = api.post(
        "dcim/sites/",
        {"name": "Kortrijk town hall", "slug": "kortrijk-town-hall", "status": "active", "tenant": tenant},
    )["id"]
    maker = api.post("dcim/manufacturers/", {"name": "Generic", "slug": "generic"})["id"]
    dtype = api.post("dcim/device-types/", {"manufacturer": maker, "model": "Box", "slug": "box"})["id"]
    roles = {
        r: api.post("dcim/device-roles/", {"name": r, "slug": r, "color": "2196f3"})["id"]
        for r in ("router", "server", "switch")
    }

    def device(name: str, role: str, monitoring: str | None, status: str = "active") -> int:
        return int(
            api.post(
                "dcim/devices/",
                {
                    "name": name,
                    "device_type": dtype,
                    "role": roles[role],
                    "site": site,
                    "tenant": tenant,
                    "status": status,
                    "custom_fields": {"monitoring": monitoring},
                },
            )["id"]
        )

    rtr = device("kor-th-rtr01", "router", "frr-exporter")
    device("kor-th-srv01", "server", "node-exporter")
    device("kor-th-sw01", "switch", "snmp")
    device("kor-th-sw02", "switch", "none")  # not monitored
    device("kor-th-rtr02", "router", "frr-exporter", status="planned")  # not in service
    lo = api.post("dcim/interfaces/", {"device": rtr, "name": "lo", "type": "virtual"})["id"]
    ip = api.post(
        "ipam/ip-addresses/",
        {"address": "100.126.0.20/32", "assigned_object_type": "dcim.interface", "assigned_object_id": lo},
    )["id"]
    api.patch(f"dcim/devices/{rtr}/", {"primary_ip4": ip})

    labels = (("partner", "kortrijk"), ("site", "kortrijk-town-hall"))

    def t(job: str, address: str, name: str, role: str) -> Target:
        return Target(job, address, (("device", name), labels[0], ("role", role), labels[1]))

    assert sorted(targets_from_netbox(netbox.url, netbox.token), key=repr) == sorted(
        [
            t("frr", "100.126.0.20:9342", "kor-th-rtr01", "router"),
            t("node", "kor-th-srv01:9100", "kor-th-srv01", "server"),
            t("snmp", "kor-th-sw01", "kor-th-sw01", "switch"),
        ],
        key=repr,
    )
    doc = yaml.safe_load(prometheus_config(targets_from_netbox(netbox.url, netbox.token), source="NetBox"))
    frr = next(j for j in doc["scrape_configs"] if j["job_name"] == "frr")
    assert frr["static_configs"] == [
        {
            "targets": ["100.126.0.20:9342"],
            "labels": {
                "device": "kor-th-rtr01",
                "partner": "kortrijk",
                "role": "router",
                "site": "kortrijk-town-hall",
            },
        }
    ]
