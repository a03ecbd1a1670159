"""Dashboards as code: generated files are checked in, `zwvl dashboards --check` catches drift."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.monitoring.promql import REPO
from zwvl.monitoring.dashboards import expressions, generate

DASHBOARDS = REPO / "monitoring/dashboards"


def zwvl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zwvl", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_checked_in_dashboards_are_up_to_date() -> None:
    proc = zwvl("dashboards", "--check")
    assert proc.returncode == 0, proc.stderr


def test_check_exits_1_on_a_difference(tmp_path: Path) -> None:
    out = tmp_path / "dashboards"
    shutil.copytree(DASHBOARDS, out)
    assert zwvl("dashboards", "--check", "--output-dir", str(out)).returncode == 0
    path = out / "zwvl-backbone.json"
    doc = json.loads(path.read_text())
    doc["title"] = "edited by hand"
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    proc = zwvl("dashboards", "--check", "--output-dir", str(out))
    assert proc.returncode == 1
    assert "zwvl-backbone.json: differs" in proc.stderr
    # regenerating fixes it
    assert zwvl("dashboards", "--output-dir", str(out)).returncode == 0
    assert zwvl("dashboards", "--check", "--output-dir", str(out)).returncode == 0


def test_check_exits_1_on_a_missing_or_foreign_file(tmp_path: Path) -> None:
    out = tmp_path / "dashboards"
    shutil.copytree(DASHBOARDS, out)
    (out / "zwvl-compliance.json").unlink()
    (out / "hand-made.json").write_text("{}\n")
    proc = zwvl("dashboards", "--check", "--output-dir", str(out))
    assert proc.returncode == 1
    assert "zwvl-compliance.json: missing" in proc.stderr
    assert "hand-made.json: not generated" in proc.stderr


def test_the_four_dashboards_and_their_panels() -> None:
    docs = {name: json.loads(text) for name, text in generate().items()}
    assert set(docs) == {
        "zwvl-backbone.json",
        "zwvl-it-operations.json",
        "zwvl-compliance.json",
        "zwvl-data-markets.json",
    }
    for name, doc in docs.items():
        assert doc["uid"] + ".json" == name
        ids = [p["id"] for p in doc["panels"]]
        assert len(ids) == len(set(ids)), f"{name}: panel ids must be unique"
        assert all(p["datasource"]["uid"] == "${datasource}" for p in doc["panels"] if p["type"] != "row")
        assert expressions(doc), name
    backbone = json.dumps(docs["zwvl-backbone.json"])
    assert "zwvl:backbone_sites_isolated:count" in backbone and "zwvl_backbone_link_up" in backbone
    it_ops = json.dumps(docs["zwvl-it-operations.json"])
    assert (
        "zwvl:helpdesk_open_tickets:sum_by_work" in it_ops and "zwvl_helpdesk_sla_breached_tickets" in it_ops
    )
    assert "zwvl_policy_findings" in json.dumps(docs["zwvl-compliance.json"])
    assert "zwvl:dataset_age_seconds" in json.dumps(docs["zwvl-data-markets.json"])
