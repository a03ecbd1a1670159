"""The REST client's retries, error lines and counters, against a tiny real HTTP server (no NetBox)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from zwvl.netbox.client import (
    AmbiguousWrite,
    NetboxAuthError,
    NetboxClient,
    NetboxError,
    NetboxRequestError,
    NetboxUnreachable,
)
from zwvl.procs import free_port


class _Server:
    def __init__(self) -> None:
        self.script: list[tuple[int, Any]] = []  # answers to give, in order; then 200 {}
        self.seen: list[tuple[str, str, Any]] = []
        self.pager: Any = None  # answers GETs from the request path instead of the script, if set
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                outer.seen.append((self.command, self.path, body))
                if outer.pager is not None and self.command == "GET":
                    status, payload = outer.pager(self.path)
                else:
                    status, payload = outer.script.pop(0) if outer.script else (200, {})
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.block_on_close = False  # keep-alive handler threads must not delay the teardown
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    try:
        yield srv
    finally:
        srv.close()


def _client(url: str, **kw: Any) -> NetboxClient:
    return NetboxClient(url, "nbt_abc.secret", backoff=0.01, **kw)


def test_5xx_is_retried_with_backoff_and_counted(server: _Server) -> None:
    server.script = [(503, {}), (500, {}), (200, {"netbox-version": "4.7.3"})]
    client = _client(server.url, retries=4)
    assert client.status()["netbox-version"] == "4.7.3"
    assert client.stats.requests == 3 and client.stats.retries == 2 and client.stats.reads == 3


def test_5xx_until_the_end_is_one_unreachable_error(server: _Server) -> None:
    server.script = [(503, {})] * 10
    with pytest.raises(NetboxUnreachable) as err:
        _client(server.url, retries=3).status()
    assert "failed 3 times" in str(err.value) and "HTTP 503" in str(err.value)
    assert "\n" not in str(err.value)


def test_a_refused_token_is_one_line_without_the_token(server: _Server) -> None:
    server.script = [(403, {"detail": "Invalid v2 token"})]
    with pytest.raises(NetboxAuthError) as err:
        _client(server.url).status()
    text = str(err.value)
    assert "refused the API token (HTTP 403: Invalid v2 token)" in text and "secret" not in text
    assert "\n" not in text


def test_connection_refused_is_retried_then_one_error() -> None:
    client = _client(f"http://127.0.0.1:{free_port()}", retries=2)
    with pytest.raises(NetboxUnreachable, match="failed 2 times .*connection refused"):
        client.status()
    assert client.stats.requests == 2


def test_bulk_writes_carry_the_changelog_message_and_count_objects(server: _Server) -> None:
    server.script = [(201, [{"id": 1}, {"id": 2}]), (200, [{"id": 1}]), (204, None)]
    client = _client(server.url, changelog_message="zwvl apply of commit abc")
    assert [o["id"] for o in client.bulk_create("dcim/sites", [{"slug": "a"}, {"slug": "b"}])] == [1, 2]
    client.bulk_update("dcim/sites", [{"id": 1, "description": "x"}])
    client.bulk_delete("dcim/sites", [1, 2])
    methods = [(m, p) for m, p, _ in server.seen]
    assert methods == [
        ("POST", "/api/dcim/sites/"),
        ("PATCH", "/api/dcim/sites/"),
        ("DELETE", "/api/dcim/sites/"),
    ]
    for _m, _p, body in server.seen:
        assert all(item["changelog_message"] == "zwvl apply of commit abc" for item in body)
    assert server.seen[2][2] == [
        {"id": 1, "changelog_message": "zwvl apply of commit abc"},
        {"id": 2, "changelog_message": "zwvl apply of commit abc"},
    ]
    assert client.stats.writes == 3 and client.stats.objects_written == 5


def test_a_post_answered_by_a_gateway_timeout_is_ambiguous_not_retried(server: _Server) -> None:
    server.script = [(504, {})]
    with pytest.raises(AmbiguousWrite):
        _client(server.url).bulk_create("dcim/sites", [{"slug": "a"}])
    assert len(server.seen) == 1


def test_a_rejected_write_keeps_netbox_s_reasons(server: _Server) -> None:
    server.script = [(400, {"detail": "1 of 1 objects could not be created.", "errors": [{"index": 0}]})]
    with pytest.raises(NetboxRequestError) as err:
        _client(server.url).bulk_create("dcim/sites", [{"slug": "a"}])
    assert err.value.status == 400 and err.value.body["errors"] == [{"index": 0}]


def _netbox_pages(ids: list[int], max_page: int, cursor: bool = True) -> Any:
    """Answers like NetBox's pagination: ``limit`` capped at ``max_page`` silently, offset or cursor."""

    def answer(path: str) -> tuple[int, Any]:
        q = dict(parse_qsl(urlsplit(path).query))
        limit = min(int(q.get("limit", 50)), max_page)
        base = "http://elsewhere.invalid" + urlsplit(path).path  # a wrong host, as behind a proxy
        if cursor and "start" in q:
            rows = [i for i in ids if i >= int(q["start"])][:limit]
            more = len(rows) == limit
            nxt = f"{base}?{urlencode({**q, 'start': rows[-1] + 1, 'limit': limit})}" if more else None
            return 200, {"count": None, "next": nxt, "results": [{"id": i} for i in rows]}
        offset = int(q.get("offset", 0))
        rows = ids[offset : offset + limit]
        more = offset + limit < len(ids)
        nxt = f"{base}?{urlencode({**q, 'offset': offset + limit, 'limit': limit})}" if more else None
        return 200, {"count": len(ids), "next": nxt, "results": [{"id": i} for i in rows]}

    return answer


