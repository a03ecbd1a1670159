"""The alert relay (`zwvl alert-relay`) between a real Alertmanager and a real Request Tracker 5 with
the helpdesk provisioned by its Pulumi program: one ticket per alert group in the partner's queue,
with the SLA of the alert's severity and the ITIL category, resolved with the group; a notification
delivered again (Alertmanager's repeats, or the same request sent twice) opens no second ticket.

The last test is the whole chain on the lab: a fibre cut seen by the routers' prometheus-frr-exporter
against what NetBox expects, Prometheus, Alertmanager, the relay, a ticket in the partner's queue.

This module starts its own RT: the helpdesk metrics tests count every ticket of theirs."""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.monitoring.conftest import SCRAPE, alertmanager_config, provision_helpdesk, running_prometheus
from tests.monitoring.services import (
    Alertmanager,
    Prometheus,
    free_port,
    start,
    start_alertmanager,
    wait_until,
)
from tests.platform.services import RtServer, start_rt, stop_rt
from zwvl.inventory import Inventory
from zwvl.lab import Lab, LabSpec
from zwvl.platform.plan import ITIL_CATEGORY_FIELD
from zwvl.relay.tickets import TAG

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def helpdesk(inv: Inventory) -> Iterator[RtServer]:
    server = start_rt(inv)
    try:
        provision_helpdesk(server)
        yield server
    finally:
        stop_rt(server)


@pytest.fixture(scope="module")
def relay_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("relay") / "relay.log"


@pytest.fixture(scope="module")
def relay(helpdesk: RtServer, relay_log: Path) -> Iterator[str]:
    """`zwvl alert-relay` as a process, with an auth token of the role's zwvl-alert-relay account (no
    password), verifying RT's certificate against the test CA."""
    port = free_port()
    log = relay_log
    token = helpdesk.create_token("zwvl-alert-relay", "alert relay (test)")
    env = dict(os.environ, RT_TOKEN=token, ZWVL_CA_FILE=str(helpdesk.ca_file))
    argv = [sys.executable, "-m", "zwvl", "alert-relay", "--listen", f"127.0.0.1:{port}",
            "--inventory", str(REPO / "inventory"), "--rt-url", helpdesk.url]  # fmt: skip
    proc = start("alert-relay", argv, log, env)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return requests.get(f"{url}/-/healthy", timeout=2).status_code == 200
        except requests.ConnectionError:
            assert proc.alive(), proc.tail()
            return False

    try:
        wait_until(healthy, 60, "the alert relay to listen")
        yield url
    finally:
        proc.stop()
        assert "Traceback" not in proc.tail(), proc.tail()


@pytest.fixture(scope="module")
def alertmanager(relay: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alertmanager]:
    """The generated configuration, its relay address pointed at the test relay; Alertmanager repeats
    every notification each two seconds, so re-delivery happens for real."""
    folder = tmp_path_factory.mktemp("alertmanager-relay")
    doc = alertmanager_config(int(relay.rsplit(":", 1)[1]))
    doc["route"]["repeat_interval"] = "2s"
    (folder / "alertmanager.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    am = start_alertmanager(folder / "alertmanager.yml", folder / "data", folder / "alertmanager.log")
    try:
        yield am
    finally:
        am.proc.stop()


def alert_tickets(server: RtServer, queue: str) -> list[dict[str, Any]]:
    query = f"Queue = '{queue}' AND Subject LIKE '{TAG}'"
    resp = server.client().request(
        "GET", "/tickets", params={"query": query, "fields": "Subject,Status,SLA", "per_page": "100"}
    )
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


def comments(server: RtServer, ticket: int) -> int:
    resp = server.client().request(
        "GET", f"/ticket/{ticket}/history", params={"fields": "Type", "per_page": "100"}
    )
    assert resp.status_code == 200, resp.text
    return sum(t.get("Type") == "Comment" for t in resp.json()["items"])


def category(server: RtServer, ticket: int) -> list[str]:
    record = server.client().get(f"/ticket/{ticket}") or {}
    return [
        v
        for cf in record.get("CustomFields", [])
        if cf.get("name") == ITIL_CATEGORY_FIELD
        for v in cf["values"]
    ]


def notification(status: str, alerts: list[dict[str, Any]], **group: str) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": "{}:" + str(sorted(group.items())),
        "status": status,
        "receiver": "test",
        "groupLabels": group,
        "commonLabels": group,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.invalid",
        "alerts": alerts,
    }


