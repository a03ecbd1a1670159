"""The rule registry: each catalogue rule's implementation registers itself with :func:`rule`."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from zwvl.policy.findings import Context, Finding

RuleFn = Callable[[Context], Iterable[Finding]]
RULES: dict[str, RuleFn] = {}
# rules about the waivers themselves: they run after every other rule and cannot be waived
WAIVER_RULES: set[str] = set()


def rule(rule_id: str, *, after_others: bool = False) -> Callable[[RuleFn], RuleFn]:
    """Register the implementation of a catalogue rule.

    `after_others`: the rule judges the waivers, so it runs once every other rule has filled
    `Context.evaluated`, and no waiver may name it.
    """

    def deco(fn: RuleFn) -> RuleFn:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id} registered twice")
        RULES[rule_id] = fn
        if after_others:
            WAIVER_RULES.add(rule_id)
        return fn

    return deco
