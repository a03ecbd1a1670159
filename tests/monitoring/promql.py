"""Every PromQL expression of the repository (rules and dashboards), and the metric names it reads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from zwvl.monitoring.dashboards import expressions, generate, variable_queries

REPO = Path(__file__).resolve().parents[2]
RULES_DIR = REPO / "monitoring/prometheus/rules"

KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
    "atan2",
}
# Grafana's built-in variables and the dashboards' own, as a query would be sent for "All"
GRAFANA_VARS = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
    "$partner": ".*",
    "$domain": ".*",
}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_BRACES = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def substitute(expr: str) -> str:
    for var, value in GRAFANA_VARS.items():
        expr = expr.replace(var, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr!r}"
    return expr


def metric_names(expr: str) -> set[str]:
    """Names of the series an expression selects (functions, keywords and label names excluded)."""
    s = _STRING.sub('""', expr)
    s = _BRACES.sub("", s)
    s = _RANGE.sub("", s)
    s = _GROUPING.sub(" ", s)
    names = set()
    for m in _IDENT.finditer(s):
        word = m.group(0)
        rest = s[m.end() :].lstrip()
        if rest.startswith("(") or word.lower() in KEYWORDS:
            continue
        if re.fullmatch(r"\d+[smhdwy]", word):  # a duration like 5m after offset
            continue
        names.add(word)
    return names


def rule_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for path in sorted(RULES_DIR.glob("*.yml")):
        groups += yaml.safe_load(path.read_text())["groups"]
    return groups


def rule_expressions() -> dict[str, str]:
    """rule name (alert or record) -> expression."""
    out = {}
    for g in rule_groups():
        for r in g["rules"]:
            name = r.get("alert") or r["record"]
            out[name] = str(r["expr"])
            # queries inside annotation templates: {{ with query "..." }}
            for key, text in (r.get("annotations") or {}).items():
                for i, q in enumerate(re.findall(r'query\s+"((?:[^"\\]|\\.)*)"', str(text))):
                    out[f"{name} annotation {key} #{i}"] = q
    return out


def dashboard_expressions() -> dict[str, list[str]]:
    """dashboard file -> its panel expressions (Grafana variables substituted)."""
    import json

    out = {}
    for name, text in generate().items():
        doc = json.loads(text)
        out[name] = [substitute(e) for e in expressions(doc)]
    return out


def dashboard_variable_metrics() -> dict[str, set[str]]:
    import json

    out: dict[str, set[str]] = {}
    for name, text in generate().items():
        for query in variable_queries(json.loads(text)):
            m = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", query)
            assert m, f"{name}: unsupported variable query {query!r}"
            out.setdefault(name, set()).add(m.group(1))
    return out