@pytest.mark.parametrize("workers", [1, 3])
@pytest.mark.parametrize("cursor", [True, False])
def test_list_reads_every_page_whatever_netbox_s_max_page_size(
    server: _Server, workers: int, cursor: bool
) -> None:
    ids = list(range(1, 1100)) + list(range(2000, 2400))
    server.pager = _netbox_pages(ids, 250, cursor)
    client = _client(server.url, read_workers=workers)
    rows = client.list("dcim/interfaces", fields=["id", "name"])
    assert [r["id"] for r in rows] == ids
    assert all("fields=id%2Cname" in p for _m, p, _b in server.seen)
    assert all(p.startswith("/api/dcim/interfaces/") for _m, p, _b in server.seen)  # never elsewhere
    assert client.stats.reads == len(server.seen) <= 8


def test_list_reads_every_page_when_the_list_grows_while_read(server: _Server) -> None:
    ids = list(range(1, 801))
    pages = _netbox_pages(ids, 250)
    calls = []

    def growing(path: str) -> tuple[int, Any]:
        calls.append(path)
        if len(calls) == 2:
            ids.extend(range(900, 960))  # inserted after the first page was read
        return pages(path)

    server.pager = growing
    rows = _client(server.url, read_workers=3).list("dcim/interfaces")
    assert [r["id"] for r in rows] == ids


def test_an_error_with_an_empty_body_is_an_error(server: _Server) -> None:
    server.script = [(404, b""), (400, b""), (409, b"")]
    client = _client(server.url)
    with pytest.raises(NetboxRequestError, match="HTTP 404 with an empty answer") as err:
        client.delete_one("dcim/sites", 5)
    assert err.value.status == 404
    with pytest.raises(NetboxRequestError, match="HTTP 400"):
        client.bulk_update("dcim/sites", [{"id": 1, "name": "x"}])
    with pytest.raises(NetboxRequestError, match="HTTP 409"):
        client.status()


def test_an_empty_success_answer_to_a_create_is_ambiguous(server: _Server) -> None:
    server.script = [(201, b"")]
    with pytest.raises(AmbiguousWrite):
        _client(server.url).bulk_create("dcim/sites", [{"slug": "a"}])


@pytest.mark.parametrize("status", [500, 503])
def test_a_post_answered_5xx_is_ambiguous_not_retried(server: _Server, status: int) -> None:
    server.script = [(status, b"")]
    with pytest.raises(AmbiguousWrite, match=f"HTTP {status}"):
        _client(server.url).bulk_create("dcim/sites", [{"slug": "a"}])
    assert len(server.seen) == 1


def test_the_write_guard_stops_writes_but_not_reads(server: _Server) -> None:
    client = _client(server.url)

    def guard() -> None:
        raise NetboxError("lost the lock")

    client.write_guard = guard
    server.script = [(200, {"netbox-version": "4.7.3"})]
    client.status()
    with pytest.raises(NetboxError, match="lost the lock"):
        client.bulk_update("dcim/sites", [{"id": 1}])
    assert [m for m, _p, _b in server.seen] == ["GET"]


