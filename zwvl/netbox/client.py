"""A small NetBox REST client on `requests`: bulk writes, large-page reads, bounded retries, counters.

- Bearer authentication for v2 tokens (``nbt_...``), ``Token`` for v1 tokens. The token is only ever
  put in the Authorization header; it is never logged or included in an error message.
- Reads: ``list()`` fetches a whole endpoint asking for ``limit=1000`` pages (``fields=`` keeps
  responses small). NetBox caps ``limit`` at its ``MAX_PAGE_SIZE`` without saying so, so the page size
  is the one NetBox actually returned: the remaining offsets are computed from it and fetched
  concurrently, and the answers must agree (same ``count``, full pages, no ``next`` after the last);
  otherwise the rest is read again by following NetBox's ``next`` links, in cursor mode (``start=``,
  NetBox >= 4.7: immune to rows shifting) where NetBox offers it. Rows are de-duplicated by id.
- Writes: ``bulk_create`` / ``bulk_update`` / ``bulk_delete`` send list payloads (one request per
  chunk); every item carries ``changelog_message`` when one is set (NetBox >= 4.4).
- Retries with exponential backoff on connection errors, timeouts and HTTP 5xx; a bad token (401/403
  on the first request) and an unreachable NetBox each raise one error with a one-line message.
  A POST is never retried blindly: a timeout, a lost connection or any 5xx answer to a POST raises
  ``AmbiguousWrite`` (the server may have committed), and the caller re-reads instead. Any 4xx/5xx
  answer is an error, also with an empty body; writes do not follow redirects.
- ``write_guard`` (set by the apply lock) is called before every write request: it raises when the
  apply lost its lock, so that no further write is sent. ``server_now()`` estimates NetBox's clock
  from the ``Date`` headers (the lock's lease is judged on it, not on the local clock).
- ``stats`` counts requests (reads, writes, objects written) for the benchmark and idempotence tests.

Fault injection for tests: ``ZWVL_FAULT_KILL_AFTER_WRITES=N`` makes the process SIGKILL itself right
after its N-th write request has been answered (an apply killed half-way).
"""

from __future__ import annotations

import builtins
import copy
import email.utils
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import parse_qsl, urlsplit

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
    """A POST timed out, lost its connection or got a 5xx: NetBox may or may not have created the objects."""


@dataclass
class Counters:
    """Counts reported as JSON: `as_dict()` gives the int and float fields by name, in field order."""

    def as_dict(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: v for name, v in values.items() if isinstance(v, int | float)}


