"""`zwvl import --out DIR --force` against a real NetBox: a fault leaves DIR byte for byte as it was.

NetBox down (a closed port, then a real instance stopped) and NetBox failing mid-read (a token that
may read every kind but IP addresses, so the read stops at its last list) change nothing; NetBox up
replaces DIR in one step with an inventory that loads. Refusals come before NetBox is read.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devtools import netbox as local
from tests.integration.reconcile_support import (
    REPO,
    SMALL,
    client_for,
    env_for,
    one_line,
    small_instance,
    zwvl,
)
from zwvl.inventory import load_inventory
from zwvl.netbox.state import ORDER


def _snapshot(folder: Path) -> dict[str, Any]:
    """Everything about ``folder`` a replacement would change: entries, bytes, modes, its inode,
    and what lies beside it (no temporary or backup folder may be left there)."""
    entries: dict[str, Any] = {}
    for path in sorted(folder.rglob("*")):
        st = path.lstat()
        entries[str(path.relative_to(folder))] = (st.st_mode, path.read_bytes() if path.is_file() else None)
    return {
        "inode": folder.stat().st_ino,
        "mode": folder.stat().st_mode,
        "entries": entries,
        "beside": sorted(os.listdir(folder.parent)),
    }


def _down_env(**extra: str) -> dict[str, str]:
    url = f"http://{local.HOST}:{local.free_port()}"  # nothing listens there
    return env_for(NETBOX_URL=url, NETBOX_TOKEN="nbt_x.y", ZWVL_NETBOX_RETRIES="2", **extra)


def _inventory_copy(tmp_path: Path) -> Path:
    base = tmp_path / "work"
    base.mkdir()
    # without its README.md: --force replaces only folders of YAML (tested below)
    return Path(shutil.copytree(SMALL, base / "imported", ignore=shutil.ignore_patterns("*.md")))


def test_netbox_unreachable_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    out = _inventory_copy(tmp_path)
    before = _snapshot(out)
    proc = zwvl("import", "--out", out, "--force", env=_down_env())
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert " is unreachable" in one_line(proc.stderr)
    assert _snapshot(out) == before


def test_unsafe_folders_are_refused_before_netbox_is_read(tmp_path: Path) -> None:
    """The refusal is the error, not the unreachable NetBox: nothing was read or written."""
    out = _inventory_copy(tmp_path)
    (out.parent / "link").symlink_to(out)
    (out.parent / "file").write_text("a file\n")
    (out / "README.txt").write_text("not YAML\n")
    inventory = REPO / "inventory"
    before = {p: _snapshot(p) for p in (out, inventory)}
    cases = [
        ("inventory", "error: inventory is the inventory zwvl reads: an import does not replace it"),
        (out.parent / "link", f"error: {out.parent}/link is a symbolic link (to {out})"),
        (out, f"error: {out} holds README.txt, which is not inventory YAML"),
    ]
    for where, error in cases:
        proc = zwvl("import", "--out", where, "--force", env=_down_env())
        assert proc.returncode == 1, proc.stderr
        assert one_line(proc.stderr).startswith(error), proc.stderr
    proc = zwvl("import", "--out", out.parent / "file", "--force", env=_down_env())
    assert proc.returncode == 2 and "is a file" in proc.stderr, proc.stderr  # click's own check
    proc = zwvl("import", "--out", out, env=_down_env())
    assert one_line(proc.stderr) == f"error: {out} is not empty (pass --force to replace it)"
    assert {p: _snapshot(p) for p in (out, inventory)} == before


def _reader_token(inst: local.Instance, kinds: list[str]) -> str:
    """A read-only token of a new user that may view ``kinds`` (and the change log) only."""
    client = client_for(inst)
    user = client.request(
        "POST", "users/users/", json={"username": "partial-reader", "password": "Pw-" + os.urandom(16).hex()}
    )
    client.request(
        "POST",
        "users/permissions/",
        json={
            "name": "partial read",
            "object_types": [*kinds, "core.objectchange"],
            "actions": ["view"],
            "users": [user["id"]],
        },
    )
    token = client.request("POST", "users/tokens/", json={"user": user["id"], "write_enabled": False})
    return f"nbt_{token['key']}.{token['token']}"


def test_import_force_replaces_only_after_a_complete_read(
    netbox_template: str,
    netbox_progress: Callable[[str], None],
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
    tmp_path: Path,
) -> None:
    out = _inventory_copy(tmp_path)
    base = tmp_path_factory.mktemp("import-out")
    with small_instance(netbox_template, base, netbox_progress, pytestconfig) as inst:
        # a NetBox error on the last list read: nothing is written
        token = _reader_token(inst, [k for k in ORDER if k != "ipam.ipaddress"])
        before = _snapshot(out)
        proc = zwvl("import", "--out", out, "--force", env=env_for(NETBOX_URL=inst.url, NETBOX_TOKEN=token))
        assert proc.returncode == 1, proc.stdout + proc.stderr
        line = one_line(proc.stderr)
        assert "(HTTP 403" in line and "/api/ipam/ip-addresses/" in line, line
        assert _snapshot(out) == before

        # NetBox up: the folder is replaced in one step, keeps its mode, and loads
        out.chmod(0o750)
        before = _snapshot(out)
        proc = zwvl("import", "--out", out, "--force", env=env_for(inst))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        after = _snapshot(out)
        assert after["beside"] == before["beside"] == ["imported"]  # no temporary or old folder left
        assert after["inode"] != before["inode"] and after["mode"] == before["mode"]
        assert after["entries"] != before["entries"]
        assert (
            (out / "region.yaml")
            .read_text()
            .startswith(f"# Imported from NetBox {inst.url} by `zwvl import`")
        )
        inv = load_inventory(out)
        assert len(inv.devices) == len(load_inventory(SMALL).devices)

        # the same NetBox stopped: the imported folder stays as it is
        local.stop_instance(inst)
        before = _snapshot(out)
        proc = zwvl("import", "--out", out, "--force", env=env_for(inst, ZWVL_NETBOX_RETRIES="2"))
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert " is unreachable" in one_line(proc.stderr)
        assert _snapshot(out) == before
