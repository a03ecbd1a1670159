"""What one Alertmanager notification (webhook payload version 4) means for the helpdesk.

One ticket per alert group and queue: its key hashes the queue and the group's labels, not
Alertmanager's `groupKey`, so the same group reaching a queue through two routes (a partner's route
and the ticket route) is still one ticket. The key stands in the subject, where RT's TicketSQL finds it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zwvl.model import Helpdesk

TAG = "zwvl-alert"
CATEGORY = "incident"  # an alert is an unplanned interruption: ITIL's incident
# severity -> the SLA level of this priority in the region's uniform set (1 is the most urgent)
SEVERITY_PRIORITY = {"critical": 1, "warning": 2, "info": 3}
MAX_ALERTS_LISTED = 50  # a ticket lists at most this many alerts of its group


class PayloadError(ValueError):
    """The request is not an Alertmanager notification this relay can act on."""


def _labels(doc: Mapping[str, Any], key: str) -> dict[str, str]:
    value = doc.get(key) or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise PayloadError(f"{key} must be an object of strings")
    return {str(k): v for k, v in value.items()}


@dataclass(frozen=True)
class Alert:
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: str
    fingerprint: str


@dataclass(frozen=True)
class Notification:
    status: str  # "firing" while any alert of the group fires, else "resolved"
    group_labels: dict[str, str]
    common_labels: dict[str, str]
    common_annotations: dict[str, str]
    alerts: tuple[Alert, ...]

    @classmethod
    def parse(cls, doc: Any) -> Notification:
        if not isinstance(doc, dict):
            raise PayloadError("the body is not a JSON object")
        if doc.get("version") != "4":
            raise PayloadError(f"webhook payload version {doc.get('version')!r}, expected '4'")
        status = doc.get("status")
        if status not in ("firing", "resolved"):
            raise PayloadError(f"status {status!r}, expected firing or resolved")
        raw = doc.get("alerts")
        if not isinstance(raw, list) or not raw:
            raise PayloadError("alerts must be a non-empty list")
        alerts = []
        for a in raw:
            if not isinstance(a, dict) or a.get("status") not in ("firing", "resolved"):
                raise PayloadError("every alert needs a status of firing or resolved")
            alerts.append(
                Alert(
                    status=a["status"],
                    labels=_labels(a, "labels"),
                    annotations=_labels(a, "annotations"),
                    starts_at=str(a.get("startsAt", "")),
                    fingerprint=str(a.get("fingerprint", "")),
                )
            )
        return cls(
            status=status,
            group_labels=_labels(doc, "groupLabels"),
            common_labels=_labels(doc, "commonLabels"),
            common_annotations=_labels(doc, "commonAnnotations"),
            alerts=tuple(alerts),
        )

    @property
    def firing(self) -> tuple[Alert, ...]:
        return tuple(a for a in self.alerts if a.status == "firing")

    def state(self) -> str:
        """What the ticket has last been told: the firing alerts (fingerprint and start)."""
        firing = sorted(f"{a.fingerprint}@{a.starts_at}" for a in self.firing)
        return hashlib.sha256("\n".join([self.status, *firing]).encode()).hexdigest()[:16]


def ticket_key(queue: str, group_labels: Mapping[str, str]) -> str:
    text = "\n".join([queue, *(f"{k}={v}" for k, v in sorted(group_labels.items()))])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def sla_for(helpdesk: Helpdesk, severity: str | None) -> str:
    """The SLA level whose priority the severity stands for, else the region's default."""
    priority = SEVERITY_PRIORITY.get(severity or "")
    for level in helpdesk.sla:
        if level.priority == priority:
            return level.name
    return helpdesk.default_sla


@dataclass(frozen=True)
class TicketSpec:
    queue: str
    key: str
    subject: str
    sla: str
    category: str

    @property
    def tag(self) -> str:
        return f"{TAG}:{self.key}"


def ticket_spec(n: Notification, queue: str, helpdesk: Helpdesk) -> TicketSpec:
    key = ticket_key(queue, n.group_labels)
    name = n.group_labels.get("alertname") or n.common_labels.get("alertname") or "alert"
    summary = n.common_annotations.get("summary") or ", ".join(
        f"{k}={v}" for k, v in sorted(n.group_labels.items()) if k != "alertname"
    )
    subject = f"[{TAG}:{key}] {name}: {summary}" if summary else f"[{TAG}:{key}] {name}"
    severities = [a.labels.get("severity", "") for a in n.alerts]
    # the most urgent severity in the group decides
    severity = min(severities, key=lambda s: SEVERITY_PRIORITY.get(s, 99), default=None)
    return TicketSpec(queue, key, subject[:200], sla_for(helpdesk, severity), CATEGORY)


def describe(n: Notification) -> str:
    """The ticket text: each alert with its labels, summary, description and runbook."""
    lines = [f"Alertmanager: {n.status}, {len(n.firing)} of {len(n.alerts)} alert(s) firing."]
    for a in n.alerts[:MAX_ALERTS_LISTED]:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(a.labels.items()))
        lines += ["", f"- {a.status}: {labels} (since {a.starts_at})"]
        for key in ("summary", "description", "runbook_url"):
            if a.annotations.get(key):
                lines.append(f"  {key}: {a.annotations[key]}")
    if len(n.alerts) > MAX_ALERTS_LISTED:
        lines.append(f"\n… and {len(n.alerts) - MAX_ALERTS_LISTED} more")
    return "\n".join(lines)
