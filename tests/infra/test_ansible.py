"""Ansible on the lab: idempotent, --check --diff shows a NetBox change without making it, a change is
applied by a graceful reload (no daemon restarted), the inventory's links follow the one lit rule,
and the fibre part of ansible/ is clean under ansible-lint (production, offline) and yamllint."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from zwvl.lab.ansible import ansible_dir, build_inventory, run_playbook, venv_bin
from zwvl.netbox.client import NetboxClient


def _set_cost(netbox: Any, cid: str, cost: int) -> int:
    client = NetboxClient(netbox.url, netbox.token)
    ckt = client.list("circuits/circuits", fields=("id", "cid", "custom_fields"), params={"cid": cid})[0]
    old = int(ckt["custom_fields"]["ospf_cost"])
    client.request("PATCH", f"circuits/circuits/{ckt['id']}/", json={"custom_fields": {"ospf_cost": cost}})
    return old


def _pids(host: Any) -> str:
    """PIDs of the routing daemons (a reload restarts only watchfrr, the supervisor)."""
    return str(host.check_output("cat /run/frr/zebra.pid /run/frr/ospfd.pid"))


def test_second_run_changes_nothing(lab: Any, infra_netbox: Any, first_run: Any) -> None:
    assert first_run.changed > 0
    run = run_playbook(lab, infra_netbox.url, infra_netbox.token)
    assert run.returncode == 0, run.output[-3000:]
    assert set(run.recap) == {r.name for r in lab.routers()}
    assert run.changed == 0, f"changed on the second run: {run.changed_hosts()}"


def test_check_diff_then_graceful_reload(lab: Any, infra_netbox: Any, hosts: dict[str, Any]) -> None:
    """Change a circuit's OSPF cost in NetBox: --check --diff shows exactly that on both routers and
    changes nothing; the real run reloads FRR gracefully (same PIDs) and OSPF uses the new cost."""
    spec = lab.spec()
    lk = sorted(spec.links.values(), key=lambda x: x.cid)[0]
    ends = sorted(lk.routers)
    url, token = infra_netbox.url, infra_netbox.token
    old = _set_cost(infra_netbox, lk.cid, 37)
    try:
        files_before = {r: hosts[r].file("/etc/frr/frr.conf").content_string for r in ends}
        check = run_playbook(lab, url, token, check=True, diff=True)
        assert check.returncode == 0, check.output[-3000:]
        assert check.changed_hosts() == ends
        assert re.search(rf"^-\s+ip ospf cost {old}$", check.output, re.M)
        assert len(re.findall(r"^\+\s+ip ospf cost 37$", check.output, re.M)) == 2
        assert {r: hosts[r].file("/etc/frr/frr.conf").content_string for r in ends} == files_before

        pids = {r: _pids(hosts[r]) for r in ends}
        run = run_playbook(lab, url, token, limit=ends)
        assert run.returncode == 0 and run.changed_hosts() == ends, run.output[-3000:]
        assert "RUNNING HANDLER [frr_ospf : Reload frr]" in run.output
        for r in ends:
            assert _pids(hosts[r]) == pids[r], f"{r}: FRR daemons were restarted, not reloaded"
            itf = lk.end(r).interface
            out = hosts[r].check_output(f"vtysh -c 'show ip ospf interface {itf} json'")
            assert '"cost":37' in out.replace(" ", "")
    finally:
        _set_cost(infra_netbox, lk.cid, old)
        back = run_playbook(lab, url, token, limit=ends)
        assert back.returncode == 0 and back.changed_hosts() == ends, back.output[-3000:]


def _plain(value: Any) -> Any:
    """ansible-inventory --list shows NetBox text as {"__ansible_unsafe": ...}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def test_inventory_links_are_the_labs_and_follow_circuit_status(
    lab: Any, infra_netbox: Any, first_run: Any
) -> None:
    """One rule for the lit backbone (zwvl.backbone): the inventory plugin gives every router of the
    lab its loopback and exactly the links the lab was built from, and a circuit NetBox marks
    decommissioned leaves both ends' frr.conf (--check --diff), with no lookup in the play."""
    url, token = infra_netbox.url, infra_netbox.token
    _s, data = build_inventory(url, token, "inventory/zwvl_netbox.yml")
    hostvars = _plain(data["_meta"]["hostvars"])  # type: ignore[index]
    spec = lab.spec()
    for router in spec.routers:
        # the lab holds a scope of the region: its links are those among its routers
        links = [lk for lk in hostvars[router]["backbone_links"] if lk["peer"] in spec.routers]
        got = {(lk["cid"], lk["interface"], lk["address"]) for lk in links}
        ends_of = [(lk.cid, lk.end(router)) for lk in spec.links_of(router)]
        want = {(cid, end.interface, str(end.address)) for cid, end in ends_of}
        assert got == want, router
        assert hostvars[router]["backbone_loopback"] == str(spec.routers[router].loopback)
    lk = sorted(spec.links.values(), key=lambda x: x.cid)[-1]
    ends = sorted(lk.routers)
    client = NetboxClient(url, token)
    ckt = client.list("circuits/circuits", fields=("id", "status"), params={"cid": lk.cid})[0]
    client.request("PATCH", f"circuits/circuits/{ckt['id']}/", json={"status": "decommissioned"})
    try:
        check = run_playbook(lab, url, token, limit=ends, check=True, diff=True)
        assert check.returncode == 0, check.output[-3000:]
        assert check.changed_hosts() == ends
        for router in ends:
            itf = lk.end(router).interface
            assert re.search(rf"^-\s*interface {re.escape(itf)}$", check.output, re.M), (router, itf)
        assert len(re.findall(rf"^-\s*description {re.escape(lk.cid)} to ", check.output, re.M)) == 2
    finally:
        client.request("PATCH", f"circuits/circuits/{ckt['id']}/", json={"status": ckt["status"]["value"]})


