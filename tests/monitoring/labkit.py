"""A small fibre lab for the monitoring tests, run by the lab's own runtime (zwvl.lab.Lab).

`zwvl lab up` builds the lab from NetBox and the Ansible frr_ospf role configures OSPF; these tests
are about monitoring, so they build the spec of a few routers straight from the domain model and
write the frr_ospf role's own template (its timers: a silent cut is seen within its dead interval).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from ipaddress import IPv4Interface
from pathlib import Path

import jinja2
import yaml

from zwvl.inventory import Inventory
from zwvl.lab import End, Lab, LabSpec, Link, Router

# a triangle through the regional datacenter plus a single-homed library behind Kortrijk
ROUTERS = ("lei-rdc-rtr01", "kor-th-rtr01", "lei-hq-rtr01", "kor-lib-rtr01")


def spec_from_inventory(inv: Inventory, routers: Iterable[str] = ROUTERS) -> LabSpec:
    names = set(routers)
    spec = LabSpec()
    for name in sorted(names):
        dev = inv.devices[name]
        assert dev.loopback is not None
        spec.routers[name] = Router(name, IPv4Interface(dev.loopback), dev.site, inv.sites[dev.site].partner)
    for ckt in sorted(inv.circuits.values(), key=lambda c: c.cid):
        if ckt.status == "active" and {ckt.a.device, ckt.z.device} <= names:
            spec.links[ckt.cid] = Link(
                ckt.cid,
                End(ckt.a.device, ckt.a.interface, ckt.a.address),
                End(ckt.z.device, ckt.z.interface, ckt.z.address),
                ckt.ospf_cost,
            )
    spec.validate()
    return spec


ROLE = Path(__file__).resolve().parents[2] / "ansible/roles/frr_ospf"


def _comment(text: str, decoration: str = "# ") -> str:
    """Ansible's `comment` filter, as the template uses it (one decorated line per line)."""
    return "\n".join(decoration + line for line in text.splitlines())


def frr_conf(spec: LabSpec, router: str) -> str:
    """The frr_ospf role's own template, rendered with the role's defaults and derived variables and
    the host variables the zwvl_netbox inventory plugin gives a router (its loopback and lit links)."""
    defaults = yaml.safe_load((ROLE / "defaults/main.yml").read_text())
    derived = yaml.safe_load((ROLE / "vars/main.yml").read_text())
    # as Ansible's template module renders (trim_blocks)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True)
    env.filters["comment"] = _comment
    variables = {
        **{k: v for k, v in defaults.items() if not (isinstance(v, str) and "{{" in v)},
        "ansible_managed": "rendered by tests/monitoring/labkit.py from the frr_ospf role",
        "inventory_hostname": router,
        "frr_ospf_loopback": str(spec.routers[router].loopback),
        "frr_ospf_links": spec.ospf_links(router),
    }
    variables["frr_ospf_router_id"] = env.from_string(derived["frr_ospf_router_id"]).render(**variables)
    return env.from_string((ROLE / "templates/frr.conf.j2").read_text()).render(**variables)


def configure_ospf(lab: Lab, spec: LabSpec) -> None:
    """What the frr_ospf role does: enable ospfd, write frr.conf, restart FRR in each router."""
    for name in spec.routers:
        etc = lab.router_folder(name) / "etc/frr"
        daemons = etc / "daemons"
        daemons.write_text(daemons.read_text().replace("ospfd=no", "ospfd=yes"))
        (etc / "frr.conf").write_text(frr_conf(spec, name))
        proc = lab.exec(name, ["/usr/lib/frr/frrinit.sh", "restart"], timeout=60)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def wait_full(lab: Lab, spec: LabSpec, timeout: float = 60.0) -> None:
    """Until every link has a Full adjacency at both ends."""
    deadline = time.monotonic() + timeout
    while True:
        adj = lab.adjacencies()
        if all(
            all(str(adj.get(cid, {}).get(r, "")).startswith("Full") for r in lk.routers)
            for cid, lk in spec.links.items()
        ):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"OSPF did not converge: {adj}")
        time.sleep(0.5)


def lab_dir(base: Path) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    return base
