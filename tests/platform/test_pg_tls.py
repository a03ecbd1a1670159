"""PostgreSQL refuses clients without TLS and clients that would not notice a wrong server, on the
test cluster configured as the role configures production (tests/support/postgres.py): a server
certificate from the region CA for 127.0.0.1 and localhost, TLS 1.2 or later, `hostnossl ... reject`.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from devtools.region_ca import ensure_ca
from tests.platform.services import PgServer

pytestmark = pytest.mark.integration


def base(server: PgServer) -> str:
    return (
        f"host={server.host} port={server.port} dbname=postgres user={server.user} "
        f"password={server.password} connect_timeout=10"
    )


def test_a_verifying_client_gets_tls_1_2_or_later(postgres: PgServer) -> None:
    with psycopg.connect(postgres.dsn()) as c:
        row = c.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
    assert row is not None and row[0] is True and row[1] in ("TLSv1.2", "TLSv1.3")


def test_a_client_without_tls_is_refused(postgres: PgServer) -> None:
    with pytest.raises(psycopg.OperationalError, match="pg_hba.conf rejects connection .* no encryption"):
        psycopg.connect(base(postgres) + " sslmode=disable")


def test_tls_below_1_2_is_refused(postgres: PgServer) -> None:
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(
            base(postgres)
            + f" {postgres.tls} ssl_min_protocol_version=TLSv1 ssl_max_protocol_version=TLSv1.1"
        )


def test_a_client_trusting_another_ca_fails_the_handshake(postgres: PgServer, tmp_path: Path) -> None:
    other = ensure_ca(tmp_path / "other-ca", name="Some other CA")
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(base(postgres) + f" sslmode=verify-full sslrootcert={other.cert}")


def test_a_name_not_in_the_certificate_fails(postgres: PgServer) -> None:
    """The right CA, but the client asked for another name than the certificate's (127.0.0.1 and
    localhost): verify-full refuses, so a certificate of one server does not pass for another."""
    dsn = base(postgres).replace(
        f"host={postgres.host}", f"host=db.elsewhere.example hostaddr={postgres.host}"
    )
    with pytest.raises(psycopg.OperationalError, match="does not match host name"):
        psycopg.connect(dsn + f" {postgres.tls}")
    with psycopg.connect(  # the same address under a name the certificate has: accepted
        dsn.replace("host=db.elsewhere.example", "host=localhost") + f" {postgres.tls}"
    ) as c:
        assert c.execute("SELECT 1").fetchone() == (1,)


def test_the_provisioning_role_is_no_superuser(postgres: PgServer) -> None:
    """As the Ansible role creates it: CREATEDB and CREATEROLE, NOINHERIT, nothing more."""
    with psycopg.connect(postgres.dsn()) as c:
        row = c.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolinherit, rolreplication, rolbypassrls "
            "FROM pg_roles WHERE rolname = %s",
            (postgres.provisioner,),
        ).fetchone()
    assert row == (False, True, True, False, False, False)
