"""`zwvl check --live` against real servers on 127.0.0.1: TLS served or not, and what the report says.

The region CA (devtools.region_ca) issues certificates for helpdesk.zwvl.test; an HTTPS server and a
plain HTTP server run in threads on free loopback ports, and `--connect-to` sends the helpdesk's
name there while the check still verifies that name. No NetBox is needed.
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from devtools.region_ca import Issued, RegionCA, ensure_ca
from tests.conftest import Region, find
from zwvl.cli import main
from zwvl.procs import free_port

NAME = "helpdesk.zwvl.test"
URL = f"https://{NAME}/"
SERVICES = "inventory/platform/services.yaml"


class _Handler(BaseHTTPRequestHandler):
    status = 200
    location: str | None = None

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = b"Request Tracker\n"
        self.send_response(self.status)
        if self.location:
            self.send_header("Location", self.location)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        pass


class _TLSServer(ThreadingHTTPServer):
    """Handshakes in the request's thread, so a client that stalls or refuses blocks nobody else."""

    ssl_context: ssl.SSLContext

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(10)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        super().finish_request(tls, client_address)


@dataclass
class Lab:
    root: Path
    ca: RegionCA
    region: Region
    servers: list[ThreadingHTTPServer] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)

    def _serve(self, server: ThreadingHTTPServer) -> int:
        self.servers.append(server)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return int(server.server_address[1])

    def _handler(self, status: int, location: str | None) -> type[_Handler]:
        return type("Handler", (_Handler,), {"status": status, "location": location})

    def https(self, issued: Issued) -> None:
        """Serve TLS with `issued` where the helpdesk's https port (443) is routed."""
        server = _TLSServer(("127.0.0.1", free_port()), self._handler(200, None), bind_and_activate=True)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(issued.chain, issued.key)
        server.ssl_context = ctx
        self.routes.append(f"{NAME}:443:127.0.0.1:{self._serve(server)}")

    def https_old(self, issued: Issued) -> None:
        """Serve TLS 1.0/1.1 only, as a server nobody reconfigured since 2018 would."""
        server = _TLSServer(("127.0.0.1", free_port()), self._handler(200, None), bind_and_activate=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.load_cert_chain(issued.chain, issued.key)
        server.ssl_context = ctx
        self.routes.append(f"{NAME}:443:127.0.0.1:{self._serve(server)}")

    def plain_on_https_port(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", free_port()), self._handler(200, None))
        self.routes.append(f"{NAME}:443:127.0.0.1:{self._serve(server)}")

    def http(self, status: int = 301, location: str | None = URL) -> None:
        """The plain HTTP side (port 80 of the name): a redirect by default."""
        server = ThreadingHTTPServer(("127.0.0.1", free_port()), self._handler(status, location))
        self.routes.append(f"{NAME}:80:127.0.0.1:{self._serve(server)}")

    def run(self, fmt: str = "json") -> tuple[int, str]:
        """`zwvl check --live` with the CA and the routes to the servers: exit code, report."""
        args = ["check", "--inventory", str(self.region.inventory), "--policies", str(self.region.policies)]
        args += ["--today", "2026-11-28", "--format", fmt, "--live", "--ca-file", str(self.ca.cert)]
        for r in self.routes:
            args += ["--connect-to", r]
        res = CliRunner().invoke(main, args, catch_exceptions=False)
        return res.exit_code, res.stdout

    def check(self) -> tuple[int, dict[str, Any]]:
        code, out = self.run()
        return code, json.loads(out)

    def close(self) -> None:
        for s in self.servers:
            s.shutdown()
            s.server_close()


def sec(report: dict[str, Any]) -> dict[str, Any]:
    """The helpdesk's SEC-tls-served finding."""
    for p in report["principles"]:
        for r in p["rules"]:
            if r["id"] == "SEC-tls-served":
                return {f["object"]: f for f in r["findings"]}["service:helpdesk"]
    raise KeyError("SEC-tls-served")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    region = Region(tmp_path / "repo")

    def point_at_the_test_name(d: dict[str, Any]) -> None:
        for s in d["services"]:
            s.pop("url", None)  # nothing leaves the machine: only the helpdesk has a url, on loopback
        find(d["services"], slug="helpdesk")["url"] = URL

    region.edit(SERVICES, point_at_the_test_name)
    lab = Lab(tmp_path, ensure_ca(tmp_path / "ca"), region)
    yield lab
    lab.close()


def test_declared_tls_served_as_plain_http_fails_then_passes_once_served(lab: Lab) -> None:
    lab.plain_on_https_port()
    lab.http()
    code, report = lab.check()
    f = sec(report)
    assert code == 1 and f["status"] == "fail", f
    seen = f["evidence"]["observed"]
    assert f["evidence"]["tls"] is True and seen["served"] is False and seen["protocol"] is None
    assert "plain HTTP, not TLS, on port 443 (HTTP 200)" in f["message"]
    assert "TLS handshake failed" in seen["error"]

    lab.close()
    lab.servers.clear()
    lab.routes.clear()
    lab.https(lab.ca.issue(NAME, out_dir=lab.root / "good"))
    lab.http()
    code, report = lab.check()
    f = sec(report)
    assert code == 0 and f["status"] == "pass", f
    seen = f["evidence"]["observed"]
    assert seen["served"] is True and seen["problems"] == []
    assert seen["subject"] == f"CN={NAME}" and seen["sans"] == [f"DNS:{NAME}"]
    assert seen["issuer"] == "CN=ZWVL region lab CA" and seen["protocol"] in ("TLSv1.2", "TLSv1.3")
    assert seen["cipher"] and dt.datetime.fromisoformat(seen["not_after"]) > dt.datetime.now(dt.UTC)
    assert seen["http_status"] == 301 and seen["http_location"] == URL
    assert "TLS observed at https://helpdesk.zwvl.test/" in f["message"]
    assert "TLS probes of 1 service URL" in report["live_evidence"]


def test_expired_certificate_fails_with_the_verification_error(lab: Lab) -> None:
    lab.https(lab.ca.issue(NAME, start=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), days=30))
    lab.http()
    code, report = lab.check()
    f = sec(report)
    seen = f["evidence"]["observed"]
    assert code == 1 and f["status"] == "fail"
    assert seen["verify_error"] == "certificate has expired", seen
    assert seen["not_after"].startswith("2024-01-31") and seen["subject"] == f"CN={NAME}"
    assert "certificate has expired" in f["message"]


def test_certificate_for_another_name_fails(lab: Lab) -> None:
    lab.https(lab.ca.issue("www.zwvl.test"))
    lab.http()
    code, report = lab.check()
    f = sec(report)
    seen = f["evidence"]["observed"]
    assert code == 1 and f["status"] == "fail"
    assert "Hostname mismatch" in seen["verify_error"] and seen["sans"] == ["DNS:www.zwvl.test"], seen


def test_certificate_from_a_ca_the_client_does_not_trust_fails(lab: Lab) -> None:
    other = ensure_ca(lab.root / "other-ca", "Some other CA")
    lab.https(other.issue(NAME))
    lab.http()
    code, report = lab.check()
    f = sec(report)
    seen = f["evidence"]["observed"]
    assert code == 1 and f["status"] == "fail"
    # the server sends its chain (the certificate and the other CA's): the root is one nobody trusts here
    assert seen["verify_error"] == "self-signed certificate in certificate chain", seen
    assert seen["issuer"] == "CN=Some other CA"


def test_tls_older_than_1_2_fails_naming_the_version(lab: Lab) -> None:
    lab.https_old(lab.ca.issue(NAME))
    lab.http()
    code, report = lab.check()
    f = sec(report)
    seen = f["evidence"]["observed"]
    assert code == 1 and f["status"] == "fail", f
    assert seen["protocol"] == "TLSv1.1" and seen["subject"] == f"CN={NAME}", seen
    assert "the server offers only TLSv1.1, older than TLS 1.2" in f["message"]
    assert "TLS handshake failed" in seen["error"]


@pytest.mark.parametrize(
    ("status", "location", "expected"),
    [
        (200, None, "plain HTTP answers 200, not a redirect to https"),
        (301, "http://helpdesk.zwvl.test/", "plain HTTP redirects to 'http://helpdesk.zwvl.test/'"),
        (302, "https://evil.zwvl.test/", "plain HTTP redirects to 'https://evil.zwvl.test/'"),
    ],
    ids=["no-redirect", "to-http", "elsewhere"],
)
def test_http_not_redirecting_to_the_https_url_fails(
    lab: Lab, status: int, location: str | None, expected: str
) -> None:
    lab.https(lab.ca.issue(NAME))
    lab.http(status, location)
    code, report = lab.check()
    f = sec(report)
    seen = f["evidence"]["observed"]
    assert code == 1 and f["status"] == "fail" and expected in f["message"], f
    assert seen["protocol"] in ("TLSv1.2", "TLSv1.3") and seen["http_status"] == status


def test_nothing_listening_fails_and_the_html_report_shows_the_evidence(lab: Lab) -> None:
    lab.https(lab.ca.issue(NAME))
    lab.routes.append(f"{NAME}:80:127.0.0.1:{free_port()}")  # nobody there
    code, html = lab.run("html")
    assert code == 1
    row = html[html.index('<tr class="sec-observed">') :]
    row = row[: row.index("</table></td></tr>")]
    assert "tls: true, mfa: false" in row and f"CN={NAME}" in row and "CN=ZWVL region lab CA" in row
    assert "plain HTTP at http://helpdesk.zwvl.test/ does not answer" in row and "TLSv1." in row


def test_without_live_tls_is_declared_not_observed(lab: Lab) -> None:
    args = ["check", "--inventory", str(lab.region.inventory), "--today", "2026-11-28", "--format", "json"]
    res = CliRunner().invoke(main, args)
    f = sec(json.loads(res.stdout))
    assert res.exit_code == 0 and f["status"] == "pass"
    assert f["evidence"]["observed"] == "none" and "TLS declared, not observed" in f["message"]


def test_a_bad_connect_to_is_a_usage_error(lab: Lab) -> None:
    res = CliRunner().invoke(main, ["check", "--inventory", str(lab.region.inventory), "--connect-to", "x:1"])
    assert res.exit_code == 2 and "HOST:PORT:ADDRESS:PORT" in res.output


def test_a_ca_file_that_is_no_certificate_is_an_input_error(lab: Lab) -> None:
    bad = lab.root / "not-a-ca.pem"
    bad.write_text("not a certificate\n")
    args = ["check", "--inventory", str(lab.region.inventory), "--live", "--ca-file", str(bad)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2 and f"error: cannot use --ca-file {bad}" in res.output, res.output
