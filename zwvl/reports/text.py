"""The text report (terminals, logs); `terminal.py` colours it."""

from __future__ import annotations

from zwvl.policy.runner import CheckResult
from zwvl.reports.problems import problems


def to_text(result: CheckResult) -> str:
    s = result.summary()
    lines = [
        f"zwvl check {result.today.isoformat()}"
        + (f" (live evidence: {result.live_source})" if result.live_source else "")
    ]
    lines.append("")
    for p in result.principles:
        mark = {"pass": "ok  ", "fail": "FAIL", "warn": "warn", "waived": "wvd ", "manual": "man "}[p.status]
        lines.append(f"{mark} {p.spec.id:<4} {p.spec.title}")
        for r in p.rules:
            n_fail = sum(f.status == "fail" for f in r.findings)
            n_pass = sum(f.status == "pass" for f in r.findings)
            n_wv = sum(f.status == "waived" for f in r.findings)
            lines.append(
                f"       {r.spec.id} [{r.spec.severity}] {n_pass} pass, {n_fail} fail, {n_wv} waived"
            )
    probs = problems(result)
    if probs:
        lines += ["", "Findings:"]
        for sev, rid, f in probs:
            where = f"{f.src}: " if f.src else ""
            tag = "WAIVED" if f.status == "waived" else sev.upper()
            lines.append(f"  {where}{tag} {rid} {f.object}: {f.message}")
            if f.waiver:
                lines.append(
                    f"      waiver until {f.waiver.expires}: {f.waiver.reason} ({f.waiver.approver})"
                )
    lines += ["", "Indicators:"]
    for ind in result.indicators:
        target = f" / {ind['target']}" if ind.get("target") is not None else ""
        lines.append(f"  {ind['title']}: {ind['value']}{target}")
    f = s["findings"]
    lines += [
        "",
        f"{s['result'].upper()}: {f['pass']} passed, {f['fail']} failed, {f['waived']} waived "
        f"({s['by_severity']['mandatory']['fail']} mandatory failures)",
    ]
    return "\n".join(lines) + "\n"
