"""NetBox branches against the real local NetBox with netboxlabs-netbox-branching (and its RQ worker).

Every test starts from a clone of one template database: the small region applied to main. A pull
request's change is an edited copy of that inventory (circuit descriptions).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools import netbox as local
from devtools.netbox.common import layout
from devtools.netbox.postgres import psql
from tests.integration.reconcile_support import (
    SMALL,
    client_for,
    env_for,
    launch,
    teardown,
    zwvl,
)
from zwvl.netbox.branching import branch_client, find_branch

pytestmark = pytest.mark.integration

CIRCUIT = "ZWVL-FO-0004"
OLD = "Access fibre Avelgem: bibliotheek"
NEW = "Access fibre Avelgem: bibliotheek (rerouted via the church)"
_region: dict[str, Any] = {}


def _region_template(netbox_template: str, base: Path, progress: Callable[[str], None]) -> tuple[str, dict]:
    """A database holding the small region applied to main (built once per session)."""
    if "name" not in _region:
        inst = launch(netbox_template, base, progress)
        try:
            done = zwvl("apply", "--inventory", SMALL, env=env_for(inst))
            assert done.returncode == 0, done.stderr
            creds = json.loads((inst.root / "credentials.json").read_text())
        finally:
            local.stop_instance(inst)
            shutil.rmtree(inst.root, ignore_errors=True)
        _region.update(name=inst.db_name, creds=creds)
    return str(_region["name"]), dict(_region["creds"])


@pytest.fixture(scope="module", autouse=True)
def _drop_region_template() -> Iterator[None]:
    yield
    if "name" in _region:
        local.drop_database(str(_region.pop("name")))


@pytest.fixture
def region(
    netbox_template: str, tmp_path_factory: pytest.TempPathFactory, netbox_progress: Callable[[str], None]
) -> Iterator[local.Instance]:
    base = tmp_path_factory.mktemp("branching")
    template, creds = _region_template(netbox_template, base, netbox_progress)
    inst = launch(template, base, netbox_progress, creds)
    try:
        yield inst
    finally:
        teardown(inst)


def _edited(tmp_path: Path, new: str = NEW) -> Path:
    """The small region with circuit ZWVL-FO-0004's description changed (a pull request)."""
    inv = tmp_path / "inventory"
    shutil.copytree(SMALL, inv)
    path = inv / "partners" / "avelgem" / "circuits.yaml"
    text = path.read_text(encoding="utf-8")
    assert f"description: '{OLD}'" in text
    path.write_text(text.replace(f"description: '{OLD}'", f"description: '{new}'"), encoding="utf-8")
    return inv


def main_log(inst: local.Instance) -> list[tuple[int, str]]:
    """Main's change log without the branch records themselves (creating a branch is logged on main)."""
    rows = client_for(inst).list("core/object-changes", fields=["id", "changed_object_type"])
    return [
        (r["id"], r["changed_object_type"])
        for r in rows
        if r["changed_object_type"] != "netbox_branching.branch"
    ]


def _circuit(client: Any) -> dict[str, Any]:
    rows = client.list("circuits/circuits", params={"cid": CIRCUIT})
    assert len(rows) == 1
    return dict(rows[0])


