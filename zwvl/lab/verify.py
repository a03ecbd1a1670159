"""What the backbone should do, from the policy side, and checks of what the lab does.

- :func:`predicted_unreachable`: the routers the I1 policy (rule I1-building-on-backbone's evidence
  ``single_points_of_failure``) names as cut off every regional datacenter when one circuit fails,
  for the circuits present in a lab;
- :func:`check_adjacencies`, :func:`check_reachability`, :func:`wait_converged`: the lab's OSPF state
  against the links it was built with.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from zwvl.inventory import Inventory
from zwvl.lab.runtime import Lab
from zwvl.lab.spec import LabSpec, Link
from zwvl.policy.findings import Context
from zwvl.policy.registry import RULES
from zwvl.policy.topology import Topology

FULL = "Full"


def lab_circuit_status(inv: Inventory, spec: LabSpec) -> dict[str, str]:
    """Circuit statuses as the lab lights them: circuits outside the lab count as decommissioned."""
    return {cid: (spec.links[cid].status if cid in spec.links else "decommissioned") for cid in inv.circuits}


def lab_topology(inv: Inventory, spec: LabSpec) -> Topology:
    """The policy's topology restricted to the lab."""
    return Topology(inv, status_override=lab_circuit_status(inv, spec), design=True)


def router_sites(inv: Inventory, spec: LabSpec) -> dict[str, str]:
    """Lab router -> its site in the inventory (one fibre router per site)."""
    return {r: inv.devices[r].site for r in spec.routers if r in inv.devices}


def hub_routers(inv: Inventory, spec: LabSpec) -> list[str]:
    """The lab's routers at a regional datacenter (the I1 policy's hubs)."""
    topo = lab_topology(inv, spec)
    hubs = set(topo.hubs)
    return sorted(r for r, s in router_sites(inv, spec).items() if s in hubs)


def policy_cuts(inv: Inventory, spec: LabSpec) -> dict[str, set[str]]:
    """Circuit -> the lab routers the I1 policy names as depending on it alone: the evidence
    ``single_points_of_failure`` of rule I1-building-on-backbone, run on the lab's circuits."""
    from zwvl.policy import rules as _rules  # noqa: F401  (registers the rules)

    ctx = Context(
        inv=inv, repo_root=inv.root, today=dt.date.today(), circuit_status=lab_circuit_status(inv, spec)
    )
    routers_at: dict[str, set[str]] = {}
    for router, site in router_sites(inv, spec).items():
        routers_at.setdefault(site, set()).add(router)
    out: dict[str, set[str]] = {}
    for finding in RULES["I1-building-on-backbone"](ctx):
        site = finding.object.removeprefix("site:")
        for cid in finding.evidence.get("single_points_of_failure", {}).get("circuits", []):
            out.setdefault(cid, set()).update(routers_at.get(site, set()))
    return out


def predicted_unreachable(inv: Inventory, spec: LabSpec, cid: str) -> set[str]:
    """Routers that lose every path to the regional datacenter when circuit ``cid`` fails, as the
    I1 policy names them (:func:`policy_cuts`)."""
    return policy_cuts(inv, spec).get(cid, set())


def redundant_links(inv: Inventory, spec: LabSpec) -> list[Link]:
    """Links whose loss cuts no router off (the policy predicts an empty set), in circuit order."""
    cuts = policy_cuts(inv, spec)
    return [lk for cid, lk in sorted(spec.links.items()) if not cuts.get(cid)]


def single_point_links(inv: Inventory, spec: LabSpec) -> list[tuple[Link, set[str]]]:
    """Links the policy names as single points of failure, with the routers each one cuts off,
    the largest cut first."""
    cuts = policy_cuts(inv, spec)
    out = [(lk, cuts.get(cid, set())) for cid, lk in sorted(spec.links.items())]
    return sorted([(lk, s) for lk, s in out if s], key=lambda x: (-len(x[1]), x[0].cid))


# ------------------------------------------------------------------------------------ lab checks


@dataclass
class Report:
    ok: bool
    problems: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def check_adjacencies(
    spec: LabSpec, adjacencies: dict[str, dict[str, str]], skip: Iterable[str] = ()
) -> Report:
    """Every link (but ``skip``) has a Full neighbour on both of its ends."""
    skipped = set(skip)
    problems = []
    for cid, lk in sorted(spec.links.items()):
        if cid in skipped:
            continue
        states = adjacencies.get(cid, {})
        for end in (lk.a, lk.z):
            st = states.get(end.router, "")
            if not st.startswith(FULL):
                problems.append(f"{cid}: {end} neighbour state {st or 'none'}")
    return Report(not problems, problems, {"links": len(spec.links) - len(skipped & set(spec.links))})


def check_reachability(unreachable: dict[str, set[str]]) -> Report:
    problems = [
        f"{src} cannot reach {', '.join(sorted(dst))}" for src, dst in sorted(unreachable.items()) if dst
    ]
    n = len(unreachable)
    pairs = n * (n - 1)
    return Report(
        not problems, problems, {"pairs": pairs, "failed": sum(len(d) for d in unreachable.values())}
    )


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass (bounded loop)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def wait_converged(lab: Lab, timeout: float = 120.0, interval: float = 1.0) -> Report:
    """Wait until every link has Full adjacencies and every router reaches every loopback."""
    spec = lab.spec()
    last: list[Report] = []

    def done() -> bool:
        adj = check_adjacencies(spec, lab.adjacencies())
        if not adj.ok:
            last[:] = [adj]
            return False
        reach = check_reachability(lab.unreachable())
        last[:] = [reach]
        return reach.ok

    if wait_until(done, timeout, interval):
        return Report(True, [], last[0].details if last else {})
    rep = last[0] if last else Report(False, ["no answer"])
    return Report(False, rep.problems[:20], rep.details)
