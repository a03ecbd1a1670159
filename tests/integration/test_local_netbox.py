"""The embedded local NetBox, for real: PostgreSQL, Redis, gunicorn and the REST API."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from devtools import netbox as local
from devtools.netbox.common import LocalNetboxError, layout
from devtools.netbox.redis import lease_db, lease_dir, redis_commands
from zwvl.cli.netbox import netbox_group
from zwvl.netbox.settings import NetboxSettingsError, credentials_path, resolve_netbox


def _tag_count(nb: local.Instance) -> int:
    resp = requests.get(f"{nb.url}/api/extras/tags/", headers=nb.headers, params={"limit": 1}, timeout=30)
    resp.raise_for_status()
    return int(resp.json()["count"])


def test_status_endpoint_with_token(netbox: local.Instance) -> None:
    resp = requests.get(f"{netbox.url}/api/status/", headers=netbox.headers, timeout=30)
    assert resp.status_code == 200
    assert resp.json()["netbox-version"].startswith(local.NETBOX_VERSION)
    assert netbox.token.startswith("nbt_")


def test_bad_token_is_refused(netbox: local.Instance) -> None:
    resp = requests.get(
        f"{netbox.url}/api/status/", headers={"Authorization": "Bearer nbt_nokey.nosecret"}, timeout=30
    )
    assert resp.status_code in (401, 403)


def test_token_can_write(netbox: local.Instance) -> None:
    slug = f"zwvl-test-{uuid.uuid4().hex[:8]}"
    created = requests.post(
        f"{netbox.url}/api/extras/tags/",
        headers=netbox.headers,
        json={"name": slug, "slug": slug},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    tag_id = created.json()["id"]
    got = requests.get(f"{netbox.url}/api/extras/tags/{tag_id}/", headers=netbox.headers, timeout=30)
    assert got.status_code == 200 and got.json()["slug"] == slug
    deleted = requests.delete(f"{netbox.url}/api/extras/tags/{tag_id}/", headers=netbox.headers, timeout=30)
    assert deleted.status_code == 204
    gone = requests.get(f"{netbox.url}/api/extras/tags/{tag_id}/", headers=netbox.headers, timeout=30)
    assert gone.status_code == 404


def test_fresh_netbox_has_its_own_database(
    netbox: local.Instance, fresh_netbox: Callable[[], local.Instance]
) -> None:
    fresh = fresh_netbox()
    assert fresh.db_name != netbox.db_name and fresh.port != netbox.port
    before = _tag_count(netbox)
    slug = f"only-fresh-{uuid.uuid4().hex[:8]}"
    resp = requests.post(
        f"{fresh.url}/api/extras/tags/", headers=fresh.headers, json={"name": slug, "slug": slug}, timeout=30
    )
    assert resp.status_code == 201, resp.text
    assert _tag_count(fresh) == 1
    assert _tag_count(netbox) == before
    # and its own Redis database: RQ queues no other instance's worker takes jobs from (issue 14)
    dbs = [_redis_db(nb) for nb in (netbox, fresh)]
    assert dbs[0] != dbs[1]
    for db in dbs:
        assert _workers(db) == 1
        with pytest.raises(LocalNetboxError, match="no free Redis database"):  # held while it runs
            lease_db("someone-else", [db], lease_dir(layout()), timeout=5)


def _redis_db(nb: local.Instance) -> int:
    """The instance's Redis database: leased (instance.json) and the one its configuration uses."""
    leased = json.loads((nb.root / "instance.json").read_text())["redis_db"]
    conf = (nb.root / "conf" / "configuration.py").read_text()
    assert re.findall(r"'DATABASE': (\d+)", conf) == [str(leased)] * 2  # tasks and caching
    return int(leased)


def _workers(db: int) -> int:
    """RQ workers registered in a Redis database (a worker registers a few seconds after it starts)."""
    deadline = time.monotonic() + 60
    while True:
        count = int(redis_commands(("SELECT", db), ("SCARD", "rq:workers"))[1])
        if count or time.monotonic() > deadline:
            return count
        time.sleep(0.5)