@dataclass
class Stats(Counters):
    by_endpoint: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    reads: int = 0
    writes: int = 0
    objects_written: int = 0
    retries: int = 0


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
        headers: dict[str, str] | None = None,
    ) -> None:
        """``headers`` go on every request (e.g. ``X-NetBox-Branch``: the branch it reads and writes)."""
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
        self.write_guard: Callable[[], None] | None = None
        self._clock_offset: float | None = None
        self.headers = dict(headers or {})

    def with_headers(self, headers: dict[str, str]) -> NetboxClient:
        """The same NetBox and token with ``headers`` added to every request (own sessions and stats)."""
        other = copy.copy(self)
        other.headers = {**self.headers, **headers}
        other.stats, other._lock, other._local = Stats(), threading.Lock(), threading.local()
        return other

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
                    **self.headers,
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
        guarded: bool = True,
        timeout: float | None = None,
    ) -> Any:
        """One API call with bounded retries. ``path`` is relative to /api/ or an absolute URL.

        ``guarded=False`` skips ``write_guard`` (the lock's own requests); ``timeout`` overrides the
        read timeout for this call."""
        url = path if path.startswith(("http://", "https://")) else self.api + path.lstrip("/")
        is_write = method != "GET"
        attempt = 0
        started = time.monotonic()
        last_problem = ""
        while True:
            attempt += 1
            if is_write and guarded and self.write_guard is not None:
                self.write_guard()  # raises when this apply may no longer write
            self._count(method, url.removeprefix(self.api), objects)
            try:
                resp = self._session().request(
                    method,
                    url,
                    params=params,
                    json=json,
                    timeout=(self.connect_timeout, timeout or self.timeout),
                    allow_redirects=not is_write,
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
                self._note_date(resp)
                if resp.status_code < 500:
                    return self._handle(method, url, resp, is_write)
                last_problem = f"HTTP {resp.status_code}"
                if method == "POST":
                    # NetBox (or a gateway in front of it) may have committed before failing: a
                    # post-commit hook, the answer's serialisation, a proxy that gave up waiting
                    raise AmbiguousWrite(
                        f"{method} {self._where(url)}: HTTP {resp.status_code}; NetBox may have "
                        "committed it"
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

    def _note_date(self, resp: requests.Response) -> None:
        stamp = resp.headers.get("Date")
        if not stamp:
            return
        try:
            server = email.utils.parsedate_to_datetime(stamp).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        # Date has a resolution of one second: the server's clock is in [Date, Date + 1)
        self._clock_offset = server + 0.5 - time.time()

    def server_now(self) -> float:
        """NetBox's clock (POSIX seconds) as seen in the last answer's Date header; local time before."""
        return time.time() + (self._clock_offset or 0.0)

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
        if 300 <= resp.status_code < 400:
            where = resp.headers.get("Location", "?")
            raise NetboxRequestError(
                f"{method} {self._where(url)}: HTTP {resp.status_code} redirect to {_short(where, 120)}; "
                "set NETBOX_URL to NetBox's final address",
                resp.status_code,
            )
        if not resp.content:
            if resp.status_code >= 400:
                raise NetboxRequestError(
                    f"{method} {self._where(url)}: HTTP {resp.status_code} with an empty answer",
                    resp.status_code,
                )
            return None
        if resp.status_code == 204:
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
        """Every object of an endpoint (e.g. ``dcim/sites``), ordered by id, however NetBox pages it."""
        path = endpoint.rstrip("/") + "/"
        base: dict[str, Any] = dict(params or {})
        base["limit"] = PAGE_SIZE
        base.setdefault("ordering", "id")
        if fields is not None:
            base["fields"] = ",".join(fields)
        first = self._page(path, {**base, "offset": 0})
        results: builtins.list[dict[str, Any]] = builtins.list(first.get("results") or [])
        if first.get("next"):
            page = len(results)  # NetBox's MAX_PAGE_SIZE may be below the limit asked for
            count = first.get("count")
            rest = None
            if self.read_workers > 1 and page and isinstance(count, int) and count > 2 * page:
                rest = self._pages_concurrently(path, base, page, count)
            if rest is None:
                rest = self._follow(path, base, results, str(first["next"]))
            results.extend(rest)
        # a concurrent insert can shift pages; de-duplicate by id
        seen: set[int] = set()
        unique = []
        for rec in results:
            if rec["id"] not in seen:
                seen.add(rec["id"])
                unique.append(rec)
        return unique

    def _page(self, path: str, params: dict[str, Any] | Sequence[tuple[str, Any]]) -> dict[str, Any]:
        body = self.request("GET", path, params=params)
        if not isinstance(body, dict) or not isinstance(body.get("results", []), builtins.list):
            raise NetboxError(f"GET {self._where(self.api + path)}: not a NetBox list answer")
        return body

    def _pages_concurrently(
        self, path: str, base: dict[str, Any], page: int, count: int
    ) -> builtins.list[dict[str, Any]] | None:
        """The pages after the first at offsets computed from NetBox's own page size; None when the
        answers show that the list changed meanwhile (then the caller follows ``next`` instead)."""
        offsets = builtins.list(range(page, count, page))
        params = {**base, "limit": page}

        def fetch(offset: int) -> dict[str, Any]:
            return self._page(path, {**params, "offset": offset})

        with ThreadPoolExecutor(max_workers=max(1, min(self.read_workers, len(offsets)))) as pool:
            bodies = builtins.list(pool.map(fetch, offsets))
        out: builtins.list[dict[str, Any]] = []
        for offset, body in zip(offsets, bodies, strict=True):
            rows = body.get("results") or []
            if body.get("count") != count or len(rows) != min(page, count - offset):
                return None
            out.extend(rows)
        if bodies[-1].get("next"):
            return None
        return out

    def _follow(
        self, path: str, base: dict[str, Any], seen: builtins.list[dict[str, Any]], nxt: str
    ) -> builtins.list[dict[str, Any]]:
        """The rest of a list after ``seen``, following NetBox's ``next`` links (their query only: the
        host in them may be wrong behind a proxy, and the token must not go anywhere else). Cursor
        mode (``start=``, ordered by id) when NetBox has it and the list is ordered by id."""
        out: builtins.list[dict[str, Any]] = []
        query: Sequence[tuple[str, Any]] | dict[str, Any]
        cursor = base.get("ordering") == "id" and bool(seen)
        if cursor:
            query = {k: v for k, v in base.items() if k != "ordering"}
            query["start"] = max(int(r["id"]) for r in seen) + 1
            query["limit"] = len(seen)
            body = self._page(path, query)
            if body.get("count") is not None:  # no cursor mode in this NetBox: it ignored start=
                cursor = False
            else:
                out.extend(body.get("results") or [])
                nxt = str(body.get("next") or "")
        if not cursor:
            out = []
        asked: set[str] = set()
        while nxt:
            query = parse_qsl(urlsplit(nxt).query, keep_blank_values=True)
            key = urlsplit(nxt).query
            if key in asked:
                raise NetboxError(f"GET {self._where(self.api + path)}: NetBox's next link does not advance")
            asked.add(key)
            body = self._page(path, query)
            out.extend(body.get("results") or [])
            nxt = str(body.get("next") or "")
        return out

    # --------------------------------------------------------------------------------------- writes

    def _with_message(self, items: builtins.list[dict[str, Any]]) -> builtins.list[dict[str, Any]]:
        if not self.changelog_message:
            return items
        return [{**item, "changelog_message": self.changelog_message} for item in items]

    def _bulk_write(self, method: str, endpoint: str, items: builtins.list[dict[str, Any]]) -> Any:
        """One bulk POST/PATCH/DELETE of `items` (with the changelog message); nothing is sent for none."""
        if not items:
            return []
        return self.request(
            method, endpoint.rstrip("/") + "/", json=self._with_message(items), objects=len(items)
        )

    def bulk_create(
        self, endpoint: str, items: builtins.list[dict[str, Any]]
    ) -> builtins.list[dict[str, Any]]:
        """POST a list; returns the created objects in request order."""
        body = self._bulk_write("POST", endpoint, items)
        if not isinstance(body, builtins.list) or len(body) != len(items):
            raise AmbiguousWrite(
                f"POST /api/{endpoint.strip('/')}/: the answer does not list the {len(items)} created objects"
            )
        return body

    def bulk_update(
        self, endpoint: str, items: builtins.list[dict[str, Any]]
    ) -> builtins.list[dict[str, Any]]:
        """PATCH a list of ``{"id": ..., field: value}``."""
        return builtins.list(self._bulk_write("PATCH", endpoint, items) or [])

    def bulk_delete(self, endpoint: str, ids: builtins.list[int]) -> None:
        """DELETE a list of ids."""
        self._bulk_write("DELETE", endpoint, [{"id": i} for i in ids])

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
