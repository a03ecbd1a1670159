"""What an Alertmanager notification means for the helpdesk (zwvl.relay.tickets), offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from zwvl.inventory import load_inventory
from zwvl.relay.tickets import Notification, PayloadError, sla_for, ticket_key, ticket_spec

REPO = Path(__file__).resolve().parents[2]


def payload(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": "4",
        "status": "firing",
        "groupLabels": {"alertname": "FibreLinkDown", "partner": "menen"},
        "commonLabels": {"alertname": "FibreLinkDown", "partner": "menen"},
        "commonAnnotations": {"summary": "Fibre link down"},
        "alerts": [
            {"status": "firing", "labels": {"severity": "warning"}, "annotations": {}, "fingerprint": "a"},
            {"status": "firing", "labels": {"severity": "critical"}, "annotations": {}, "fingerprint": "b"},
        ],
    }
    doc.update(over)
    return doc


def test_the_most_urgent_severity_sets_the_sla_and_the_key_names_the_group() -> None:
    inv = load_inventory(REPO / "inventory")
    assert inv.helpdesk is not None
    spec = ticket_spec(Notification.parse(payload()), "Menen", inv.helpdesk)
    assert spec.sla == "P1-critical" and spec.category == "incident"
    assert spec.subject.startswith(f"[{spec.tag}] FibreLinkDown: Fibre link down")
    assert [sla_for(inv.helpdesk, s) for s in ("critical", "warning", "info", "other", None)] == [
        "P1-critical", "P2-high", "P3-normal", inv.helpdesk.default_sla, inv.helpdesk.default_sla,
    ]  # fmt: skip
    # the key: the queue and the group's labels, in any order
    assert ticket_key("Menen", {"a": "1", "b": "2"}) == ticket_key("Menen", {"b": "2", "a": "1"})
    assert ticket_key("Menen", {"a": "1"}) != ticket_key("Wervik", {"a": "1"})


def test_state_changes_with_the_firing_alerts_only() -> None:
    n = Notification.parse(payload())
    assert n.state() == Notification.parse(payload(groupKey="other")).state()
    fewer = payload(alerts=payload()["alerts"][:1])
    assert Notification.parse(fewer).state() != n.state()


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "not a JSON object"),
        (payload(version="3"), "version '3'"),
        (payload(status="pending"), "status 'pending'"),
        (payload(alerts=[]), "non-empty list"),
        (payload(alerts=[{"status": "weird"}]), "every alert"),
        (payload(groupLabels={"a": 1}), "groupLabels must be an object of strings"),
    ],
)
def test_bad_payloads_are_refused(doc: Any, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        Notification.parse(doc)
