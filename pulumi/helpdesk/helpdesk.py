"""The pooled helpdesk (Request Tracker 5), declared from the domain model.

`helpdesk` groups the resources in components (`helpdesk_components`): the pool's users and groups,
one `PartnerQueue` per partner, the ITIL category field. `main` reads the stack config, finds RT's
host in NetBox and exports the queues and groups.
"""

from __future__ import annotations

from pathlib import Path

from helpdesk_components import CategoryField, HelpdeskResources, PartnerQueue, Pool

import pulumi
from zwvl.inventory import Inventory
from zwvl.platform.hosts import service_address
from zwvl.platform.plan import helpdesk_plan
from zwvl.platform.stack import stack_inventory
from zwvl.repo import repo_root

HERE = Path(__file__).resolve().parent


def helpdesk(inv: Inventory, url: pulumi.Input[str]) -> HelpdeskResources:
    """A queue per partner with the default SLA; the pool's groups with their members; the ITIL
    category field on every queue; each group's rights on each queue (through RT's admin web
    interface, as REST2 has no rights endpoint)."""
    plan = helpdesk_plan(inv)
    out = HelpdeskResources()
    Pool("pool", plan, url, out)
    for q in plan.queues:
        PartnerQueue(f"partner-{q.partner}", q, plan, url, out)
    CategoryField("itil-category", plan, url, list(out.queues.values()), out)
    return out


def main() -> None:
    """The program (`__main__.py`): the stack config in, the resources declared, the outputs out."""
    config = pulumi.Config("zwvl")
    inv = stack_inventory(config, repo_root(start=HERE))
    url = config.get("rtUrl")
    if not url:
        scheme = config.get("rtScheme") or "https"
        port = config.get_int("rtPort")
        host = service_address(inv, "helpdesk", config.get("rtHost"))
        url = f"{scheme}://{host}" + (f":{port}" if port else "")
    hd = helpdesk(inv, url)
    pulumi.export("url", url)
    pulumi.export("queues", {k: q.id for k, q in hd.queues.items()})
    pulumi.export("groups", {k: g.id for k, g in hd.groups.items()})
