"""Helpers for the reconciler's integration tests: real NetBox instances cloned from template databases.

Besides the migrated template (``netbox_template`` from conftest.py), the tests clone a second
template: the small region (tests/fixtures/small-region) already applied. Building it costs one
apply; every test then starts from a clean copy in seconds (``CREATE DATABASE ... TEMPLATE``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools import netbox as local
from zwvl.netbox import lock
from zwvl.netbox.client import FAULT_ENV, NetboxClient
from zwvl.netbox.reconcile import connect, load_desired
from zwvl.netbox.state import State, read_state

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "tests" / "fixtures" / "small-region"
FULL = REPO / "inventory"

_counter = itertools.count(500)
KILL_AFTER = 12
"""Write requests (of about 40) after which the first apply of the small region is killed."""
KILLED_LEASE = 20
"""Lease (seconds) of the killed apply's lock: the re-runs within it are refused, the one after proceeds."""
_small_template: dict[str, Any] = {}


def _db_name() -> str:
    # same pattern as conftest.py, so that a crashed session's databases are dropped by the next one
    return f"zwvl_test_{os.getpid()}_{next(_counter)}"


def launch(
    template: str,
    base: Path,
    progress: Callable[[str], None],
    creds: dict[str, str] | None = None,
    settings: dict[str, Any] | None = None,
) -> local.Instance:
    """Clone ``template`` and serve it on a free port. ``creds`` (url/token of the instance the
    template was made from) lets the clone reuse its token instead of creating a new one;
    ``settings`` are extra NetBox settings (e.g. ``{"MAX_PAGE_SIZE": 250}``)."""
    db = _db_name()
    local.drop_database(db)
    local.clone_database(db, template)
    root = base / db
    root.mkdir(parents=True, exist_ok=True)
    port = local.free_port()
    if creds is not None:
        doc = dict(creds, db_name=db, url=f"http://{local.HOST}:{port}")
        path = root / "credentials.json"
        path.write_text(json.dumps(doc))
        path.chmod(0o600)
    try:
        return local.start_instance(
            db, port, db.replace("_", "-"), root=root, progress=progress, settings=settings or {}
        )
    except BaseException:
        local.drop_database(db)
        raise


def teardown(inst: local.Instance) -> None:
    try:
        local.stop_instance(inst)
    finally:
        local.drop_database(inst.db_name)
        shutil.rmtree(inst.root, ignore_errors=True)


def small_applied_template(
    netbox_template: str, base: Path, progress: Callable[[str], None], config: pytest.Config
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A template database holding the small region, built once per test session.

    It is built the hard way: an apply SIGKILLed after ``KILL_AFTER`` write requests (with a lease of
    ``KILLED_LEASE`` seconds), a re-run that is refused because the killed apply's lease is live, a
    --break-lock that is refused for the same reason, and, once the lease has expired, a plain re-run
    that takes the lock over.
    ``test_reconcile_interrupt`` checks what happened (the third value); every other test starts
    from a clone of the result.
    """
    if "name" not in _small_template:
        inst = launch(netbox_template, base, progress)
        try:
            progress("Building the small-region template: an apply killed half-way, then run again ...")
            lease = {"ZWVL_LOCK_LEASE": str(KILLED_LEASE)}
            killed = zwvl(
                "apply", "--inventory", SMALL, env=env_for(inst, **{FAULT_ENV: str(KILL_AFTER)}, **lease)
            )
            client = connect(inst.url, inst.token)
            half = read_state(client)
            refused = zwvl("apply", "--inventory", SMALL, env=env_for(inst))
            not_broken = zwvl("apply", "--inventory", SMALL, "--break-lock", env=env_for(inst))
            left = lock.current(client)
            assert left is not None and left.expires is not None
            time.sleep(max(0.0, left.expires + lock.GRACE + 1 - client.server_now()))
            rerun = zwvl("apply", "--inventory", SMALL, env=env_for(inst))
            observed = {
                "killed": (killed.returncode, killed.stderr),
                "half_managed": half.managed_count(),
                "refused": (refused.returncode, refused.stderr),
                "not_broken": (not_broken.returncode, not_broken.stderr),
                "rerun": (rerun.returncode, rerun.stderr, rerun.stdout),
            }
            creds = json.loads((inst.root / "credentials.json").read_text())
        finally:
            local.stop_instance(inst)
            shutil.rmtree(inst.root, ignore_errors=True)
        _small_template.update(name=inst.db_name, creds=creds, observed=observed)
        config.add_cleanup(lambda: local.drop_database(inst.db_name))
    return str(_small_template["name"]), dict(_small_template["creds"]), dict(_small_template["observed"])


@contextlib.contextmanager
def small_instance(
    netbox_template: str,
    base: Path,
    progress: Callable[[str], None],
    config: pytest.Config,
    settings: dict[str, Any] | None = None,
) -> Iterator[local.Instance]:
    """A NetBox holding the small region (a clone of its template), stopped and dropped afterwards;
    ``settings`` are extra NetBox settings (see :func:`launch`)."""
    template, creds, _observed = small_applied_template(netbox_template, base, progress, config)
    inst = launch(template, base, progress, creds, settings)
    try:
        yield inst
    finally:
        teardown(inst)


def env_for(inst: local.Instance | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETBOX_", "ZWVL_FAULT"))}
    if inst is not None:
        env["NETBOX_URL"] = inst.url
        env["NETBOX_TOKEN"] = inst.token
    env.update(extra)
    return env


def zwvl(*args: str | Path, env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "zwvl", *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def client_for(inst: local.Instance) -> NetboxClient:
    return connect(inst.url, inst.token)


def state_of(inst: local.Instance) -> State:
    return read_state(client_for(inst))


def change_count(inst: local.Instance) -> int:
    """How many change-log entries NetBox holds (every write makes at least one)."""
    body = client_for(inst).request("GET", "core/object-changes/", params={"limit": 1})
    return int(body["count"])


def duplicates(state: State) -> list[str]:
    out = []
    for kind, by_key in state.by_key.items():
        for key, recs in by_key.items():
            if len(recs) > 1:
                out.append(f"{kind} {' '.join(key)} x{len(recs)}")
    return out


def assert_holds_inventory(inst: local.Instance, inventory: Path) -> State:
    """Assert NetBox holds every object of ``inventory`` exactly once; returns what was read."""
    state = state_of(inst)
    assert duplicates(state) == []
    _inv, desired = load_desired(inventory)
    for kind, objs in desired.objects.items():
        for key in objs:
            assert state.find(kind, key) is not None, f"missing {kind} {key}"
    return state


def copy_inventory(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line, got {len(lines)}:\n{stderr}"
    return lines[0]
