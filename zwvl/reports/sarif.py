"""The SARIF 2.1.0 report (code scanning): fails and waivers with their file:line."""

from __future__ import annotations

import json
from typing import Any

from zwvl import __version__
from zwvl.policy.runner import CheckResult
from zwvl.reports.problems import problems


def to_sarif(result: CheckResult) -> str:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for p in result.principles:
        for r in p.rules:
            index[r.spec.id] = len(rules)
            rules.append(
                {
                    "id": r.spec.id,
                    "name": r.spec.id.replace("-", ""),
                    "shortDescription": {"text": r.spec.title},
                    "fullDescription": {"text": r.spec.rationale},
                    "defaultConfiguration": {
                        "level": "error" if r.spec.severity == "mandatory" else "warning"
                    },
                    "properties": {"principle": p.spec.id, "severity": r.spec.severity},
                }
            )
    results = []
    for sev, rid, f in problems(result):
        res: dict[str, Any] = {
            "ruleId": rid,
            "ruleIndex": index[rid],
            "level": ("error" if sev == "mandatory" else "warning") if f.status == "fail" else "note",
            "message": {"text": f"{f.object}: {f.message}"},
            "partialFingerprints": {"zwvlObject": f"{rid}:{f.object}"},
        }
        if f.src:
            res["locations"] = [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.src.file, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": max(f.src.line, 1), "startColumn": max(f.src.col, 1)},
                    }
                }
            ]
        if f.status == "waived" and f.waiver:
            res["suppressions"] = [
                {
                    "kind": "external",
                    "justification": f"{f.waiver.reason} "
                    f"(approved by {f.waiver.approver}, until {f.waiver.expires})",
                }
            ]
        results.append(res)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "zwvl", "version": __version__, "rules": rules}},
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
