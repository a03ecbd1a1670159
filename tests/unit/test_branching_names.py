"""Branch names from pull requests, and how a plan names its branch (no NetBox needed)."""

from __future__ import annotations

import pytest

from zwvl.netbox.branching import BranchError, normalise_name, pr_branch, unbranchable
from zwvl.netbox.plan import Op, Plan, plan_from_json, plan_to_json
from zwvl.netbox.render import plan_markdown, plan_text


@pytest.mark.parametrize(
    ("given", "want"),
    [
        ("123", "pr-123"),
        ("#7", "pr-7"),
        ("pr-123", "pr-123"),
        ("Feature/Foo Bar", "feature-foo-bar"),
        ("--x..", "x"),
        ("a" * 150, "a" * 100),
    ],
)
def test_normalise_name(given: str, want: str) -> None:
    assert normalise_name(given) == want


@pytest.mark.parametrize("bad", ["", "///", "   "])
def test_unusable_names_are_refused(bad: str) -> None:
    with pytest.raises(BranchError, match="not usable as a branch name"):
        normalise_name(bad)


def test_pr_branch() -> None:
    assert pr_branch(42) == "pr-42"
    assert pr_branch("!42") == "pr-42"
    with pytest.raises(BranchError):
        pr_branch("main")


def _plan(branch: str | None = None) -> Plan:
    ops = [
        Op("update", "circuits.circuit", ("ZWVL-FO-0004",), 3, None, {"description": "x"}),
        Op("create", "extras.customfield", ("zwvl_source",), None, None, {"name": "zwvl_source"}),
    ]
    url = "https://netbox.example/plugins/branching/branches/4/" if branch else None
    return Plan("https://netbox.example", "4.7.3", "f" * 64, ops, branch=branch, branch_url=url)


def test_unbranchable_names_the_operations_the_plugin_would_send_to_main() -> None:
    assert unbranchable(_plan(), {"circuits.circuit"}) == ["create extras.customfield zwvl_source"]
    assert unbranchable(_plan(), {"circuits.circuit", "extras.customfield"}) == []


def test_a_branch_plan_names_its_branch_and_url_and_keeps_them_when_saved() -> None:
    p = _plan("pr-12")
    assert "Branch pr-12: https://netbox.example/plugins/branching/branches/4/" in plan_text(p)
    md = plan_markdown(p)
    assert "NetBox branch [pr-12](https://netbox.example/plugins/branching/branches/4/)" in md
    again = plan_from_json(plan_to_json(p))
    assert (again.branch, again.branch_url) == (p.branch, p.branch_url)
    assert "branch" not in plan_text(_plan()).lower()
