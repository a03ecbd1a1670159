"""Groups' rights on a Request Tracker queue. REST2 has no rights endpoint, so this provider uses RT's
admin web interface (`/Admin/Queues/GroupRights.html`), logging in through `/NoAuth/Login.html`, and
reads the rights back from the same page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import ReadResult
from zwvl.platform.providers.dynamic import DynamicResource, inputs_of
from zwvl.platform.providers.rt.base import AttachedProvider, RtArgs


class QueueRightsProvider(AttachedProvider):
    """The rights of groups on a queue, through the admin web interface (REST2 has no rights endpoint).

    `rights` maps group id -> right names; exactly those are granted to those groups on the queue.
    Groups not named are left alone.
    """

    managed = ("url", "queue_id", "rights")
    replace_on = ("queue_id",)
    record_kind, record_input, id_format = "queue", "queue_id", "queue-{}-rights"

    @staticmethod
    def _norm(rights: Mapping[str, Iterable[str]] | None) -> dict[str, list[str]]:
        return {str(k): sorted(set(v)) for k, v in sorted((rights or {}).items())}

    def outs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return dict(inputs_of(props, ("url", "queue_id")), rights=self._norm(props.get("rights")))

    def sync(self, props: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> None:
        want = self._norm(props["rights"])
        # groups dropped from the declaration lose their rights on this queue
        dropped: dict[str, list[str]] = {
            g: [] for g in self._norm((olds or {}).get("rights")) if g not in want
        }
        self.client(props).set_queue_group_rights(self.record_id(props), {**dropped, **want})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        rt = self.record_client(props)
        if rt is None:
            return ReadResult(None, {})
        held = rt.queue_group_rights(self.record_id(props))
        mine = {g: held.get(g, []) for g in self._norm(props.get("rights"))}
        return ReadResult(id_, dict(self.outs(props), rights=mine))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        rt = self.record_client(props)
        if rt is None:
            return
        rt.set_queue_group_rights(self.record_id(props), {g: [] for g in self._norm(props.get("rights"))})


@dataclass(kw_only=True)
class QueueRightsArgs(RtArgs):
    """`grants`: (group id, right names) pairs; the ids are usually other resources' outputs."""

    queue_id: pulumi.Input[str]
    grants: Sequence[tuple[pulumi.Input[str], Sequence[str]]]

    def props(self) -> dict[str, Any]:
        grants = self.grants
        rights = pulumi.Output.all(*[g for g, _ in grants]).apply(
            lambda ids: {str(i): sorted(r) for i, (_, r) in zip(ids, grants, strict=True)}
        )
        return {"url": self.url, "queue_id": self.queue_id, "rights": rights}


class QueueRights(DynamicResource[QueueRightsArgs]):
    provider_type = QueueRightsProvider
    rights: pulumi.Output[dict[str, list[str]]]
