"""B7 (helpdesk pool), B8 (monitoring) and I2 (hosting)."""

from __future__ import annotations

from collections.abc import Iterator

from zwvl.model import Device, Service
from zwvl.policy.findings import Context, Finding
from zwvl.policy.registry import rule


@rule("B8-monitored")
def monitored(ctx: Context) -> Iterator[Finding]:
    objs: list[Device | Service] = [*ctx.inv.devices.values(), *ctx.inv.services.values()]
    for obj in objs:
        if obj.status != "active":
            continue
        ok = obj.monitoring != "none"
        yield ctx.finding(
            "B8-monitored",
            obj,
            ok,
            f"monitored by {obj.monitoring}" if ok else "active but not monitored",
            status=obj.status,
            monitoring=obj.monitoring,
            monitored=ok,
        )


@rule("I2-hosting-declared")
def hosting_declared(ctx: Context) -> Iterator[Finding]:
    for svc in ctx.inv.services.values():
        h = svc.hosting
        if h is None:
            yield ctx.finding(
                "I2-hosting-declared", svc, False, "no hosting declared (cloud or on-premise)", hosting=None
            )
        elif h.model == "on-premise" and not h.reason.strip():
            yield ctx.finding(
                "I2-hosting-declared",
                svc,
                False,
                "hosted on premise without a reason (cloud first)",
                hosting=h.model,
                reason=h.reason,
            )
        else:
            yield ctx.finding(
                "I2-hosting-declared",
                svc,
                True,
                f"{h.model}: {h.reason or 'cloud first'}",
                hosting=h.model,
                reason=h.reason,
            )


@rule("B7-helpdesk-pool")
def helpdesk_pool(ctx: Context) -> Iterator[Finding]:
    for p in ctx.inv.partners.values():
        ok = p.helpdesk is not None
        yield ctx.finding(
            "B7-helpdesk-pool",
            p,
            ok,
            f"queue {p.helpdesk.queue!r} in the regional helpdesk"
            if p.helpdesk
            else "no queue in the regional helpdesk",
            helpdesk_queue=p.helpdesk.queue if p.helpdesk else None,
            headcount=dict(p.helpdesk.headcount) if p.helpdesk else {},
        )
