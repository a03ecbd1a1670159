"""The Redis database of each local NetBox instance is leased, never derived from its name.

Issue 14's branching tests failed in a full test run and passed alone: the database was
``2 + crc32(name) % 14``, and the session's region NetBox (``lab-t16371-0``) and a branching test's
instance (``zwvl-test-16371-502``) both got 7. They shared their RQ queues, the region NetBox's worker
took the test's "Provision branch" job and ran it against its own PostgreSQL database, and the test's
branch stayed "new". These tests hold the leases the way the instances' processes do.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from devtools.netbox.common import LocalNetboxError
from devtools.netbox.redis import MAIN_DB, TEMPLATE_DB, DbLease, candidate_dbs, lease_db

POOL = candidate_dbs(16, "test")


def _old_db(name: str) -> int:
    return 2 + zlib.crc32(name.encode()) % 14


def _holder(lease: DbLease) -> subprocess.Popen[bytes]:
    """A process that inherits the lease, as gunicorn and the worker do; the caller's copy is closed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], pass_fds=(lease.fd,), stdin=subprocess.DEVNULL
    )
    lease.close()
    return proc


def _end(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait(timeout=10)


def test_the_names_that_collided_get_different_databases(tmp_path: Path) -> None:
    region, branching = "lab-t16371-0", "zwvl-test-16371-502"
    assert _old_db(region) == _old_db(branching) == 7  # the reproduced failure
    a = lease_db(str(tmp_path / region), POOL, tmp_path / "leases")
    b = lease_db(str(tmp_path / branching), POOL, tmp_path / "leases")
    try:
        assert a.db != b.db
    finally:
        a.close()
        b.close()


def test_live_instances_never_share_and_the_last_is_refused(tmp_path: Path) -> None:
    leases = [lease_db(str(tmp_path / f"i{n}"), POOL, tmp_path / "leases") for n in range(len(POOL))]
    try:
        dbs = [lease.db for lease in leases]
        assert sorted(dbs) == sorted(POOL) and len(set(dbs)) == len(dbs)
        assert not {0, MAIN_DB, TEMPLATE_DB} & set(dbs)
        with pytest.raises(LocalNetboxError, match="no free Redis database"):
            lease_db(str(tmp_path / "one-too-many"), POOL, tmp_path / "leases", timeout=5)
    finally:
        for lease in leases:
            lease.close()


def test_the_lease_lasts_as_long_as_a_process_that_inherited_it(tmp_path: Path) -> None:
    leases = tmp_path / "leases"
    first = lease_db(str(tmp_path / "a"), POOL, leases)
    db = first.db
    holder = _holder(first)  # the starting process lets go; "gunicorn" keeps it
    try:
        other = lease_db(str(tmp_path / "b"), POOL, leases, prefer=db)
        assert other.db != db and other.taken_over
        other.close()
    finally:
        _end(holder)
    # the holder died without any clean-up: the database is free again, and must be emptied
    after = lease_db(str(tmp_path / "c"), POOL, leases, prefer=db)
    try:
        assert after.db == db and after.taken_over
    finally:
        after.close()


def test_an_instance_keeps_its_database_and_its_queue(tmp_path: Path) -> None:
    leases, root = tmp_path / "leases", str(tmp_path / "a")
    first = lease_db(root, POOL, leases)
    holder = _holder(first)
    try:
        # its gunicorn still runs and the worker is restarted: the same database, shared, not emptied
        again = lease_db(root, POOL, leases, prefer=first.db)
        assert (again.db, again.taken_over) == (first.db, False)
        again.close()
    finally:
        _end(holder)
    # stopped and started again (zwvl netbox down/up): its own queued jobs are kept
    restarted = lease_db(root, POOL, leases, prefer=first.db)
    try:
        assert (restarted.db, restarted.taken_over) == (first.db, False)
    finally:
        restarted.close()


def test_a_database_in_use_without_a_lease_is_skipped(tmp_path: Path) -> None:
    """An instance of an older zwvl has no lease: its connections (CLIENT LIST) keep others away."""
    lease = lease_db(str(tmp_path / "a"), POOL, tmp_path / "leases", busy=lambda db: db == POOL[0])
    try:
        assert lease.db == POOL[1]
    finally:
        lease.close()


def test_candidates() -> None:
    assert candidate_dbs(16, "main")[0] == MAIN_DB
    assert MAIN_DB not in candidate_dbs(16, "test-1-0")
    big = candidate_dbs(64, "test-1-0")
    assert big[:48] == list(range(16, 64))  # above the old hash range first
    assert not {0, MAIN_DB, TEMPLATE_DB} & set(big)
    assert len(set(big)) == len(big) == 61


def test_lease_files_are_private(tmp_path: Path) -> None:
    lease = lease_db(str(tmp_path / "a"), POOL, tmp_path / "leases")
    try:
        path = tmp_path / "leases" / f"db-{lease.db}.lock"
        assert path.read_text().strip() == str(tmp_path / "a")
        assert os.stat(path).st_mode & 0o077 == 0
    finally:
        lease.close()
