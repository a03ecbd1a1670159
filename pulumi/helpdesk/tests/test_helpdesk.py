"""The helpdesk's resource graph, the program run under pulumi.runtime.set_mocks (no CLI, no services).

Expected values are computed from the inventory directly (not from zwvl.platform.plan), so the
tests check the program against the domain model rather than against itself.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from devtools.pulumi_mocks import (
    Recorder,
    assert_children_keep_their_urns,
    assert_providers_pickled_under_the_package,
    cli_preview,
    run_program,
)
from zwvl.inventory import Inventory
from zwvl.platform.hosts import HostError

PROJECT = Path(__file__).resolve().parents[1]
MAIN = PROJECT / "__main__.py"


def run(rec: Recorder, config: dict[str, str]) -> Recorder:
    run_program(MAIN, rec, config, project="zwvl-helpdesk")
    return rec


@pytest.fixture(scope="module")
def hd(inventory: Inventory) -> Recorder:
    return run(Recorder(), {"rtHost": "localhost"})


def test_helpdesk_counts_and_names(hd: Recorder, inventory: Inventory) -> None:
    assert inventory.helpdesk is not None
    queue_partners = [p for p in inventory.partners.values() if p.helpdesk]
    headcount = sum(sum(p.helpdesk.headcount.values()) for p in queue_partners if p.helpdesk)
    counts = Counter(r.provider_class for r in hd.resources.values())
    assert counts == {
        "QueueProvider": len(queue_partners),
        "QueueRightsProvider": len(queue_partners),
        "GroupProvider": len(inventory.helpdesk.groups),
        "GroupMembersProvider": len(inventory.helpdesk.groups),
        "UserProvider": headcount,
        "CustomFieldProvider": 1,
        "CustomFieldQueuesProvider": 1,
    }
    queues = {r.inputs["name"]: r.inputs for r in hd.of("QueueProvider")}
    assert set(queues) == {p.helpdesk.queue for p in queue_partners if p.helpdesk}
    for q in queues.values():
        assert q["default_sla"] == inventory.helpdesk.default_sla and q["sla_disabled"] is False
        assert q["url"] == "https://localhost"  # https by default, no port
    assert {r.inputs["name"] for r in hd.of("GroupProvider")} == {g.slug for g in inventory.helpdesk.groups}
    cf = hd.of("CustomFieldProvider")[0].inputs
    assert cf["values"] == ["incident", "service-request", "change", "problem"]
    assert (cf["type"], cf["max_values"], cf["lookup_type"]) == ("Select", 1, "RT::Queue-RT::Ticket")


def test_helpdesk_members_follow_headcount(hd: Recorder, inventory: Inventory) -> None:
    assert inventory.helpdesk is not None
    group_ids = {r.id: r.inputs["name"] for r in hd.of("GroupProvider")}
    role_of = {g.slug: g.role for g in inventory.helpdesk.groups}
    for m in hd.of("GroupMembersProvider"):
        role = role_of[group_ids[m.inputs["group_id"]]]
        want = sorted(
            f"{p.slug}-{role}-{i}"
            for p in inventory.partners.values()
            if p.helpdesk
            for i in range(1, p.helpdesk.headcount.get(role, 0) + 1)
        )
        assert m.inputs["members"] == want
        assert {f"user-{u}" for u in want} <= m.dependencies


def test_helpdesk_rights_on_every_queue(hd: Recorder, inventory: Inventory) -> None:
    assert inventory.helpdesk is not None
    group_ids = {r.id: r.inputs["name"] for r in hd.of("GroupProvider")}
    queue_ids = {r.id for r in hd.of("QueueProvider")}
    rights = hd.of("QueueRightsProvider")
    assert {r.inputs["queue_id"] for r in rights} == queue_ids
    for r in rights:
        by_group = {group_ids[g]: set(v) for g, v in r.inputs["rights"].items()}
        assert set(by_group) == {g.slug for g in inventory.helpdesk.groups}
        assert {"OwnTicket", "TakeTicket", "ReplyToTicket", "ShowTicket"} <= by_group["pool-helpdesk"]
        assert "OwnTicket" not in by_group["pool-dpo"] and "ShowTicket" in by_group["pool-dpo"]
        assert not any(
            right.startswith(("Admin", "Modify", "Delete"))
            and right not in ("ModifyTicket", "ModifyCustomField")
            for v in by_group.values()
            for right in v
        )
        assert {f"group-{g.slug}" for g in inventory.helpdesk.groups} <= r.dependencies
    applied = hd.of("CustomFieldQueuesProvider")[0]
    assert set(applied.inputs["queue_ids"]) == queue_ids
    assert "cf-itil-category" in applied.dependencies


def test_helpdesk_host_must_come_from_netbox_or_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NETBOX_URL", raising=False)
    monkeypatch.delenv("NETBOX_TOKEN", raising=False)
    with pytest.raises(HostError, match="NETBOX_URL"):
        run(Recorder(), {"rtScheme": "https"})


# --- components ------------------------------------------------------------------------------


def test_components_pool_per_partner_and_category_field(hd: Recorder, inventory: Inventory) -> None:
    assert inventory.helpdesk is not None
    queue_partners = [p.slug for p in inventory.partners.values() if p.helpdesk]
    kinds = {name: c.typ for name, c in hd.components.items()}
    assert kinds == {
        "pool": "zwvl:helpdesk:Pool",
        "itil-category": "zwvl:helpdesk:CategoryField",
        **{f"partner-{p}": "zwvl:helpdesk:PartnerQueue" for p in queue_partners},
    }
    assert all(c.parent == "" for c in hd.components.values())
    owned = {name: {r.name for r in hd.children(name)} for name in hd.components}
    for p in queue_partners:
        assert owned[f"partner-{p}"] == {f"queue-{p}", f"rights-{p}"}
    assert owned["itil-category"] == {"cf-itil-category", "cf-itil-category-queues"}
    groups = inventory.helpdesk.groups
    assert owned["pool"] == {
        *(f"group-{g.slug}" for g in groups),
        *(f"members-{g.slug}" for g in groups),
        *(r.name for r in hd.of("UserProvider")),
    }


def test_every_resource_keeps_its_urn_from_before_the_components(hd: Recorder) -> None:
    assert_children_keep_their_urns(hd)


def test_providers_are_pickled_under_their_module_in_the_package(hd: Recorder) -> None:
    assert_providers_pickled_under_the_package(hd)


# --- the real CLI, where it exists -----------------------------------------------------------


def test_pulumi_cli_preview(tmp_path: Path) -> None:
    if shutil.which("pulumi") is None:
        pytest.skip("the pulumi CLI is not installed (it cannot be downloaded here); this is the only reason")
    cli_preview(PROJECT, tmp_path, {"zwvl:rtHost": "localhost"})
