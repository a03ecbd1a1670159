"""A1 (buy only once) and A2 (reuse before buy)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from zwvl.policy.findings import Context, Finding
from zwvl.policy.registry import rule


@rule("A1-buy-once")
def buy_once(ctx: Context) -> Iterator[Finding]:
    by_product: dict[str, list] = defaultdict(list)
    for sw in ctx.inv.software.values():
        by_product[sw.product.casefold()].append(sw)
    for entries in by_product.values():
        framework = [e for e in entries if e.contract == "regional-framework"]
        for sw in entries:
            if sw.contract != "local-purchase":
                yield ctx.finding(
                    "A1-buy-once",
                    sw,
                    True,
                    f"{sw.product} is bought under a regional framework",
                    partners=sw.partners,
                )
                continue
            buyers = sorted({p for e in entries if e.contract == "local-purchase" for p in e.partners})
            if len(buyers) >= 2 and not framework:
                yield ctx.finding(
                    "A1-buy-once",
                    sw,
                    False,
                    f"{sw.product} is bought separately by {len(buyers)} partners without a regional "
                    f"framework contract: {', '.join(buyers)}",
                    partners=buyers,
                )
            else:
                why = "a regional framework exists" if framework else "bought by one partner only"
                yield ctx.finding("A1-buy-once", sw, True, f"{sw.product}: {why}", partners=buyers)


@rule("A2-reuse-framework")
def reuse_framework(ctx: Context) -> Iterator[Finding]:
    regional: dict[str, list[str]] = defaultdict(list)
    for sw in ctx.inv.software.values():
        if sw.contract == "regional-framework":
            regional[sw.domain.casefold()].append(sw.product)
    for sw in ctx.inv.software.values():
        if sw.contract == "regional-framework":
            continue
        alternatives = sorted(p for p in regional.get(sw.domain.casefold(), []) if p != sw.product)
        if alternatives:
            yield ctx.finding(
                "A2-reuse-framework",
                sw,
                False,
                f"{sw.product} is bought locally while the regional framework offers "
                f"{', '.join(alternatives)} for {sw.domain}",
                domain=sw.domain,
                alternatives=alternatives,
            )
        else:
            yield ctx.finding(
                "A2-reuse-framework",
                sw,
                True,
                f"no regional product for {sw.domain} yet",
                domain=sw.domain,
                alternatives=[],
            )
