"""What both Pulumi programs share (zwvl.platform.stack): where the repository and the stack's
inventory are, and the options of a component's children."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import pulumi
from tests.conftest import Region
from zwvl.platform.stack import child_opts, stack_inventory
from zwvl.repo import repo_root

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def stack_config() -> Iterator[dict[str, str]]:
    config: dict[str, str] = {}
    yield config
    pulumi.runtime.set_all_config({})


def use(config: dict[str, str], **values: str) -> pulumi.Config:
    config.update({f"zwvl:{k}": v for k, v in values.items()})
    pulumi.runtime.set_all_config(config)
    return pulumi.Config("zwvl")


def test_a_program_finds_its_repository_from_its_own_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZWVL_REPO", raising=False)
    monkeypatch.chdir("/")  # not from the working directory: from the project folder up
    assert repo_root(start=REPO / "pulumi" / "data-platform") == REPO
    assert repo_root(start=REPO / "pulumi" / "helpdesk") == REPO


def test_stack_inventory_relative_to_the_repository(region: Region, stack_config: dict[str, str]) -> None:
    inv = stack_inventory(use(stack_config, inventory="inventory"), region.root)
    assert inv.root == region.inventory
    assert stack_inventory(use(stack_config), region.root).root == region.inventory  # the default
    absolute = use(stack_config, inventory=str(region.inventory))
    assert stack_inventory(absolute, Path("/nonexistent")).root == region.inventory


def test_child_opts_keep_the_old_urn() -> None:
    parent = object.__new__(pulumi.ComponentResource)  # options only name it
    opts = child_opts(parent)
    assert opts.parent is parent
    assert opts.aliases is not None and len(opts.aliases) == 1
    alias = opts.aliases[0]
    assert isinstance(alias, pulumi.Alias)
    assert alias.parent is pulumi.ROOT_STACK_RESOURCE  # no parent: the stack
    assert (alias.name, alias.type_, alias.stack, alias.project) == (..., ..., ..., ...)  # all as now
