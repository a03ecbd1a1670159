"""The region CA for the lab and the tests: a private certificate authority the repository creates
itself, so that every TLS client here (Pulumi, the exporter, `zwvl check --live`, the tests) verifies
the servers' certificates against a CA instead of switching verification off.

Production uses the region's real CA; its certificate reaches the clients as `ZWVL_CA_FILE`.

    python -m devtools.region_ca DIR                      # create the CA in DIR (kept if present)
    python -m devtools.region_ca DIR --issue NAME [--ip ADDRESS ...] [--dns NAME ...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from zwvl.files import write_atomic

CA_NAME = "ZWVL region lab CA"


@dataclass(frozen=True)
class Issued:
    """A certificate and its key, PEM files; `chain` is the certificate followed by the CA's."""

    cert: Path
    key: Path
    chain: Path


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    write_atomic(path, _key_pem(key).decode(), mode=0o600)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass(frozen=True)
class RegionCA:
    root: Path

    @property
    def cert(self) -> Path:
        return self.root / "ca.pem"

    @property
    def key(self) -> Path:
        return self.root / "ca.key"

    def _load(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        cert = x509.load_pem_x509_certificate(self.cert.read_bytes())
        key = serialization.load_pem_private_key(self.key.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return cert, key

    def issue(
        self,
        name: str,
        *,
        dns: Sequence[str] = (),
        ips: Sequence[str] = (),
        out_dir: Path | None = None,
        days: int = 90,
        start: dt.datetime | None = None,
        client: bool = False,
    ) -> Issued:
        """A server (or, with `client`, a client) certificate for `name`, valid for `name`, `dns` and
        `ips`; `start` (default now) and `days` allow an expired one for tests of expiry."""
        ca_cert, ca_key = self._load()
        key = ec.generate_private_key(ec.SECP256R1())
        begin = start or _now() - dt.timedelta(minutes=5)
        sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dict.fromkeys([name, *dns]) if n]
        sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(begin)
            .not_valid_after(begin + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        out = out_dir or self.root / "issued"
        out.mkdir(parents=True, exist_ok=True)
        stem = name.replace("/", "_")
        issued = Issued(out / f"{stem}.pem", out / f"{stem}.key", out / f"{stem}-chain.pem")
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        _write_key(issued.key, key)
        write_atomic(issued.cert, pem, mode=0o644)
        write_atomic(issued.chain, pem + self.cert.read_text(), mode=0o644)
        return issued


def ensure_ca(root: Path, name: str = CA_NAME) -> RegionCA:
    """The CA in `root`, created (a P-256 key and a ten-year self-signed certificate) when absent."""
    ca = RegionCA(root)
    if ca.cert.exists() and ca.key.exists():
        return ca
    root.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    begin = _now() - dt.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(begin)
        .not_valid_after(begin + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(ca.key, key)
    write_atomic(ca.cert, cert.public_bytes(serialization.Encoding.PEM).decode(), mode=0o644)
    return ca


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.region_ca", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("dir", type=Path, help="where the CA lives (created when absent)")
    parser.add_argument("--issue", metavar="NAME", help="issue a server certificate for NAME")
    parser.add_argument("--dns", action="append", default=[], help="a further DNS name")
    parser.add_argument(
        "--ip", action="append", default=[], help="an IP address the certificate is valid for"
    )
    args = parser.parse_args(argv)
    ca = ensure_ca(args.dir)
    print(ca.cert)
    if args.issue:
        issued = ca.issue(args.issue, dns=args.dns, ips=args.ip)
        print(issued.cert)
        print(issued.key)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
