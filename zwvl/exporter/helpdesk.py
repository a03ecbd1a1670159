"""Helpdesk metrics from Request Tracker 5 through its REST2 API.

The source takes a `HelpdeskClient` (search with paging, and a count); `RtRest2Client` is the real
one: ``GET /REST/2.0/tickets?query=<TicketSQL>&fields=...&page=N&per_page=100`` through the same
`RtClient` the Pulumi providers use (`zwvl.platform.providers.rt.client`), with ``Authorization:
token <token>`` (RT::Authen::Token) of a read-only service account, never a password. The token
comes from the environment (RT_URL, RT_TOKEN) and is never logged; TLS is verified against the CA
file in ZWVL_CA_FILE (the region CA), else against the system's CAs. RT checks a token with bcrypt
(~0.4 s) and one read is a search plus two counts per category, so the client opens an RT session
with the token once and sends its cookie, which REST2 accepts.

Labels are bounded: ``partner`` comes from the queue (each partner's helpdesk queue in the
inventory; any other queue is ``other``), ``category`` from the ITIL category custom field, mapped
onto the inventory's categories (``none`` when unset, ``other`` when unknown).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from prometheus_client.core import Metric

from zwvl.exporter.base import SourceError, counter, gauge, parse_time
from zwvl.exporter.model import ModelCache
from zwvl.monitoring.names import MetricName
from zwvl.platform.providers.rt.client import RtClient

DEFAULT_CATEGORY_FIELD = "ITIL category"
PER_PAGE = 100
MAX_PAGES = 100  # at most 10,000 open tickets per scrape


class HelpdeskClient(Protocol):
    def search(self, query: str, fields: list[str], expand: dict[str, list[str]]) -> Iterator[dict[str, Any]]:
        """Every ticket matching the TicketSQL query, with the given fields (and expanded sub-fields)."""
        ...

    def count(self, query: str) -> int:
        """How many tickets match the TicketSQL query."""
        ...


class RtRest2Client:
    """The HelpdeskClient on Request Tracker: TicketSQL searches page by page, and counts, read with
    the providers' `RtClient` and an auth token, TLS verified against `ca_file` (else the system's
    CAs); its failures are `SourceError`s.
    """

    def __init__(self, url: str, token: str, ca_file: str | None = None, timeout: float = 10.0) -> None:
        if not token:
            raise ValueError("no RT auth token (RT_TOKEN)")
        self.rt = RtClient(url, token=token, timeout=timeout, ca_file=ca_file)

    @classmethod
    def from_env(cls, url: str | None = None) -> RtRest2Client:
        url = url or os.environ.get("RT_URL", "").strip()
        if not url:
            raise ValueError("RT_URL is not set")
        token = os.environ.get("RT_TOKEN", "").strip()
        if not token:
            raise ValueError(
                "RT_TOKEN is not set: the exporter reads RT with an auth token of a read-only account "
                "(zwvl-rt-token on the RT host)"
            )
        return cls(url, token=token, ca_file=os.environ.get("ZWVL_CA_FILE") or None)

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            resp = self.rt.request("GET", path, params=params)
        except requests.RequestException as exc:
            raise SourceError(f"Request Tracker unreachable: {exc.__class__.__name__}") from None
        if resp.status_code != 200:
            raise SourceError(f"Request Tracker answered HTTP {resp.status_code} for {path}")
        try:
            data = resp.json()
        except ValueError:
            raise SourceError(f"Request Tracker sent no JSON for {path}") from None
        if not isinstance(data, dict):
            raise SourceError(f"unexpected Request Tracker answer for {path}")
        return data

    def search(self, query: str, fields: list[str], expand: dict[str, list[str]]) -> Iterator[dict[str, Any]]:
        params = {"query": query, "per_page": str(PER_PAGE), "fields": ",".join(fields)}
        for key, sub in expand.items():
            params[f"fields[{key}]"] = ",".join(sub)
        for page in range(1, MAX_PAGES + 1):
            params["page"] = str(page)
            data = self._get("/tickets", params)
            items = data.get("items") or []
            yield from (i for i in items if isinstance(i, dict))
            pages = int(data.get("pages") or 1)
            if page >= pages or not items:
                return
        raise SourceError(f"more than {MAX_PAGES * PER_PAGE} tickets match {query!r}")

    def count(self, query: str) -> int:
        data = self._get("/tickets", {"query": query, "per_page": "1", "page": "1"})
        return int(data.get("total") or 0)


def slug(text: str) -> str:
    return "-".join(text.strip().lower().replace("_", " ").split())


def _queue_name(item: dict[str, Any]) -> str:
    q = item.get("Queue")
    if isinstance(q, dict):
        return str(q.get("Name") or q.get("id") or "")
    return str(q or "")


def _cf_values(item: dict[str, Any], field: str) -> list[str]:
    cfs = item.get("CustomFields")
    if isinstance(cfs, list):
        for cf in cfs:
            if isinstance(cf, dict) and cf.get("name") == field:
                return [str(v) for v in cf.get("values") or []]
    elif isinstance(cfs, dict) and field in cfs:
        v = cfs[field]
        return [str(x) for x in v] if isinstance(v, list) else [str(v)]
    return []


def category_condition(field: str, category: str) -> str:
    """TicketSQL for a category slug, matching its spelling with hyphens or spaces (RT compares
    custom field values case-insensitively)."""
    spellings = sorted({category, category.replace("-", " ")})
    return "(" + " OR ".join(f"'CF.{{{field}}}' = '{s}'" for s in spellings) + ")"


@dataclass
class HelpdeskData:
    open: Counter[tuple[str, str]]  # (partner, category) -> open tickets
    breached: Counter[tuple[str, str]]  # (partner, category) -> open tickets past their due date
    created: dict[str, int]  # category -> tickets ever created
    resolved: dict[str, int]  # category -> tickets resolved
    read_at: float


class HelpdeskSource:
    name = "helpdesk"

    def __init__(
        self,
        cache: ModelCache,
        client: HelpdeskClient,
        category_field: str = DEFAULT_CATEGORY_FIELD,
        min_interval: float = 30.0,
        now: Any = None,
    ) -> None:
        self.cache = cache
        self.client = client
        self.category_field = category_field
        self.min_interval = min_interval
        self._now = now or (lambda: dt.datetime.now(dt.UTC))
        self._lock = threading.Lock()
        self._data: HelpdeskData | None = None

    def _categories(self) -> list[str]:
        inv = self.cache.get().inv
        return list(inv.helpdesk.categories) if inv.helpdesk else []

    def _queues(self) -> dict[str, str]:
        inv = self.cache.get().inv
        return {p.helpdesk.queue: p.slug for p in inv.partners.values() if p.helpdesk is not None}

    def _category(self, values: list[str], known: list[str]) -> str:
        if not values or not values[0].strip():
            return "none"
        c = slug(values[0])
        return c if c in known else "other"

    def read(self) -> HelpdeskData:
        known = self._categories()
        queues = self._queues()
        now = self._now()
        open_: Counter[tuple[str, str]] = Counter()
        breached: Counter[tuple[str, str]] = Counter()
        for item in self.client.search(
            "Status = '__Active__'", ["Queue", "Status", "Due", "CustomFields"], {"Queue": ["Name"]}
        ):
            key = (
                queues.get(_queue_name(item), "other"),
                self._category(_cf_values(item, self.category_field), known),
            )
            open_[key] += 1
            due = parse_time(str(item.get("Due") or ""))
            if due is not None and due < now:
                breached[key] += 1
        cf = self.category_field.replace("'", "")
        created: dict[str, int] = {}
        resolved: dict[str, int] = {}
        for cat in [*known, "none"]:
            cond = f"'CF.{{{cf}}}' IS NULL" if cat == "none" else category_condition(cf, cat)
            created[cat] = self.client.count(cond)
            resolved[cat] = self.client.count(f"Status = 'resolved' AND {cond}")
        return HelpdeskData(open_, breached, created, resolved, time.time())

    def data(self) -> HelpdeskData:
        with self._lock:
            if self._data is None or time.time() - self._data.read_at >= self.min_interval:
                self._data = self.read()
            return self._data

    def collect(self) -> Iterable[Metric]:
        d = self.data()
        known = self._categories()
        partners = sorted({*self._queues().values(), *(p for p, _ in d.open)})
        categories = [*known, "none", *sorted({c for _, c in d.open if c not in known and c != "none"})]
        open_ = gauge(MetricName.HELPDESK_OPEN_TICKETS)
        breached = gauge(MetricName.HELPDESK_SLA_BREACHED_TICKETS)
        for p in partners:
            for c in categories:
                open_.add_metric([p, c], float(d.open.get((p, c), 0)))
                breached.add_metric([p, c], float(d.breached.get((p, c), 0)))
        created = counter(MetricName.HELPDESK_TICKETS_CREATED_TOTAL)
        resolved = counter(MetricName.HELPDESK_TICKETS_RESOLVED_TOTAL)
        for c, n in d.created.items():
            created.add_metric([c], float(n))
        for c, n in d.resolved.items():
            resolved.add_metric([c], float(n))
        last = gauge(MetricName.HELPDESK_LAST_READ_TIMESTAMP_SECONDS)
        last.add_metric([], d.read_at)
        yield from (open_, breached, created, resolved, last)
