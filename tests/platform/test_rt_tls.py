"""Request Tracker as the role deploys it, behind a real nginx (tests/platform/services.py renders
nginx's site from the role's template): HTTPS verified against the region CA, plain HTTP that only
redirects, REST2 with an auth token and nothing without one."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest
import requests

from devtools.region_ca import ensure_ca
from tests.platform.services import RtServer

pytestmark = pytest.mark.integration


def test_rt_is_served_over_https_verified_by_the_region_ca(rt_server: RtServer, tmp_path: Path) -> None:
    resp = requests.get(f"{rt_server.url}/NoAuth/Login.html", verify=str(rt_server.ca_file), timeout=30)
    assert resp.status_code == 200 and "zwvl-test" in resp.text
    # the system's CAs do not know the region CA, and neither does another CA
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(rt_server.url, verify=ssl.get_default_verify_paths().openssl_cafile, timeout=30)
    other = ensure_ca(tmp_path / "other-ca", name="Some other CA")
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(rt_server.url, verify=str(other.cert), timeout=30)


def test_rt_offers_tls_1_2_and_newer_only(rt_server: RtServer) -> None:
    hostport = rt_server.url.removeprefix("https://")
    for version, accepted in (("-tls1_1", False), ("-tls1_2", True), ("-tls1_3", True)):
        proc = subprocess.run(
            # SECLEVEL=0: the client itself offers TLS 1.1, so a refusal is the server's
            ["openssl", "s_client", "-connect", hostport, version, "-cipher", "DEFAULT@SECLEVEL=0",
             "-CAfile", str(rt_server.ca_file)],
            input="", capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        handshake = "no peer certificate available" not in proc.stdout
        assert handshake == accepted, (version, proc.stdout[-800:], proc.stderr[-300:])
        if accepted:
            assert "Verify return code: 0 (ok)" in proc.stdout
        else:
            assert "alert protocol version" in proc.stderr, proc.stderr[-300:]


def test_http_answers_only_with_a_redirect_to_https(rt_server: RtServer) -> None:
    for path in ("/", "/REST/2.0/queues/all?page=2", "/NoAuth/Login.html"):
        resp = requests.get(rt_server.http_url + path, allow_redirects=False, timeout=30)
        assert resp.status_code == 301, (path, resp.status_code)
        assert resp.headers["Location"] == rt_server.url + path
    # a token sent over plain HTTP gets the redirect, never an answer from RT
    resp = requests.get(
        rt_server.http_url + "/REST/2.0/queues/all",
        headers={"Authorization": f"token {rt_server.token}"},
        allow_redirects=False,
        timeout=30,
    )
    assert resp.status_code == 301 and not resp.text.lstrip().startswith("{")


def test_rest2_with_a_token_works_and_without_credentials_is_refused(rt_server: RtServer) -> None:
    api = rt_server.url + "/REST/2.0"
    ca = str(rt_server.ca_file)
    resp = requests.get(
        f"{api}/queues/all", headers={"Authorization": f"token {rt_server.token}"}, verify=ca, timeout=60
    )
    assert resp.status_code == 200 and resp.json()["total"] >= 1
    assert requests.get(f"{api}/queues/all", verify=ca, timeout=60).status_code == 401
    bad = "1-14-" + "0" * 32  # a token RT never made
    assert (
        requests.get(
            f"{api}/queues/all", headers={"Authorization": f"token {bad}"}, verify=ca, timeout=60
        ).status_code
        == 401
    )


def test_rt_builds_its_links_with_the_https_url(rt_server: RtServer) -> None:
    """Behind the proxy RT knows its https URL ($WebBaseURL): REST2's links point at it, and the web
    session's cookie is only ever sent over TLS."""
    ca = str(rt_server.ca_file)
    auth = {"Authorization": f"token {rt_server.token}"}
    items = requests.get(f"{rt_server.url}/REST/2.0/queues/all", headers=auth, verify=ca, timeout=60).json()
    assert items["items"] and all(i["_url"].startswith(rt_server.url + "/REST/2.0/") for i in items["items"])
    session = requests.Session()
    resp = session.post(
        f"{rt_server.url}/NoAuth/Login.html",
        data={"user": rt_server.user, "pass": rt_server.password},
        headers={"Referer": f"{rt_server.url}/NoAuth/Login.html"},
        verify=ca,
        timeout=60,
    )
    assert resp.status_code == 200 and [c.secure for c in session.cookies] == [True]


def test_api_accounts_have_exactly_their_rights(rt_server: RtServer) -> None:
    """The role's accounts: zwvl-pulumi administers, zwvl-exporter only reads; running the role's
    script again changes nothing, and a right added by hand is taken away."""
    from tests.platform.services import role_api_users

    assert rt_server.ensure_api_users(role_api_users()) == []
    exporter = rt_server.client(rt_server.create_token("zwvl-exporter", "tls test"))
    assert exporter.get("/queue/General") is not None
    resp = exporter.request("POST", "/queue", {"Name": "not allowed"})
    assert resp.status_code in (400, 403), resp.text
    extra = [dict(u, rights=[*u["rights"], "CreateTicket"]) if u["name"] == "zwvl-exporter" else u
             for u in role_api_users()]  # fmt: skip
    assert rt_server.ensure_api_users(extra) == ["granted CreateTicket to zwvl-exporter"]
    assert rt_server.ensure_api_users(role_api_users()) == ["revoked CreateTicket from zwvl-exporter"]
