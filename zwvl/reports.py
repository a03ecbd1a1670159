"""Check reports: text (terminal), JSON (machines), JUnit (CI test tab), SARIF (code scanning),
Markdown (pull request comment) and HTML (auditors). All deterministic for the same input."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from zwvl import __version__
from zwvl.policy.engine import CheckResult, Finding, PrincipleResult

FORMATS = ("text", "json", "junit", "sarif", "markdown", "html")


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


def _problems(result: CheckResult) -> list[tuple[str, str, Finding]]:
    """(severity, rule id, finding) for every fail and waiver, mandatory first."""
    out: list[tuple[str, str, Finding]] = []
    for r in result.rules:
        for f in r.findings:
            if f.status != "pass":
                out.append((r.spec.severity, r.spec.id, f))
    out.sort(key=lambda t: (t[0] != "mandatory", t[2].status != "fail", t[1], t[2].object))
    return out


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
    probs = _problems(result)
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
    probs = _problems(result)
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


def to_junit(result: CheckResult) -> str:
    suites = ET.Element("testsuites", name="zwvl check")
    total = failures = 0
    for p in result.principles:
        if p.spec.kind == "manual":
            continue
        suite = ET.SubElement(suites, "testsuite", name=f"{p.spec.id} {p.spec.title}")
        n = nf = ns = 0
        for r in p.rules:
            for f in r.findings:
                n += 1
                case = ET.SubElement(suite, "testcase", classname=r.spec.id, name=f.object)
                if f.status == "fail":
                    tag = "failure" if r.spec.severity == "mandatory" else "skipped"
                    el = ET.SubElement(case, tag, message=f.message)
                    if tag == "failure":
                        nf += 1
                        el.set("type", r.spec.severity)
                        el.text = f"{f.src or ''} {f.message}".strip()
                    else:
                        ns += 1
                elif f.status == "waived":
                    ns += 1
                    ET.SubElement(
                        case, "skipped", message=f"waived until {f.waiver.expires if f.waiver else '?'}"
                    )
        suite.set("tests", str(n))
        suite.set("failures", str(nf))
        suite.set("skipped", str(ns))
        suite.set("errors", "0")
        total += n
        failures += nf
    suites.set("tests", str(total))
    suites.set("failures", str(failures))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


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
    for sev, rid, f in _problems(result):
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


def render(result: CheckResult, fmt: str) -> str:
    if fmt == "html":
        from zwvl.report_html import to_html

        return to_html(result)
    return {"text": to_text, "json": to_json, "junit": to_junit, "sarif": to_sarif, "markdown": to_markdown}[
        fmt
    ](result)
