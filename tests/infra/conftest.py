"""The fibre backbone for real: a NetBox filled by `zwvl apply`, the lab built from it, Ansible, testinfra.

Everything is started here and stopped at the end of the session (as root, which CI is):

1. the session's NetBox (``region_netbox`` of tests/conftest.py, shared with tests/monitoring): a
   clone ``zwvl_lab_t<pid>_0`` of the migrated template on a free port, filled from inventory/ with
   ``zwvl apply`` (~3 minutes on two cores);
2. the lab ``t<pid>`` (namespaces ``zl-t<pid>.<router>``) built from that NetBox with
   :class:`zwvl.lab.Lab`, for the scope in ``ZWVL_LAB_TEST_SCOPE``;
3. ``ansible-playbook fibre.yml`` (nb_inventory) once, then the tests;
4. testinfra hosts over ssh: ``ssh -F <lab>/ssh_config`` (ProxyCommand ``ip netns exec <ns> nc %h %p``,
   ControlPath for speed).

Scope (``ZWVL_LAB_TEST_SCOPE``): default ``kortrijk,zwevegem,w13``, the routers of those partners plus
the regional datacenter's, 17 routers and 17 fibre links: a ring (regional datacenter, Kortrijk,
W13) to test rerouting, and Zwevegem hanging off Kortrijk, whose single fibre the I1 topology names
as the single point of failure of six routers. The whole lab test takes about 5 minutes on CI's
machine. ``all`` builds the whole region (72 routers, 75 links; about 10 minutes).
Every single link is also cut and restored once. ``ZWVL_INFRA_NETBOX_URL`` and
``ZWVL_INFRA_NETBOX_TOKEN`` reuse a NetBox already filled with the region instead of making one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.progress import stderr_progress

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
DEFAULT_SCOPE = "kortrijk,zwevegem,w13"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "infra: builds the FRR lab from a real NetBox (root, network namespaces, ~5 minutes)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.infra)


@pytest.fixture(scope="session")
def say(pytestconfig: pytest.Config) -> Callable[[str], None]:
    return stderr_progress(pytestconfig, "lab")


@pytest.fixture(scope="session")
def root_only() -> None:
    if os.geteuid() != 0:
        pytest.fail("tests/infra need root (network namespaces, veth pairs, mounts); CI runs them as root")


@pytest.fixture(scope="session")
def infra_netbox(root_only: None, region_netbox: Any) -> Any:
    """The session's NetBox filled from inventory/ (tests/conftest.py: shared with the monitoring
    tests, which read the same region from it)."""
    return region_netbox


@pytest.fixture(scope="session")
def inventory() -> Any:
    from zwvl.inventory import load_inventory

    return load_inventory(REPO / "inventory")


def _down_stale_labs(say: Callable[[str], None]) -> None:
    """Tear down labs of test sessions that died without their teardown (lab t<pid>, pid gone)."""
    from zwvl.lab import Lab
    from zwvl.lab.processes import pid_alive
    from zwvl.lab.state import lab_base

    base = lab_base()
    for folder in sorted(base.glob("t[0-9]*")) if base.is_dir() else []:
        pid = int(folder.name[1:]) if folder.name[1:].isdigit() else 0
        if pid and pid != os.getpid() and not pid_alive(pid):
            say(f"Tearing down the stale lab {folder.name} ...")
            Lab(folder.name).down()


@pytest.fixture(scope="session")
def lab(infra_netbox: Any, say: Callable[[str], None]) -> Iterator[Any]:
    """The lab built from the session's NetBox, torn down (by PID) at the end."""
    from zwvl.lab import Lab
    from zwvl.lab.source import HUB_GROUP, load_spec

    scope = os.environ.get("ZWVL_LAB_TEST_SCOPE", DEFAULT_SCOPE).strip()
    everything = scope == "all"
    partners = [] if everything else [p for p in scope.split(",") if p]
    spec, url, desc = load_spec(
        everything=everything,
        partners=partners,
        sites=[],
        routers=[],
        hub_group=HUB_GROUP,
        url=infra_netbox.url,
        token=infra_netbox.token,
    )
    _down_stale_labs(say)
    the_lab = Lab(f"t{os.getpid()}")
    say(f"Building lab {the_lab.name} ({desc}): {len(spec.routers)} routers, {len(spec.links)} links ...")
    try:
        the_lab.up(spec, progress=say, netbox_url=url, scope=desc)
        yield the_lab
    finally:
        the_lab.down(progress=say)


@pytest.fixture(scope="session")
def first_run(lab: Any, infra_netbox: Any, say: Callable[[str], None]) -> Any:
    """The first `ansible-playbook fibre.yml` on the lab (nb_inventory), then OSPF convergence."""
    from zwvl.lab.ansible import run_playbook
    from zwvl.lab.verify import wait_converged

    say("ansible-playbook fibre.yml (first run) ...")
    run = run_playbook(lab, infra_netbox.url, infra_netbox.token)
    assert run.returncode == 0 and run.failed == 0, run.output[-4000:]
    say(f"  first run: {run.seconds:.0f}s, {run.changed} changes; waiting for OSPF ...")
    rep = wait_converged(lab, timeout=90)
    assert rep.ok, rep.problems
    return run


@pytest.fixture(scope="session")
def hosts(lab: Any, first_run: Any) -> dict[str, Any]:
    """testinfra hosts per router, over ssh with the lab's ssh_config (ProxyCommand, ControlPath)."""
    import testinfra

    return {
        r.name: testinfra.get_host(f"ssh://{r.name}", ssh_config=str(lab.ssh_config), timeout=20)
        for r in lab.routers()
    }
