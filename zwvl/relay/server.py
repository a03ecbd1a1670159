"""The relay's HTTP receiver: Alertmanager POSTs its notifications here (webhook_configs).

Answers 200 with what was done, 400 for a request that is not a notification this relay takes (no
retry helps), and 502 when Request Tracker fails, so that Alertmanager sends it again later; the
desk makes that repeat harmless.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from zwvl.platform.providers.rt.client import RtError
from zwvl.relay.desk import AlertDesk
from zwvl.relay.tickets import PayloadError

log = logging.getLogger("zwvl.relay")
MAX_BODY = 1 << 20  # Alertmanager's payloads are far smaller; refuse anything bigger unread


class RelayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], desk: AlertDesk) -> None:
        super().__init__(address, _Handler)
        self.desk = desk

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: RelayServer

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # Alertmanager gave up waiting (its webhook timeout) while RT was slow; what was done in
            # RT stands, and its next delivery finds the ticket (idempotent), so only note it
            log.warning(
                "%s: the sender hung up before the answer (%s)", self.path, body.get("action", status)
            )

    def do_GET(self) -> None:  # noqa: N802
        if self.path in ("/-/healthy", "/-/ready"):
            self._answer(200, {"status": "ok"})
        else:
            self._answer(404, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_BODY:
            self._answer(400, {"error": f"a body of 1 to {MAX_BODY} bytes is needed"})
            return
        try:
            doc = json.loads(self.rfile.read(length))
            outcome = self.server.desk.deliver(self.path, doc)
        except (ValueError, PayloadError) as exc:  # json.JSONDecodeError is a ValueError
            log.warning("refused %s: %s", self.path, exc)
            self._answer(400, {"error": str(exc)})
            return
        except (RtError, requests.RequestException) as exc:
            log.error("Request Tracker failed for %s: %s", self.path, exc)
            self._answer(502, {"error": f"Request Tracker: {exc}"})
            return
        log.info("%s: %s ticket=%s queue=%s", self.path, outcome.action, outcome.ticket, outcome.queue)
        self._answer(200, outcome.as_dict())

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


def serve_in_thread(server: RelayServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    return thread
