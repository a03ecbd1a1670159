"""zwvl.monitoring.names against the rules files, the dashboards, Alertmanager's configuration and the
metric table of monitoring/README.md: one set of names, no second spelling anywhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from tests.monitoring.promql import REPO, dashboard_expressions, metric_names, rule_expressions, rule_groups
from zwvl.monitoring.names import PREFIX, AlertName, MetricName, RecordName, selector


def test_alert_names_are_the_alerts_of_the_rules_files() -> None:
    alerts = [r["alert"] for g in rule_groups() for r in g["rules"] if "alert" in r]
    assert len(alerts) == len(set(alerts)), "an alert name is used twice"
    assert set(alerts) == {a.value for a in AlertName}


def test_record_names_are_the_recording_rules() -> None:
    records = [r["record"] for g in rule_groups() for r in g["rules"] if "record" in r]
    assert set(records) == {r.value for r in RecordName}


def test_every_zwvl_series_read_by_a_rule_or_a_dashboard_is_named() -> None:
    exprs = list(rule_expressions().values())
    for panel_exprs in dashboard_expressions().values():
        exprs += panel_exprs
    read = set().union(*(metric_names(e) for e in exprs))
    ours = {n for n in read if n.startswith((f"{PREFIX}_", f"{PREFIX}:"))}
    assert ours
    known = {m.value for m in MetricName} | {r.value for r in RecordName}
    assert ours - known == set(), "series read but not in zwvl.monitoring.names"


def test_metric_names_follow_the_conventions_and_are_documented() -> None:
    readme = (REPO / "monitoring/README.md").read_text()
    documented = set(re.findall(r"`(zwvl_[a-z_]+)`", readme))
    for m in MetricName:
        assert re.fullmatch(rf"{PREFIX}_[a-z][a-z0-9_]*", m.value), m
        assert m.value in documented, f"{m.value} missing from monitoring/README.md"
    assert len({m.value for m in MetricName}) == len(MetricName)


def test_alertmanager_inhibitions_name_real_alerts() -> None:
    doc = yaml.safe_load((REPO / "monitoring/alertmanager/alertmanager.yml").read_text())
    named: set[str] = set()
    for rule in doc["inhibit_rules"]:
        for matcher in rule["source_matchers"] + rule["target_matchers"]:
            m = re.fullmatch(r'alertname(=~?)"([^"]*)"', matcher)
            assert m, matcher
            named |= set(m.group(2).split("|")) if m.group(1) == "=~" else {m.group(2)}
    assert named and named <= {a.value for a in AlertName}


def test_the_exporter_emits_named_series(tmp_path: Path) -> None:
    """The model and NetBox sources and the collector's own series (the other sources need services:
    tests/monitoring/test_stack.py evaluates every rule and panel against them)."""
    from prometheus_client import generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from zwvl.exporter.collector import ZwvlCollector, registry_for
    from zwvl.exporter.model import ModelCache, ModelSource
    from zwvl.exporter.netbox_state import NetboxStateSource, read_drift_file

    drift = tmp_path / "drift.json"
    drift.write_text(json.dumps({"checked_at": "2026-11-28T10:00:00Z", "drift": [{"kind": "dcim.device"}]}))
    sources = [
        ModelSource(ModelCache(REPO / "inventory")),
        NetboxStateSource(lambda: read_drift_file(drift), lambda: 0.0),
    ]
    text = generate_latest(registry_for(ZwvlCollector(sources))).decode()
    emitted = {s.name for fam in text_string_to_metric_families(text) for s in fam.samples}
    assert len(emitted) > 25
    assert emitted <= {m.value for m in MetricName}


def test_selector() -> None:
    assert selector(MetricName.UP) == "zwvl_up"
    link_up = selector(MetricName.BACKBONE_LINK_UP, 'partner=~"$partner"')
    assert link_up == 'zwvl_backbone_link_up{partner=~"$partner"}'
    age = selector(RecordName.DATASET_AGE_SECONDS, 'a="1"', 'b="2"')
    assert age == 'zwvl:dataset_age_seconds{a="1",b="2"}'
