"""Fixtures that run a real NetBox: they start PostgreSQL, Redis and gunicorn themselves (no skipping).

The migrated template database is built once per machine (cached in ~/.cache/zwvl or $ZWVL_CACHE_DIR);
each fixture clones it (seconds), serves the clone with gunicorn on a free port, and at teardown stops
gunicorn by PID and drops the clone.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devtools import netbox as local
from tests.integration.reconcile_support import SMALL, copy_inventory, small_instance
from tests.support.progress import stderr_progress

_counter = itertools.count()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def netbox_progress(pytestconfig: pytest.Config) -> Callable[[str], None]:
    """Progress printer that bypasses output capture (the first template build takes ~10 minutes)."""
    return stderr_progress(pytestconfig, "netbox")


def _drop_stale_test_databases() -> None:
    """Drop zwvl_test_<pid>_<n> databases left by test sessions that no longer run."""
    for db in local.list_databases("zwvl_test_"):
        m = re.match(r"^zwvl_test_(\d+)_\d+$", db)
        if m and int(m.group(1)) != os.getpid() and not local.pid_alive(int(m.group(1))):
            local.drop_database(db)


@pytest.fixture(scope="session")
def netbox_template(netbox_progress: Callable[[str], None]) -> str:
    """Name of the migrated template database (built, restored or reused), with services running."""
    name = local.ensure_template(progress=netbox_progress)
    _drop_stale_test_databases()
    return name


def _launch(template: str, root_parent: Path, progress: Callable[[str], None]) -> local.Instance:
    """Clone the template into zwvl_test_<pid>_<n> and serve it on a free port."""
    n = next(_counter)
    pid = os.getpid()
    name = f"test-{pid}-{n}"
    db_name = f"zwvl_test_{pid}_{n}"
    local.drop_database(db_name)
    local.clone_database(db_name, template)
    root = root_parent / name
    try:
        inst = local.start_instance(db_name, local.free_port(), name, root=root, progress=progress)
    except BaseException:
        local.drop_database(db_name)
        raise
    return inst


def _teardown(handle: local.Instance) -> None:
    try:
        local.stop_instance(handle)
    finally:
        local.drop_database(handle.db_name)
        shutil.rmtree(handle.root, ignore_errors=True)


@pytest.fixture(scope="session")
def netbox(
    netbox_template: str,
    tmp_path_factory: pytest.TempPathFactory,
    netbox_progress: Callable[[str], None],
) -> Iterator[local.Instance]:
    """A NetBox shared by the session (``.url``, ``.token``, ``.db_name``, ``.headers``), on a fresh
    clone of the template and a free port."""
    handle = _launch(netbox_template, tmp_path_factory.mktemp("netbox"), netbox_progress)
    try:
        yield handle
    finally:
        _teardown(handle)


@pytest.fixture
def fresh_netbox(
    netbox_template: str,
    tmp_path_factory: pytest.TempPathFactory,
    netbox_progress: Callable[[str], None],
) -> Iterator[Callable[[], local.Instance]]:
    """Factory for NetBoxes with a clean database, each stopped and dropped after the test."""
    handles: list[local.Instance] = []

    def make() -> local.Instance:
        handle = _launch(netbox_template, tmp_path_factory.mktemp("fresh-netbox"), netbox_progress)
        handles.append(handle)
        return handle

    try:
        yield make
    finally:
        for handle in handles:
            _teardown(handle)


@pytest.fixture
def small_nb(
    netbox_template: str,
    netbox_progress: Callable[[str], None],
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
) -> Iterator[local.Instance]:
    """A NetBox of this test's own that holds the small region (tests/fixtures/small-region)."""
    base = tmp_path_factory.mktemp("small")
    with small_instance(netbox_template, base, netbox_progress, pytestconfig) as inst:
        yield inst


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    """The test's own copy of the small region's inventory, to edit."""
    return copy_inventory(SMALL, tmp_path / "inventory")
