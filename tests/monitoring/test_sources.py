"""The exporter's live sources against real services: the fibre lab (FRR), PostgreSQL with the data
platform's own provisioning, and Request Tracker 5 (rt-server) provisioned by the helpdesk program.

Helpdesk: the tickets (tests/monitoring/conftest.py TICKETS) are created through REST2 in the
partner queues the helpdesk program made, with the ITIL category field it applied; RT computes their
due dates from the SLA config the request_tracker role deploys (plus a test-only level with a
3-second acknowledge deadline). An SLA breach is the exporter's own arithmetic: an open ticket whose
Due (RT's next SLA deadline: acknowledge, then resolve) is in the past.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from typing import Any

import pytest

from tests.monitoring.conftest import BREACH_SECONDS, CATEGORY_FIELD, REPO, STALE_DATASET, HelpdeskRt, utc
from tests.monitoring.test_exporter import scrape, value
from zwvl.exporter import helpdesk
from zwvl.exporter.backbone import BackboneSource, LabRouters, parse_router
from zwvl.exporter.base import SourceError
from zwvl.exporter.collector import ZwvlCollector
from zwvl.exporter.datasets import DatasetFreshnessSource
from zwvl.exporter.helpdesk import HelpdeskSource, RtRest2Client
from zwvl.exporter.model import ModelCache
from zwvl.lab import Lab, LabSpec
from zwvl.platform.sla import due_dates

pytestmark = pytest.mark.integration

OPEN = {  # what TICKETS hold open (new, open, stalled) per (partner, category)
    ("kortrijk", "incident"): 2,
    ("kortrijk", "change"): 1,
    ("menen", "service-request"): 1,  # stalled is open too
    ("menen", "none"): 1,  # no category set
    ("other", "none"): 1,  # RT's General queue: no partner's (and no ITIL category field there)
    ("wervik", "problem"): 1,
    ("wervik", "other"): 1,  # "project": a category the inventory does not know
}


@pytest.fixture(scope="module")
def cache() -> ModelCache:
    return ModelCache(REPO / "inventory")


def client(rt: HelpdeskRt, **kw: Any) -> RtRest2Client:
    """The exporter's client: the read-only account's token, RT's certificate verified by the CA."""
    return RtRest2Client(rt.url, **{"token": rt.exporter_token, "ca_file": str(rt.server.ca_file), **kw})


def nonzero(s: dict[str, list[tuple[dict[str, str], float]]], name: str) -> dict[tuple[str, str], float]:
    return {(lb["partner"], lb["category"]): v for lb, v in s[name] if v}


# RT counts the deadline from the creation transaction, which a busy RT may record seconds after the
# ticket's own Created time (as tests/platform allows: up to 5)
SKEW = tuple(dt.timedelta(seconds=s) for s in range(6))


def wait_for_breach(rt: HelpdeskRt) -> dt.datetime:
    """RT's Due of the test-level ticket, once it has passed."""
    record = rt.client().get(f"/ticket/{rt.tickets['kortrijk-breached']}")
    assert record is not None
    due = utc(record["Due"])
    # RT set it: created + the level's 3-second acknowledge deadline
    assert due - rt.created["kortrijk-breached"] - dt.timedelta(seconds=BREACH_SECONDS) in SKEW
    time.sleep(max(0.0, (due - dt.datetime.now(dt.UTC)).total_seconds() + 1))
    return due


# ---------------------------------------------------------------------------------- helpdesk


