"""Ownership, drift, the delete guard, saved plans, the lock and invalid input, on real NetBoxes.

The tests that write get their own NetBox cloned from a template database that already holds the
small region (tests/fixtures/small-region), and their own copy of that inventory to edit. Each test
walks through a few steps on its instance, to keep the number of NetBox start-ups low.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from devtools import netbox as local
from tests.integration.reconcile_support import (
    SMALL,
    change_count,
    client_for,
    env_for,
    state_of,
    zwvl,
)
from zwvl.netbox.kinds import LOCK_TAG
from zwvl.netbox.lock import ApplyLock


def _edit(path: Path, fn: Callable[[Any], object]) -> None:
    data = yaml.safe_load(path.read_text())
    fn(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _patch(inst: local.Instance, endpoint: str, lookup: dict[str, str], body: dict[str, object]) -> int:
    client = client_for(inst)
    found = client.list(endpoint, params=lookup, fields=["id"])
    assert len(found) == 1, (endpoint, lookup, found)
    client.bulk_update(endpoint, [{"id": found[0]["id"], **body}])
    return int(found[0]["id"])


def _run(inst: local.Instance, *args: str | Path) -> Any:
    return zwvl(*args, env=env_for(inst))


def test_drift_after_a_hand_edit_and_inventory_changes_that_are_not_drift(
    small_nb: local.Instance, inventory: Path
) -> None:
    assert _run(small_nb, "plan", "--inventory", inventory).returncode == 0
    assert _run(small_nb, "drift", "--inventory", inventory).returncode == 0

    _patch(small_nb, "dcim/devices", {"name": "ave-th-rtr01"}, {"status": "offline", "serial": "HAND-1"})
    _patch(small_nb, "circuits/circuits", {"cid": "ZWVL-FO-0060"}, {"custom_fields": {"ospf_cost": 500}})
    proc = _run(small_nb, "drift", "--inventory", inventory, "--format", "json")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    found = {(o["kind"], " ".join(o["key"])): o for o in json.loads(proc.stdout)["objects"]}
    assert set(found) == {("dcim.device", "ave-th-rtr01"), ("circuits.circuit", "ZWVL-FO-0060")}
    dev = {
        c["field"]: (c["inventory"], c["netbox"]) for c in found[("dcim.device", "ave-th-rtr01")]["changes"]
    }
    assert dev == {"status": ("active", "offline"), "serial": ("", "HAND-1")}
    ckt = found[("circuits.circuit", "ZWVL-FO-0060")]
    assert ckt["changes"] == [{"field": "cf.ospf_cost", "inventory": 10, "netbox": 500}]
    assert ckt["source"] == "inventory/backbone/core.yaml"
    text = _run(small_nb, "drift", "--inventory", inventory)
    assert text.returncode == 2 and 'serial: inventory "", NetBox "HAND-1"' in text.stdout
    md = _run(small_nb, "drift", "--inventory", inventory, "--format", "markdown")
    assert '| `dcim.device` ave-th-rtr01 | `serial` | `""` | `"HAND-1"` |' in md.stdout

    # an inventory change that is not applied yet is a plan, not drift
    _edit(inventory / "partners/avelgem/sites.yaml", lambda d: d["sites"][0].update(description="renovated"))
    proc = _run(small_nb, "plan", "--inventory", inventory)
    assert proc.returncode == 2
    assert "~ dcim.site avelgem-town-hall" in proc.stdout
    assert 'description: "" -> "renovated"' in proc.stdout
    assert 'status: "offline" -> "active"' in proc.stdout

    # apply restores the hand-edited values and writes the inventory change; then nothing drifts
    assert _run(small_nb, "apply", "--inventory", inventory).returncode == 0
    assert _run(small_nb, "drift", "--inventory", inventory).returncode == 0
    assert _run(small_nb, "plan", "--inventory", inventory).returncode == 0


def test_unmanaged_objects_conflicts_and_the_delete_guard(small_nb: local.Instance, inventory: Path) -> None:
    client = client_for(small_nb)
    site = client.create_one("dcim/sites", {"name": "Handmade site", "slug": "handmade", "status": "active"})
    dev = client.list("dcim/devices", params={"name": "spi-th-rtr01"}, fields=["id"])[0]
    iface = client.create_one("dcim/interfaces", {"device": dev["id"], "name": "hand0", "type": "virtual"})
    proc = _run(small_nb, "plan", "--inventory", inventory)
    assert proc.returncode == 0, proc.stdout
    assert "Unmanaged objects left alone: 2 (1 dcim.interface, 1 dcim.site)" in proc.stdout

    # an unmanaged object where a managed one belongs: a conflict, until adopted
    provider = client.list("circuits/providers", fields=["id"])[0]
    client.bulk_update("circuits/providers", [{"id": provider["id"], "tags": []}])
    before = change_count(small_nb)
    proc = _run(small_nb, "plan", "--inventory", inventory)
    assert proc.returncode == 1 and "conflict" in proc.stderr
    assert "! circuits.provider regional-fibre-operator" in proc.stdout
    proc = _run(small_nb, "apply", "--inventory", inventory)
    assert proc.returncode == 1 and "--adopt" in proc.stderr
    assert change_count(small_nb) == before
    proc = _run(small_nb, "apply", "--inventory", inventory, "--adopt")
    assert proc.returncode == 0, proc.stderr

    # removing a partner deletes well over 20% of the managed objects: refused without the flag;
    # and its router carries a hand-made interface that the device's delete would take with it
    ave = client.list("dcim/devices", params={"name": "ave-th-rtr01"}, fields=["id"])[0]
    cascaded = client.create_one("dcim/interfaces", {"device": ave["id"], "name": "hand1", "type": "virtual"})
    shutil.rmtree(inventory / "partners/avelgem")
    _edit(inventory / "backbone/core.yaml", lambda d: d.update(circuits=[]))
    proc = _run(small_nb, "plan", "--inventory", inventory, "--format", "json")
    assert proc.returncode == 1 and "would take 1 unmanaged object(s) with them" in proc.stderr
    doc = json.loads(proc.stdout)
    assert [(c["kind"], c["key"], c["via"]) for c in doc["cascades"]] == [
        ("dcim.interface", ["ave-th-rtr01", "hand1"], "dcim.device:ave-th-rtr01")
    ]
    summary = doc["summary"]
    assert summary["delete"] > 0.2 * summary["managed"] and summary["cascaded"] == 1
    before = change_count(small_nb)
    for flags in ((), ("--allow-mass-delete",)):
        proc = _run(small_nb, "apply", "--inventory", inventory, *flags)
        assert proc.returncode == 1
        assert "hand1" in proc.stderr and "--adopt" in proc.stderr
        assert change_count(small_nb) == before  # nothing written, not even the lock
    proc = _run(small_nb, "apply", "--inventory", inventory, "--adopt")
    assert proc.returncode == 1
    assert "refusing to delete" in proc.stderr and "1 of them by cascade" in proc.stderr
    assert "--allow-mass-delete" in proc.stderr
    assert change_count(small_nb) == before
    proc = _run(small_nb, "apply", "--inventory", inventory, "--allow-mass-delete", "--adopt")
    assert proc.returncode == 0, proc.stderr
    assert _run(small_nb, "plan", "--inventory", inventory).returncode == 0
    state = state_of(small_nb)
    assert state.find("dcim.device", ("ave-th-rtr01",)) is None
    assert state.find("dcim.site", ("avelgem-town-hall",)) is None
    assert cascaded["id"] not in state.by_id["dcim.interface"]
    # the unmanaged objects elsewhere are still there, untouched
    assert site["id"] in state.by_id["dcim.site"] and not state.by_id["dcim.site"][site["id"]].managed
    assert iface["id"] in state.by_id["dcim.interface"]
    assert state.by_id["dcim.site"][site["id"]].last_updated == site["last_updated"]


def test_saved_plans_and_the_lock(small_nb: local.Instance, inventory: Path, tmp_path: Path) -> None:
    _edit(inventory / "partners/avelgem/sites.yaml", lambda d: d["sites"][0].update(description="renovated"))
    saved = tmp_path / "plan.json"
    proc = _run(small_nb, "plan", "--inventory", inventory, "--out", saved, "--format", "markdown")
    assert proc.returncode == 2 and saved.is_file()
    assert "| `dcim.site` | 0 | 1 | 0 |" in proc.stdout

    # the saved plan is a review artefact: edited, or from another inventory, it is refused
    doc = json.loads(saved.read_text())
    victim = client_for(small_nb).list("dcim/sites", params={"slug": "spiere-helkijn-library"})[0]
    tampered = tmp_path / "tampered.json"
    tampered.write_text(
        json.dumps(
            {
                **doc,
                "ops": [
                    *doc["ops"],
                    {"action": "delete", "kind": "dcim.site", "key": [victim["slug"]], "id": victim["id"]},
                ],
            }
        )
    )
    before = change_count(small_nb)
    proc = _run(small_nb, "apply", tampered, "--inventory", inventory)
    assert proc.returncode == 1
    assert "only in the saved plan: delete dcim.site spiere-helkijn-library" in proc.stderr
    proc = _run(small_nb, "apply", saved, "--inventory", SMALL)  # the plan was not made from this one
    assert proc.returncode == 1 and "only in the saved plan: update dcim.site" in proc.stderr
    assert change_count(small_nb) == before

    # NetBox changes after the plan was reviewed: the saved plan is refused, nothing is written
    _patch(small_nb, "dcim/sites", {"slug": "spiere-helkijn-library"}, {"comments": "seen by a human"})
    before = change_count(small_nb)
    proc = _run(small_nb, "apply", saved, "--inventory", inventory)
    assert proc.returncode == 1
    assert "NetBox changed since the plan was made" in proc.stderr
    assert change_count(small_nb) == before

    # another pipeline holds a live lease: refused, also by --break-lock, until --force
    proc = _run(small_nb, "plan", "--inventory", inventory, "--out", saved)
    assert proc.returncode == 2
    other = ApplyLock(client_for(small_nb), commit="0123456789abcdef")
    other.acquire(renew=False)
    proc = _run(small_nb, "apply", saved, "--inventory", inventory)
    assert proc.returncode == 1
    assert "another apply is running" in proc.stderr and "--break-lock" in proc.stderr
    proc = _run(small_nb, "apply", saved, "--inventory", inventory, "--break-lock")
    assert proc.returncode == 1 and "lease is live" in proc.stderr and "--force" in proc.stderr
    assert _run(small_nb, "apply", saved, "--force").returncode == 1  # --force alone: a usage error
    proc = _run(small_nb, "apply", saved, "--inventory", inventory, "--break-lock", "--force")
    assert proc.returncode == 0, proc.stderr
    assert "Broke the apply lock held by" in proc.stderr
    assert "0 created, 1 updated, 0 deleted" in proc.stdout
    assert _run(small_nb, "plan", "--inventory", inventory).returncode == 0
    assert client_for(small_nb).list("extras/tags", params={"slug": LOCK_TAG}, fields=["id"]) == []


def test_invalid_inventory_writes_nothing(netbox: local.Instance, inventory: Path) -> None:
    _edit(inventory / "partners/avelgem/devices.yaml", lambda d: d["devices"][0].update(site="nowhere"))
    before = change_count(netbox)
    for cmd in ("plan", "apply", "drift"):
        proc = _run(netbox, cmd, "--inventory", inventory)
        assert proc.returncode == 1, (cmd, proc.stderr)
        assert "partners/avelgem/devices.yaml:" in proc.stderr and "unknown site 'nowhere'" in proc.stderr
        assert "nothing was written" in proc.stderr
    assert change_count(netbox) == before


def test_names_netbox_cannot_hold_are_refused_before_writing(netbox: local.Instance, inventory: Path) -> None:
    _edit(
        inventory / "partners/avelgem/sites.yaml", lambda d: d["sites"][1].update(name=d["sites"][0]["name"])
    )
    before = change_count(netbox)
    proc = _run(netbox, "apply", "--inventory", inventory)
    assert proc.returncode == 1
    # the loader reports it (duplicate site name), or else the mapping (NetBox needs unique site names)
    assert "site name" in proc.stderr and "nothing was written" in proc.stderr
    assert change_count(netbox) == before
