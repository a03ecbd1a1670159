"""The whole region applied to a clean NetBox through the command line, then applied again."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools import netbox as local
from devtools.pulumi_mocks import Recorder, run_program
from tests.integration.reconcile_support import (
    FULL,
    REPO,
    client_for,
    duplicates,
    env_for,
    launch,
    state_of,
    teardown,
    zwvl,
)
from zwvl.exporter.netbox_state import read_apply_state
from zwvl.inventory import load_inventory
from zwvl.monitoring.scrape import (
    prometheus_config,
    service_targets,
    targets_from_inventory,
    targets_from_netbox,
)
from zwvl.netbox.kinds import BY_NAME, TAG, Ref
from zwvl.netbox.reconcile import apply, load_desired, plan
from zwvl.platform.hosts import HostError, netbox_address, netbox_service_address


@pytest.fixture(scope="module")
def region_nb(
    netbox_template: str, netbox_progress: Callable[[str], None], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[local.Instance]:
    inst = launch(netbox_template, tmp_path_factory.mktemp("region"), netbox_progress)
    try:
        yield inst
    finally:
        teardown(inst)


@pytest.fixture(scope="module")
def applied(region_nb: local.Instance, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    state_file = tmp_path_factory.mktemp("apply-state") / "last-apply.json"
    t0 = time.monotonic()
    env = env_for(region_nb, ZWVL_APPLY_STATE=str(state_file))  # as the main pipeline passes it
    proc = zwvl("apply", "--inventory", FULL, "--format", "json", env=env)
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout)
    out["wall_s"] = time.monotonic() - t0
    out["state_file"] = state_file
    out["started_at"] = time.time() - out["wall_s"]
    return out


def test_apply_records_its_success_for_the_exporter(applied: dict[str, Any]) -> None:
    doc = json.loads(applied["state_file"].read_text())
    assert doc["summary"] == applied["summary"]
    finished = read_apply_state(applied["state_file"])
    assert finished is not None and applied["started_at"] - 1 <= finished <= time.time() + 1


def test_full_apply_of_the_region(region_nb: local.Instance, applied: dict[str, Any]) -> None:
    _inv, desired = load_desired(FULL)
    assert applied["summary"]["create"] > 1000 and applied["summary"]["delete"] == 0
    state = state_of(region_nb)
    assert duplicates(state) == []
    for kind, objs in desired.objects.items():
        for key, want in objs.items():
            rec = state.find(kind, key)
            assert rec is not None, f"missing {kind} {key}"
            if BY_NAME[kind].taggable and not want.implicit:
                assert rec.managed and TAG in rec.tags, f"{kind} {key} not tagged"
                assert rec.source == want.source
    counts = {k: len(v) for k, v in state.records.items()}
    assert counts["dcim.site"] == 72
    assert counts["dcim.device"] == 125
    assert counts["dcim.location"] == 13 + 24 + 2  # town halls, local datacenters, two RDC halls
    assert counts["circuits.circuit"] == 75
    assert counts["circuits.circuittermination"] == 150
    assert counts["dcim.cable"] == 150
    assert counts["dcim.interface"] == 1549 + 72  # from the templates, plus one lo per router
    assert counts["tenancy.tenant"] == 15
    assert counts["ipam.vlan"] == 91
    assert counts["ipam.service"] == 4
    # loopbacks sit on lo and are the routers' primary IPv4; circuit ends on the right interfaces
    rtr = state.find("dcim.device", ("kor-th-rtr01",))
    assert rtr is not None and rtr.fields["primary_ip4"] == Ref("ipam.ipaddress", ("100.126.0.20/32",))
    lo_ip = state.find("ipam.ipaddress", ("100.126.0.20/32",))
    assert lo_ip is not None and lo_ip.fields["assigned_object"] == Ref(
        "dcim.interface", ("kor-th-rtr01", "lo")
    )
    end = state.find("ipam.ipaddress", ("100.64.0.29/31",))
    assert end is not None and end.fields["assigned_object"] == Ref(
        "dcim.interface", ("kor-lib-rtr01", "eth0")
    )
    # devices stand in the locations of their site
    hall = state.find("dcim.location", ("regional-datacenter", "hall-b"))
    assert hall is not None and hall.managed and hall.fields["name"] == "Zaal B"
    assert hall.fields["site"] == Ref("dcim.site", ("regional-datacenter",))
    srv = state.find("dcim.device", ("lei-rdc-srv02",))
    assert srv is not None and srv.fields["location"] == Ref("dcim.location", hall.key)
    # a server: its address on its interface is its primary IPv4, its services are NetBox services
    assert srv.fields["primary_ip4"] == Ref("ipam.ipaddress", ("10.1.230.12/24",))
    srv_ip = state.find("ipam.ipaddress", ("10.1.230.12/24",))
    assert srv_ip is not None and srv_ip.fields["assigned_object"] == Ref(
        "dcim.interface", ("lei-rdc-srv02", "eno1")
    )
    helpdesk = state.find("ipam.service", ("dcim.device:lei-rdc-srv02", "helpdesk"))
    assert helpdesk is not None and helpdesk.managed
    assert (helpdesk.fields["protocol"], helpdesk.fields["ports"]) == ("tcp", [80, 443])
    lib = state.find("dcim.device", ("kor-lib-rtr01",))
    assert lib is not None and lib.fields["location"] is None
    cable = state.find("dcim.cable", ("ZWVL-FO-0015/Z",))
    assert cable is not None
    assert cable.fields["a_terminations"] == [Ref("circuits.circuittermination", ("ZWVL-FO-0015", "Z"))]
    assert cable.fields["b_terminations"] == [Ref("dcim.interface", ("kor-lib-rtr01", "eth0"))]
    # the change log names the commit
    changes = client_for(region_nb).request("GET", "core/object-changes/", params={"limit": 5})
    assert all(c["message"].startswith("zwvl apply") for c in changes["results"])


def test_plan_after_apply_shows_no_changes_and_second_apply_writes_nothing(
    region_nb: local.Instance, applied: dict[str, Any]
) -> None:
    proc = zwvl("plan", "--inventory", FULL, env=env_for(region_nb))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No changes" in proc.stdout
    _inv, desired = load_desired(FULL)
    client = client_for(region_nb)
    outcome = apply(client, desired)
    assert outcome.report is None
    assert client.stats.writes == 0
    # reads: one list per kind (plus the tagged interfaces and cable ends) and the status call
    assert client.stats.reads <= 40


def test_noop_plan_reads_are_one_list_per_kind(region_nb: local.Instance, applied: dict[str, Any]) -> None:
    _inv, desired = load_desired(FULL)
    client = client_for(region_nb)
    p = plan(client, desired)
    assert not p.ops
    per_endpoint = client.stats.by_endpoint
    # interfaces (1,621) need two pages of 1,000; everything else fits one
    assert per_endpoint["GET dcim/interfaces/"] == 3  # two pages + the tagged ones
    assert all(n == 1 for ep, n in per_endpoint.items() if ep != "GET dcim/interfaces/")


def test_import_then_plan_shows_no_changes(
    region_nb: local.Instance, applied: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "imported"
    proc = zwvl("import", "--out", out, env=env_for(region_nb))
    assert proc.returncode == 0, proc.stderr
    assert "125 devices" in proc.stdout and "72 sites" in proc.stdout and "39 locations" in proc.stdout
    assert (out / "partners" / "kortrijk" / "sites.yaml").is_file()
    assert zwvl("validate", "--inventory", out, env=env_for()).returncode == 0
    proc = zwvl("plan", "--inventory", out, env=env_for(region_nb))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No changes" in proc.stdout


def test_scrape_targets_from_netbox_are_the_models(
    region_nb: local.Instance, applied: dict[str, Any]
) -> None:
    """What Prometheus scrapes can be generated from NetBox: after an apply it gives the devices'
    jobs of the model exactly, and with the model's services the checked-in prometheus.yml."""
    inv = load_inventory(FULL)
    from_model = [t for t in targets_from_inventory(inv) if dict(t.labels).get("device")]
    from_netbox = targets_from_netbox(region_nb.url, region_nb.token)
    assert len(from_model) > 100
    assert from_netbox == from_model
    checked_in = (REPO / "monitoring" / "prometheus" / "prometheus.yml").read_text(encoding="utf-8")
    assert prometheus_config(from_netbox + service_targets(inv)) == checked_in


