"""The exporter's live sources against real services: the fibre lab (FRR), PostgreSQL, and a
Request Tracker REST2 server.

The helpdesk source is tested against a small HTTP server in this process that answers the REST2
requests the exporter sends (paging, fields, TicketSQL, token authentication) like RT 5 does; the
same reader against a running RT 5 belongs with the platform issue, which installs and provisions
RT (request-tracker5, rt-server) and its tokens.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.monitoring.conftest import CATEGORY_FIELD, REPO, RT_TOKEN, STALE_DATASET
from tests.monitoring.services import RtData
from tests.monitoring.test_exporter import scrape, value
from zwvl.exporter.backbone import BackboneSource, LabRouters, parse_router
from zwvl.exporter.base import SourceError
from zwvl.exporter.collector import ZwvlCollector
from zwvl.exporter.datasets import DatasetFreshnessSource
from zwvl.exporter.helpdesk import HelpdeskSource, RtRest2Client
from zwvl.exporter.model import ModelCache
from zwvl.lab import Lab, LabSpec

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cache() -> ModelCache:
    return ModelCache(REPO / "inventory")


# ---------------------------------------------------------------------------------- helpdesk


def test_helpdesk_counts_per_partner_and_category(cache: ModelCache, rt: tuple[str, RtData]) -> None:
    url, _ = rt
    now = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
    src = HelpdeskSource(cache, RtRest2Client(url, token=RT_TOKEN), CATEGORY_FIELD, 0, now=lambda: now)
    s = scrape(ZwvlCollector([src]))
    assert value(s, "zwvl_source_up", source="helpdesk") == 1
    open_ = {(lb["partner"], lb["category"]): v for lb, v in s["zwvl_helpdesk_open_tickets"] if v}
    assert open_ == {
        ("kortrijk", "incident"): 2,
        ("kortrijk", "change"): 1,
        ("menen", "service-request"): 1,  # "service request" in RT maps onto the inventory's slug
        ("menen", "none"): 1,
        ("other", "incident"): 1,  # a queue of no partner
        ("wervik", "other"): 1,  # a category the inventory does not know
    }
    breached = {(lb["partner"], lb["category"]): v for lb, v in s["zwvl_helpdesk_sla_breached_tickets"] if v}
    assert breached == {("kortrijk", "incident"): 1, ("kortrijk", "change"): 1}
    # every partner queue is reported, zero or not (bounded: partners x categories)
    assert {lb["partner"] for lb, _ in s["zwvl_helpdesk_open_tickets"]} == {
        *cache.get().inv.partners,
        "other",
    }
    created = {lb["category"]: v for lb, v in s["zwvl_helpdesk_tickets_created_total"]}
    assert created == {"incident": 4, "service-request": 1, "change": 2, "problem": 0, "none": 1}
    resolved = {lb["category"]: v for lb, v in s["zwvl_helpdesk_tickets_resolved_total"]}
    assert resolved == {"incident": 1, "service-request": 0, "change": 1, "problem": 0, "none": 0}


def test_helpdesk_pages_through_large_results(cache: ModelCache, rt: tuple[str, RtData]) -> None:
    from tests.monitoring.services import Ticket

    url, data = rt
    saved = list(data.tickets)
    data.tickets += [Ticket(1000 + i, "Avelgem", "open", "problem") for i in range(230)]
    try:
        src = HelpdeskSource(cache, RtRest2Client(url, token=RT_TOKEN), CATEGORY_FIELD, 0)
        s = scrape(ZwvlCollector([src]))
        assert value(s, "zwvl_helpdesk_open_tickets", partner="avelgem", category="problem") == 230
    finally:
        data.tickets[:] = saved


def test_helpdesk_with_a_bad_token_fails_cleanly(cache: ModelCache, rt: tuple[str, RtData]) -> None:
    url, _ = rt
    client = RtRest2Client(url, token="wrong")
    with pytest.raises(SourceError, match="HTTP 401"):
        client.count("Status = 'resolved'")
    s = scrape(ZwvlCollector([HelpdeskSource(cache, client, CATEGORY_FIELD, 0)]))
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
