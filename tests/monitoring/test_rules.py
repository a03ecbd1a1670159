"""Prometheus rules (promtool unit tests), Alertmanager's configuration (amtool), runbooks, and the
generated configuration files being up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.monitoring.promql import REPO, RULES_DIR, rule_groups

TESTS_DIR = REPO / "monitoring/prometheus/tests"
AM_CONFIG = REPO / "monitoring/alertmanager/alertmanager.yml"
RUNBOOK_PREFIX = "https://git.zwvl.example/zwvl/main/blob/main/"


def run(argv: list[str], cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def alerts() -> list[dict[str, Any]]:
    return [r for g in rule_groups() for r in g["rules"] if "alert" in r]


def test_promtool_check_rules() -> None:
    proc = run(["promtool", "check", "rules", *map(str, sorted(RULES_DIR.glob("*.yml")))])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_promtool_unit_tests_pass() -> None:
    files = sorted(TESTS_DIR.glob("*.test.yml"))
    assert files
    proc = run(["promtool", "test", "rules", *(f.name for f in files)], cwd=TESTS_DIR)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("SUCCESS") == len(files), proc.stdout


def test_every_alert_has_a_firing_and_a_quiet_unit_test() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in TESTS_DIR.glob("*.test.yml"):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
                for exp in check.get("exp_alerts") or []:
                    # the firing case checks the annotations the on-call staff reads
                    assert {"summary", "description", "runbook_url"} <= set(exp.get("exp_annotations", {}))
                    assert "severity" in exp.get("exp_labels", {})
    names = {a["alert"] for a in alerts()}
    assert names - firing == set(), "alerts without a test where they fire"
    assert names - quiet == set(), "alerts without a test where they must not fire"


def test_every_alert_has_severity_annotations_and_a_runbook_in_the_repository() -> None:
    required = {
        "FibreLinkDown",
        "FibreSiteIsolated",
        "FibreRedundancyLost",
        "NetboxDriftDetected",
        "PolicyMandatoryFailing",
        "NetboxApplyOverdue",
        "HelpdeskSlaBreach",
        "DatasetStale",
    }
    found = {a["alert"] for a in alerts()}
    assert required <= found
    for a in alerts():
        assert a["labels"]["severity"] in ("critical", "warning", "info"), a["alert"]
        ann = a["annotations"]
        assert ann["summary"].strip() and ann["description"].strip(), a["alert"]
        url = ann["runbook_url"]
        assert url.startswith(RUNBOOK_PREFIX), url
        runbook = REPO / url.removeprefix(RUNBOOK_PREFIX)
        assert runbook.is_file(), f"{a['alert']}: {runbook} missing"
        assert a["alert"] in runbook.read_text(), f"{runbook} does not mention {a['alert']}"
    assert next(a for a in alerts() if a["alert"] == "FibreSiteIsolated")["labels"]["severity"] == "critical"


def test_amtool_check_config() -> None:
    proc = run(["amtool", "check-config", str(AM_CONFIG)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (
            ["severity=critical", "partner=kortrijk", "alertname=FibreSiteIsolated"],
            "oncall-pager,partner-kortrijk",
        ),
        (["severity=warning", "partner=menen", "alertname=FibreLinkDown"], "partner-menen,oncall-chat"),
        (["severity=warning", "alertname=DatasetStale"], "oncall-chat"),
        (["severity=critical", "alertname=ZwvlExporterDown"], "oncall-pager"),
        (["severity=info", "partner=region"], "oncall-tickets"),
    ],
)
def test_alertmanager_routes_by_severity_and_partner(labels: list[str], receivers: str) -> None:
    proc = run(["amtool", "config", "routes", "test", f"--config.file={AM_CONFIG}", *labels])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == receivers


def test_alertmanager_inhibits_the_link_downs_of_an_isolated_site() -> None:
    doc = yaml.safe_load(AM_CONFIG.read_text())
    rules = [r for r in doc["inhibit_rules"] if r["source_matchers"] == ['alertname="FibreSiteIsolated"']]
    assert {tuple(r["equal"]) for r in rules} == {("site",), ("peer_site",)}
    # and the alert carries peer_site = its site, which the second rule needs
    isolated = next(a for a in alerts() if a["alert"] == "FibreSiteIsolated")
    assert isolated["labels"]["peer_site"] == "{{ $labels.site }}"


def test_every_partner_has_a_route_and_a_receiver() -> None:
    from zwvl.inventory import load_inventory

    partners = set(load_inventory(REPO / "inventory").partners)
    doc = yaml.safe_load(AM_CONFIG.read_text())
    routed = {
        r["receiver"].removeprefix("partner-")
        for r in doc["route"]["routes"]
        if r["receiver"].startswith("partner-")
    }
    assert routed == partners
    assert {f"partner-{p}" for p in partners} <= {r["name"] for r in doc["receivers"]}


@pytest.mark.parametrize("command", ["scrape-config", "alertmanager-config"])
def test_generated_monitoring_config_is_up_to_date(command: str) -> None:
    proc = run([sys.executable, "-m", "zwvl", "monitoring", command, "--check"])
    assert proc.returncode == 0, proc.stderr


def test_generated_config_check_fails_on_a_difference(tmp_path: Path) -> None:
    out = tmp_path / "alertmanager.yml"
    out.write_text(AM_CONFIG.read_text().replace("partner-kortrijk", "partner-elsewhere", 1))
    proc = run(
        [sys.executable, "-m", "zwvl", "monitoring", "alertmanager-config", "--check", "--output", str(out)]
    )
    assert proc.returncode == 1
    assert "out of date" in proc.stderr


def test_generated_prometheus_config_is_valid_and_scrapes_what_the_model_says() -> None:
    cfg = REPO / "monitoring/prometheus/prometheus.yml"
    proc = run(["promtool", "check", "config", str(cfg)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = yaml.safe_load(cfg.read_text())
    jobs = {j["job_name"]: j for j in doc["scrape_configs"]}
    assert {"zwvl", "frr", "node", "snmp", "postgres", "blackbox-http"} <= set(jobs)
    frr_targets = {t for sc in jobs["frr"]["static_configs"] for t in sc["targets"]}
    from zwvl.inventory import load_inventory

    inv = load_inventory(REPO / "inventory")
    routers = [d for d in inv.devices.values() if d.monitoring == "frr-exporter" and d.status == "active"]
    assert frr_targets == {f"{d.loopback.ip}:9342" for d in routers if d.loopback}
    # the exporter's own metrics carry partner/site labels: its target must not add them
    assert all(set(sc.get("labels", {})) <= {"service"} for sc in jobs["zwvl"]["static_configs"])


def test_scrape_config_follows_the_inventory(tmp_path: Path) -> None:
    import shutil

    inv_dir = tmp_path / "inventory"
    shutil.copytree(REPO / "inventory", inv_dir)
    path = inv_dir / "partners/anzegem/devices.yaml"
    path.write_text(path.read_text().replace("monitoring: snmp", "monitoring: none", 1))
    proc = run(
        [sys.executable, "-m", "zwvl", "monitoring", "scrape-config", "--inventory", str(inv_dir), "--stdout"]
    )
    assert proc.returncode == 0, proc.stderr
    doc = yaml.safe_load(proc.stdout)
    snmp = next(j for j in doc["scrape_configs"] if j["job_name"] == "snmp")
    assert "anz-dc1-sw01" not in {t for sc in snmp["static_configs"] for t in sc["targets"]}