def alert(status: str, fingerprint: str, **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": labels,
        "annotations": {"summary": "test", "runbook_url": "monitoring/runbooks/fibre-link-down.md"},
        "startsAt": "2026-12-03T03:00:00Z",
        "fingerprint": fingerprint,
    }


def post(relay: str, path: str, body: Any) -> requests.Response:
    return requests.post(relay + path, json=body, timeout=60)


def test_one_ticket_per_group_comments_on_change_and_resolves(relay: str, helpdesk: RtServer) -> None:
    group = {"alertname": "FibreLinkDown", "partner": "zwevegem", "site": "zwevegem-town-hall"}
    first = alert("firing", "aaa", severity="warning", circuit="C1", **group)
    second = alert("firing", "bbb", severity="warning", circuit="C2", **group)
    firing = notification("firing", [first], **group)

    created = post(relay, "/partner/zwevegem", firing).json()
    assert created["action"] == "created" and created["queue"] == "Zwevegem"
    ticket = created["ticket"]
    # the same notification again, and through the ticket route too: the same ticket, nothing added
    assert post(relay, "/partner/zwevegem", firing).json() == dict(created, action="unchanged")
    assert post(relay, "/tickets", firing).json() == dict(created, action="unchanged")
    [record] = alert_tickets(helpdesk, "Zwevegem")
    assert record["Status"] == "new" and record["SLA"] == "P2-high"  # warning: priority 2
    assert category(helpdesk, ticket) == ["incident"]
    assert comments(helpdesk, ticket) == 0

    # a second link of the group goes down: one comment
    grown = notification("firing", [first, second], **group)
    assert post(relay, "/partner/zwevegem", grown).json()["action"] == "commented"
    assert post(relay, "/partner/zwevegem", grown).json()["action"] == "unchanged"
    assert comments(helpdesk, ticket) == 1

    # the group resolves: the ticket is resolved; a late repeat finds nothing open
    done = notification(
        "resolved", [dict(first, status="resolved"), dict(second, status="resolved")], **group
    )
    assert post(relay, "/partner/zwevegem", done).json() == dict(created, action="resolved")
    assert post(relay, "/partner/zwevegem", done).json()["action"] == "nothing-open"
    [record] = alert_tickets(helpdesk, "Zwevegem")
    assert record["Status"] == "resolved"


def test_bad_requests_are_refused_and_other_channels_not_ticketed(relay: str) -> None:
    group = {"alertname": "FibreSiteIsolated", "partner": "menen"}
    firing = notification("firing", [alert("firing", "ccc", severity="critical", **group)], **group)
    assert post(relay, "/pager", firing).json()["action"] == "not-ticketed"
    assert post(relay, "/partner/not-a-partner", firing).status_code == 400
    assert post(relay, "/partner/menen", {"version": "3"}).status_code == 400
    resp = requests.post(relay + "/partner/menen", data=b"{not json", timeout=10)
    assert resp.status_code == 400


def test_alertmanager_delivers_to_the_partner_queue_and_repeats_open_nothing_new(
    relay: str, relay_log: Path, helpdesk: RtServer, alertmanager: Alertmanager
) -> None:
    now = dt.datetime.now(dt.UTC)
    labels = {
        "alertname": "FibreSiteIsolated",
        "severity": "critical",
        "partner": "wervik",
        "site": "wervik-town-hall",
    }

    def send(ends: dt.datetime) -> None:
        body = [{"labels": labels, "annotations": {"summary": "Wervik isolated"},
                 "startsAt": now.isoformat(), "endsAt": ends.isoformat()}]  # fmt: skip
        resp = requests.post(f"{alertmanager.url}/api/v2/alerts", json=body, timeout=10)
        assert resp.status_code == 200, resp.text

    send(now + dt.timedelta(minutes=10))
    wait_until(lambda: len(alert_tickets(helpdesk, "Wervik")) == 1, 60, "a ticket in Wervik's queue")
    [record] = alert_tickets(helpdesk, "Wervik")
    assert record["SLA"] == "P1-critical" and record["Status"] == "new"  # critical: priority 1
    ticket = int(record["id"])
    # Alertmanager repeats the notification every 2 s: the relay sees them, and they add no ticket
    # and no comment
    wait_until(
        lambda: relay_log.read_text().count(f"/partner/wervik: unchanged ticket={ticket}") >= 2,
        30,
        "two repeated deliveries",
    )
    assert len(alert_tickets(helpdesk, "Wervik")) == 1
    assert comments(helpdesk, ticket) == 0

    send(dt.datetime.now(dt.UTC))  # ends now: Alertmanager sends the group resolved
    wait_until(
        lambda: alert_tickets(helpdesk, "Wervik")[0]["Status"] == "resolved", 60, "the ticket resolved"
    )
    assert len(alert_tickets(helpdesk, "Wervik")) == 1


