"""A tiny loopback HTTP proxy in front of a real NetBox that injects faults: a fault injector, not a mock.

Every request is forwarded to NetBox unchanged. ``decide(method, path)`` (called once per request,
in order) picks what the client then sees:

- ``"forward"``: NetBox's answer;
- ``"500"`` / ``"503"``: the request *was* forwarded and committed by NetBox, but the client gets that
  status with an empty body (a post-commit failure, a proxy giving up);
- ``"hold"``: NetBox's answer is held back until ``release`` is set (``held`` is set meanwhile), so
  that a test can stop the client between two writes.

``log`` records ``(time.monotonic() when the request arrived, method, path, status the client got)``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

HOP = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "host"}
OWN = HOP | {"date", "server"}  # the proxy's send_response writes these itself


class FaultProxy:
    def __init__(self, upstream: str, decide: Callable[[str, str], str] | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.decide = decide or (lambda _m, _p: "forward")
        self.log: list[tuple[float, str, str, int]] = []
        self.held = threading.Event()
        self.release = threading.Event()
        self._mutex = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                arrived = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with outer._mutex:
                    action = outer.decide(self.command, self.path)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                resp = requests.request(
                    self.command,
                    outer.upstream + self.path,
                    headers=headers,
                    data=body,
                    allow_redirects=False,
                    timeout=300,
                )
                status, data = resp.status_code, resp.content
                out_headers: list[tuple[str, str]] = [
                    (k, v) for k, v in resp.headers.items() if k.lower() not in OWN
                ]
                if action in ("500", "503"):
                    status, data, out_headers = int(action), b"", []
                elif action == "hold":
                    outer.held.set()
                    outer.release.wait(120)
                with outer._mutex:
                    outer.log.append((arrived, self.command, self.path, status))
                self.send_response(status)
                for k, v in out_headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

            def log_message(self, *args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