def test_helpdesk_counts_per_partner_and_category(cache: ModelCache, rt: HelpdeskRt) -> None:
    due = wait_for_breach(rt)
    # the clock just past that deadline: a slow run must not reach the P1 ticket's 30 minutes
    src = HelpdeskSource(cache, client(rt), CATEGORY_FIELD, 0, now=lambda: due + dt.timedelta(seconds=1))
    s = scrape(ZwvlCollector([src]))
    assert value(s, "zwvl_source_up", source="helpdesk") == 1
    assert nonzero(s, "zwvl_helpdesk_open_tickets") == OPEN
    # only the ticket whose (3-second) SLA deadline RT set has passed; P1-critical gives 30 minutes
    assert nonzero(s, "zwvl_helpdesk_sla_breached_tickets") == {("kortrijk", "incident"): 1}
    # every partner queue is reported, zero or not (bounded: partners x categories)
    assert {lb["partner"] for lb, _ in s["zwvl_helpdesk_open_tickets"]} == {
        *cache.get().inv.partners,
        "other",
    }
    created = {lb["category"]: v for lb, v in s["zwvl_helpdesk_tickets_created_total"]}
    assert created == {"incident": 3, "service-request": 1, "change": 2, "problem": 1, "none": 2}
    resolved = {lb["category"]: v for lb, v in s["zwvl_helpdesk_tickets_resolved_total"]}
    assert resolved == {"incident": 1, "service-request": 0, "change": 1, "problem": 0, "none": 0}


def test_helpdesk_breach_follows_the_sla_due_dates_rt_sets(cache: ModelCache, rt: HelpdeskRt) -> None:
    """The P1-critical ticket: RT's Due is its acknowledge deadline under the uniform SLA set (30 real
    minutes); the exporter counts it as breached from that moment on (its clock moved forward)."""
    hd = cache.get().inv.helpdesk
    assert hd is not None
    record = rt.client().get(f"/ticket/{rt.tickets['kortrijk-outage']}")
    assert record is not None and record["SLA"] == "P1-critical"
    acknowledge, _ = due_dates(hd, "P1-critical", rt.created["kortrijk-outage"])
    due = utc(record["Due"])
    assert due - acknowledge in SKEW

    def breached_at(now: dt.datetime) -> dict[tuple[str, str], float]:
        src = HelpdeskSource(cache, client(rt), CATEGORY_FIELD, 0, now=lambda: now)
        return nonzero(scrape(ZwvlCollector([src])), "zwvl_helpdesk_sla_breached_tickets")

    wait_for_breach(rt)
    assert breached_at(due - dt.timedelta(seconds=1)) == {("kortrijk", "incident"): 1}
    assert breached_at(due + dt.timedelta(seconds=1)) == {("kortrijk", "incident"): 2}


