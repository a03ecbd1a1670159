"""Exit codes that pipelines branch on: 2 means "changes" for plan/drift, so usage errors there are 1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

ZWVL = [sys.executable, "-m", "zwvl"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ZWVL, *args], cwd=REPO, capture_output=True, text=True, timeout=120, env=env)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_plan_and_drift_usage_errors_are_errors_not_changes() -> None:
    for args in (("plan", "--format", "yaml"), ("drift", "--no-such-option")):
        proc = run(*args)
        assert proc.returncode == 1, (args, proc.stderr)
        assert "Error:" in proc.stderr


def test_check_netbox_unreachable_is_an_input_error(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    env = dict(os.environ, NETBOX_URL=f"http://127.0.0.1:{_closed_port()}", NETBOX_TOKEN="not-a-secret")
    proc = run("check", "--netbox", "--format", "json", "--output", str(out), env=env)
    assert proc.returncode == 2
    assert "no live evidence from NetBox" in proc.stderr and "Traceback" not in proc.stderr
    assert "not-a-secret" not in proc.stderr
    assert not out.exists()


def test_check_without_a_policy_catalogue(tmp_path: Path) -> None:
    proc = run("check", "--policies", str(tmp_path / "nowhere"))
    assert proc.returncode == 2
    assert f"{tmp_path / 'nowhere' / 'catalogue.yaml'}:0:0: no policy catalogue" in proc.stderr


def test_check_an_inventory_without_policies_beside_it_uses_the_working_copys() -> None:
    proc = run("check", "--inventory", "tests/fixtures/small-region", "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    assert '"principles"' in proc.stdout