DATA_PLATFORM = REPO / "pulumi" / "data-platform"


def test_pulumi_finds_the_platform_host_in_netbox(
    region_nb: local.Instance, applied: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Pulumi programs' host lookup reads the real NetBox: the service's application service, on
    its device, at the device's primary IPv4, all written by the apply from the inventory. A service
    NetBox does not run is an error naming it, as is a service whose device has no address; a
    service moved to another device in NetBox is found there. Restores what it changed."""
    monkeypatch.setenv("NETBOX_URL", region_nb.url)
    monkeypatch.setenv("NETBOX_TOKEN", region_nb.token)
    inv = load_inventory(FULL)
    router = inv.devices["kor-th-rtr01"]
    assert router.loopback is not None and netbox_address(router.name) == str(router.loopback.ip)
    server = inv.devices[inv.services["data-platform"].devices[0]]
    assert server.primary_ip4 is not None
    assert netbox_service_address("data-platform") == str(server.primary_ip4.address.ip)
    rec = Recorder()
    run_program(DATA_PLATFORM / "__main__.py", rec, {"namePrefix": "dp_"}, "zwvl-data-platform")
    assert {r.inputs["conn"]["host"] for r in rec.of("DatabaseProvider")} == {
        str(server.primary_ip4.address.ip)
    }
    with pytest.raises(HostError, match="runs no service 'open-data-portal'"):
        netbox_service_address("open-data-portal")  # in the inventory, on no device

    # someone moves the service in NetBox to a switch without an address: named in the error
    client = client_for(region_nb)
    svc = client.list("ipam/services", params={"name": "data-platform"}, fields=["id", "parent_object_id"])[0]
    switch = client.list("dcim/devices", params={"name": "lei-rdc-sw01"}, fields=["id"])[0]
    client.request("PATCH", f"ipam/services/{svc['id']}/", json={"parent_object_id": switch["id"]})
    try:
        with pytest.raises(HostError, match="runs on lei-rdc-sw01 .* no primary IPv4"):
            netbox_service_address("data-platform")
        assert zwvl("drift", "--inventory", FULL, env=env_for(region_nb)).returncode == 2
    finally:
        client.request(
            "PATCH", f"ipam/services/{svc['id']}/", json={"parent_object_id": svc["parent_object_id"]}
        )
    assert zwvl("drift", "--inventory", FULL, env=env_for(region_nb)).returncode == 0


def test_check_takes_live_evidence_from_netbox(region_nb: local.Instance, applied: dict[str, Any]) -> None:
    """The main job's policy check with --netbox: a circuit planned in YAML but taken out of service
    in NetBox (status offline) cuts the building it alone connects, and the report says NetBox said so.
    Runs last in this module and restores the circuit."""
    cid, site = "ZWVL-FO-0033", "spiere-helkijn-depot"  # planned in YAML; the depot's only fibre
    client = client_for(region_nb)
    row = next(r for r in client.list("circuits/circuits", fields=["id", "cid"]) if r["cid"] == cid)

    def i1_building(report: dict[str, Any]) -> dict[str, Any]:
        principle = next(p for p in report["principles"] if p["id"] == "I1")
        rule = next(r for r in principle["rules"] if r["id"] == "I1-building-on-backbone")
        finding: dict[str, Any] = next(f for f in rule["findings"] if f["object"] == f"site:{site}")
        return finding

    env = env_for(region_nb)
    before = zwvl("check", "--inventory", FULL, "--netbox", "--format", "json", env=env)
    assert before.returncode == 0, before.stderr
    assert json.loads(before.stdout)["live_evidence"] == f"NetBox {region_nb.url}"
    assert i1_building(json.loads(before.stdout))["status"] == "pass"
    client.request("PATCH", f"circuits/circuits/{row['id']}/", json={"status": "offline"})
    try:
        proc = zwvl("check", "--inventory", FULL, "--netbox", "--format", "json", env=env)
        assert proc.returncode == 1, proc.stderr  # a mandatory rule fails
        finding = i1_building(json.loads(proc.stdout))
        assert finding["status"] == "fail", finding
        # offline in NetBox counts as decommissioned; the YAML still says planned
        assert "decommissioned" in json.dumps(finding["evidence"]), finding
        # the same change is drift of a managed object, field by field
        drift = zwvl("drift", "--format", "json", "--inventory", FULL, env=env)
        assert drift.returncode == 2, drift.stderr
        assert cid in drift.stdout and "offline" in drift.stdout
        # offline: without --netbox the check judges the YAML alone and passes
        assert zwvl("check", "--inventory", FULL, "--format", "json", env=env).returncode == 0
    finally:
        client.request("PATCH", f"circuits/circuits/{row['id']}/", json={"status": "planned"})
    assert zwvl("check", "--inventory", FULL, "--netbox", "--format", "json", env=env).returncode == 0
