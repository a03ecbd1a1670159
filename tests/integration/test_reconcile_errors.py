"""A bad token and an unreachable NetBox each give one clear error line, after bounded retries."""

from __future__ import annotations

import time

from devtools import netbox as local
from tests.integration.reconcile_support import SMALL, env_for, one_line, zwvl


def test_bad_token_is_one_clear_line(netbox: local.Instance) -> None:
    for cmd in ("plan", "apply", "drift"):
        proc = zwvl(
            cmd, "--inventory", SMALL, env=env_for(NETBOX_URL=netbox.url, NETBOX_TOKEN="nbt_nokey.nosecret")
        )
        assert proc.returncode == 1, proc.stderr
        line = one_line(proc.stderr)
        assert line.startswith("error: NetBox at ") and "refused the API token (HTTP 403" in line
        assert "nosecret" not in proc.stderr + proc.stdout  # the token is never shown


def test_unreachable_netbox_is_one_clear_line_after_bounded_retries() -> None:
    url = f"http://127.0.0.1:{local.free_port()}"
    t0 = time.monotonic()
    proc = zwvl(
        "plan",
        "--inventory",
        SMALL,
        env=env_for(NETBOX_URL=url, NETBOX_TOKEN="nbt_x.y", ZWVL_NETBOX_RETRIES="3"),
    )
    elapsed = time.monotonic() - t0
    assert proc.returncode == 1
    line = one_line(proc.stderr)
    assert line.startswith(f"error: NetBox at {url} is unreachable")
    assert "failed 3 times" in line and "connection refused" in line
    assert elapsed < 30  # backoff 0.5 s + 1 s, plus start-up


def test_missing_configuration_is_one_clear_line(tmp_path: object) -> None:
    proc = zwvl("plan", "--inventory", SMALL, env=env_for(NETBOX_URL="http://127.0.0.1:1"))
    assert proc.returncode == 1
    assert "NETBOX_TOKEN" in one_line(proc.stderr)