def test_a_delete_refused_for_dependents_is_retried_after_the_writes(server: _Server) -> None:
    from zwvl.netbox.executor import Executor
    from zwvl.netbox.plan import Op
    from zwvl.netbox.state import build_state

    # the device goes first (reverse dependency order); the site is refused (409) while something
    # still depends on it, then retried after the updates and succeeds
    server.script = [
        (204, None),
        (409, {"detail": "1 of 1 objects could not be deleted."}),
        (200, [{"id": 5}]),
        (204, None),
    ]
    ops = [
        Op("delete", "dcim.site", ("old-site",), 3),
        Op("delete", "dcim.device", ("old-rtr",), 4),
        Op("update", "tenancy.tenant", ("kortrijk",), 5, None, {"description": "x"}),
    ]
    client = _client(server.url)
    report = Executor(client, build_state(server.url, "4.7.3", {})).execute(ops)
    assert [(m, p) for m, p, _ in server.seen] == [
        ("DELETE", "/api/dcim/devices/"),
        ("DELETE", "/api/dcim/sites/"),
        ("PATCH", "/api/tenancy/tenants/"),
        ("DELETE", "/api/dcim/sites/"),
    ]
    assert (report.deleted, report.updated, report.write_requests) == (2, 1, 4)


def _tags_answer(desc: dict[str, Any] | None, tag_id: int = 7) -> Any:
    def answer(path: str) -> tuple[int, Any]:
        rows = (
            []
            if desc is None
            else [{"id": tag_id, "slug": "zwvl-apply-lock", "description": json.dumps(desc)}]
        )
        return 200, {"count": len(rows), "next": None, "results": rows}

    return answer


def test_an_ambiguous_lock_post_is_settled_by_the_nonce(server: _Server) -> None:
    from zwvl.netbox.lock import ApplyLock

    lock = ApplyLock(_client(server.url), lease=60)
    server.script = [(500, b"")]
    server.pager = _tags_answer({"holder": "me", "nonce": lock.nonce, "expires": "2999-01-01T00:00:00Z"})
    lock.acquire(renew=False)
    assert lock.id == 7 and lock.broken is None
    assert [m for m, _p, _b in server.seen] == ["POST", "GET"]  # the POST was not sent twice
    server.script = [(204, b"")]
    lock.release()
    assert server.seen[-1][:2] == ("DELETE", "/api/extras/tags/7/")


def test_a_live_lease_is_refused_and_broken_only_with_force(server: _Server) -> None:
    from zwvl.netbox.lock import ApplyLock, LockHeld

    taken = (400, {"slug": ["tag with this slug already exists."]})
    server.pager = _tags_answer({"holder": "ci@runner", "nonce": "other", "expires": "2999-01-01T00:00:00Z"})
    server.script = [taken]
    with pytest.raises(LockHeld, match="another apply is running.*held by ci@runner"):
        ApplyLock(_client(server.url)).acquire(renew=False)
    server.script = [taken]
    with pytest.raises(LockHeld, match="lease is live.*--force"):
        ApplyLock(_client(server.url)).acquire(break_lock=True, renew=False)
    server.script = [taken, (204, b""), (201, {"id": 8})]
    lock = ApplyLock(_client(server.url))
    lock.acquire(break_lock=True, force=True, renew=False)
    assert lock.id == 8 and lock.broken is not None and not lock.took_over
    assert ("DELETE", "/api/extras/tags/7/") in [(m, p) for m, p, _b in server.seen]


def test_an_expired_lease_is_taken_over_by_id(server: _Server) -> None:
    from zwvl.netbox.lock import ApplyLock

    server.pager = _tags_answer({"holder": "killed", "nonce": "old", "expires": "2020-01-01T00:00:00Z"})
    server.script = [(400, {"slug": ["exists"]}), (404, b""), (201, {"id": 9})]  # 404: broken already
    lock = ApplyLock(_client(server.url))
    lock.acquire(renew=False)
    assert lock.id == 9 and lock.took_over and lock.broken is not None and lock.broken.holder == "killed"


def test_a_lost_lease_stops_the_writes(server: _Server) -> None:
    from zwvl.netbox.lock import ApplyLock, LockLost

    client = _client(server.url)
    lock = ApplyLock(client, lease=2)
    server.script = [(201, {"id": 3}), (404, b"")]
    lock.acquire(renew=False)
    lock.check()  # fresh: fine
    with pytest.raises(LockLost, match="deleted"):
        lock.renew()  # the tag is gone
    with pytest.raises(LockLost):
        client.bulk_update("dcim/sites", [{"id": 1}])  # the write guard refuses before sending
    assert [m for m, _p, _b in server.seen] == ["POST", "PATCH"]

    late = ApplyLock(_client(server.url), lease=2)
    server.script = [(201, {"id": 4})]
    late.acquire(renew=False)
    time.sleep(1.7)  # past 0.8 of the lease without a renewal
    with pytest.raises(LockLost, match="could not be renewed in time"):
        late.check()
