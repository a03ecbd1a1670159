"""The exporter's helpdesk source reads RT with an auth token only, and verifies RT's certificate
against ZWVL_CA_FILE (else the system's CAs), never with verification off."""

from __future__ import annotations

import pytest

from zwvl.exporter.helpdesk import RtRest2Client


def test_the_token_is_the_only_way_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RT_TOKEN", raising=False)
    monkeypatch.setenv("RT_USER", "root")
    monkeypatch.setenv("RT_PASSWORD", "not used")  # the password path is gone
    with pytest.raises(ValueError, match="RT_TOKEN is not set"):
        RtRest2Client.from_env("https://rt.example")


def test_rt_is_verified_against_the_ca_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RT_TOKEN", "1-2-abc")
    monkeypatch.setenv("ZWVL_CA_FILE", "/etc/zwvl/region-ca.pem")
    assert RtRest2Client.from_env("https://rt.example").rt.verify == "/etc/zwvl/region-ca.pem"
    monkeypatch.delenv("ZWVL_CA_FILE")
    assert RtRest2Client.from_env("https://rt.example").rt.verify is True
