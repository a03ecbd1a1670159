"""The helpdesk's ComponentResources: the pool (its users and groups), one per partner (its queue and
the pool's rights on it), and the ITIL category field on every queue. Each owns its RT resources
(from the provider library `zwvl.platform.providers`), which keep the names (and, through
`child_opts`' alias, the URNs) they had before they were grouped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
from zwvl.platform import plan
from zwvl.platform.providers import rt
from zwvl.platform.stack import child_opts


@dataclass
class HelpdeskResources:
    """The helpdesk's resources by key, as the components declared them."""

    queues: dict[str, rt.Queue] = field(default_factory=dict)
    groups: dict[str, rt.Group] = field(default_factory=dict)
    users: dict[str, rt.User] = field(default_factory=dict)
    members: dict[str, rt.GroupMembers] = field(default_factory=dict)
    rights: dict[str, rt.QueueRights] = field(default_factory=dict)
    custom_field: rt.CustomField | None = None
    custom_field_queues: rt.CustomFieldQueues | None = None
    components: dict[str, pulumi.ComponentResource] = field(default_factory=dict)


class Pool(pulumi.ComponentResource):
    """The helpdesk pool: its users (the partners' headcount) and groups with their members."""

    def __init__(
        self,
        name: str,
        p: plan.HelpdeskPlan,
        url: pulumi.Input[str],
        out: HelpdeskResources,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("zwvl:helpdesk:Pool", name, None, opts)
        out.components[name] = self
        for u in p.users:
            out.users[u.name] = rt.User(
                f"user-{u.name}", rt.UserArgs(url=url, name=u.name, real_name=u.real_name), child_opts(self)
            )
        for g in p.groups:
            group = rt.Group(
                f"group-{g.slug}",
                rt.GroupArgs(url=url, name=g.slug, description=g.description),
                child_opts(self),
            )
            out.groups[g.slug] = group
            out.members[g.slug] = rt.GroupMembers(
                f"members-{g.slug}",
                rt.GroupMembersArgs(url=url, group_id=group.id, members=g.members),
                child_opts(self, [out.users[m] for m in g.members]),
            )
        self.register_outputs({"groups": {slug: g.id for slug, g in out.groups.items()}})


class PartnerQueue(pulumi.ComponentResource):
    """A partner's queue with the default SLA, and each pool group's rights on it (through RT's admin
    web interface, as REST2 has no rights endpoint)."""

    def __init__(
        self,
        name: str,
        q: plan.QueuePlan,
        p: plan.HelpdeskPlan,
        url: pulumi.Input[str],
        out: HelpdeskResources,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("zwvl:helpdesk:PartnerQueue", name, None, opts)
        out.components[name] = self
        queue = rt.Queue(
            f"queue-{q.partner}",
            rt.QueueArgs(url=url, name=q.name, description=q.description, default_sla=p.default_sla),
            child_opts(self),
        )
        out.queues[q.partner] = queue
        grants = [(out.groups[g.slug].id, g.rights) for g in p.groups]
        out.rights[q.partner] = rt.QueueRights(
            f"rights-{q.partner}",
            rt.QueueRightsArgs(url=url, queue_id=queue.id, grants=grants),
            child_opts(self),
        )
        self.register_outputs({"queue": queue.id})


class CategoryField(pulumi.ComponentResource):
    """The ITIL category custom field, applied to every queue."""

    def __init__(
        self,
        name: str,
        p: plan.HelpdeskPlan,
        url: pulumi.Input[str],
        queues: Sequence[rt.Queue],
        out: HelpdeskResources,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("zwvl:helpdesk:CategoryField", name, None, opts)
        out.components[name] = self
        cf = rt.CustomField(
            "cf-itil-category",
            rt.CustomFieldArgs(
                url=url,
                name=plan.ITIL_CATEGORY_FIELD,
                description="ITIL category of the ticket",
                values=p.categories,
            ),
            child_opts(self),
        )
        out.custom_field = cf
        out.custom_field_queues = rt.CustomFieldQueues(
            "cf-itil-category-queues",
            rt.CustomFieldQueuesArgs(url=url, custom_field_id=cf.id, queue_ids=[q.id for q in queues]),
            child_opts(self),
        )
        self.register_outputs({"custom_field": cf.id})
