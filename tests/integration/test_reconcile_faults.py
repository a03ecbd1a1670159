"""The REST client and the lock under real faults, against real NetBoxes.

- POSTs that NetBox committed but whose answer was a 500/503 (injected by a loopback proxy after
  forwarding, see ``fault_proxy.py``) neither duplicate objects nor lose the lock;
- an apply stalled past its lease is taken over by the next apply, and stops writing when it wakes;
- a NetBox with ``MAX_PAGE_SIZE = 250`` is read completely.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from devtools import netbox as local
from tests.integration.fault_proxy import FaultProxy
from tests.integration.reconcile_support import (
    REPO,
    SMALL,
    assert_holds_inventory,
    client_for,
    duplicates,
    env_for,
    small_instance,
    state_of,
    zwvl,
)
from zwvl.netbox.kinds import BY_NAME, LOCK_TAG
from zwvl.netbox.lock import GRACE
from zwvl.netbox.state import read_state


def _proxied(inst: local.Instance, proxy: FaultProxy, **extra: str) -> dict[str, str]:
    return env_for(NETBOX_URL=proxy.url, NETBOX_TOKEN=inst.token, **extra)


def _no_lock_left(inst: local.Instance) -> bool:
    return client_for(inst).list("extras/tags", params={"slug": LOCK_TAG}, fields=["id"]) == []


def test_posts_answered_500_or_503_after_committing_do_not_duplicate(
    fresh_netbox: Callable[[], local.Instance],
) -> None:
    nb = fresh_netbox()
    seen: dict[str, int] = {}

    def decide(method: str, path: str) -> str:
        where = path.split("?")[0]
        if method != "POST":
            return "forward"
        seen[where] = seen.get(where, 0) + 1
        if where == "/api/extras/tags/" and seen[where] == 1:
            return "503"  # the lock's own POST: committed, but the answer says 503
        if where == "/api/dcim/devices/" and seen[where] == 2:
            return "500"  # a bulk create of devices: committed, answer 500
        if where == "/api/ipam/ip-addresses/" and seen[where] == 1:
            return "500"
        return "forward"

    with FaultProxy(nb.url, decide) as proxy:
        proc = zwvl("apply", "--inventory", SMALL, env=_proxied(nb, proxy))
        assert proc.returncode == 0, proc.stderr
        injected = [(m, p) for _t, m, p, status in proxy.log if status in (500, 503)]
    assert len(injected) == 3, injected
    assert "re-reading to see what NetBox committed" in proc.stderr
    assert_holds_inventory(nb, SMALL)
    assert zwvl("plan", "--inventory", SMALL, env=env_for(nb)).returncode == 0
    assert _no_lock_left(nb)  # the lock whose POST got a 503 was recognised as ours and released


def _stopped(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "T"
    except OSError:
        return False


def test_an_expired_lease_is_taken_over_and_the_stalled_holder_stops_writing(
    fresh_netbox: Callable[[], local.Instance],
) -> None:
    nb = fresh_netbox()
    writes = 0

    def decide(method: str, path: str) -> str:
        nonlocal writes
        if method == "GET" or path.startswith("/api/extras/tags/"):
            return "forward"  # reads, and the lock's own requests
        writes += 1
        return "hold" if writes == 3 else "forward"

    lease = 3
    with FaultProxy(nb.url, decide) as proxy:
        old = subprocess.Popen(
            [sys.executable, "-m", "zwvl", "apply", "--inventory", str(SMALL)],
            cwd=REPO,
            env=_proxied(nb, proxy, ZWVL_LOCK_LEASE=str(lease)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proxy.held.wait(300), "the old apply never reached its third write"
            os.kill(old.pid, signal.SIGSTOP)  # a CI runner frozen between two writes
            deadline = time.monotonic() + 10
            while not _stopped(old.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _stopped(old.pid)
            time.sleep(0.2)
            proxy.release.set()  # its third write's answer waits in the socket
            released = time.monotonic()
            time.sleep(lease + GRACE + 1.5)

            new = zwvl("apply", "--inventory", SMALL, env=env_for(nb))
            assert new.returncode == 0, new.stderr
            assert "Took over the expired apply lock held by" in new.stderr

            os.kill(old.pid, signal.SIGCONT)
            _out, err = old.communicate(timeout=300)
        finally:
            if old.poll() is None:
                old.kill()
                old.wait()
        assert old.returncode == 1, err
        assert "lost the NetBox apply lock" in err and "stopped writing" in err
        after = [(m, p) for t, m, p, _s in proxy.log if t > released and m != "GET"]
        # the stalled apply sent no write after it woke, only (at most) the delete of its own lock by id
        assert all(p.startswith("/api/extras/tags/") and m == "DELETE" for m, p in after), after
    assert duplicates(state_of(nb)) == []
    assert zwvl("plan", "--inventory", SMALL, env=env_for(nb)).returncode == 0
    assert _no_lock_left(nb)


@pytest.fixture
def small_paged_nb(
    netbox_template: str,
    netbox_progress: Callable[[str], None],
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
) -> Iterator[local.Instance]:
    base = tmp_path_factory.mktemp("paged")
    paged = {"MAX_PAGE_SIZE": 250}
    with small_instance(netbox_template, base, netbox_progress, pytestconfig, paged) as inst:
        yield inst


def test_a_netbox_with_max_page_size_250_is_read_completely(small_paged_nb: local.Instance) -> None:
    nb = small_paged_nb
    client = client_for(nb)
    # the small region has ~150 interfaces: 160 hand-made ones (unmanaged) make it more than 250
    dev = client.list("dcim/devices", params={"name": "spi-th-rtr01"}, fields=["id"])[0]
    extra = [{"device": dev["id"], "name": f"hand{i}", "type": "virtual"} for i in range(160)]
    client.bulk_create("dcim/interfaces", extra)
    probe = client.request("GET", "dcim/interfaces/", params={"limit": 1000, "fields": "id"})
    assert len(probe["results"]) == 250 < probe["count"]  # NetBox capped the page silently
    changes = client.request("GET", "core/object-changes/", params={"limit": 1})["count"]
    assert changes > 250
    for workers in (1, 3):
        client.read_workers = workers
        rows = client.list("dcim/interfaces", fields=["id", "name"])
        assert len(rows) == probe["count"] == len({r["id"] for r in rows})
        assert len(client.list("core/object-changes", fields=["id"])) == changes
    state = read_state(client)
    for name in ("dcim.interface", "dcim.device", "ipam.ipaddress", "dcim.interfacetemplate"):
        count = client.request("GET", BY_NAME[name].endpoint + "/", params={"limit": 1})["count"]
        assert len(state.records[name]) == count, name
    # an incomplete read would plan creates for what it missed, and miss hand-made interfaces
    proc = zwvl("plan", "--inventory", SMALL, env=env_for(nb))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Unmanaged objects left alone: 160 (160 dcim.interface)" in proc.stdout
