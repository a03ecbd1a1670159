"""Alert groups as Request Tracker tickets: open one in the partner's queue, comment when the group
changes, resolve it when the group resolves; a notification delivered again changes nothing.

RT is the record: the open ticket of a group is found by the key in its subject (TicketSQL), so a
restarted relay or a second delivery never opens a second ticket. What the ticket was last told is
kept in memory only: after a restart the first repeat of a group adds one comment.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from zwvl.inventory import Inventory
from zwvl.platform.plan import ITIL_CATEGORY_FIELD, helpdesk_of, helpdesk_plan
from zwvl.platform.providers.rt.client import RtClient, RtError
from zwvl.relay.tickets import Notification, PayloadError, TicketSpec, describe, ticket_spec

Action = Literal["created", "commented", "resolved", "unchanged", "nothing-open", "not-ticketed"]
# Receivers of the generated Alertmanager configuration that are other channels than tickets
OTHER_CHANNELS = ("pager", "chat")


@dataclass(frozen=True)
class Outcome:
    action: Action
    ticket: int | None = None
    queue: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "ticket": self.ticket, "queue": self.queue}


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class AlertDesk:
    def __init__(self, client: RtClient, inv: Inventory, default_partner: str, requestor: str) -> None:
        self.client = client
        self.helpdesk = helpdesk_of(inv)
        self.queues = {q.partner: q.name for q in helpdesk_plan(inv).queues}
        if default_partner not in self.queues:
            raise ValueError(f"default partner {default_partner!r} has no helpdesk queue")
        self.default_partner = default_partner
        self.requestor = requestor
        self._told: dict[int, str] = {}  # ticket -> Notification.state() it last recorded
        self._lock = threading.Lock()  # one delivery at a time: a group's find-or-create is atomic

    def partner_for(self, path: str, n: Notification) -> str | None:
        """The partner whose queue gets the ticket, from the receiver's path; None: not a ticket channel."""
        parts = [p for p in path.split("?")[0].split("/") if p]
        if parts[:1] == ["partner"] and len(parts) == 2:
            if parts[1] not in self.queues:
                raise PayloadError(f"no helpdesk queue for partner {parts[1]!r}")
            return parts[1]
        if parts == ["tickets"]:
            partner = n.common_labels.get("partner", "")
            return partner if partner in self.queues else self.default_partner
        if len(parts) == 1 and parts[0] in OTHER_CHANNELS:
            return None
        raise PayloadError(f"unknown receiver path {path!r}")

    def open_ticket(self, spec: TicketSpec) -> int | None:
        query = f"Queue = {_quote(spec.queue)} AND Subject LIKE {_quote(spec.tag)} AND Status = '__Active__'"
        resp = self.client.request("GET", "/tickets", params={"query": query, "fields": "Subject"})
        if resp.status_code != 200:
            raise RtError(f"RT ticket search: HTTP {resp.status_code}: {resp.text[:300]}")
        ids = sorted(int(t["id"]) for t in resp.json().get("items", []) if spec.tag in t.get("Subject", ""))
        return ids[0] if ids else None

    def _comment(self, ticket: int, text: str) -> None:
        self.client.call(
            "POST", f"/ticket/{ticket}/comment", {"Content": text, "ContentType": "text/plain"}, ok=(200, 201)
        )

    def deliver(self, path: str, doc: Mapping[str, Any]) -> Outcome:
        n = Notification.parse(doc)
        partner = self.partner_for(path, n)
        if partner is None:
            return Outcome("not-ticketed")
        spec = ticket_spec(n, self.queues[partner], self.helpdesk)
        with self._lock:
            ticket = self.open_ticket(spec)
            state = n.state()
            if n.status == "resolved":
                if ticket is None:
                    return Outcome("nothing-open", queue=spec.queue)
                self._comment(ticket, describe(n))
                self.client.update("ticket", str(ticket), {"Status": "resolved"})
                self._told.pop(ticket, None)
                return Outcome("resolved", ticket, spec.queue)
            if ticket is None:
                ticket = self.client.create_ticket(
                    self.helpdesk,
                    queue=spec.queue,
                    subject=spec.subject,
                    requestor=self.requestor,
                    content=describe(n),
                    sla=spec.sla,
                    custom_fields={ITIL_CATEGORY_FIELD: spec.category},
                )
                self._told[ticket] = state
                return Outcome("created", ticket, spec.queue)
            if self._told.get(ticket) == state:
                return Outcome("unchanged", ticket, spec.queue)
            self._comment(ticket, describe(n))
            self._told[ticket] = state
            return Outcome("commented", ticket, spec.queue)
