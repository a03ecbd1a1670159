"""Live evidence of TLS (`zwvl check --live`): what a service's HTTPS address really serves.

For a service's `url` this makes a TLS handshake with a verifying context (the CA from `ca_file`,
else the system store; TLS 1.2 at least; SNI and the hostname check on the URL's name), records the
certificate (subject, SANs, issuer, notAfter), the protocol and cipher, or why the handshake failed;
then asks plain HTTP on the same name (port 80) for `/` and records the redirect. `ConnectTo` reaches
a name at another address as curl's `--connect-to` does, still verifying the real name.
"""

from __future__ import annotations

import datetime as dt
import http.client
import socket
import ssl
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

TIMEOUT = 10.0  # seconds, for each connection and each read
REDIRECTS = (301, 302, 307, 308)
MODERN = ("TLSv1.2", "TLSv1.3")


@dataclass(frozen=True)
class ConnectTo:
    """curl's `--connect-to HOST:PORT:ADDRESS:PORT`: a connection to HOST:PORT goes to ADDRESS:PORT.

    An empty HOST or PORT matches any; an empty ADDRESS or PORT keeps the original one. An IPv6
    address is written in brackets."""

    host: str
    port: int | None
    address: str
    to_port: int | None

    @classmethod
    def parse(cls, spec: str) -> ConnectTo:
        parts = _split(spec)
        if len(parts) != 4:
            raise ValueError(f"{spec!r} is not HOST:PORT:ADDRESS:PORT")
        host, port, address, to_port = parts
        return cls(host.lower(), _port(port, spec), address, _port(to_port, spec))

    def matches(self, host: str, port: int) -> bool:
        return self.host in ("", host.lower()) and self.port in (None, port)


def _split(spec: str) -> list[str]:
    out, cur, depth = [], "", 0
    for ch in spec:
        if ch == ":" and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "["
        depth -= ch == "]"
        cur += ch
    return [*out, cur]


def _port(text: str, spec: str) -> int | None:
    if text == "":
        return None
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{spec!r}: port {text!r} is not a number from 1 to 65535")
    return int(text)


def route(host: str, port: int, connect_to: Sequence[ConnectTo]) -> tuple[str, int]:
    """Where a connection to host:port goes: the first matching `--connect-to`, else host:port."""
    for c in connect_to:
        if c.matches(host, port):
            return (c.address.strip("[]") or host), (c.to_port or port)
    return host, port


@dataclass
class TlsEvidence:
    """What was observed at one service's URL; `problems` says why TLS is not served (empty: it is)."""

    url: str
    connected_to: str = ""
    served: bool = False
    verify_error: str | None = None
    error: str | None = None
    subject: str | None = None
    sans: list[str] = field(default_factory=list)
    issuer: str | None = None
    not_after: str | None = None
    protocol: str | None = None
    cipher: str | None = None
    http_url: str = ""
    http_status: int | None = None
    http_location: str | None = None
    http_error: str | None = None
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _name(name: x509.Name) -> str:
    return name.rfc4514_string()


