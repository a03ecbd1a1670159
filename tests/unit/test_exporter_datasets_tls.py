"""The exporter's data platform connection verifies the server over TCP (zwvl.exporter.datasets)."""

from __future__ import annotations

import pytest

from zwvl.exporter.datasets import tls_options

CA = {"ZWVL_CA_FILE": "/etc/zwvl/region-ca.pem"}


def test_tcp_defaults_to_verify_full_with_the_region_ca() -> None:
    assert tls_options("host=db.example dbname=dp_shared user=m", CA) == {
        "sslmode": "verify-full",
        "sslrootcert": "/etc/zwvl/region-ca.pem",
    }


def test_a_named_ca_and_verifying_mode_are_kept() -> None:
    dsn = "host=db.example sslmode=verify-full sslrootcert=/other/ca.pem"
    assert tls_options(dsn, CA) == {}


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer", "require"])
def test_a_mode_that_does_not_verify_is_refused_without_echoing_the_dsn(mode: str) -> None:
    with pytest.raises(ValueError, match=f"sslmode={mode} does not verify") as err:
        tls_options(f"host=db.example password=s3cret sslmode={mode}", CA)
    assert "s3cret" not in str(err.value)


def test_a_local_socket_has_no_tls() -> None:
    assert tls_options("host=/run/postgresql dbname=postgres user=m", CA) == {}
