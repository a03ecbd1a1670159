"""A small fibre lab for the monitoring tests, run by the lab's own runtime (zwvl.lab.Lab).

`zwvl lab up` builds the lab from NetBox and the Ansible frr_ospf role configures OSPF; these tests
are about monitoring, so they build the spec of a few routers straight from the domain model and
write the OSPF configuration the role would (point-to-point, costs from the circuits, fast timers).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from ipaddress import IPv4Interface
from pathlib import Path

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


def frr_conf(spec: LabSpec, router: str) -> str:
    r = spec.routers[router]
    lines = [
        f"hostname {router}",
        "log file /var/log/frr/frr.log informational",
        "service integrated-vtysh-config",
        "!",
    ]
    links = spec.links_of(router)
    for lk in links:
        end = lk.end(router)
        lines += [
            f"interface {end.interface}",
            " ip ospf network point-to-point",
            " ip ospf hello-interval 1",
            " ip ospf dead-interval 3",
            " ip ospf retransmit-interval 1",
            f" ip ospf cost {lk.cost or 10}",
            "!",
        ]
    lines += ["router ospf", f" ospf router-id {r.loopback_ip}", " timers throttle spf 0 50 500"]
    lines += [f" network {r.loopback.network} area 0"]
    lines += [f" network {lk.end(router).address.network} area 0" for lk in links]
    return "\n".join(lines) + "\n!\n"


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
