"""The guides' NetBox steps (`<!-- test: netbox -->`) against a real local NetBox.

One NetBox on a fresh clone of the migrated template (as tests/integration does) gets the region as
it is on main; then each guide runs from its first step to its last in its own checkout, so
`zwvl plan` shows exactly the guide's change. The guides only read NetBox, so they share it.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.workflow.guides import GuideRun, checkout, git_env, guides, parse

pytestmark = pytest.mark.integration

NETBOX_GUIDES = [g for g in guides() if any(b.directive.netbox for b in parse(g) if b.kind == "run")]
_counter = itertools.count(1000)  # tests/integration counts from 0; the names must not meet


def progress(message: str) -> None:
    sys.stderr.write(f"[netbox] {message}\n")


@pytest.fixture(scope="module")
def netbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(url, token) of a NetBox holding the region of main; stopped and dropped afterwards."""
    from devtools import netbox as local

    template = local.ensure_template(progress=progress)
    n = next(_counter)
    db_name = f"zwvl_test_{os.getpid()}_{n}"
    local.drop_database(db_name)
    local.clone_database(db_name, template)
    try:
        inst = local.start_instance(
            db_name,
            local.free_port(),
            f"test-{os.getpid()}-{n}",
            root=tmp_path_factory.mktemp("netbox"),
            progress=progress,
        )
    except BaseException:
        local.drop_database(db_name)
        raise
    try:
        root = checkout(tmp_path_factory.mktemp("main"))
        env = git_env()
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env["NETBOX_URL"], env["NETBOX_TOKEN"] = inst.url, inst.token
        applied = subprocess.run(
            ["zwvl", "apply"], cwd=root, env=env, capture_output=True, text=True, timeout=3600
        )
        assert applied.returncode == 0, applied.stdout + applied.stderr
        yield inst.url, inst.token
    finally:
        try:
            local.stop_instance(inst)
        finally:
            local.drop_database(db_name)
            shutil.rmtree(inst.root, ignore_errors=True)


def test_every_guide_with_netbox_steps_is_covered() -> None:
    assert {g.name for g in NETBOX_GUIDES} >= {"add-building.md", "on-call.md"}


@pytest.mark.parametrize("guide", NETBOX_GUIDES, ids=lambda p: p.name)
def test_guide_against_netbox(guide: Path, netbox: tuple[str, str], tmp_path: Path) -> None:
    run = GuideRun(checkout(tmp_path / "repo"), netbox=netbox)
    run.run(parse(guide))
    assert run.pending_netbox == 0
