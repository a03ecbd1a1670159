"""An apply killed half-way (SIGKILL, no clean-up) and run again converges: no duplicates, nothing missing.

The small region's template database is built exactly that way (see ``small_applied_template``); this
test checks what happened and that a clone of the result matches the inventory.
"""

from __future__ import annotations

import signal
from collections.abc import Callable

import pytest

from tests.integration.reconcile_support import (
    SMALL,
    assert_holds_inventory,
    env_for,
    small_applied_template,
    small_instance,
    zwvl,
)


def test_killed_apply_then_rerun_converges(
    netbox_template: str,
    netbox_progress: Callable[[str], None],
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
) -> None:
    base = tmp_path_factory.mktemp("interrupt")
    _template, _creds, seen = small_applied_template(netbox_template, base, netbox_progress, pytestconfig)
    code, stderr = seen["killed"]
    assert code == -signal.SIGKILL, stderr  # killed by the fault injection, mid-apply
    assert seen["half_managed"] > 0  # some objects were written ...
    code, stderr = seen["refused"]
    assert code == 1 and "another apply is running" in stderr  # ... and the lock was left behind
    code, stderr = seen["not_broken"]  # its lease is live: --break-lock alone does not break it
    assert code == 1 and "lease is live" in stderr and "--force" in stderr, stderr
    code, stderr, stdout = seen["rerun"]  # once the lease has expired, the next apply proceeds
    assert code == 0, stderr
    assert "Took over the expired apply lock held by" in stderr and "Applied:" in stdout

    with small_instance(netbox_template, base, netbox_progress, pytestconfig) as nb:
        state = assert_holds_inventory(nb, SMALL)
        assert sum(len(v) for k, v in state.records.items() if k == "dcim.device") == 12
        assert zwvl("plan", "--inventory", SMALL, env=env_for(nb)).returncode == 0
        assert zwvl("drift", "--inventory", SMALL, env=env_for(nb)).returncode == 0
