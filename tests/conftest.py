"""Shared test helpers: a writable copy of the repository's inventory and policies, and the session's
NetBox filled with the region (the infra and monitoring tests both read it)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
# the repository root for zwvl.repo.repo_root(), also in subprocesses started from other folders
os.environ.setdefault("ZWVL_REPO", str(REPO))
TODAY = dt.date(2026, 11, 28)


class Region:
    """A copy of inventory/ and policies/ in a temporary repository root, editable per test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.inventory = root / "inventory"
        self.policies = root / "policies"
        shutil.copytree(REPO / "inventory", self.inventory)
        shutil.copytree(REPO / "policies", self.policies)

    def edit(self, rel: str, fn: Callable[[Any], Any]) -> None:
        """Load a YAML file (relative to the repo root), let fn change it in place, write it back."""
        path = self.root / rel
        data = yaml.safe_load(path.read_text())
        fn(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))

    def write(self, rel: str, text: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return path

    def load(self):  # noqa: ANN201
        from zwvl.inventory import load_inventory

        return load_inventory(self.inventory)

    def check(self, **kw: Any):  # noqa: ANN201
        from zwvl.policy.runner import run_checks

        kw.setdefault("today", TODAY)
        return run_checks(self.load(), self.root, self.policies, **kw)


@pytest.fixture
def region(tmp_path: Path) -> Region:
    return Region(tmp_path)


def find(data: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    for item in data:
        if all(item.get(k) == v for k, v in match.items()):
            return item
    raise KeyError(match)


@pytest.fixture(scope="session")
def region_netbox(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A NetBox of the session's own (``.url``, ``.token``), filled from inventory/ by `zwvl apply`
    (about three minutes on two cores), stopped and dropped at the end of the session. Tests that
    change it put back what they changed.

    ``ZWVL_INFRA_NETBOX_URL`` and ``ZWVL_INFRA_NETBOX_TOKEN`` name an already filled NetBox instead
    (a developer's shortcut: saves the three minutes of `zwvl apply`)."""
    from devtools import lab_netbox
    from tests.support.progress import stderr_progress

    url = os.environ.get("ZWVL_INFRA_NETBOX_URL", "").strip()
    token = os.environ.get("ZWVL_INFRA_NETBOX_TOKEN", "").strip()
    if url and token:
        yield SimpleNamespace(url=url.rstrip("/"), token=token)
        return
    say = stderr_progress(pytestconfig, "netbox")
    lab_netbox.drop_stale()
    with lab_netbox.populated(
        f"t{os.getpid()}_0", tmp_path_factory.mktemp("region-netbox"), REPO / "inventory", say
    ) as inst:
        yield inst
