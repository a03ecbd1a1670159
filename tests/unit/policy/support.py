"""Helpers for the rule tests: the findings of one rule, its failures, a fibre cut in the inventory."""

from __future__ import annotations

from typing import Any

from tests.conftest import Region
from zwvl.policy.findings import Finding
from zwvl.policy.runner import CheckResult


def findings(result: CheckResult, rule: str) -> list[Finding]:
    return [f for r in result.rules if r.spec.id == rule for f in r.findings]


def failed(result: CheckResult, rule: str) -> dict[str, Finding]:
    return {f.object: f for f in findings(result, rule) if f.status == "fail"}


def cut(region: Region, *cids: str, status: str = "decommissioned") -> None:
    def edit(d: dict[str, Any]) -> None:
        for c in d["circuits"]:
            if c["cid"] in cids:
                c["status"] = status

    region.edit("inventory/backbone/core.yaml", edit)
