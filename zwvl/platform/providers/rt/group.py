"""A Request Tracker group, and exactly which users are its direct members."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pulumi
from pulumi.dynamic import ReadResult
from zwvl.platform.providers.dynamic import DynamicResource, inputs_of
from zwvl.platform.providers.rt.base import AttachedProvider, RecordArgs, RecordProvider, RtArgs


class GroupProvider(RecordProvider):
    kind = "group"
    fields = ("description",)
    rt_fields = ("Description",)
    managed = ("url", "name", "description", "disabled")
    replace_on = ("name",)


@dataclass(kw_only=True)
class GroupArgs(RecordArgs):
    description: str


class Group(DynamicResource[GroupArgs]):
    provider_type = GroupProvider
    rt_id: pulumi.Output[str]


class GroupMembersProvider(AttachedProvider):
    """Exactly these users (by name) are the direct user members of a group."""

    managed = ("url", "group_id", "members")
    replace_on = ("group_id",)
    set_like = ("members",)
    record_kind, record_input, id_format = "group", "group_id", "group-{}-members"

    def sync(self, props: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> None:
        rt = self.client(props)
        group = self.record_id(props)
        want = {rt.user_id(n) for n in props.get("members") or []}
        have = set(rt.group_member_ids(group))
        for uid in sorted(have - want):
            rt.call("DELETE", f"/group/{group}/member/{uid}", ok=(204, 200))
        if want - have:
            rt.check_results(
                f"add members to group {group}",
                rt.call("PUT", f"/group/{group}/members", sorted(want - have)),
            )

    def outs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return dict(inputs_of(props, self.managed), members=sorted(props.get("members") or []))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        rt = self.record_client(props)
        if rt is None:
            return ReadResult(None, {})
        names = sorted(rt.user_name(i) for i in rt.group_member_ids(self.record_id(props)))
        return ReadResult(id_, dict(self.outs(props), members=names))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        rt = self.record_client(props)
        if rt is None:
            return
        group = self.record_id(props)
        ids = set(rt.group_member_ids(group))
        for name in props.get("members") or []:
            user = rt.get(f"/user/{quote(name, safe='')}")
            if user is not None and int(user["id"]) in ids:
                rt.call("DELETE", f"/group/{group}/member/{user['id']}", ok=(204, 200))


@dataclass(kw_only=True)
class GroupMembersArgs(RtArgs):
    group_id: pulumi.Input[str]
    members: Sequence[str]

    def props(self) -> dict[str, Any]:
        return dict(super().props(), members=sorted(self.members))


class GroupMembers(DynamicResource[GroupMembersArgs]):
    provider_type = GroupMembersProvider
    members: pulumi.Output[list[str]]
