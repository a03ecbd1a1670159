"""The metric catalogue (zwvl.monitoring.names.METRICS) and the exporter that declares from it."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from zwvl.exporter.collector import ZwvlCollector
from zwvl.exporter.model import ModelCache, ModelSource
from zwvl.exporter.netbox_state import NetboxStateSource, read_drift_file
from zwvl.monitoring.names import METRICS, MetricName

REPO = Path(__file__).resolve().parents[2]
HELPERS = {"gauge": "", "counter": "_total", "info": "_info"}


def test_every_metric_has_a_spec() -> None:
    assert set(METRICS) == set(MetricName)
    for name, spec in METRICS.items():
        assert spec.help.endswith("."), name
        assert len(set(spec.labels)) == len(spec.labels), name


def test_each_metric_is_declared_once_by_the_helper_of_its_type() -> None:
    """Every gauge/counter/info family of zwvl/exporter is declared by its MetricName alone, once."""
    declared: list[MetricName] = []
    for path in sorted((REPO / "zwvl/exporter").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in HELPERS:
                assert len(node.args) == 1 and not node.keywords, f"{path.name}:{node.lineno}"
                arg = node.args[0]
                assert isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name)
                assert arg.value.id == "MetricName", f"{path.name}:{node.lineno}"
                name = MetricName[arg.attr]
                suffix = HELPERS[node.func.id]
                assert name.endswith(suffix) if suffix else not name.endswith(("_total", "_info")), name
                declared.append(name)
    assert sorted(declared) == sorted(MetricName)


def test_the_exported_families_carry_the_catalogue(tmp_path: Path) -> None:
    """The model and NetBox sources and the collector's own series (offline): help text and labels in
    the catalogue's order (an info metric also carries its info keys)."""
    drift = tmp_path / "drift.json"
    drift.write_text(json.dumps({"checked_at": "2026-11-28T10:00:00Z", "drift": [{"kind": "dcim.device"}]}))
    sources = [
        ModelSource(ModelCache(REPO / "inventory")),
        NetboxStateSource(lambda: read_drift_file(drift), lambda: 0.0),
    ]
    checked = 0
    for fam in ZwvlCollector(sources).collect():
        for sample in fam.samples:
            spec = METRICS[MetricName(sample.name)]
            assert fam.documentation == spec.help, sample.name
            if sample.name.endswith("_info"):
                assert set(spec.labels) <= set(sample.labels), sample.name
            else:
                assert tuple(sample.labels) == spec.labels, sample.name
            checked += 1
    assert checked > 25
