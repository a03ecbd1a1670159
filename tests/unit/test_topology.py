"""The I1 topology's answers against brute force: remove each site or circuit and look again."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from tests.conftest import REPO
from zwvl.inventory import load_inventory
from zwvl.policy.topology import Topology

INV = load_inventory(REPO / "inventory")


def _connected_to_hub(g: nx.Graph, site: str, hubs: list[str]) -> bool:
    return site in g and any(h in g and nx.has_path(g, site, h) for h in hubs)


@pytest.mark.parametrize("cut", [0, 5, 15, 30])
def test_single_points_of_failure_and_redundancy_match_brute_force(cut: int) -> None:
    circuits = sorted(INV.circuits)
    down = random.Random(cut).sample(circuits, cut)  # a region with some fibres out of service
    topo = Topology(INV, status_override=dict.fromkeys(down, "decommissioned"))
    g, hubs = topo.graph, topo.hubs
    for site in sorted(g):
        if site in hubs or not _connected_to_hub(g, site, hubs):
            assert topo.single_points_of_failure(site) == ([], [])
            continue
        sites, cids = topo.single_points_of_failure(site)
        # a site is a single point of failure when taking it away cuts the site off every hub
        want_sites = {
            n
            for n in g
            if n not in (site, *hubs) and not _connected_to_hub(g.subgraph(set(g) - {n}), site, hubs)
        }
        assert set(sites) == want_sites, site
        # a circuit is one when taking its fibre away does
        want_cids = set()
        for u, v, data in g.edges(data=True):
            for cid in data["circuits"]:
                h = g.copy()
                if len(data["circuits"]) == 1:
                    h.remove_edge(u, v)
                if not _connected_to_hub(h, site, hubs):
                    want_cids.add(cid)
        assert set(cids) == want_cids, site
        # Menger: a redundant hub exactly when two node-disjoint paths lead to one
        disjoint = {h: len(list(nx.node_disjoint_paths(g, site, h))) for h in hubs if nx.has_path(g, site, h)}
        hub = topo.redundant_hub(site)
        assert (hub is not None) == any(n >= 2 for n in disjoint.values()), site
        if hub is not None:
            assert disjoint[hub] >= 2 and len(topo.disjoint_paths(site, hub)) == 2, site
