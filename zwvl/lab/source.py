"""The lab's scope: the backbone read from NetBox (``zwvl.netbox.reader``) as a :class:`LabSpec`, all
of it or the routers of some partners, sites or routers plus the regional datacenter's."""

from __future__ import annotations

from zwvl.lab.spec import LabSpec, spec_from_netbox
from zwvl.netbox.reader import client_from_env, fetch_records

HUB_GROUP = "regional-datacenter"
"""The site group whose sites every scoped lab includes (the regional datacenter the rings meet at)."""


def load_spec(
    *,
    everything: bool,
    partners: list[str],
    sites: list[str],
    routers: list[str],
    hub_group: str | None,
    design: bool = True,
    url: str | None = None,
    token: str | None = None,
) -> tuple[LabSpec, str, str]:
    """Read NetBox and select the scope. Returns (spec, NetBox URL, scope description)."""
    client = client_from_env(url, token)
    spec = spec_from_netbox(fetch_records(client, interfaces="connected"), design=design)
    if everything:
        return spec, client.url, "all"
    hub_sites: list[str] = []
    if hub_group:
        hub_sites = [
            s["slug"] for s in client.list("dcim/sites", fields=("id", "slug"), params={"group": hub_group})
        ]
    scope = ",".join(
        [f"partners={'+'.join(partners)}"] * bool(partners)
        + [f"sites={'+'.join(sites + hub_sites)}"] * bool(sites or hub_sites)
        + [f"routers={'+'.join(routers)}"] * bool(routers)
    )
    return spec.select(tenants=partners, sites=[*sites, *hub_sites], routers=routers), client.url, scope
