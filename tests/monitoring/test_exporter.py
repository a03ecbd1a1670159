"""The exporter's metrics on the real inventory: naming conventions, policy and indicator values,
reload on change, file-based NetBox state, and serving over HTTP."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.monitoring.promql import REPO
from tests.monitoring.services import free_port, wait_until
from zwvl.exporter.base import SourceError
from zwvl.exporter.collector import ZwvlCollector, registry_for
from zwvl.exporter.model import ModelCache, ModelSource, object_partner
from zwvl.exporter.netbox_state import NetboxStateSource, read_apply_state, read_drift_file
from zwvl.inventory import load_inventory
from zwvl.policy.runner import run_checks


def scrape(collector: ZwvlCollector) -> dict[str, list[tuple[dict[str, str], float]]]:
    from prometheus_client import generate_latest

    text = generate_latest(registry_for(collector)).decode()
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, []).append((dict(s.labels), s.value))
    return out


def value(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    hits = [v for lb, v in samples[name] if all(lb.get(k) == x for k, x in labels.items())]
    assert len(hits) == 1, (name, labels, hits)
    return hits[0]


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "inventory", tmp_path / "inventory")
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    return tmp_path


def _scrape_once(env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`zwvl exporter --once` on the repository's inventory (no drift), which must succeed."""
    proc = subprocess.run(
        [sys.executable, "-m", "zwvl", "exporter", "--once", "--drift", "off"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def test_metric_conventions_on_the_real_inventory() -> None:
    proc = _scrape_once()
    fams = list(text_string_to_metric_families(proc.stdout))
    assert fams
    for fam in fams:
        assert fam.name.startswith("zwvl_"), fam.name
        assert fam.documentation, fam.name
        for s in fam.samples:
            assert s.name.startswith("zwvl_")
            if fam.type == "counter":
                assert s.name.endswith("_total"), s.name
            if fam.type == "info":
                assert s.name.endswith("_info"), s.name
        if fam.name.endswith(("_seconds", "_timestamp_seconds")):
            assert fam.type in ("gauge", "counter")
    names = {f.name for f in fams}
    assert {
        "zwvl_up",
        "zwvl_build_info",
        "zwvl_scrape_duration_seconds",
        "zwvl_policy_findings",
        "zwvl_fibre_public_buildings_connected",
        "zwvl_indicator_value",
    } <= names


def test_label_values_are_bounded_by_the_model() -> None:
    inv = load_inventory(REPO / "inventory")
    samples = scrape(ZwvlCollector([ModelSource(ModelCache(REPO / "inventory"))]))
    partners = set(inv.partners) | {"region"}
    for name in (
        "zwvl_policy_findings",
        "zwvl_fibre_public_buildings",
        "zwvl_fibre_public_buildings_connected",
    ):
        assert {lb["partner"] for lb, _ in samples[name]} <= partners, name
    assert {lb["status"] for lb, _ in samples["zwvl_policy_findings"]} <= {"pass", "fail", "waived"}
    assert {lb["severity"] for lb, _ in samples["zwvl_policy_findings"]} <= {"mandatory", "advisory"}
    assert len(samples["zwvl_policy_findings"]) < 2000


def test_policy_and_indicator_values_match_zwvl_check() -> None:
    inv = load_inventory(REPO / "inventory")
    result = run_checks(inv, REPO)
    samples = scrape(ZwvlCollector([ModelSource(ModelCache(REPO / "inventory"))]))
    for r in result.rules:
        fails = sum(f.status == "fail" for f in r.findings)
        principle = next(p.spec.id for p in result.principles if r in p.rules)
        assert value(samples, "zwvl_policy_rule_failures", rule=r.spec.id, principle=principle) == fails
    total = sum(v for _, v in samples["zwvl_policy_findings"])
    assert total == sum(len(r.findings) for r in result.rules)
    for p in result.principles:
        assert value(samples, "zwvl_policy_principle_status", principle=p.spec.id, status=p.status) == 1
    magda = next(i for i in result.indicators if i["id"] == "magda-document-service")
    assert value(samples, "zwvl_indicator_value", indicator="magda-document-service") == magda["value"]
    assert value(samples, "zwvl_indicator_target", indicator="magda-document-service") == 8
    cov = next(i for i in result.indicators if i["id"] == "fibre-coverage")["detail"]
    for partner, d in cov.items():
        assert value(samples, "zwvl_fibre_public_buildings", partner=partner) == d["total"]
        assert value(samples, "zwvl_fibre_public_buildings_connected", partner=partner) == d["connected"]


def test_findings_are_attributed_to_partners() -> None:
    inv = load_inventory(REPO / "inventory")
    assert object_partner(inv, "device:kor-th-rtr01") == "kortrijk"
    assert object_partner(inv, "site:menen-town-hall") == "menen"
    assert object_partner(inv, "partner:wervik") == "wervik"
    assert object_partner(inv, "service:helpdesk") == "w13"
    assert object_partner(inv, "circuit:ZWVL-FO-0001") == "anzegem"  # both ends in Anzegem
    assert object_partner(inv, "circuit:ZWVL-FO-0057") == "region"  # between partners
    assert object_partner(inv, "software:topdesk") == "region"


def test_a_failing_mandatory_rule_shows_per_partner_and_an_invalid_edit_keeps_the_last_model(
    repo_copy: Path,
) -> None:
    cache = ModelCache(repo_copy / "inventory")
    collector = ZwvlCollector([ModelSource(cache)])
    before = scrape(collector)
    assert value(before, "zwvl_inventory_valid") == 1
    fails = [
        lb
        for lb, v in before["zwvl_policy_findings"]
        if lb["status"] == "fail" and lb["severity"] == "mandatory"
    ]
    assert fails == []

    # the EX2300 switches lose their approval: I5 fails for the partners that run them
    std = repo_copy / "inventory/standards.yaml"
    std.write_text(std.read_text().replace("  - juniper-ex2300-24t\n", ""))
    after = scrape(collector)
    assert value(after, "zwvl_inventory_valid") == 1
    failing = {
        (lb["rule"], lb["partner"])
        for lb, v in after["zwvl_policy_findings"]
        if lb["status"] == "fail" and lb["severity"] == "mandatory" and v > 0
    }
    assert ("I5-approved-device-types", "anzegem") in failing
    assert value(after, "zwvl_policy_rule_failures", rule="I5-approved-device-types") >= 1

    # a broken file: the last good model stays, flagged invalid
    (repo_copy / "inventory/region.yaml").write_text("region: [unclosed\n")
    broken = scrape(collector)
    assert value(broken, "zwvl_inventory_valid") == 0
    assert value(broken, "zwvl_policy_rule_failures", rule="I5-approved-device-types") >= 1
    assert value(broken, "zwvl_source_up", source="model") == 1


def test_netbox_state_from_files(tmp_path: Path) -> None:
    drift = tmp_path / "drift.json"
    drift.write_text(
        json.dumps(
            {
                "checked_at": "2026-11-28T10:00:00Z",
                "drift": [
                    {"kind": "dcim.device", "object": "a"},
                    {"kind": "dcim.device", "object": "b"},
                    {"object_type": "ipam.prefix", "object": "c"},
                ],
            }
        )
    )
    report = read_drift_file(drift)
    assert report.drift and report.objects == {"dcim.device": 2, "ipam.prefix": 1}
    assert report.checked_at == 1795860000.0
    drift.write_text(json.dumps({"checked_at": "2026-11-28T10:00:00Z", "drift": []}))
    assert not read_drift_file(drift).drift

    # the reconciler's own `zwvl drift --format json` report
    from zwvl.netbox.reconcile import DriftItem
    from zwvl.netbox.render import drift_json

    items = [
        DriftItem("dcim.device", ("kor-th-rtr01",), 7, "partners/kortrijk/devices.yaml"),
        DriftItem("dcim.site", ("menen-town-hall",), 3, None),
    ]
    drift.write_text(drift_json(items, "http://127.0.0.1:8765"))
    report = read_drift_file(drift)
    assert report.drift and report.objects == {"dcim.device": 1, "dcim.site": 1}
    drift.write_text(drift_json([], "http://127.0.0.1:8765"))
    assert not read_drift_file(drift).drift

    apply = tmp_path / "apply.json"
    assert read_apply_state(apply) is None
    apply.write_text(json.dumps({"finished_at": "2026-11-28T09:00:00+00:00"}))
    assert read_apply_state(apply) == 1795856400.0

    src = NetboxStateSource(lambda: read_drift_file(drift), lambda: read_apply_state(tmp_path / "never.json"))
    samples = scrape(ZwvlCollector([src]))
    assert value(samples, "zwvl_netbox_drift_detected") == 0
    assert value(samples, "zwvl_netbox_last_apply_success_timestamp_seconds") == 0
    drift.write_text("not json")
    samples = scrape(ZwvlCollector([src]))
    assert value(samples, "zwvl_source_up", source="netbox") == 0
    assert "zwvl_netbox_drift_detected" not in samples


def test_drift_from_a_command_run_in_the_background(tmp_path: Path) -> None:
    from zwvl.exporter.netbox_state import DriftCommand

    script = tmp_path / "drift.sh"
    script.write_text('#!/bin/sh\necho \'[{"kind": "dcim.site", "object": "x"}]\'\nexit 2\n')
    script.chmod(0o755)
    cmd = DriftCommand([str(script)], interval=3600)
    cmd.refresh()
    report = cmd.latest()
    assert report.drift and report.objects == {"dcim.site": 1}
    script.write_text("#!/bin/sh\nexit 1\n")
    cmd.refresh()
    with pytest.raises(SourceError, match="exited 1"):
        cmd.latest()
    # click's usage error also exits 2: no JSON report, no verdict
    script.write_text("#!/bin/sh\necho 'Usage: zwvl drift [OPTIONS]' >&2\nexit 2\n")
    cmd.refresh()
    with pytest.raises(SourceError, match="without a JSON report"):
        cmd.latest()


def test_exporter_serves_http_and_stops_on_sigterm() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "zwvl", "exporter", "--listen", f"127.0.0.1:{port}", "--drift", "off"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        wait_until(lambda: requests.get(url, timeout=10).status_code == 200, 60, "the exporter")
        first = requests.get(url, timeout=30).text
        second = requests.get(url, timeout=30).text
        # fresh metrics per scrape: the scrape counter moves
        count = [
            float(line.split()[-1])
            for t in (first, second)
            for line in t.splitlines()
            if line.startswith("zwvl_scrapes_total")
        ]
        assert count[1] > count[0]
        assert "zwvl_build_info{" in first and "zwvl_up 1.0" in first
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""


def test_listen_must_be_an_address_and_port() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "zwvl", "exporter", "--listen", "nowhere"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "HOST:PORT" in proc.stderr


def test_no_secret_reaches_the_log(tmp_path: Path) -> None:
    """A failing data platform connection logs the error class, not the connection string."""
    secret = "s3cr3t-password-value"  # a fake, to prove it is never logged
    env = {
        **os.environ,
        "ZWVL_DATASETS_DSN": f"host=127.0.0.1 port=1 dbname=x user=u password={secret} connect_timeout=1",
    }
    proc = _scrape_once(env)
    assert 'zwvl_source_up{source="datasets"} 0.0' in proc.stdout
    assert secret not in proc.stdout + proc.stderr
    assert "data platform query failed" in proc.stderr
