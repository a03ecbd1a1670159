"""Plans and drift as text (terminal), Markdown (a pull-request comment) and JSON."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

from zwvl.netbox.kinds import ORDER, Ref
from zwvl.netbox.plan import Op, Plan, encode, plan_to_json
from zwvl.netbox.reconcile import DriftItem

MD_LIST_LIMIT = 300
"""Lines per Markdown section (GitHub comments are limited to 65,536 characters)."""


def value_text(value: Any) -> str:
    if isinstance(value, Ref):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, (dict, str)):
        return json.dumps(encode(value), ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_line(plan: Plan, prefix: str = "Plan: ") -> str:
    c = plan.counts()
    if not plan.ops:
        text = "No changes: NetBox matches the inventory."
    else:
        text = f"{prefix}{c['create']} to create, {c['update']} to update, {c['delete']} to delete."
    if plan.conflicts:
        text += f" {len(plan.conflicts)} conflict(s) with unmanaged objects."
    if plan.cascades:
        text += f" {len(plan.cascades)} unmanaged object(s) deleted by cascade."
    return text


def _by_kind(plan: Plan) -> list[tuple[str, dict[str, int]]]:
    counts: dict[str, Counter[str]] = {}
    for op in plan.ops:
        counts.setdefault(op.kind, Counter())[op.action] += 1
    return [(k, dict(counts[k])) for k in ORDER if k in counts]


def _op_line(op: Op) -> str:
    sign = {"create": "+", "update": "~", "delete": "-"}[op.action]
    extra = f"  ({op.reason})" if op.reason else ""
    where = f"  [{op.source}]" if op.source else ""
    return f"  {sign} {op.kind} {' '.join(op.key)}{extra}{where}"


def plan_text(plan: Plan) -> str:
    lines = [f"NetBox {plan.url} ({plan.version}); {plan.managed_count} managed objects."]
    if plan.branch:
        lines.append(f"Branch {plan.branch}: {plan.branch_url or '(no URL)'}")
    lines.append(summary_line(plan))
    for op in plan.ops:
        lines.append(_op_line(op))
        if op.action == "update":
            for ch in op.changes:
                lines.append(f"      {ch.field}: {value_text(ch.old)} -> {value_text(ch.new)}")
    if plan.conflicts:
        lines.append("Conflicts (unmanaged objects where managed ones belong; apply refuses, see --adopt):")
        for c in plan.conflicts:
            note = f": {c.note}" if c.note else ""
            lines.append(f"  ! {c.kind} {' '.join(c.key)} (id {c.id}{note})  [{c.source}]")
    if plan.cascades:
        verdict = "accepted by --adopt" if plan.adopt else "apply refuses, see --adopt"
        lines.append(f"Unmanaged objects the deletes take with them ({verdict}):")
        for cas in plan.cascades:
            lines.append(f"  ! {cas.kind} {' '.join(cas.key)} (id {cas.id}), with {cas.via}")
    if plan.unmanaged:
        kinds = Counter(u.kind for u in plan.unmanaged)
        lines.append(
            f"Unmanaged objects left alone: {len(plan.unmanaged)} ("
            + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
            + ")"
        )
    return "\n".join(lines) + "\n"


def plan_markdown(plan: Plan) -> str:
    out = [f"### NetBox plan: {summary_line(plan, prefix='')}", ""]
    meta = (
        f"NetBox `{plan.url}` ({plan.version}) · {plan.managed_count} managed objects · "
        f"state `{plan.fingerprint[:12]}`"
    )
    if plan.commit:
        meta += f" · commit `{plan.commit[:12]}`"
    out += [meta, ""]
    if plan.branch:
        # reviewers look at the change in NetBox's own UI (diff, changed objects) before the merge
        where = f"[{_md(plan.branch)}]({plan.branch_url})" if plan.branch_url else f"`{_md(plan.branch)}`"
        out += [f"NetBox branch {where}: the plan against that branch, review it there before merging.", ""]
    if plan.ops:
        out += ["| Kind | Create | Update | Delete |", "|---|---:|---:|---:|"]
        for kind, c in _by_kind(plan):
            out.append(f"| `{kind}` | {c.get('create', 0)} | {c.get('update', 0)} | {c.get('delete', 0)} |")
        out.append("")
    updates = [op for op in plan.ops if op.action == "update"]
    if updates:
        out += ["#### Updates", "", "| Object | Field | NetBox now | After apply |", "|---|---|---|---|"]
        rows = [(op, ch) for op in updates for ch in op.changes]
        for op, ch in rows[:MD_LIST_LIMIT]:
            out.append(
                f"| `{_md(op.kind)}` {_md(' '.join(op.key))} | `{_md(ch.field)}` | "
                f"`{_md(value_text(ch.old))}` | `{_md(value_text(ch.new))}` |"
            )
        if len(rows) > MD_LIST_LIMIT:
            out.append(f"| … | {len(rows) - MD_LIST_LIMIT} more field changes | | |")
        out.append("")
    for action, title in (("delete", "Deletes"), ("create", "Creates")):
        ops = [op for op in plan.ops if op.action == action]
        if not ops:
            continue
        out += [f"<details><summary>{title} ({len(ops)})</summary>", ""]
        for op in ops[:MD_LIST_LIMIT]:
            src = f" — `{op.source}`" if op.source else ""
            reason = f" ({op.reason})" if op.reason else ""
            out.append(f"- `{op.kind}` {_md(' '.join(op.key))}{reason}{src}")
        if len(ops) > MD_LIST_LIMIT:
            out.append(f"- … and {len(ops) - MD_LIST_LIMIT} more")
        out += ["", "</details>", ""]
    if plan.conflicts:
        out += [
            "#### Conflicts",
            "",
            "Unmanaged objects where managed ones belong (apply refuses; see `--adopt`):",
            "",
        ]
        for conflict in plan.conflicts[:MD_LIST_LIMIT]:
            note = f": {_md(conflict.note)}" if conflict.note else ""
            out.append(f"- `{conflict.kind}` {_md(' '.join(conflict.key))} (id {conflict.id}{note})")
        out.append("")
    if plan.cascades:
        verdict = "accepted by `--adopt`" if plan.adopt else "apply refuses; see `--adopt`"
        out += ["#### Cascaded deletes", "", f"Unmanaged objects the deletes take with them ({verdict}):", ""]
        for cas in plan.cascades[:MD_LIST_LIMIT]:
            out.append(f"- `{cas.kind}` {_md(' '.join(cas.key))} (id {cas.id}), with `{_md(cas.via)}`")
        out.append("")
    if plan.unmanaged:
        out.append(f"{len(plan.unmanaged)} unmanaged object(s) in NetBox are left alone.")
        out.append("")
    return "\n".join(out)


def plan_json(plan: Plan) -> str:
    return json.dumps(plan_to_json(plan), indent=2, ensure_ascii=False) + "\n"


def render_plan(plan: Plan, fmt: str) -> str:
    if fmt == "json":
        return plan_json(plan)
    if fmt == "markdown":
        return plan_markdown(plan)
    return plan_text(plan)


# --------------------------------------------------------------------------------------------- drift


def drift_json(items: list[DriftItem], url: str) -> str:
    doc = {
        "checked_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "netbox": url,
        "drift": len(items),
        "objects": [
            {
                "kind": i.kind,
                "key": list(i.key),
                "id": i.id,
                "source": i.source,
                "note": i.note,
                "changes": [
                    {"field": c.field, "inventory": encode(c.old), "netbox": encode(c.new)} for c in i.changes
                ],
            }
            for i in items
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def drift_text(items: list[DriftItem], url: str) -> str:
    if not items:
        return f"No drift: every managed object in {url} is as zwvl last wrote it.\n"
    lines = [f"Drift: {len(items)} managed object(s) in {url} were changed outside zwvl."]
    for i in items:
        note = f"  ({i.note})" if i.note else ""
        src = f"  [{i.source}]" if i.source else ""
        lines.append(f"  * {i.title}{note}{src}")
        for c in i.changes:
            lines.append(f"      {c.field}: inventory {value_text(c.old)}, NetBox {value_text(c.new)}")
    lines.append("`zwvl apply` restores the inventory's values.")
    return "\n".join(lines) + "\n"


def drift_markdown(items: list[DriftItem], url: str) -> str:
    if not items:
        return f"### NetBox drift: none\n\nEvery managed object in `{url}` is as zwvl last wrote it.\n"
    out = [
        f"### NetBox drift: {len(items)} object(s) changed outside zwvl",
        "",
        "| Object | Field | Inventory | NetBox now |",
        "|---|---|---|---|",
    ]
    rows = 0
    for i in items:
        if not i.changes:
            out.append(f"| `{i.kind}` {_md(' '.join(i.key))} | {_md(i.note or '?')} | | |")
            rows += 1
        for c in i.changes:
            out.append(
                f"| `{i.kind}` {_md(' '.join(i.key))} | `{_md(c.field)}` | `{_md(value_text(c.old))}` | "
                f"`{_md(value_text(c.new))}` |"
            )
            rows += 1
        if rows >= MD_LIST_LIMIT:
            out.append("| … | | | |")
            break
    return "\n".join(out) + "\n"


def render_drift(items: list[DriftItem], url: str, fmt: str) -> str:
    if fmt == "json":
        return drift_json(items, url)
    if fmt == "markdown":
        return drift_markdown(items, url)
    return drift_text(items, url)