def _record_cert(ev: TlsEvidence, der: bytes | None) -> None:
    if not der:
        return
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:  # what a verifying handshake rejected may not even parse
        ev.subject = f"(unreadable certificate: {exc})"
        return
    ev.subject, ev.issuer = _name(cert.subject), _name(cert.issuer)
    ev.not_after = cert.not_valid_after_utc.isoformat()
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        ev.sans = [f"DNS:{n}" for n in sans.get_values_for_type(x509.DNSName)]
        ev.sans += [f"IP:{a}" for a in sans.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass


def verifying_context(ca_file: str | None) -> ssl.SSLContext:
    """Verifies the certificate chain (against `ca_file`, else the system store) and the name; TLS 1.2+."""
    ctx = ssl.create_default_context(cafile=ca_file)  # CERT_REQUIRED, check_hostname
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def _handshake(ctx: ssl.SSLContext, addr: tuple[str, int], host: str, timeout: float) -> ssl.SSLSocket:
    sock = socket.create_connection(addr, timeout=timeout)
    try:
        return ctx.wrap_socket(sock, server_hostname=host)
    except BaseException:
        sock.close()
        raise


def _unverified(addr: tuple[str, int], host: str, timeout: float) -> bytes | None:
    """The certificate the server sends, without judging it (to quote it when verification failed)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with _handshake(ctx, addr, host, timeout) as tls:
            return tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError):
        return None


def _legacy(addr: tuple[str, int], host: str, timeout: float) -> tuple[str | None, bytes | None]:
    """The protocol (and certificate) of a server that refused TLS 1.2+ but speaks TLS 1.0 or 1.1."""
    with warnings.catch_warnings():  # the old versions are deprecated: that is what is measured
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            with _handshake(ctx, addr, host, timeout) as tls:
                return tls.version(), tls.getpeercert(binary_form=True)
        except (OSError, ssl.SSLError, ValueError):
            return None, None


def _plain_http(addr: tuple[str, int], host: str, timeout: float) -> tuple[int, str | None]:
    """Status and Location of `GET /` over plain HTTP at addr, with `Host: host`."""
    conn = http.client.HTTPConnection(addr[0], addr[1], timeout=timeout)
    try:
        conn.request("GET", "/", headers={"Host": host, "User-Agent": "zwvl-check-live"})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Location")
    finally:
        conn.close()


def _tls(ev: TlsEvidence, host: str, port: int, ctx: ssl.SSLContext, connect_to: Sequence[ConnectTo]) -> None:
    addr = route(host, port, connect_to)
    ev.connected_to = f"{addr[0]}:{addr[1]}"
    try:
        with _handshake(ctx, addr, host, TIMEOUT) as tls:
            ev.protocol = tls.version()
            cipher = tls.cipher()
            ev.cipher = cipher[0] if cipher else None
            _record_cert(ev, tls.getpeercert(binary_form=True))
    except ssl.SSLCertVerificationError as exc:
        ev.verify_error = exc.verify_message or str(exc)
        ev.problems.append(f"certificate not valid for {host}: {ev.verify_error}")
        _record_cert(ev, _unverified(addr, host, TIMEOUT))
        return
    except ssl.SSLError as exc:
        ev.error = f"TLS handshake failed: {exc.reason or exc}"
        old, der = _legacy(addr, host, TIMEOUT)
        if old is not None:  # the server speaks TLS, only older than 1.2
            ev.protocol = old
            _record_cert(ev, der)
            ev.problems.append(f"the server offers only {old}, older than TLS 1.2")
            return
        try:  # does the port answer plain HTTP instead?
            status, _ = _plain_http(addr, host, TIMEOUT)
        except (OSError, http.client.HTTPException):
            ev.problems.append(ev.error)
        else:
            ev.error += f"; plain HTTP answers on the https port (HTTP {status})"
            ev.problems.append(f"plain HTTP, not TLS, on port {port} (HTTP {status})")
        return
    except OSError as exc:
        ev.error = f"cannot connect to {ev.connected_to}: {exc.strerror or exc}"
        ev.problems.append(ev.error)
        return
    if ev.protocol not in MODERN:
        ev.problems.append(f"negotiated {ev.protocol}, older than TLS 1.2")


def _redirect(ev: TlsEvidence, host: str, https_port: int, connect_to: Sequence[ConnectTo]) -> None:
    addr = route(host, 80, connect_to)
    ev.http_url = f"http://{host}/"
    try:
        ev.http_status, ev.http_location = _plain_http(addr, host, TIMEOUT)
    except (OSError, http.client.HTTPException) as exc:
        ev.http_error = f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"
        ev.problems.append(f"plain HTTP at {ev.http_url} does not answer: {ev.http_error}")
        return
    target = urlsplit(ev.http_location or "")
    try:
        target_port = target.port or 443
    except ValueError:
        target_port = -1
    if ev.http_status not in REDIRECTS:
        ev.problems.append(f"plain HTTP answers {ev.http_status}, not a redirect to https")
    elif target.scheme != "https" or target.hostname != host or target_port != https_port:
        ev.problems.append(f"plain HTTP redirects to {ev.http_location!r}, not to https://{host}")


def probe(url: str, ctx: ssl.SSLContext, connect_to: Sequence[ConnectTo] = ()) -> TlsEvidence:
    """The TLS and HTTP evidence of one https URL (never raises for what the network does); `ctx` is
    the verifying context of `verifying_context`."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    ev = TlsEvidence(url)
    _tls(ev, host, port, ctx, connect_to)
    _redirect(ev, host, port, connect_to)
    ev.served = not ev.problems
    return ev


def probe_services(
    services: Sequence[tuple[str, str]], ca_file: str | None, connect_to: Sequence[ConnectTo]
) -> dict[str, dict[str, Any]]:
    """Evidence per service slug for (slug, url) pairs, with when it was observed. Raises ssl.SSLError
    or OSError for a CA file that cannot be used, before probing anything."""
    ctx = verifying_context(ca_file)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    out = {}
    for slug, url in services:
        ev = probe(url, ctx, connect_to).as_dict()
        ev["observed_at"] = now
        out[slug] = ev
    return out