def test_clone_and_drop_database(netbox_template: str) -> None:
    name = f"zwvl_test_{os.getpid()}_clone"
    local.drop_database(name)
    local.clone_database(name, netbox_template)
    try:
        assert local.database_exists(name)
    finally:
        assert local.drop_database(name) is True
    assert not local.database_exists(name)
    with pytest.raises(local.LocalNetboxError):
        local.drop_database(netbox_template)


@pytest.fixture
def instance_name(netbox_template: str) -> Iterator[str]:
    """A named instance in the real cache dir, purged (gunicorn, database, folder) afterwards."""
    name = f"itest-{os.getpid()}"
    try:
        yield name
    finally:
        local.down(name, purge=True)
        shutil.rmtree(local.layout().instance_root(name), ignore_errors=True)


def test_up_is_idempotent_then_status_and_down(instance_name: str) -> None:
    port = local.free_port()
    first = local.up(instance_name, port=port)
    assert first.started
    assert first.db_name == local.instance_db_name(instance_name)
    assert local.pid_alive(first.pid)

    creds = credentials_path(instance_name)
    assert creds == first.credentials_file
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    data = json.loads(creds.read_text())
    assert data["url"] == first.url == f"http://127.0.0.1:{port}"
    assert data["token"] == first.token

    # Second `up` via the CLI: same database, same gunicorn, same token, and the token is never printed.
    runner = CliRunner()
    result = runner.invoke(netbox_group, ["up", "--name", instance_name])
    assert result.exit_code == 0, result.output
    assert "already running" in result.output
    assert str(creds) in result.output
    assert first.token not in result.output
    second = local.up(instance_name)
    assert (second.pid, second.db_name, second.port, second.token) == (
        first.pid,
        first.db_name,
        port,
        first.token,
    )
    assert not second.started

    report = local.status(instance_name)
    assert report.ok, report.as_dict()
    result = runner.invoke(netbox_group, ["status", "--json", "--name", instance_name])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ok"] is True
    assert first.token not in result.output

    result = runner.invoke(netbox_group, ["down", "--name", instance_name])
    assert result.exit_code == 0, result.output
    assert not local.pid_alive(first.pid)
    assert local.database_exists(first.db_name)  # `down` keeps the database
    result = runner.invoke(netbox_group, ["status", "--name", instance_name])
    assert result.exit_code == 1
    assert "FAIL" in result.output

    # Up again after down: reuses the database (no clone), new gunicorn, token still valid.
    third = local.up(instance_name)
    assert third.started and third.pid != first.pid and third.port == port
    assert third.token == first.token
    assert local.status(instance_name).ok

    purged = local.down(instance_name, purge=True)
    assert purged.stopped_pid == third.pid and purged.dropped_db == first.db_name
    assert not local.pid_alive(third.pid)
    assert not local.database_exists(first.db_name)
    assert not creds.exists()


def test_resolve_netbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NETBOX_URL", raising=False)
    monkeypatch.delenv("NETBOX_TOKEN", raising=False)
    with pytest.raises(NetboxSettingsError, match="NETBOX_URL"):
        resolve_netbox(cache_dir=tmp_path)
    path = credentials_path("main", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"url": "http://127.0.0.1:8765/", "token": "nbt_a.b"}))
    assert resolve_netbox(cache_dir=tmp_path) == ("http://127.0.0.1:8765", "nbt_a.b")
    monkeypatch.setenv("ZWVL_CACHE_DIR", str(tmp_path))
    assert resolve_netbox() == ("http://127.0.0.1:8765", "nbt_a.b")
    monkeypatch.setenv("NETBOX_URL", "https://netbox.example.org")
    with pytest.raises(NetboxSettingsError, match="together"):
        resolve_netbox(cache_dir=tmp_path)
    monkeypatch.setenv("NETBOX_TOKEN", "secret")
    assert resolve_netbox(cache_dir=tmp_path) == ("https://netbox.example.org", "secret")
