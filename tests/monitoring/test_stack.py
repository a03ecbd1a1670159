"""The whole chain: Prometheus (Debian) scrapes the real exporter reading the lab, NetBox, PostgreSQL
and the helpdesk, and the routers' prometheus-frr-exporter found through the exporter's service
discovery from NetBox; every PromQL expression of the rules and dashboards is evaluated there; a
device added in NetBox becomes a target with no file edited; cutting fibre in the lab fires the
alerts (link-downs from the routers' own OSPF adjacencies against NetBox's expectation), Alertmanager
routes them and inhibits the link-downs of an isolated site, and restoring the fibre clears them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.monitoring.conftest import STALE_DATASET
from tests.monitoring.promql import (
    dashboard_expressions,
    dashboard_variable_metrics,
    metric_names,
    rule_expressions,
)
from tests.monitoring.services import Alertmanager, Prometheus
from zwvl.inventory import Inventory
from zwvl.lab import Lab, LabSpec
from zwvl.netbox.client import NetboxClient

pytestmark = pytest.mark.integration


def test_metric_name_extraction() -> None:
    assert metric_names('sum by (partner) (rate(zwvl_x_total{a="b"}[5m])) / on (partner) zwvl:y') == {
        "zwvl_x_total",
        "zwvl:y",
    }
    assert metric_names('label_replace(m, "work", "x", "category", "a|b") or vector(0)') == {"m"}
    assert metric_names("time() - max(up{job='zwvl'}) > bool 3") == {"up"}


def test_every_rule_expression_evaluates_on_real_metrics(prometheus: Prometheus) -> None:
    names = prometheus.names()
    problems = []
    for rule, expr in rule_expressions().items():
        result = prometheus.query(expr)
        if result.get("status") != "success":
            problems.append(f"{rule}: {result.get('error')}")
        missing = metric_names(expr) - names
        if missing:
            problems.append(f"{rule}: no such metric {sorted(missing)}")
    assert problems == []


def test_every_dashboard_expression_evaluates_on_real_metrics(prometheus: Prometheus) -> None:
    names = prometheus.names()
    problems = []
    for dashboard, exprs in dashboard_expressions().items():
        for expr in exprs:
            result = prometheus.query(expr)
            if result.get("status") != "success":
                problems.append(f"{dashboard}: {expr}: {result.get('error')}")
            missing = metric_names(expr) - names
            if missing:
                problems.append(f"{dashboard}: {expr}: no such metric {sorted(missing)}")
    for dashboard, metrics in dashboard_variable_metrics().items():
        problems += [f"{dashboard}: variable reads unknown {m}" for m in sorted(metrics - names)]
    assert problems == []


def test_the_check_catches_a_typo(prometheus: Prometheus) -> None:
    """The two checks above would fail on a misspelt metric or broken syntax."""
    names = prometheus.names()
    assert metric_names("zwvl_backbone_link_upp == 0") - names == {"zwvl_backbone_link_upp"}
    assert prometheus.query("sum by (site (zwvl_backbone_link_up)")["status"] == "error"


def test_every_source_is_up_and_scraped(prometheus: Prometheus) -> None:
    def sources() -> dict[str, str]:
        res = prometheus.query("zwvl_source_up")["data"]["result"]
        return {r["metric"]["source"]: r["value"][1] for r in res}

    want = {"model", "netbox", "backbone", "helpdesk", "datasets", "netbox-backbone"}
    # a scrape that has every source up: wait for it rather than read whichever scrape was last
    wait_for("every source up", lambda: sources() == dict.fromkeys(want, "1"), timeout=30, explain=sources)


def test_the_routers_are_found_in_netbox_and_a_new_device_is_scraped_without_editing_a_file(
    prometheus: Prometheus, exporter: str, frr_exporters: dict[str, int], region_netbox: Any, inv: Inventory
) -> None:
    def frr_targets() -> dict[str, dict[str, Any]]:
        active = prometheus.targets()
        return {t["labels"]["device"]: t for t in active if t["labels"].get("job") == "frr"}

    # the lab's routers, as NetBox holds them (tenant, site, role), each scraped and up. A target
    # Prometheus has just discovered is "unknown" until its first scrape, so wait for that too.
    def health() -> dict[str, str]:
        return {device: t["health"] for device, t in frr_targets().items()}

    wait_for(
        "every router's target up", lambda: health() == dict.fromkeys(frr_exporters, "up"), explain=health
    )
    kor = frr_targets()["kor-th-rtr01"]
    # the exporter serves NetBox's address (the test points it at the router's exporter port)
    sd = requests.get(exporter.replace("/metrics", "/sd/frr"), timeout=30).json()
    assert [g for g in sd if g["labels"]["device"] == "kor-th-rtr01"] == [
        {
            "targets": [f"{inv.devices['kor-th-rtr01'].primary_address.ip}:9342"],  # type: ignore[union-attr]
            "labels": {
                "device": "kor-th-rtr01",
                "partner": "kortrijk",
                "role": "router",
                "site": "kortrijk-town-hall",
            },
        }
    ]
    assert (kor["labels"]["partner"], kor["labels"]["site"], kor["labels"]["role"]) == (
        "kortrijk",
        "kortrijk-town-hall",
        "router",
    )

    # a router added in NetBox by hand (monitoring frr-exporter, a primary IPv4) becomes a target
    client = NetboxClient(region_netbox.url, region_netbox.token)
    ref = client.list(
        "dcim/devices",
        fields=("id", "device_type", "role", "site", "tenant"),
        params={"name": "kor-th-rtr01"},
    )[0]
    dev = client.request(
        "POST",
        "dcim/devices/",
        json={
            "name": "kor-th-rtr99",
            "device_type": ref["device_type"]["id"],
            "role": ref["role"]["id"],
            "site": ref["site"]["id"],
            "tenant": ref["tenant"]["id"],
            "status": "active",
            "custom_fields": {"monitoring": "frr-exporter"},
        },
    )
    try:
        itf = client.request(
            "POST", "dcim/interfaces/", json={"device": dev["id"], "name": "lo", "type": "virtual"}
        )
        ip = client.request(
            "POST",
            "ipam/ip-addresses/",
            json={
                "address": "127.0.0.99/32",
                "assigned_object_type": "dcim.interface",
                "assigned_object_id": itf["id"],
            },
        )
        client.request("PATCH", f"dcim/devices/{dev['id']}/", json={"primary_ip4": ip["id"]})
        new = wait_for("the new router's target", lambda: frr_targets().get("kor-th-rtr99"), timeout=60)
        assert new["scrapeUrl"] == "http://127.0.0.99:9342/metrics"
        assert new["labels"]["partner"] == "kortrijk"
    finally:
        client.request("DELETE", f"dcim/devices/{dev['id']}/")
    wait_for("the deleted router to go", lambda: "kor-th-rtr99" not in frr_targets(), timeout=60)


# ------------------------------------------------------------------------------------ end to end


def wait_for(
    what: str, check: Callable[[], Any], timeout: float = 90.0, explain: Callable[[], Any] | None = None
) -> Any:
    """``check()``'s first truthy value; on timeout, its last value or what ``explain()`` shows."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}; last: {explain() if explain else last!r}")