class CountingClient(RtRest2Client):
    """The real client, recording the pages it asks RT for."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.pages: Counter[str] = Counter()

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        self.pages[params["query"]] += 1
        return super()._get(path, params)


def test_helpdesk_pages_through_results(
    cache: ModelCache, rt: HelpdeskRt, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(helpdesk, "PER_PAGE", 2)  # 8 open tickets: 4 pages of RT's answer
    rtc = CountingClient(rt.url, token=rt.exporter_token, ca_file=str(rt.server.ca_file))
    s = scrape(ZwvlCollector([HelpdeskSource(cache, rtc, CATEGORY_FIELD, 0)]))
    assert nonzero(s, "zwvl_helpdesk_open_tickets") == OPEN
    assert rtc.pages["Status = '__Active__'"] == 4


def test_helpdesk_reads_with_the_read_only_account(cache: ModelCache, rt: HelpdeskRt) -> None:
    """The exporter's account (the role's zwvl-exporter: SeeQueue, ShowTicket, SeeCustomField) reads
    every metric, and cannot change a ticket."""
    c = client(rt)
    s = scrape(ZwvlCollector([HelpdeskSource(cache, c, CATEGORY_FIELD, 0)]))
    assert value(s, "zwvl_source_up", source="helpdesk") == 1
    assert nonzero(s, "zwvl_helpdesk_open_tickets") == OPEN
    tid = rt.tickets["general-question"]
    resp = c.rt.request("PUT", f"/ticket/{tid}", {"Subject": "changed by the exporter"})
    assert resp.status_code == 403 or any("denied" in str(m).lower() for m in resp.json()), resp.text
    assert (rt.client().get(f"/ticket/{tid}") or {})["Subject"] == "general-question"


def test_helpdesk_refuses_an_unverified_certificate(cache: ModelCache, rt: HelpdeskRt) -> None:
    """Without the region CA (the system's CAs only) the exporter does not talk to RT."""
    bad = RtRest2Client(rt.url, token=rt.exporter_token)
    with pytest.raises(SourceError, match="unreachable: SSLError"):
        bad.count("Status = 'resolved'")


@pytest.mark.parametrize(
    "token",
    ["1-14-0123456789abcdef0123456789abcdef", "not-a-token"],  # unknown to RT, malformed
)
def test_helpdesk_with_bad_credentials_fails_cleanly(cache: ModelCache, rt: HelpdeskRt, token: str) -> None:
    bad = client(rt, token=token)
    with pytest.raises(SourceError, match="HTTP 401"):
        bad.count("Status = 'resolved'")
    s = scrape(ZwvlCollector([HelpdeskSource(cache, bad, CATEGORY_FIELD, 0)]))
    assert value(s, "zwvl_source_up", source="helpdesk") == 0
    assert "zwvl_helpdesk_open_tickets" not in s


# ---------------------------------------------------------------------------------- datasets


def test_dataset_freshness_from_postgresql(cache: ModelCache, data_platform: str) -> None:
    s = scrape(ZwvlCollector([DatasetFreshnessSource(cache, data_platform)]))
    assert value(s, "zwvl_source_up", source="datasets") == 1
    loads = {lb["dataset"]: v for lb, v in s["zwvl_dataset_last_load_timestamp_seconds"]}
    assert set(loads) == set(cache.get().inv.datasets)  # the unknown dataset is not reported
    now = dt.datetime.now(dt.UTC).timestamp()
    assert now - loads[STALE_DATASET] == pytest.approx(3 * 86400, abs=600)
    assert all(now - v < 3600 for k, v in loads.items() if k != STALE_DATASET)


def test_dataset_freshness_reports_a_failing_query(cache: ModelCache, data_platform: str) -> None:
    src = DatasetFreshnessSource(cache, data_platform, "SELECT dataset, loaded_at FROM no_such_table")
    s = scrape(ZwvlCollector([src]))
    assert value(s, "zwvl_source_up", source="datasets") == 0


# ---------------------------------------------------------------------------------- backbone


def test_backbone_from_the_lab(
    cache: ModelCache, lab: tuple[Lab, LabSpec], monkeypatch: pytest.MonkeyPatch
) -> None:
    the_lab, spec = lab
    monkeypatch.setenv("ZWVL_LAB_DIR", str(the_lab.folder.parent))
    s = scrape(ZwvlCollector([BackboneSource(cache, LabRouters(the_lab.name))]))
    assert value(s, "zwvl_source_up", source="backbone") == 1
    assert {lb["device"] for lb, v in s["zwvl_backbone_router_up"] if v == 1} == set(spec.routers)
    ends = {(lb["circuit"], lb["device"]): v for lb, v in s["zwvl_backbone_link_up"]}
    assert set(ends) == {(cid, r) for cid, lk in spec.links.items() for r in lk.routers}
    assert all(v == 1 for v in ends.values())
    paths = {lb["site"]: v for lb, v in s["zwvl_backbone_site_paths"]}
    assert paths == {
        "regional-datacenter": 2,
        "kortrijk-town-hall": 2,
        "leiedal-office": 2,
        "kortrijk-library": 1,
    }
    design = {lb["site"]: v for lb, v in s["zwvl_backbone_site_design_paths"]}
    assert design == paths
    assert value(s, "zwvl_backbone_ospf_neighbors", device="kor-th-rtr01", state="Full") == 3


def test_frr_output_is_parsed_as_vtysh_prints_it(lab: tuple[Lab, LabSpec]) -> None:
    the_lab, _ = lab
    text = the_lab.vtysh("kor-th-rtr01", "show interface json", "show ip ospf neighbor json")
    state = parse_router(text)
    assert state.interfaces["eth6"] is True and state.interfaces["eth9"] is True
    assert state.adjacency_full("eth6") and state.adjacency_full("eth0")
    assert not state.adjacency_full("eth1")  # no circuit in this lab
    with pytest.raises(SourceError):
        parse_router("% Unknown command\n")