def test_apply_into_branch_leaves_main_alone_and_merge_makes_main_the_inventory(
    region: local.Instance, tmp_path: Path
) -> None:
    inv = _edited(tmp_path)
    env = env_for(region)
    main = client_for(region)
    log_before = main_log(region)
    assert log_before

    planned = zwvl("plan", "--inventory", inv, "--branch", "123", "--format", "markdown", env=env)
    assert planned.returncode == 2, planned.stderr
    branch = find_branch(main, "pr-123")
    assert branch is not None and branch.status == "ready"
    assert branch.ui_url == f"{region.url}/plugins/branching/branches/{branch.id}/"
    assert f"[pr-123]({branch.ui_url})" in planned.stdout  # the comment names the branch, with its URL
    assert "1 to update" in planned.stdout

    applied = zwvl("apply", "--inventory", inv, "--branch", "pr-123", env=env)
    assert applied.returncode == 0, applied.stderr
    assert f"NetBox branch pr-123: {branch.ui_url}" in applied.stdout
    assert "1 updated" in applied.stdout

    # main: not a single change-log entry (no write, not even the lock), the old description
    assert main_log(region) == log_before
    assert _circuit(main)["description"] == OLD
    assert zwvl("plan", "--inventory", inv, env=env).returncode == 2
    # the branch: the new description, and nothing left to plan there
    assert _circuit(branch_client(main, branch))["description"] == NEW
    again = zwvl("plan", "--inventory", inv, "--branch", "pr-123", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"Branch pr-123: {branch.ui_url}" in again.stdout

    merged = zwvl("netbox", "branch", "merge", "pr-123", env=env)
    assert merged.returncode == 0, merged.stderr
    assert "Merged branch pr-123 into main" in merged.stdout
    assert _circuit(main)["description"] == NEW
    after = zwvl("plan", "--inventory", inv, env=env)
    assert after.returncode == 0, after.stdout + after.stderr  # main equals the inventory
    assert zwvl("drift", "--inventory", inv, env=env).returncode == 0
    # merging again is a no-op, not an error
    twice = zwvl("netbox", "branch", "merge", "pr-123", env=env)
    assert twice.returncode == 0 and "already merged" in twice.stdout


def test_conflicting_hand_edit_on_main_is_reported_by_name(region: local.Instance, tmp_path: Path) -> None:
    inv = _edited(tmp_path)
    env = env_for(region)
    main = client_for(region)
    assert zwvl("apply", "--inventory", inv, "--branch", "pr-7", env=env).returncode == 0
    circuit = _circuit(main)
    main.request(
        "PATCH", f"circuits/circuits/{circuit['id']}/", json={"description": "edited by hand on main"}
    )

    merged = zwvl("netbox", "branch", "merge", "pr-7", env=env)
    assert merged.returncode == 1
    assert f"conflict: circuits.circuit {CIRCUIT} (fields: " in merged.stderr
    assert "description" in merged.stderr
    assert _circuit(main)["description"] == "edited by hand on main"  # nothing merged
    branch = find_branch(main, "pr-7")
    assert branch is not None and branch.status == "ready"
    shown = zwvl("netbox", "branch", "show", "pr-7", "--json", env=env)
    assert shown.returncode == 0
    assert any(CIRCUIT in c for c in json.loads(shown.stdout)["conflicts"])


def test_merge_syncs_first_when_main_moved_without_conflict(region: local.Instance, tmp_path: Path) -> None:
    inv = _edited(tmp_path)
    env = env_for(region)
    main = client_for(region)
    assert zwvl("apply", "--inventory", inv, "--branch", "pr-11", env=env).returncode == 0
    # meanwhile on main, by hand: another object than the branch changed
    other = main.list("circuits/circuits", params={"cid": "ZWVL-FO-0005"})[0]
    main.request("PATCH", f"circuits/circuits/{other['id']}/", json={"description": "changed on main"})

    merged = zwvl("netbox", "branch", "merge", "pr-11", env=env)
    assert merged.returncode == 0, merged.stderr
    assert "after syncing it with main" in merged.stdout
    assert _circuit(main)["description"] == NEW  # the branch's change
    after = main.list("circuits/circuits", params={"cid": "ZWVL-FO-0005"})[0]
    assert after["description"] == "changed on main"  # main's own change survived the merge


def test_abandoned_branch_is_removed_with_its_schema(region: local.Instance, tmp_path: Path) -> None:
    inv = _edited(tmp_path, "abandoned idea")
    env = env_for(region)
    main = client_for(region)
    assert zwvl("apply", "--inventory", inv, "--branch", "pr-9", env=env).returncode == 0
    branch = find_branch(main, "pr-9")
    assert branch is not None
    schema = f"branch_{branch.schema_id}"
    log_before = main_log(region)

    def schema_exists() -> bool:
        sql = f"SELECT 1 FROM information_schema.schemata WHERE schema_name = '{schema}'"
        return psql(layout(), sql, db=region.db_name).stdout.strip() == "1"

    assert schema_exists()
    deleted = zwvl("netbox", "branch", "delete", "pr-9", env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert find_branch(main, "pr-9") is None
    assert not schema_exists()
    assert _circuit(main)["description"] == OLD
    assert main_log(region) == log_before
    assert zwvl("netbox", "branch", "show", "pr-9", env=env).returncode == 3
    assert zwvl("netbox", "branch", "delete", "pr-9", env=env).returncode == 3
    assert zwvl("netbox", "branch", "delete", "pr-9", "--missing-ok", env=env).returncode == 0
    assert zwvl("plan", "--inventory", SMALL, env=env).returncode == 0


def test_branch_apply_refuses_what_the_plugin_does_not_branch(
    fresh_netbox: Callable[[], local.Instance],
) -> None:
    """On an empty NetBox the plan creates zwvl's custom fields, which the plugin does not branch."""
    inst = fresh_netbox()
    assert main_log(inst) == []
    refused = zwvl("apply", "--inventory", SMALL, "--branch", "pr-1", env=env_for(inst))
    assert refused.returncode == 1
    assert "extras.customfield" in refused.stderr and "apply them to main first" in refused.stderr
    # the branch held nothing else: it is gone, so that a merge falls back to the plan on main
    assert "the empty branch pr-1 was deleted" in refused.stderr
    assert find_branch(client_for(inst), "pr-1") is None
    assert main_log(inst) == []  # only the branch itself was recorded on main
    assert client_for(inst).list("extras/custom-fields") == []
