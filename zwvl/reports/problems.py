"""What every report lists: the fails and waivers, mandatory first."""

from __future__ import annotations

from zwvl.policy.findings import Finding
from zwvl.policy.runner import CheckResult


def problems(result: CheckResult) -> list[tuple[str, str, Finding]]:
    """(severity, rule id, finding) for every fail and waiver, mandatory first."""
    out: list[tuple[str, str, Finding]] = []
    for r in result.rules:
        for f in r.findings:
            if f.status != "pass":
                out.append((r.spec.severity, r.spec.id, f))
    out.sort(key=lambda t: (t[0] != "mandatory", t[2].status != "fail", t[1], t[2].object))
    return out
