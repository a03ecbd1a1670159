"""The catalogue against the implementations, and the region passing every rule with evidence."""

from __future__ import annotations

import pytest

import zwvl.policy.rules  # noqa: F401  (registers the rules before parametrize reads RULES)
from tests.conftest import Region
from tests.unit.policy.support import failed, findings
from zwvl.policy.registry import RULES
from zwvl.policy.runner import CheckResult


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    return Region(tmp_path_factory.mktemp("base")).check()


def test_every_catalogue_rule_is_implemented_and_every_principle_present(baseline: CheckResult) -> None:
    ids = {p.spec.id for p in baseline.principles}
    expected = (
        {f"B{i}" for i in range(1, 11)} | {f"A{i}" for i in range(1, 6)} | {f"D{i}" for i in range(1, 7)}
    )
    expected |= {f"I{i}" for i in range(1, 7)} | {"SEC"}
    assert expected <= ids
    assert {r.spec.id for r in baseline.rules} == set(RULES)
    for p in baseline.principles:
        assert (p.spec.kind == "manual") == (not p.rules)
        if p.spec.kind == "manual":
            assert p.spec.manual and p.spec.manual.why and p.spec.manual.evidence


@pytest.mark.parametrize("rule", sorted(RULES))
def test_baseline_passes_with_evidence(baseline: CheckResult, rule: str) -> None:
    fs = findings(baseline, rule)
    assert fs, f"{rule} produced no evidence on the region"
    assert all(f.message for f in fs)
    if rule != "A2-reuse-framework":  # the region really buys TOPdesk/Ultimo locally (advisory)
        assert not failed(baseline, rule), failed(baseline, rule)
