"""The fibre backbone as a graph of sites: reachability, disjoint paths, single points of failure.

Computed once per check (linear-time block decomposition), then read by rules, indicators,
reports and the exporter.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx

from zwvl.backbone import is_lit
from zwvl.inventory import Inventory
from zwvl.model import Circuit

_ANY_HUB = "\x00any regional datacenter"  # virtual node behind every hub (no site slug can be it)


@dataclass
class Topology:
    inv: Inventory
    # circuit status as observed (e.g. live from NetBox); falls back to the inventory's status
    status_override: dict[str, str] = field(default_factory=dict)
    # lit by design (active and planned circuits, zwvl.backbone.is_lit) or live (active only)
    design: bool = True

    def status(self, ckt: Circuit) -> str:
        return self.status_override.get(ckt.cid, ckt.status)

    def usable(self, ckt: Circuit) -> bool:
        return is_lit(self.status(ckt), design=self.design)

    @cached_property
    def graph(self) -> nx.Graph:
        g: nx.Graph = nx.Graph()
        for slug, site in self.inv.sites.items():
            if site.status != "decommissioned":
                g.add_node(slug)
        for ckt in self.inv.circuits.values():
            a, z = ckt.a.site, ckt.z.site
            if not self.usable(ckt) or a not in g or z not in g:
                continue
            if g.has_edge(a, z):
                g.edges[a, z]["circuits"].append(ckt.cid)
            else:
                g.add_edge(a, z, circuits=[ckt.cid])
        return g

    @cached_property
    def hubs(self) -> list[str]:
        return sorted(
            s.slug
            for s in self.inv.sites.values()
            if s.kind == "regional-datacenter" and s.slug in self.graph
        )

    @cached_property
    def _bfs(self) -> dict[str, str | None]:
        """Parent pointers of a breadth-first search from every regional datacenter at once."""
        parent: dict[str, str | None] = {h: None for h in self.hubs}
        queue = deque(self.hubs)
        g = self.graph
        while queue:
            node = queue.popleft()
            for nb in sorted(g.adj[node]):
                if nb not in parent:
                    parent[nb] = node
                    queue.append(nb)
        return parent

    def reachable(self, site: str) -> bool:
        return site in self._bfs

    def path_to_hub(self, site: str) -> list[str]:
        if site not in self._bfs:
            return []
        path = [site]
        parent = self._bfs[site]
        while parent is not None:
            path.append(parent)
            parent = self._bfs[parent]
        return path

    @cached_property
    def _blocks(self) -> dict[str, set[int]]:
        """Site -> ids of the biconnected blocks (of 3+ sites) it belongs to."""
        member: dict[str, set[int]] = {}
        for i, block in enumerate(nx.biconnected_components(self.graph)):
            if len(block) >= 3:
                for n in block:
                    member.setdefault(n, set()).add(i)
        return member

    @cached_property
    def _block_nodes(self) -> dict[int, set[str]]:
        out: dict[int, set[str]] = {}
        for n, ids in self._blocks.items():
            for i in ids:
                out.setdefault(i, set()).add(n)
        return out

    @cached_property
    def _hub_of_block(self) -> dict[int, str]:
        """Block id -> the first regional datacenter (sorted) in it."""
        out: dict[int, str] = {}
        for hub in self.hubs:
            for i in self._blocks.get(hub, ()):
                out.setdefault(i, hub)
        return out

    def redundant_hub(self, site: str) -> str | None:
        """A regional datacenter reachable over two node-disjoint paths, if any (Menger): one that
        shares a biconnected block with the site (the first in sorted order)."""
        shared = [self._hub_of_block[i] for i in self._blocks.get(site, ()) if i in self._hub_of_block]
        return min(shared) if shared else None

    def disjoint_paths(self, site: str, hub: str) -> list[list[str]]:
        """Two node-disjoint paths inside their shared block (small), for evidence."""
        shared = self._blocks.get(site, set()) & self._blocks.get(hub, set())
        if not shared:
            return []
        block = self.graph.subgraph(self._block_nodes[min(shared)])
        # cheap first: a shortest path, then a shortest path avoiding its inner sites
        first = nx.shortest_path(block, site, hub)
        rest = block.subgraph(set(block) - set(first[1:-1]))
        if len(first) > 2 or rest.has_edge(site, hub):
            try:
                second = nx.shortest_path(
                    rest if len(first) > 2 else nx.restricted_view(rest, [], [(site, hub)]), site, hub
                )
                return [first, second]
            except nx.NetworkXNoPath:
                pass
        paths = sorted(nx.node_disjoint_paths(block, site, hub), key=lambda p: (len(p), p))
        return [list(p) for p in paths[:2]]

    @cached_property
    def _edge_block(self) -> dict[frozenset[str], int]:
        """Each fibre edge -> the id of its biconnected component, in the graph where every regional
        datacenter is also joined to one virtual node: separating a site from that node is cutting it
        off every regional datacenter at once (a bridge is a component of its own)."""
        g = nx.Graph(self.graph)
        g.add_edges_from((_ANY_HUB, h) for h in self.hubs)
        return {frozenset(e): i for i, edges in enumerate(nx.biconnected_component_edges(g)) for e in edges}

    @cached_property
    def _bridges(self) -> set[frozenset[str]]:
        """Edges that are a biconnected component of their own."""
        sizes = Counter(self._edge_block.values())
        return {e for e, block in self._edge_block.items() if sizes[block] == 1}

    def single_points_of_failure(self, site: str) -> tuple[list[str], list[str]]:
        """Sites and circuits whose loss alone cuts `site` off every regional datacenter.

        On any path to the virtual node behind the hubs, an inner site separates the two ends exactly
        when the path enters and leaves it through edges of different biconnected components (edges of
        one component share a cycle, which would go around it); a fibre does when its edge is a
        component of its own (a bridge) and it is the only circuit on that edge.
        """
        path = self.path_to_hub(site)
        if not path:
            return [], []
        path = [*path, _ANY_HUB]
        blocks = [self._edge_block[frozenset(e)] for e in zip(path, path[1:], strict=False)]
        # inner sites, the hub itself excluded: the path enters path[i] by edge i-1 and leaves by edge i
        sites = [path[i] for i in range(1, len(path) - 2) if blocks[i - 1] != blocks[i]]
        circuits = []
        for u, v in zip(path[:-2], path[1:-1], strict=True):  # the real fibres, not the virtual edge
            cids = self.graph.edges[u, v]["circuits"]
            if frozenset((u, v)) in self._bridges and len(cids) == 1:
                circuits.append(cids[0])
        return sites, circuits

    @cached_property
    def spof_sites(self) -> set[str]:
        """Every site that is a single point of failure for some town hall."""
        out: set[str] = set()
        for site in self.inv.sites.values():
            if site.kind == "town-hall" and self.redundant_hub(site.slug) is None:
                out.update(self.single_points_of_failure(site.slug)[0])
        return out
