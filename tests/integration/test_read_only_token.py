"""The plan jobs' token: a NetBox v2 token with writes disabled, made with the README's one-liner.

`zwvl plan` (and drift) work with it; `zwvl apply`, with or without a saved plan, is refused by NetBox
with one clear error line and nothing is written (no object, no lock, no change-log entry). The same
saved plan then applies with the write token, so the refusal is the token's, not the plan's.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from devtools import netbox as local
from tests.integration.reconcile_support import REPO, SMALL, change_count, env_for, one_line, zwvl
from zwvl.netbox.lock import LOCK_TAG


def readme_one_liner() -> str:
    """The Python code of the README's `netbox shell -c "..."` line that makes the read-only token."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    (line,) = [ln for ln in text.splitlines() if ln.startswith('netbox shell -c "')]
    m = re.fullmatch(r'netbox shell -c "(?P<code>[^"]+)"', line)
    assert m, line
    return m["code"]


def make_read_only_token(inst: local.Instance) -> str:
    """Run the README's one-liner in the instance's `netbox shell`, for a CI user made beforehand."""
    code = readme_one_liner()
    assert "write_enabled=False" in code and "username='zwvl-ci'" in code
    setup = (
        "from users.models import User\n"
        "User.objects.get_or_create(username='zwvl-ci', defaults={'is_superuser': True})\n"
    )
    proc = subprocess.run(
        [str(local.layout().netbox_bin), "shell", "--no-startup", "-c", setup + code],
        env=local.netbox_env(inst.root),
        cwd=inst.root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (token,) = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip().startswith("nbt_")]
    return token


def test_plan_works_and_apply_is_refused_with_the_read_only_token(
    fresh_netbox: Callable[[], local.Instance], tmp_path: Path
) -> None:
    inst = fresh_netbox()
    token = make_read_only_token(inst)
    assert token != inst.token
    read_only = env_for(NETBOX_URL=inst.url, NETBOX_TOKEN=token)

    # NetBox knows it as a token that may not write
    tokens = [
        t
        for t in local_api_list(inst, "users/tokens/")
        if t.get("description") == "zwvl plan jobs (read-only)"
    ]
    assert [t["write_enabled"] for t in tokens] == [False]

    # the plan job: reading is allowed
    saved = tmp_path / "plan.json"
    plan = zwvl("plan", "--inventory", SMALL, "--format", "markdown", "--out", saved, env=read_only)
    assert plan.returncode == 2, plan.stderr  # 2: changes
    assert "NetBox plan" in plan.stdout and saved.is_file()
    drift = zwvl("drift", "--inventory", SMALL, env=read_only)
    assert drift.returncode == 0, drift.stderr

    before = change_count(inst)
    for args in (("apply", str(saved), "--inventory", SMALL), ("apply", "--inventory", SMALL)):
        proc = zwvl(*args, env=read_only)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        line = one_line(proc.stderr)
        assert line.startswith(f"error: NetBox at {inst.url} ") and "HTTP 403" in line, line
        assert "NETBOX_TOKEN" in line, line  # says which setting to look at
        assert token.split(".", 1)[1] not in proc.stdout + proc.stderr  # the secret is never shown
    # nothing was written: no change-log entry, no lock, no managed object
    assert change_count(inst) == before
    assert local_api_list(inst, f"extras/tags/?slug={LOCK_TAG}") == []
    assert local_api_list(inst, "dcim/sites/") == []

    # the very same saved plan applies with a token that may write
    applied = zwvl("apply", str(saved), "--inventory", SMALL, env=env_for(inst))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert local_api_list(inst, "dcim/sites/") != []
    assert zwvl("plan", "--inventory", SMALL, env=read_only).returncode == 0  # no changes left


def local_api_list(inst: local.Instance, path: str) -> list[dict[str, object]]:
    """Every result of a NetBox list, read with the instance's admin token."""
    from zwvl.netbox.reconcile import connect

    client = connect(inst.url, inst.token)
    sep = "&" if "?" in path else "?"
    body = client.request("GET", f"{path}{sep}limit=1000")
    results: list[dict[str, object]] = body["results"]
    return results
