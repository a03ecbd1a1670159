"""What both Pulumi programs (`pulumi/data-platform`, `pulumi/helpdesk`) share: the stack's domain
model and the options of the resources their components own.

The programs themselves, with their ComponentResources and unit tests, live in `pulumi/<project>/`;
the resources they declare come from the provider library `zwvl.platform.providers`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pulumi
from zwvl.inventory import Inventory, load_inventory


def stack_inventory(config: pulumi.Config, repo: Path) -> Inventory:
    """The domain model the stack is built from (`zwvl:inventory`, relative to the repository root)."""
    path = Path(config.get("inventory") or "inventory")
    return load_inventory(path if path.is_absolute() else repo / path)


def child_opts(
    parent: pulumi.Resource, depends_on: Sequence[pulumi.Resource] | None = None
) -> pulumi.ResourceOptions:
    """Options of a resource a component owns.

    Every such resource was declared at the top of the stack before the programs grouped them in
    components; the alias keeps its old URN (same name and type, parented by the stack), so existing
    stacks adopt it in place instead of deleting and re-creating it (a database, say).
    """
    return pulumi.ResourceOptions(
        parent=parent,
        aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)],
        depends_on=list(depends_on or []),
    )
