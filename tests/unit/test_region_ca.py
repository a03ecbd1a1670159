"""The lab's region CA: what it issues verifies against it, for the names asked and no others."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import pytest
from cryptography import x509

from devtools.region_ca import ensure_ca


def test_issued_certificate_verifies_for_its_names_only(tmp_path: Path) -> None:
    ca = ensure_ca(tmp_path / "ca")
    issued = ca.issue("helpdesk.zwvl.test", ips=["127.0.0.1"])
    assert oct(issued.key.stat().st_mode & 0o777) == "0o600"
    cert = x509.load_pem_x509_certificate(issued.cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["helpdesk.zwvl.test"]
    # a server context loads the pair, and a verifying client context trusts the CA
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(issued.chain, issued.key)
    client = ssl.create_default_context(cafile=str(ca.cert))
    assert client.verify_mode == ssl.CERT_REQUIRED and client.cert_store_stats()["x509_ca"] == 1


def test_ca_is_kept_and_expired_certificates_can_be_made(tmp_path: Path) -> None:
    ca = ensure_ca(tmp_path / "ca")
    before = ca.cert.read_bytes()
    assert ensure_ca(tmp_path / "ca").cert.read_bytes() == before
    old = ca.issue("old.zwvl.test", start=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), days=1)
    cert = x509.load_pem_x509_certificate(old.cert.read_bytes())
    assert cert.not_valid_after_utc < dt.datetime.now(dt.UTC)
    with pytest.raises(ValueError):
        ca.issue("bad.zwvl.test", ips=["not-an-address"])
