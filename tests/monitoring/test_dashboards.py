"""Dashboards as code: YAML specs built into checked-in JSON, `zwvl dashboards --check` catches
drift, and a bad spec is refused with its file and line."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.monitoring.promql import REPO
from zwvl.inventory import InventoryError
from zwvl.monitoring.dashboards import all_dashboards, expressions, generate
from zwvl.monitoring.dashboards.spec import SPEC_DIR as SPECS

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


def test_names_in_the_specs_are_all_resolved() -> None:
    for name, text in generate().items():
        assert not re.search(r"\$\{(metric|record|alert|var)\.", text), name


def _specs(tmp_path: Path) -> Path:
    specs = tmp_path / "specs"
    specs.mkdir()
    for path in SPECS.glob("*.yaml"):
        shutil.copy(path, specs)
    return specs


def _edit(path: Path, old: str, new: str) -> int:
    """Replace `old` (once) in the file; the 1-based line it stood on."""
    text = path.read_text()
    assert text.count(old) >= 1, old
    path.write_text(text.replace(old, new, 1))
    return text[: text.index(old)].count("\n") + 1


def _problems(specs: Path) -> list[str]:
    with pytest.raises(InventoryError) as exc:
        all_dashboards(specs)
    return [str(p) for p in exc.value.problems]


def test_an_unknown_name_is_named_with_file_line_and_panel(tmp_path: Path) -> None:
    specs = _specs(tmp_path)
    line = _edit(
        specs / "backbone.yaml", "${record.BACKBONE_CIRCUITS_DOWN}", "${record.BACKBONE_CIRCUITS_CUT}"
    )
    unknown_var = _edit(specs / "compliance.yaml", "${var.FAILING}", "${var.FAILED}")
    problems = _problems(specs)
    assert any(
        p.startswith(f"{specs}/backbone.yaml:{line}:")
        and "panel 'Circuits down'" in p
        and "${record.BACKBONE_CIRCUITS_CUT}" in p
        for p in problems
    ), problems
    assert any(p.startswith(f"{specs}/compliance.yaml:{unknown_var}:") for p in problems), problems


def test_a_field_the_panel_type_does_not_take_or_lacks_is_refused(tmp_path: Path) -> None:
    specs = _specs(tmp_path)
    # the first stat panel loses its thresholds; a table gets a legend; a key is misspelt
    _edit(specs / "backbone.yaml", "    thresholds: green, red from 1\n", "")
    _edit(
        specs / "backbone.yaml",
        "    title: Circuit ends down\n",
        "    title: Circuit ends down\n    legend: x\n",
    )
    typo = _edit(specs / "data-markets.yaml", "    unit: s\n", "    unti: s\n")
    problems = _problems(specs)
    assert any("panel 'Sites isolated': a stat panel needs thresholds" in p for p in problems), problems
    assert any("panel 'Circuit ends down': a table panel takes no legend" in p for p in problems), problems
    assert any(
        p.startswith(f"{specs}/data-markets.yaml:{typo}:") and "Extra inputs are not permitted" in p
        for p in problems
    ), problems


def test_malformed_thresholds_and_a_taken_uid_are_refused(tmp_path: Path) -> None:
    specs = _specs(tmp_path)
    line = _edit(specs / "backbone.yaml", "green, red from 1", "green, red at 1")
    base = _edit(specs / "data-markets.yaml", "green, red from 1", "1 green, red from 1")
    shutil.copy(SPECS / "compliance.yaml", specs / "compliance-copy.yaml")
    problems = _problems(specs)
    assert any(
        p.startswith(f"{specs}/backbone.yaml:{line}:") and "'red at 1' is not 'COLOUR from NUMBER'" in p
        for p in problems
    ), problems
    assert any(
        p.startswith(f"{specs}/data-markets.yaml:{base}:") and "start with a colour, not '1 green'" in p
        for p in problems
    ), problems
    # a valid copy of the compliance spec beside it: the same uid again (the second in name order)
    taken = f"{specs}/compliance.yaml:1:1: uid 'zwvl-compliance' is taken by another dashboard spec"
    assert taken in problems, problems


def test_a_bad_spec_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    specs = _specs(tmp_path)
    _edit(specs / "it-operations.yaml", "${alert.HELPDESK_SLA_BREACH}", "${alert.HELPDESK_SLA_BROKEN}")
    out = tmp_path / "dashboards"
    proc = zwvl("dashboards", "--spec-dir", str(specs), "--output-dir", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "it-operations.yaml:" in proc.stderr and "${alert.HELPDESK_SLA_BROKEN}" in proc.stderr
    assert "nothing was written" in proc.stderr
    assert not out.exists()
