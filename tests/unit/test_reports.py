"""Report formats are parsed, not eyeballed; the same input gives byte-identical output."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.conftest import REPO, Region, find

ZWVL = [sys.executable, "-m", "zwvl"]


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ZWVL, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("reports")
    texts = {}
    for fmt in ("text", "json", "junit", "sarif", "markdown", "html"):
        path = out / f"report.{fmt}"
        proc = run("check", "--format", fmt, "--output", str(path), "--today", "2026-11-28")
        assert proc.returncode == 0, proc.stderr
        texts[fmt] = path.read_text()
    return texts


def test_json_report_keys(reports: dict[str, str]) -> None:
    doc = json.loads(reports["json"])
    assert {"summary", "principles", "indicators", "inventory"} <= set(doc)
    assert doc["inventory"]["partners"] == 15 and doc["inventory"]["circuits"] > 0
    assert set(doc["summary"]["findings"]) == {"pass", "fail", "waived"}
    assert set(doc["summary"]["by_severity"]) == {"mandatory", "advisory"}
    by_id = {p["id"]: p for p in doc["principles"]}
    assert by_id["I1"]["kind"] == "executable" and by_id["I1"]["status"] == "pass"
    assert by_id["B1"]["kind"] == "manual" and by_id["B1"]["manual"]["evidence"]
    rule = by_id["A1"]["rules"][0]
    assert rule["findings"][0]["waiver"]["approver"]
    magda = find(doc["indicators"], id="magda-document-service")
    assert (magda["value"], magda["target"]) == (5, 8)


def test_junit_report(reports: dict[str, str]) -> None:
    root = ET.fromstring(reports["junit"])
    assert root.tag == "testsuites"
    cases = root.findall(".//testcase")
    assert int(root.get("tests", "0")) == len(cases) > 100
    assert root.get("failures") == "0"
    assert root.findall(".//skipped")  # the waived TOPdesk purchase and advisory failures


def test_sarif_report(reports: dict[str, str]) -> None:
    doc = json.loads(reports["sarif"])
    assert doc["version"] == "2.1.0"
    run_ = doc["runs"][0]
    rule_ids = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert "I1-two-disjoint-paths" in rule_ids
    for res in run_["results"]:
        assert rule_ids[res["ruleIndex"]] == res["ruleId"]
        assert res["level"] in {"error", "warning", "note"}
        loc = res["locations"][0]["physicalLocation"]
        assert (REPO / loc["artifactLocation"]["uri"]).is_file()
        assert loc["region"]["startLine"] >= 1
    waived = [r for r in run_["results"] if r.get("suppressions")]
    assert waived and waived[0]["ruleId"] == "A1-buy-once"


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.external: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        for key in ("src", "href"):
            v = a.get(key) or ""
            if v and not v.startswith("#"):
                self.external.append(v)


def test_html_report_is_self_contained_with_map(reports: dict[str, str]) -> None:
    p = _Collect()
    p.feed(reports["html"])
    assert p.external == []  # nothing loaded from elsewhere
    assert {"principles", "indicators", "map", "findings", "I1", "B1"} <= p.ids
    assert p.tags.count("circle") == 72 and p.tags.count("line") == 75
    assert "MAGDA" in reports["html"] and "Steering group" in reports["html"]


def test_markdown_and_text(reports: dict[str, str]) -> None:
    md = reports["markdown"]
    assert md.startswith("### Policy check: ✅ passed")
    assert "| **I1** Every public building is connected to the others by fibre | ✅ pass |" in md
    assert "PASS:" in reports["text"] and "Findings:" in reports["text"]


def test_every_finding_has_evidence(reports: dict[str, str]) -> None:
    doc = json.loads(reports["json"])
    empty = [
        (r["id"], f["object"])
        for p in doc["principles"]
        for r in p["rules"]
        for f in r["findings"]
        if not f["evidence"]
    ]
    assert empty == []


def test_report_written_into_the_checkout_does_not_change_the_next(region: Region) -> None:
    """The secret scan reads untracked files too, but counts only tracked ones."""
    from zwvl.reports.json_report import to_json

    for args in (["init", "-q"], ["add", "inventory", "policies"]):
        subprocess.run(["git", "-C", str(region.root), *args], check=True, capture_output=True)
    first = to_json(region.check())
    (region.root / "policy-report.json").write_text(first)
    (region.root / "policy-report.html").write_text("<html></html>\n")
    assert to_json(region.check()) == first
    secrets = next(
        f
        for p in json.loads(first)["principles"]
        for r in p["rules"]
        if r["id"] == "SEC-no-secrets"
        for f in r["findings"]
    )
    tracked = sum(1 for d in (region.inventory, region.policies) for f in d.rglob("*") if f.is_file())
    assert secrets["evidence"]["tracked_files_scanned"] == tracked


def test_reports_are_deterministic(tmp_path: Path) -> None:
    for fmt in ("json", "html", "sarif", "junit", "markdown"):
        a, b = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
        for out in (a, b):
            assert (
                run("check", "--format", fmt, "--output", str(out), "--today", "2026-11-28").returncode == 0
            )
        assert a.read_bytes() == b.read_bytes(), fmt


def test_spof_highlighted_on_map(region: Region) -> None:
    from zwvl.reports.html import site_map

    def edit(d: dict) -> None:  # type: ignore[type-arg]
        for c in d["circuits"]:
            if {c["a"]["site"], c["z"]["site"]} == {"lendelede-town-hall", "regional-datacenter"}:
                c["status"] = "decommissioned"

    region.edit("inventory/backbone/core.yaml", edit)
    m = site_map(region.check())
    spof = {s["slug"] for s in m["sites"] if s["spof"]}
    assert spof == {"wevelgem-town-hall", "wervik-town-hall", "menen-town-hall"}
    assert any(link["spof"] for link in m["links"])


def test_check_exit_codes_and_nothing_written_on_bad_input(region: Region, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    region.write("inventory/partners/kortrijk/bad.yaml", "sites: [")
    proc = run("check", "--inventory", str(region.inventory), "--format", "json", "--output", str(out))
    assert proc.returncode == 2
    assert "inventory/partners/kortrijk/bad.yaml:" in proc.stderr and "nothing was written" in proc.stderr
    assert not out.exists()
    proc = run("validate", "--inventory", str(region.inventory))
    assert proc.returncode == 1
    (region.inventory / "partners/kortrijk/bad.yaml").unlink()
    # a mandatory failure exits 1 and still writes the report
    region.edit(  # (the helpdesk's missing MFA is waived: another exposed service)
        "inventory/platform/services.yaml",
        lambda d: find(d["services"], slug="open-data-portal").update(tls=False),
    )
    proc = run("check", "--inventory", str(region.inventory), "--format", "json", "--output", str(out))
    assert proc.returncode == 1 and json.loads(out.read_text())["summary"]["result"] == "fail"
    assert run("check", "--format", "yaml").returncode == 2


def test_validate_ok() -> None:
    proc = run("validate")
    assert proc.returncode == 0 and "inventory: valid" in proc.stdout


def test_scaled_region_validates_and_checks(tmp_path: Path) -> None:
    inv_dir = tmp_path / "inventory"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts/generate-region"),
            "3",
            str(inv_dir),
            "--policies-out",
            str(tmp_path / "policies"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    proc = run("check", "--inventory", str(inv_dir), "--format", "json", "--today", "2026-11-28")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["inventory"]["partners"] == 45 and doc["inventory"]["circuits"] == 3 * 75
    i1 = next(p for p in doc["principles"] if p["id"] == "I1")
    assert i1["status"] == "pass"
    assert sum(len(r["findings"]) for r in i1["rules"]) == 3 * sum(
        len(r["findings"])
        for r in next(
            p for p in json.loads(run("check", "--format", "json").stdout)["principles"] if p["id"] == "I1"
        )["rules"]
    )


def test_sec_findings_show_declared_beside_observed(region: Region) -> None:
    """JSON carries the observed evidence; the HTML page shows it beside the declaration (without
    --live it says nothing was observed). Real probes: tests/integration/test_check_live.py."""
    from zwvl.policy.probes import TlsEvidence
    from zwvl.reports.html import to_html
    from zwvl.reports.json_report import to_dict

    html = to_html(region.check())
    assert "none</span>: TLS not observed" in html and "tls: true, mfa: false" in html
    ev = TlsEvidence("https://helpdesk.zwvl.be/", "192.0.2.10:443", True, subject="CN=helpdesk.zwvl.be")
    ev.sans, ev.issuer, ev.not_after = (
        ["DNS:helpdesk.zwvl.be"],
        "CN=ZWVL region lab CA",
        "2027-03-01T00:00:00+00:00",
    )
    ev.protocol, ev.cipher, ev.http_url = "TLSv1.3", "TLS_AES_256_GCM_SHA384", "http://helpdesk.zwvl.be/"
    ev.http_status, ev.http_location = 308, "https://helpdesk.zwvl.be/"
    res = region.check(tls_observed={"helpdesk": ev.as_dict()})
    doc = to_dict(res)
    sec = find(find(doc["principles"], id="SEC")["rules"], id="SEC-tls-served")
    seen = find(sec["findings"], object="service:helpdesk")["evidence"]["observed"]
    assert {k: seen[k] for k in ("subject", "not_after", "protocol", "http_status")} == {
        "subject": "CN=helpdesk.zwvl.be",
        "not_after": "2027-03-01T00:00:00+00:00",
        "protocol": "TLSv1.3",
        "http_status": 308,
    }
    assert doc["live_evidence"] == "TLS probes of 1 service URL"
    html = to_html(res)
    rows = [r[: r.index("</table></td></tr>")] for r in html.split('<tr class="sec-observed">')[1:]]
    [row] = [r for r in rows if "url: <code>https://helpdesk.zwvl.be/</code>" in r]
    for text in (
        "exposed: true, tls: true, mfa: false",
        "<code>CN=helpdesk.zwvl.be</code>",
        "expires 2027-03-01T00:00:00+00:00",
        "TLSv1.3</span> TLS_AES_256_GCM_SHA384",
        "HTTP 308 → <code>https://helpdesk.zwvl.be/</code>",
    ):
        assert text in row, (text, row)
