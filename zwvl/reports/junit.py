"""The JUnit report (CI test tabs): a suite per principle, a case per finding."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from zwvl.policy.runner import CheckResult


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
