"""zwvl.policy.rules.security: SEC (secrets, exposed services) and GOV (the waivers themselves)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Region, find
from tests.unit.policy.support import failed, findings

# fake secrets are assembled at run time so that this file itself holds none
PW = "PASS" + "WORD"
HEX40 = "9f" + "3c1a7be0d24c58e6a1b7c09d3e5f2a4b6c8d0e1f2a"[:38]
PLANTED = {
    "shell": (f'ZWVL_RT_{PW}="x"\n', "run.sh", "ZWVL password or token"),
    "env short": (f"ZWVL_NETBOX_DB_{PW}=x\n", ".env", "ZWVL password or token"),
    "python": (f'db_{PW.lower()} = "x"\n', "app.py", "ZWVL password or token"),
    "ini": (f"[db]\ndb_{PW.lower()} = x\n", "db.ini", "ZWVL password or token"),
    "netbox v1 env": (f"NETBOX_TOKEN={HEX40}\n", "nb.env", "NetBox token"),
    "netbox v1 yaml": (f"token: {HEX40}\n", "nb.yml", "NetBox token"),
    "netbox v2": (
        "t = " + "nbt_" + "abcdefgh1234" + "." + "Zq8xW2pL9kR4tY7uI0oP3aS6dF1gH5jK\n",
        "x.txt",
        "NetBox token",
    ),
    "yaml": (f"{PW.lower()}: x\n", "vars.yml", "ZWVL password or token"),
    "yaml key": (f"rt_root_{PW.lower()}: hunter2\n", "vars.yml", "ZWVL password or token"),
    "json": (f'{{"{PW.lower()}": "x"}}\n', "c.json", "ZWVL password or token"),
    "private key": ("-----BEGIN OPENSSH " + "PRIVATE KEY-----\nxx\n", "key.pem", "Private Key"),
    "aws": ("k = " + "AKIA" + "Z7Q4X2N8B5V3C6M1\n", "aws.txt", "AWS Access Key"),
    "github": ("t = " + "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5\n", "gh.txt", "GitHub Token"),
    "entropy": (
        "k = '" + "c2VjcmV0LWtleS0xMjM0NTY3ODkwYWJjZGVmZ2hpams=" + "'\n",
        "k.txt",
        "Base64 High Entropy String",
    ),
}
REFERENCES = [
    f"{PW.lower()}: \"{{{{ lookup('env', 'ZWVL_RT_{PW}') }}}}\"",
    f"{PW.lower()}: '{{{{ vault_pw }}}}'",
    f"ZWVL_RT_{PW}=${{ZWVL_RT_{PW}_FILE}}",
    f"ZWVL_RT_{PW}=$OTHER",
    f'db_{PW.lower()} = os.environ["ZWVL_DB_{PW}"]',
    f"{PW.lower()}:",
    f'{PW.lower()}: ""',
    f"ZWVL_RT_{PW}=",
    f"{PW.lower()}: !vault |",
    f"the role's {PW.lower()}: from the controller's environment",
    f"def login(user: str, {PW.lower()}: str) -> None:",
]


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_scanner_finds_each_planted_secret(name: str) -> None:
    from zwvl.policy.secrets import Scanner

    text, rel, kind = PLANTED[name]
    with Scanner() as s:
        hits = s.scan_text(rel, text)
    assert kind in {h.kind for h in hits}, (name, hits)


@pytest.mark.parametrize("line", REFERENCES)
def test_scanner_ignores_references_and_empty_values(line: str) -> None:
    from zwvl.policy.secrets import Scanner

    rel = "a.py" if line.startswith(("db_", "def ")) else "a.yml" if ":" in line else "a.sh"
    with Scanner() as s:
        assert s.scan_text(rel, line + "\n") == []


def test_sec_no_secrets(region: Region) -> None:
    token = "nbt_" + "abcdefgh12345678" + "." + "0123456789abcdef0123"
    region.write("ansible/group_vars/all.yml", f"netbox_token: '{token}'\n")
    region.write("pulumi/key.pem", "-----BEGIN OPENSSH " + "PRIVATE KEY-----\nxx\n")
    region.write("ansible/ok.yml", 'password: \'{{ lookup("env", "PG_PASSWORD") }}\'\n')
    bad = failed(region.check(), "SEC-no-secrets")
    assert set(bad) == {"file:ansible/group_vars/all.yml", "file:pulumi/key.pem"}
    f = bad["file:ansible/group_vars/all.yml"]
    assert f.src is not None and f.src.line == 1 and f.evidence["kind"] == "NetBox token"
    assert token not in str(f.evidence) and token not in f.message and "masked" in f.evidence["secret"]


def test_sec_no_secrets_baseline_and_history(region: Region) -> None:
    """A secret committed and removed later is reported with its commit; the baseline silences one."""
    import json
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(region.root), "-c", "user.name=t", "-c", "user.email=t@t", *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    git("init", "-q")
    region.write("ansible/rt.env", f"ZWVL_RT_{PW}=hunter2\n")
    git("add", ".")
    git("commit", "-qm", "oops")
    sha = git("rev-parse", "HEAD")
    region.write("ansible/rt.env", f"ZWVL_RT_{PW}=${{ZWVL_RT_{PW}}}\n")
    git("commit", "-qam", "fix")
    bad = failed(region.check(), "SEC-no-secrets")
    assert set(bad) == {f"history:{sha}:ansible/rt.env"}
    f = bad[f"history:{sha}:ansible/rt.env"]
    assert f.evidence["commit"] == sha and f.evidence["line"] == 1 and "hunter2" not in str(f.evidence)
    import hashlib

    entry = {"type": "ZWVL password or token", "hashed_secret": hashlib.sha1(b"hunter2").hexdigest()}
    region.write(".secrets.baseline", json.dumps({"results": {"ansible/rt.env": [entry]}}))
    assert failed(region.check(), "SEC-no-secrets") == {}
    git("add", ".secrets.baseline")
    git("commit", "-qm", "baseline")  # its committed hashes are no secrets of the history either
    assert failed(region.check(), "SEC-no-secrets") == {}


def test_sec_exposed_tls_mfa(region: Region) -> None:
    # the helpdesk declares what is deployed (RT 5 has no MFA): only its reviewed waiver lets it pass
    helpdesk = {f.object: f for f in findings(region.check(), "SEC-exposed-tls-mfa")}["service:helpdesk"]
    assert helpdesk.status == "waived" and "without MFA" in helpdesk.message
    region.edit(
        "policies/waivers.yaml",
        lambda d: d.update(waivers=[w for w in d["waivers"] if w["object"] != "service:helpdesk"]),
    )
    bad = failed(region.check(), "SEC-exposed-tls-mfa")
    assert set(bad) == {"service:helpdesk"} and "without MFA" in bad["service:helpdesk"].message
    region.edit(
        "inventory/platform/services.yaml", lambda d: find(d["services"], slug="helpdesk").update(tls=False)
    )
    assert "without TLS and MFA" in failed(region.check(), "SEC-exposed-tls-mfa")["service:helpdesk"].message


def _seen(url: str, *problems: str) -> dict[str, Any]:
    """Evidence as zwvl.policy.probes records it (the probes themselves run against real servers in
    tests/integration/test_check_live.py)."""
    from zwvl.policy.probes import TlsEvidence

    ev = TlsEvidence(url, "127.0.0.1:443", not problems, problems=list(problems))
    if not problems:
        ev.protocol, ev.subject, ev.issuer = "TLSv1.3", "CN=helpdesk.zwvl.be", "CN=ZWVL region lab CA"
        ev.not_after, ev.http_status, ev.http_location = "2027-03-01T00:00:00+00:00", 301, url
    return ev.as_dict()


def test_sec_tls_served_without_live_evidence_says_tls_was_not_observed(region: Region) -> None:
    by = {f.object: f for f in findings(region.check(), "SEC-tls-served")}
    f = by["service:helpdesk"]
    assert f.status == "pass" and f.evidence["observed"] == "none" and f.evidence["tls"] is True
    assert f.message == "TLS declared, not observed (run zwvl check --live to probe it)"
    assert f.evidence["url"] == "https://helpdesk.zwvl.be/"
    assert by["service:netbox"].message == "TLS declared, not observed (no url to probe)"


def test_sec_tls_served_judges_what_was_observed(region: Region) -> None:
    """Declared but not served fails, quoting the observation, whatever the service's MFA waiver says
    (the helpdesk's SEC-exposed-tls-mfa finding stays waived); served passes."""
    region.edit(
        "inventory/platform/services.yaml",
        lambda d: find(d["services"], slug="netbox").update(url="https://netbox.zwvl.be/"),
    )
    observed = {
        "helpdesk": _seen("https://helpdesk.zwvl.be/", "plain HTTP, not TLS, on port 443 (HTTP 200)"),
        "open-data-portal": _seen("https://data.zwvl.be/"),
        "netbox": _seen("https://netbox.zwvl.be/", "certificate not valid for netbox.zwvl.be: x"),
    }
    res = region.check(tls_observed=observed)
    by = {f.object: f for f in findings(res, "SEC-tls-served")}
    assert {o for o, f in by.items() if f.status == "fail"} == {"service:helpdesk", "service:netbox"}
    helpdesk = by["service:helpdesk"]
    assert "TLS declared but not served at https://helpdesk.zwvl.be/: plain HTTP, not TLS" in helpdesk.message
    assert helpdesk.evidence["observed"]["problems"] and helpdesk.evidence["mfa"] is False
    assert {f.object: f for f in findings(res, "SEC-exposed-tls-mfa")}["service:helpdesk"].status == "waived"
    assert "TLS observed at https://data.zwvl.be/: TLSv1.3" in by["service:open-data-portal"].message
    assert by["service:netbox"].message.startswith("TLS declared but not served")
    assert by["service:magda-document-delivery"].evidence["observed"] == "none"
    assert res.live_source == "TLS probes of 3 service URLs"


@pytest.mark.parametrize(
    ("spec", "host", "port", "expected"),
    [
        ("helpdesk.zwvl.be:443:127.0.0.1:8443", "helpdesk.zwvl.be", 443, ("127.0.0.1", 8443)),
        ("helpdesk.zwvl.be:443:127.0.0.1:8443", "helpdesk.zwvl.be", 80, ("helpdesk.zwvl.be", 80)),
        ("::127.0.0.2:", "data.zwvl.be", 80, ("127.0.0.2", 80)),
        ("HELPDESK.zwvl.be::[::1]:9000", "helpdesk.zwvl.be", 443, ("::1", 9000)),
        (":80::8080", "data.zwvl.be", 80, ("data.zwvl.be", 8080)),
    ],
)
def test_connect_to_follows_curl(spec: str, host: str, port: int, expected: tuple[str, int]) -> None:
    from zwvl.policy.probes import ConnectTo, route

    assert route(host, port, [ConnectTo.parse(spec)]) == expected


@pytest.mark.parametrize("spec", ["a:1:b", "a:1:b:2:3", "a:x:b:2", "a:1:b:70000"])
def test_connect_to_refuses_malformed(spec: str) -> None:
    from zwvl.policy.probes import ConnectTo

    with pytest.raises(ValueError, match="HOST:PORT:ADDRESS:PORT|port"):
        ConnectTo.parse(spec)


def test_waiver_for_unknown_rule_is_an_input_error(region: Region) -> None:
    from zwvl.inventory import InventoryError

    region.edit("policies/waivers.yaml", lambda d: d["waivers"][0].update(rule="A1-buy-twice"))
    with pytest.raises(InventoryError) as exc:
        region.check()
    assert "unknown rule 'A1-buy-twice'" in str(exc.value.problems[0])


def test_waiver_for_an_object_no_rule_evaluates_is_stale(region: Region) -> None:
    """A mistyped or removed object, or one the rule does not apply to, fails GOV-waiver-applies."""

    def edit(d: dict[str, Any]) -> None:
        d["waivers"][0]["object"] = "software:topdeks"
        base = {k: d["waivers"][0][k] for k in ("reason", "approver", "expires")}
        # B8 only evaluates active devices and services; a library is no town hall for I1
        d["waivers"].append({"rule": "I1-two-disjoint-paths", "object": "site:kortrijk-library", **base})
        d["waivers"].append({"rule": "B8-monitored", "object": "device:kor-th-rtr01", **base})

    region.edit("policies/waivers.yaml", edit)
    res = region.check()
    bad = failed(res, "GOV-waiver-applies")
    assert set(bad) == {
        "waiver:A1-buy-once:software:topdeks",
        "waiver:I1-two-disjoint-paths:site:kortrijk-library",
    }
    typo = bad["waiver:A1-buy-once:software:topdeks"]
    assert "stale waiver" in typo.message and "did you mean 'software:topdesk'" in typo.message
    assert typo.src is not None and typo.src.file == "policies/waivers.yaml" and typo.src.line > 1
    assert typo.evidence["evaluated"] is False
    ok = {f.object: f for f in findings(res, "GOV-waiver-applies")}["waiver:B8-monitored:device:kor-th-rtr01"]
    assert ok.status == "pass" and ok.evidence["finding_status"] == "pass"
    assert res.exit_code == 1
    # the waiver no longer matches, so the TOPdesk purchase fails again as well
    assert "software:topdesk" in failed(res, "A1-buy-once")


def test_waiver_rules_cannot_be_waived(region: Region) -> None:
    from zwvl.inventory import InventoryError

    region.edit("policies/waivers.yaml", lambda d: d["waivers"][0].update(rule="GOV-waiver-current"))
    with pytest.raises(InventoryError) as exc:
        region.check()
    assert "'GOV-waiver-current', which checks the waivers themselves" in str(exc.value.problems[0])
