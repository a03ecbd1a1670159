"""Ansible on the lab: idempotent, --check --diff shows a NetBox change without making it, a change is
applied by a graceful reload (no daemon restarted), the fast inventory yields the same configuration,
and the fibre part of ansible/ is clean under ansible-lint (production, offline) and yamllint."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from zwvl.lab.ansible import ansible_dir, run_playbook, venv_bin
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


def test_fast_inventory_gives_the_same_configuration(lab: Any, infra_netbox: Any, first_run: Any) -> None:
    run = run_playbook(
        lab,
        infra_netbox.url,
        infra_netbox.token,
        inventory="inventory-fast/zwvl_netbox.yml",
        check=True,
        diff=True,
    )
    assert run.returncode == 0, run.output[-3000:]
    assert set(run.recap) == {r.name for r in lab.routers()}
    assert run.changed == 0, run.output[-3000:]


def _lint_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env.pop("ANSIBLE_CONFIG", None)
    return env


# the fibre backbone's part of ansible/ (the platform's playbooks and roles are linted by tests/platform)
FIBRE_FILES = ["fibre.yml", "roles/frr_ospf", "inventory", "inventory-fast", "ansible.cfg", ".ansible-lint"]


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