# ------------------------------------------------------------------------------------ end to end

ROLE_DEFAULTS = REPO / "ansible/roles/frr_ospf/defaults/main.yml"


@pytest.fixture(scope="module")
def prometheus_to_relay(
    exporter: str,
    frr_exporters: dict[str, int],
    alertmanager: Alertmanager,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Prometheus]:
    """Prometheus with the repository's rules, sending to this module's Alertmanager (and relay)."""
    folder = tmp_path_factory.mktemp("prometheus-relay")
    with running_prometheus(folder, exporter, frr_exporters, alertmanager) as prom:
        yield prom


def _seconds(duration: str) -> float:
    value, unit = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", duration).groups()  # type: ignore[union-attr]
    return float(value) * {"ms": 0.001, "s": 1, "m": 60}[unit]


def test_a_fibre_cut_on_the_lab_becomes_one_ticket_in_the_partners_queue_and_resolves(
    prometheus_to_relay: Prometheus,
    lab: tuple[Lab, LabSpec],
    helpdesk: RtServer,
    relay_log: Path,
) -> None:
    """A silent cut of Kortrijk town hall - Leiedal office (OSPF stops, the interfaces stay up): the
    routers' own adjacencies, against NetBox's expectation, fire FibreLinkDown within the dead
    interval plus a scrape and an evaluation; Alertmanager delivers it through the relay to Kortrijk's
    and Leiedal's queues, one ticket each at the warning priority; repeats add nothing; the repair
    resolves both."""
    the_lab, _ = lab
    prom = prometheus_to_relay
    cid = "ZWVL-FO-0075"
    dead = float(yaml.safe_load(ROLE_DEFAULTS.read_text())["frr_ospf_dead_interval"])

    def link_downs() -> list[dict[str, Any]]:
        return [
            a for a in prom.alerts() if a["labels"]["alertname"] == "FibreLinkDown" and a["state"] == "firing"
        ]

    def tickets(queue: str) -> list[dict[str, Any]]:
        return [t for t in alert_tickets(helpdesk, queue) if "FibreLinkDown" in t["Subject"]]

    wait_until(lambda: not link_downs(), 60, "a quiet backbone")
    assert not tickets("Kortrijk") and not tickets("Leiedal")
    cut_at = dt.datetime.now(dt.UTC)
    the_lab.cut_link(cid, mode="silent")
    try:
        wait_until(lambda: len(link_downs()) == 2, 60, "FibreLinkDown at both ends")
        ends = link_downs()
        assert {(a["labels"]["site"], a["labels"]["partner"], a["labels"]["circuit"]) for a in ends} == {
            ("kortrijk-town-hall", "kortrijk", cid),
            ("leiedal-office", "leiedal", cid),
        }
        # OSPF gives up on the neighbour after the dead interval; Prometheus sees it at the next scrape
        # and fires at the next evaluation (no `for`). 3 s of slack for two loaded cores.
        fired = max(dt.datetime.fromisoformat(a["activeAt"].replace("Z", "+00:00")) for a in ends)
        budget = dead + _seconds(SCRAPE) + 1.0 + 3.0
        assert (fired - cut_at).total_seconds() <= budget, (fired - cut_at, budget)

        for queue in ("Kortrijk", "Leiedal"):
            wait_until(lambda q=queue: len(tickets(q)) == 1, 60, f"a ticket in {queue}'s queue")
            [record] = tickets(queue)
            assert record["Status"] == "new" and record["SLA"] == "P2-high", record  # warning: priority 2
            assert category(helpdesk, int(record["id"])) == ["incident"]
        # Alertmanager repeats every 2 s: still one ticket per queue
        ticket = int(tickets("Kortrijk")[0]["id"])
        wait_until(
            lambda: relay_log.read_text().count(f"/partner/kortrijk: unchanged ticket={ticket}") >= 2,
            30,
            "two repeated deliveries",
        )
        assert len(tickets("Kortrijk")) == 1 and len(tickets("Leiedal")) == 1
    finally:
        the_lab.restore_link(cid)

    wait_until(lambda: not link_downs(), 60, "FibreLinkDown to resolve")
    for queue in ("Kortrijk", "Leiedal"):
        wait_until(
            lambda q=queue: [t["Status"] for t in tickets(q)] == ["resolved"],
            60,
            f"{queue}'s ticket resolved",
        )
