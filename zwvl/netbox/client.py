"""A small NetBox REST client on `requests`: bulk writes, large-page reads, bounded retries, counters.

- Bearer authentication for v2 tokens (``nbt_...``), ``Token`` for v1 tokens. The token is only ever
  put in the Authorization header; it is never logged or included in an error message.
- Reads: ``list()`` fetches a whole endpoint with ``limit=1000`` pages (``fields=`` keeps responses
  small); after the first page the remaining pages are fetched concurrently.
- Writes: ``bulk_create`` / ``bulk_update`` / ``bulk_delete`` send list payloads (one request per
  chunk); every item carries ``changelog_message`` when one is set (NetBox >= 4.4).
- Retries with exponential backoff on connection errors, timeouts and HTTP 5xx; a bad token (401/403
  on the first request) and an unreachable NetBox each raise one error with a one-line message.
  POSTs are not retried after a timeout (the server may have created the objects): the reconciler
  re-reads instead, which is what makes a re-run converge.
- ``stats`` counts requests (reads, writes, objects written) for the benchmark and idempotence tests.

Fault injection for tests: ``ZWVL_FAULT_KILL_AFTER_WRITES=N`` makes the process SIGKILL itself right
after its N-th write request has been answered (an apply killed half-way).
"""

from __future__ import annotations

import builtins
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

FAULT_ENV = "ZWVL_FAULT_KILL_AFTER_WRITES"
PAGE_SIZE = 1000
USER_AGENT = "zwvl-reconciler"


class NetboxError(RuntimeError):
    """A NetBox request failed; ``str()`` is one line meant for the user."""


class NetboxAuthError(NetboxError):
    """NetBox refused the API token."""


class NetboxUnreachable(NetboxError):
    """NetBox did not answer (connection errors, timeouts or 5xx) after the bounded retries."""


class NetboxRequestError(NetboxError):
    """NetBox rejected a request (4xx other than auth); ``body`` holds its JSON answer."""

    def __init__(self, message: str, status: int, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class AmbiguousWrite(NetboxError):
    """A POST timed out or lost its connection: NetBox may or may not have created the objects."""


@dataclass
class Stats:
    requests: int = 0
    reads: int = 0
    writes: int = 0
    objects_written: int = 0
    retries: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "reads": self.reads,
            "writes": self.writes,
            "objects_written": self.objects_written,
            "retries": self.retries,
        }


def _auth_header(token: str) -> str:
    return f"Bearer {token}" if token.startswith("nbt_") else f"Token {token}"


def _short(body: Any, limit: int = 300) -> str:
    text = str(body).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


