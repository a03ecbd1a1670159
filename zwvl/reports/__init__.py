"""Check reports: text (terminal), JSON (machines), JUnit (CI test tab), SARIF (code scanning),
Markdown (pull request comment) and HTML (auditors), one module per format. All deterministic for
the same input."""

from __future__ import annotations

from zwvl.policy.runner import CheckResult

FORMATS = ("text", "json", "junit", "sarif", "markdown", "html")


def render(result: CheckResult, fmt: str) -> str:
    if fmt == "text":
        from zwvl.reports.text import to_text as fn
    elif fmt == "json":
        from zwvl.reports.json_report import to_json as fn
    elif fmt == "junit":
        from zwvl.reports.junit import to_junit as fn
    elif fmt == "sarif":
        from zwvl.reports.sarif import to_sarif as fn
    elif fmt == "markdown":
        from zwvl.reports.markdown import to_markdown as fn
    elif fmt == "html":
        from zwvl.reports.html import to_html as fn
    else:
        raise ValueError(f"unknown report format {fmt!r} (one of {', '.join(FORMATS)})")
    return fn(result)
