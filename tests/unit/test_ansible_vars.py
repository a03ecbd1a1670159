"""`zwvl ansible-vars`: the helpdesk playbook's vars file is the domain model's, and --check says when
the checked-in file falls behind the inventory."""

from __future__ import annotations

import subprocess
import sys

import yaml

from tests.conftest import REPO, Region
from zwvl.inventory import load_inventory
from zwvl.platform.ansible_vars import VARS_FILE
from zwvl.platform.plan import request_tracker_vars


def zwvl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zwvl", "ansible-vars", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_checked_in_vars_file_is_the_models() -> None:
    assert yaml.safe_load((REPO / VARS_FILE).read_text()) == request_tracker_vars(
        load_inventory(REPO / "inventory")
    )
    proc = zwvl("--check")
    assert proc.returncode == 0, proc.stderr


def test_check_fails_when_the_inventory_moved_on(region: Region) -> None:
    region.edit("inventory/helpdesk/pool.yaml", lambda d: d["helpdesk"]["business_hours"].update(end="18:00"))
    out = region.root / "helpdesk.yml"
    out.write_text((REPO / VARS_FILE).read_text())
    proc = zwvl("--inventory", str(region.root / "inventory"), "--output", str(out), "--check")
    assert proc.returncode == 1 and "out of date" in proc.stderr
    assert zwvl("--inventory", str(region.root / "inventory"), "--output", str(out)).returncode == 0
    assert {d["end"] for d in yaml.safe_load(out.read_text())["request_tracker_business_hours"]} == {"18:00"}