class NetboxClient:
    """Talk to one NetBox. Thread-safe: each thread gets its own `requests.Session`."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 180.0,
        connect_timeout: float = 5.0,
        retries: int = 4,
        backoff: float = 0.5,
        changelog_message: str | None = None,
        read_workers: int = 3,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise NetboxError(f"invalid NetBox URL {url!r} (expected http(s)://host[:port])")
        self.url = url.rstrip("/")
        self.api = self.url + "/api/"
        self._token = token
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.retries = max(1, retries)
        self.backoff = backoff
        self.changelog_message = changelog_message
        self.read_workers = read_workers
        self.stats = Stats()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._fault_after = int(os.environ.get(FAULT_ENV, "0") or 0)
        self.on_write: Callable[[str, str, int], None] | None = None

    def __repr__(self) -> str:  # never show the token
        return f"NetboxClient({self.url!r})"

    # ------------------------------------------------------------------------------------ plumbing

    def _session(self) -> requests.Session:
        sess: requests.Session | None = getattr(self._local, "session", None)
        if sess is None:
            sess = requests.Session()
            sess.headers.update(
                {
                    "Authorization": _auth_header(self._token),
                    "Accept": "application/json",
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                }
            )
            self._local.session = sess
        return sess

    def _count(self, method: str, path: str, objects: int) -> None:
        with self._lock:
            self.stats.requests += 1
            key = f"{method} {path.split('?')[0]}"
            self.stats.by_endpoint[key] = self.stats.by_endpoint.get(key, 0) + 1
            if method == "GET":
                self.stats.reads += 1
            else:
                self.stats.writes += 1
                self.stats.objects_written += objects

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | Sequence[tuple[str, Any]] | None = None,
        json: Any = None,
        objects: int = 0,
    ) -> Any:
        """One API call with bounded retries. ``path`` is relative to /api/ or an absolute URL."""
        url = path if path.startswith(("http://", "https://")) else self.api + path.lstrip("/")
        is_write = method != "GET"
        attempt = 0
        started = time.monotonic()
        last_problem = ""
        while True:
            attempt += 1
            self._count(method, url.removeprefix(self.api), objects)
            try:
                resp = self._session().request(
                    method, url, params=params, json=json, timeout=(self.connect_timeout, self.timeout)
                )
            except requests.ConnectionError as exc:
                # a refused/reset connection before any answer; for POST only the refused case is safe
                if method == "POST" and not _refused(exc):
                    raise AmbiguousWrite(
                        f"{method} {self._where(url)}: connection lost ({_reason(exc)})"
                    ) from exc
                last_problem = _reason(exc)
            except requests.Timeout as exc:
                if method == "POST" and not isinstance(exc, requests.ConnectTimeout):
                    raise AmbiguousWrite(
                        f"{method} {self._where(url)}: no answer within {self.timeout:.0f}s"
                    ) from exc
                last_problem = "timed out"
            except requests.RequestException as exc:
                raise NetboxError(f"{method} {self._where(url)} failed: {exc.__class__.__name__}") from exc
            else:
                if resp.status_code < 500:
                    return self._handle(method, url, resp, is_write)
                last_problem = f"HTTP {resp.status_code}"
                if method == "POST" and resp.status_code in (502, 504):
                    # a gateway gave up waiting; NetBox behind it may still have committed
                    raise AmbiguousWrite(
                        f"{method} {self._where(url)}: HTTP {resp.status_code} from a gateway"
                    )
                if resp.status_code not in (500, 502, 503, 504):
                    raise NetboxError(f"{method} {self._where(url)}: HTTP {resp.status_code}")
            if attempt >= self.retries:
                waited = time.monotonic() - started
                raise NetboxUnreachable(
                    f"NetBox at {self.url} is unreachable: {method} {self._where(url)} failed "
                    f"{attempt} times in {waited:.1f}s (last: {last_problem})"
                )
            with self._lock:
                self.stats.retries += 1
            time.sleep(self.backoff * (2 ** (attempt - 1)))

    def _where(self, url: str) -> str:
        return "/api/" + url.removeprefix(self.api).split("?")[0]

    def _handle(self, method: str, url: str, resp: requests.Response, is_write: bool) -> Any:
        if resp.status_code in (401, 403):
            detail = ""
            try:
                body = resp.json()
                if isinstance(body, dict):
                    detail = str(body.get("detail", ""))
            except ValueError:
                pass
            what = (
                "refused the API token"
                if "token" in detail.lower() or resp.status_code == 401
                else ("denied the request")
            )
            raise NetboxAuthError(
                f"NetBox at {self.url} {what} (HTTP {resp.status_code}"
                + (f": {detail}" if detail else "")
                + f") on {method} {self._where(url)}; check NETBOX_TOKEN and its permissions"
            )
        if is_write:
            self._after_write()
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            body = resp.json()
        except ValueError as exc:
            raise NetboxError(
                f"{method} {self._where(url)}: HTTP {resp.status_code} with a non-JSON answer "
                f"(is {self.url} a NetBox?)"
            ) from exc
        if resp.status_code >= 400:
            raise NetboxRequestError(
                f"{method} {self._where(url)}: HTTP {resp.status_code}: {_short(body)}",
                resp.status_code,
                body,
            )
        return body

    def _after_write(self) -> None:
        if self._fault_after:
            with self._lock:
                done = self.stats.writes
            if done >= self._fault_after:
                os.kill(os.getpid(), signal.SIGKILL)

    # ---------------------------------------------------------------------------------------- reads

    def status(self) -> dict[str, Any]:
        body = self.request("GET", "status/")
        if not isinstance(body, dict) or "netbox-version" not in body:
            raise NetboxError(f"{self.url}/api/status/ did not answer like NetBox")
        return body

    def list(
        self,
        endpoint: str,
        *,
        fields: Iterable[str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Every object of an endpoint (e.g. ``dcim/sites``), in pages of 1000, ordered by id."""
        base: dict[str, Any] = dict(params or {})
        base["limit"] = PAGE_SIZE
        base.setdefault("ordering", "id")
        if fields is not None:
            base["fields"] = ",".join(fields)
        first = self.request("GET", endpoint.rstrip("/") + "/", params={**base, "offset": 0})
        results: builtins.list[dict[str, Any]] = builtins.list(first.get("results", []))
        count = int(first.get("count") or 0)
        offsets = list(range(PAGE_SIZE, count, PAGE_SIZE))
        if not offsets:
            return results
        workers = max(1, min(self.read_workers, len(offsets)))

        def page(offset: int) -> builtins.list[dict[str, Any]]:
            body = self.request("GET", endpoint.rstrip("/") + "/", params={**base, "offset": offset})
            return builtins.list(body.get("results", []))

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for chunk in pool.map(page, offsets):
                results.extend(chunk)
        # a concurrent insert can shift pages; de-duplicate by id
        seen: set[int] = set()
        unique = []
        for rec in results:
            if rec["id"] not in seen:
                seen.add(rec["id"])
                unique.append(rec)
        return unique

    # --------------------------------------------------------------------------------------- writes

    def _with_message(self, items: builtins.list[dict[str, Any]]) -> builtins.list[dict[str, Any]]:
        if not self.changelog_message:
            return items
        return [{**item, "changelog_message": self.changelog_message} for item in items]

    def bulk_create(
        self, endpoint: str, items: builtins.list[dict[str, Any]]
    ) -> builtins.list[dict[str, Any]]:
        """POST a list; returns the created objects in request order."""
        if not items:
            return []
        body = self.request(
            "POST", endpoint.rstrip("/") + "/", json=self._with_message(items), objects=len(items)
        )
        return builtins.list(body or [])

    def bulk_update(
        self, endpoint: str, items: builtins.list[dict[str, Any]]
    ) -> builtins.list[dict[str, Any]]:
        """PATCH a list of ``{"id": ..., field: value}``."""
        if not items:
            return []
        body = self.request(
            "PATCH", endpoint.rstrip("/") + "/", json=self._with_message(items), objects=len(items)
        )
        return builtins.list(body or [])

    def bulk_delete(self, endpoint: str, ids: builtins.list[int]) -> None:
        """DELETE a list of ids."""
        if not ids:
            return
        self.request(
            "DELETE",
            endpoint.rstrip("/") + "/",
            json=self._with_message([{"id": i} for i in ids]),
            objects=len(ids),
        )

    def create_one(self, endpoint: str, item: dict[str, Any]) -> dict[str, Any]:
        body = self.request("POST", endpoint.rstrip("/") + "/", json=self._with_message([item])[0], objects=1)
        return dict(body)

    def delete_one(self, endpoint: str, obj_id: int) -> None:
        self.request(
            "DELETE",
            f"{endpoint.rstrip('/')}/{obj_id}/",
            json={"changelog_message": self.changelog_message} if self.changelog_message else None,
            objects=1,
        )


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in (
        "Connection refused",
        "Name or service not known",
        "No route to host",
        "timed out",
        "Connection reset",
        "Remote end closed",
    ):
        if marker in text:
            return marker.lower()
    return exc.__class__.__name__


def _refused(exc: BaseException) -> bool:
    text = str(exc)
    return "Connection refused" in text or "Name or service not known" in text or "No route to host" in text
