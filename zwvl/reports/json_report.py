"""The JSON report (machines, the exporter): summary, principles with rules and findings, indicators."""

from __future__ import annotations

import json
from typing import Any

from zwvl import __version__
from zwvl.policy.runner import CheckResult, PrincipleResult


def to_dict(result: CheckResult) -> dict[str, Any]:
    return {
        "tool": {"name": "zwvl", "version": __version__},
        "date": result.today.isoformat(),
        "live_evidence": result.live_source,
        "summary": result.summary(),
        "principles": [_principle(p) for p in result.principles],
        "indicators": result.indicators,
        "inventory": result.inventory_counts,
    }


def _principle(p: PrincipleResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": p.spec.id,
        "group": p.spec.group,
        "title": p.spec.title,
        "statement": p.spec.statement,
        "kind": p.spec.kind,
        "status": p.status,
        "rules": [
            {
                "id": r.spec.id,
                "title": r.spec.title,
                "severity": r.spec.severity,
                "rationale": r.spec.rationale,
                "status": r.status,
                "findings": [f.as_dict() for f in r.findings],
            }
            for r in p.rules
        ],
    }
    if p.spec.manual:
        out["manual"] = {"why": p.spec.manual.why, "evidence": p.spec.manual.evidence}
    return out


def to_json(result: CheckResult) -> str:
    return json.dumps(to_dict(result), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
