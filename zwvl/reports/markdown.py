"""The Markdown report (a pull request comment)."""

from __future__ import annotations

from zwvl.policy.runner import CheckResult
from zwvl.reports.problems import problems


def to_markdown(result: CheckResult) -> str:
    s = result.summary()
    icon = {"pass": "✅", "fail": "❌", "warn": "⚠️", "waived": "🟡", "manual": "📝"}
    out = [f"### Policy check: {'❌ failed' if s['result'] == 'fail' else '✅ passed'}", ""]
    f = s["findings"]
    out.append(
        f"{f['pass']} passed, {f['fail']} failed ({s['by_severity']['mandatory']['fail']} mandatory), "
        f"{f['waived']} waived — {result.today.isoformat()}"
        + (f", live evidence from {result.live_source}" if result.live_source else "")
    )
    out += ["", "| Principle | Status | Rules |", "|---|---|---|"]
    for p in result.principles:
        if p.spec.kind == "manual":
            continue
        rules = ", ".join(f"`{r.spec.id}` {icon.get(r.status, '')}" for r in p.rules)
        out.append(f"| **{p.spec.id}** {p.spec.title} | {icon[p.status]} {p.status} | {rules} |")
    probs = problems(result)
    if probs:
        out += ["", "| Severity | Rule | Object | Where | Finding |", "|---|---|---|---|---|"]
        for sev, rid, fd in probs:
            msg = fd.message.replace("|", "\\|")
            if fd.waiver:
                msg += f" — waived until {fd.waiver.expires} ({fd.waiver.approver})"
            sev_s = "waived" if fd.status == "waived" else sev
            out.append(f"| {sev_s} | `{rid}` | `{fd.object}` | `{fd.src or ''}` | {msg} |")
    manual = sum(1 for p in result.principles if p.spec.kind == "manual")
    out += ["", f"<sub>{manual} principles are checked manually by auditors; see the HTML report.</sub>", ""]
    return "\n".join(out)