def firing(prom: Prometheus, alertname: str, **labels: str) -> list[dict[str, Any]]:
    return [
        a
        for a in prom.alerts()
        if a["state"] == "firing"
        and a["labels"]["alertname"] == alertname
        and all(a["labels"].get(k) == v for k, v in labels.items())
    ]


def am_alerts(am: Alertmanager, alertname: str) -> list[dict[str, Any]]:
    return [a for a in am.alerts() if a["labels"]["alertname"] == alertname]


def test_a_stale_dataset_fires_and_drift_fires(prometheus: Prometheus) -> None:
    stale = wait_for("DatasetStale", lambda: firing(prometheus, "DatasetStale"))
    assert {a["labels"]["dataset"] for a in stale} == {STALE_DATASET}
    assert wait_for("NetboxDriftDetected", lambda: firing(prometheus, "NetboxDriftDetected"))
    assert not firing(prometheus, "NetboxApplyOverdue")


def test_helpdesk_work_split_and_sla_breach_from_rt(prometheus: Prometheus) -> None:
    """From the real RT's tickets: small incidents versus change work, and the breached ticket's
    partner alerted (RT set its due date 3 seconds after creation)."""

    def split() -> dict[str, str]:
        res = prometheus.query("zwvl:helpdesk_open_tickets:sum_by_work")["data"]["result"]
        return {r["metric"]["work"]: r["value"][1] for r in res}

    # incident, problem, service request, uncategorised and unknown (kortrijk 2, menen 2, wervik 2,
    # General 1) versus change
    assert wait_for("the work split", lambda: split() == {"incident": "7", "change": "1"} and split())
    breach = wait_for("HelpdeskSlaBreach", lambda: firing(prometheus, "HelpdeskSlaBreach"))
    assert {a["labels"]["partner"] for a in breach} == {"kortrijk"}