def _run_json(netbox: Any, playbook: Path, *args: str) -> Any:
    """Run a probe playbook against NetBox; its result as Ansible's json callback prints it."""
    import json

    from zwvl.lab.ansible import ansible_env

    proc = subprocess.run(
        [venv_bin("ansible-playbook"), *args, str(playbook)],
        cwd=ansible_dir(),
        env={**ansible_env(None, netbox.url, netbox.token), "ANSIBLE_STDOUT_CALLBACK": "json"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_platform_hosts_and_client_networks_come_from_netbox(
    infra_netbox: Any, inventory: Any, tmp_path: Path
) -> None:
    """The platform playbooks' NetBox side, against the region in NetBox: inventory-platform/netbox.yml
    lists the servers with their addresses and the services NetBox runs on them, and the pg_hba networks
    query of data-platform.yml (evaluated as written there) gives the partners' active staff and admin
    prefixes."""

    import yaml

    _s, data = build_inventory(infra_netbox.url, infra_netbox.token, "inventory-platform/netbox.yml")
    hostvars: dict[str, Any] = data["_meta"]["hostvars"]  # type: ignore[index]
    servers = {d.name for d in inventory.devices.values() if d.role == "server" and d.status == "active"}
    assert set(hostvars) == servers

    def text(value: Any) -> Any:  # NetBox text comes marked unsafe
        return value.get("__ansible_unsafe", value) if isinstance(value, dict) else value

    for service in ("data-platform", "helpdesk"):
        for host in inventory.services[service].devices:
            assert text(hostvars[host]["site"]) == inventory.devices[host].site, (service, host)
            # the services NetBox runs on the host, which service-groups.yml groups it by
            assert service in {text(s["name"]) for s in hostvars[host]["services"]}, (service, host)
            primary = inventory.devices[host].primary_address
            assert primary is not None and text(hostvars[host]["ansible_host"]) == str(primary.ip)
    plays = yaml.safe_load((ansible_dir() / "data-platform.yml").read_text())
    expr = next(p for p in plays if p.get("hosts") == "service_data_platform")["vars"][
        "postgresql_hba_networks"
    ]
    probe = tmp_path / "hba.yml"
    probe.write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "vars": {"postgresql_hba_networks": expr},
                    "tasks": [{"ansible.builtin.debug": {"var": "postgresql_hba_networks"}}],
                }
            ]
        )
    )
    task = _run_json(infra_netbox, probe, "-i", "localhost,", "-c", "local")["plays"][0]["tasks"][0]
    got = task["hosts"]["localhost"]["postgresql_hba_networks"]
    want = {
        str(p.prefix) for p in inventory.prefixes if p.role in ("staff", "admin") and p.status == "active"
    }
    assert len(want) >= 15 and sorted(got) == sorted(want)

    # service-groups.yml, as both platform playbooks import it, groups NetBox's hosts by their services
    groups_probe = tmp_path / "groups.yml"
    groups_probe.write_text(
        yaml.safe_dump(
            [
                {"ansible.builtin.import_playbook": str(ansible_dir() / "service-groups.yml"),
                 "vars": {"service_groups_required": ["data-platform", "helpdesk"]}},
                {"hosts": "localhost", "gather_facts": False,
                 "tasks": [{"ansible.builtin.debug": {"var": "groups"}}]},
            ]
        )
    )  # fmt: skip
    groups = _run_json(infra_netbox, groups_probe, "-i", "inventory-platform/netbox.yml")["plays"][-1][
        "tasks"
    ][0]["hosts"]["localhost"]["groups"]
    for service in ("data-platform", "helpdesk"):
        group = "service_" + service.replace("-", "_")
        assert sorted(groups[group]) == sorted(inventory.services[service].devices), group


def _lint_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env.pop("ANSIBLE_CONFIG", None)
    return env


# the fibre backbone's part of ansible/ (the platform's playbooks and roles are linted by tests/platform)
FIBRE_FILES = ["fibre.yml", "roles/frr_ospf", "inventory", "inventory-nb", "ansible.cfg", ".ansible-lint"]


@pytest.mark.parametrize("tool", ["ansible-lint", "yamllint"])
def test_ansible_lint_and_yamllint_clean(tool: str) -> None:
    if tool == "ansible-lint":
        cmd = [venv_bin("ansible-lint"), "--offline", "--profile", "production", "--strict", "--nocolor"]
        cmd += [f for f in FIBRE_FILES if f != "ansible.cfg"]
    else:
        cmd = [venv_bin("yamllint"), "--strict", *[f for f in FIBRE_FILES if f != "ansible.cfg"]]
    proc = subprocess.run(
        cmd, cwd=ansible_dir(), env=_lint_env(), capture_output=True, text=True, timeout=900, check=False
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    if tool == "ansible-lint":
        assert "Profile 'production' was required, and it passed" in out