def test_cut_fibre_fires_alerts_and_isolation_inhibits_link_downs(
    prometheus: Prometheus, alertmanager: Alertmanager, webhooks: Any, lab: tuple[Lab, LabSpec]
) -> None:
    the_lab, _ = lab
    wait_for(
        "a quiet backbone",
        lambda: not [a for a in prometheus.alerts() if a["labels"]["alertname"].startswith("Fibre")],
    )
    try:
        # 1. cut RDC - Kortrijk: both ends of the circuit fire, Kortrijk town hall is left on one path
        the_lab.cut_link("ZWVL-FO-0057", mode="down")
        down = wait_for(
            "FibreLinkDown",
            lambda: len(firing(prometheus, "FibreLinkDown")) == 2 and firing(prometheus, "FibreLinkDown"),
        )
        assert {(a["labels"]["circuit"], a["labels"]["site"]) for a in down} == {
            ("ZWVL-FO-0057", "regional-datacenter"),
            ("ZWVL-FO-0057", "kortrijk-town-hall"),
        }
        one = down[0]
        assert one["labels"]["severity"] == "warning"
        assert one["annotations"]["runbook_url"].endswith("monitoring/runbooks/fibre-link-down.md")
        wait_for(
            "FibreRedundancyLost",
            lambda: firing(prometheus, "FibreRedundancyLost", site="kortrijk-town-hall"),
        )
        assert not firing(prometheus, "FibreSiteIsolated")
        # Alertmanager has the link-downs, active (nothing inhibits them yet)
        wait_for("link-downs in Alertmanager", lambda: len(am_alerts(alertmanager, "FibreLinkDown")) == 2)
        assert all(a["status"]["state"] == "active" for a in am_alerts(alertmanager, "FibreLinkDown"))

        # 2. a silent cut of Kortrijk - Leiedal (OSPF dies, interfaces stay up): Kortrijk is isolated
        the_lab.cut_link("ZWVL-FO-0075", mode="silent")
        isolated = wait_for(
            "FibreSiteIsolated", lambda: firing(prometheus, "FibreSiteIsolated", site="kortrijk-town-hall")
        )
        assert isolated[0]["labels"]["severity"] == "critical"
        assert isolated[0]["labels"]["peer_site"] == "kortrijk-town-hall"
        # the library behind Kortrijk is cut off too
        wait_for("library isolated", lambda: firing(prometheus, "FibreSiteIsolated", site="kortrijk-library"))
        wait_for("four link-downs", lambda: len(firing(prometheus, "FibreLinkDown")) == 4)

        # the isolated site silences every link-down of its links, at both ends
        def all_inhibited() -> list[dict[str, Any]] | None:
            links = am_alerts(alertmanager, "FibreLinkDown")
            iso = am_alerts(alertmanager, "FibreSiteIsolated")
            if len(links) == 4 and iso and all(a["status"]["inhibitedBy"] for a in links):
                return links
            return None

        links = wait_for("inhibited link-downs", all_inhibited)
        assert {a["status"]["state"] for a in links} == {"suppressed"}
        assert {(a["labels"]["circuit"], a["labels"]["site"]) for a in links} == {
            ("ZWVL-FO-0057", "regional-datacenter"),
            ("ZWVL-FO-0057", "kortrijk-town-hall"),
            ("ZWVL-FO-0075", "kortrijk-town-hall"),
            ("ZWVL-FO-0075", "leiedal-office"),
        }
        site_iso = [
            a
            for a in am_alerts(alertmanager, "FibreSiteIsolated")
            if a["labels"]["site"] == "kortrijk-town-hall"
        ]
        assert site_iso and site_iso[0]["status"]["state"] == "active"

        # routed by severity and partner: the pager and Kortrijk got the isolation
        def notified(path: str) -> bool:
            with webhooks.lock:
                return any(
                    p == path and any(a["labels"]["alertname"] == "FibreSiteIsolated" for a in body["alerts"])
                    for p, body in webhooks.received
                )

        wait_for("pager notified", lambda: notified("/pager"))
        wait_for("Kortrijk notified", lambda: notified("/partner/kortrijk"))
    finally:
        the_lab.restore_link("ZWVL-FO-0075")
        the_lab.restore_link("ZWVL-FO-0057")

    # 3. restored: everything clears
    wait_for(
        "the fibre alerts to clear",
        lambda: not [a for a in prometheus.alerts() if a["labels"]["alertname"].startswith("Fibre")],
    )
    # the recording rules run in their own group: they follow within an evaluation or two
    wait_for(
        "no circuit down",
        lambda: prometheus.query("zwvl:backbone_circuits_down:count")["data"]["result"][0]["value"][1] == "0",
        timeout=30,
    )
