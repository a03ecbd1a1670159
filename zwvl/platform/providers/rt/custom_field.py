"""A select-one ticket custom field with its values, and the queues it applies to. REST2 has no endpoint
for applying a custom field to queues, so that goes through RT's admin web interface
(`/Admin/CustomFields/Objects.html`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from zwvl.platform.providers.dynamic import DynamicResource, inputs_of
from zwvl.platform.providers.rt.base import AttachedProvider, RecordArgs, RecordProvider, RtArgs
from zwvl.platform.providers.rt.client import RtClient


class CustomFieldProvider(RecordProvider):
    """A select-one ticket custom field with its values (values through REST2's value endpoints)."""

    kind = "customfield"
    fields = ("description",)
    rt_fields = ("Description",)
    create_only = {"type": "Type", "max_values": "MaxValues", "lookup_type": "LookupType"}
    managed = ("url", "name", "description", "values", "disabled", "type", "max_values", "lookup_type")
    replace_on = ("name", "type", "max_values", "lookup_type")

    def _sync_values(self, rt: RtClient, cf_id: str, want: Sequence[str]) -> None:
        have = {v["name"]: v["id"] for v in self._values(rt, cf_id)}
        for name, vid in have.items():
            if name not in want:
                rt.call("DELETE", f"/customfield/{cf_id}/value/{vid}", ok=(204, 200))
        for order, name in enumerate(want, 1):
            if name not in have:
                rt.call("POST", f"/customfield/{cf_id}/value", {"Name": name, "SortOrder": order}, ok=(201,))
            else:
                rt.call("PUT", f"/customfield/{cf_id}/value/{have[name]}", {"SortOrder": order}, ok=(200,))

    @staticmethod
    def _values(rt: RtClient, cf_id: str) -> list[dict[str, Any]]:
        data = rt.call("GET", f"/customfield/{cf_id}/values?per_page=100")
        return list(data.get("items", []))

    def outs(self, props: Mapping[str, Any], rt_id: str) -> dict[str, Any]:
        return dict(super().outs(props, rt_id), values=list(props.get("values") or []))

    def create(self, props: dict[str, Any]) -> CreateResult:
        result = super().create(props)
        self._sync_values(self.client(props), str(result.id), list(props.get("values") or []))
        return result

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        result = super().read(id_, props)
        if result.id is None or result.outs is None:
            return result
        record = self.client(props).get(f"/customfield/{id_}") or {}
        result.outs["values"] = list(record.get("Values") or [])
        result.outs["type"] = record.get("Type")
        result.outs["max_values"] = int(record.get("MaxValues") or 0)
        result.outs["lookup_type"] = record.get("LookupType")
        return result

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        result = super().update(id_, olds, news)
        self._sync_values(self.client(news), id_, list(news.get("values") or []))
        return result


@dataclass(kw_only=True)
class CustomFieldArgs(RecordArgs):
    description: str
    values: Sequence[str]

    def props(self) -> dict[str, Any]:
        created = {"type": "Select", "max_values": 1, "lookup_type": "RT::Queue-RT::Ticket"}
        return dict(super().props(), values=list(self.values), **created)


class CustomField(DynamicResource[CustomFieldArgs]):
    provider_type = CustomFieldProvider
    rt_id: pulumi.Output[str]


class CustomFieldQueuesProvider(AttachedProvider):
    """A custom field applied to exactly these queues, through the admin web interface (REST2 has no
    endpoint for applying custom fields); read back from REST2's queue records."""

    managed = ("url", "custom_field_id", "queue_ids")
    replace_on = ("custom_field_id",)
    set_like = ("queue_ids",)
    record_kind, record_input, id_format = "customfield", "custom_field_id", "customfield-{}-queues"

    def outs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return dict(
            inputs_of(props, ("url", "custom_field_id")),
            queue_ids=sorted(str(q) for q in props.get("queue_ids") or []),
        )

    def _applied(self, rt: RtClient, cf: str, queues: Iterable[str]) -> list[str]:
        return sorted(q for q in queues if int(cf) in rt.queue_custom_fields(q))

    def sync(self, props: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> None:
        rt = self.client(props)
        cf = self.record_id(props)
        want = {str(q) for q in props.get("queue_ids") or []}
        known = want | {str(q) for q in (olds or {}).get("queue_ids") or []}
        have = set(self._applied(rt, cf, known))
        if want - have or have - want:
            rt.apply_custom_field(cf, sorted(want - have), sorted(have - want))

    def _declared(self, rt: RtClient, props: Mapping[str, Any]) -> list[str]:
        """The declared queues the field applies to now."""
        return self._applied(rt, self.record_id(props), [str(q) for q in props.get("queue_ids") or []])

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        rt = self.record_client(props)
        if rt is None:
            return ReadResult(None, {})
        return ReadResult(id_, dict(self.outs(props), queue_ids=self._declared(rt, props)))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        rt = self.record_client(props)
        if rt is None:
            return
        applied = self._declared(rt, props)
        cf = self.record_id(props)
        if applied:
            rt.apply_custom_field(cf, [], applied)


@dataclass(kw_only=True)
class CustomFieldQueuesArgs(RtArgs):
    custom_field_id: pulumi.Input[str]
    queue_ids: Sequence[pulumi.Input[str]]

    def props(self) -> dict[str, Any]:
        return dict(super().props(), queue_ids=list(self.queue_ids))


class CustomFieldQueues(DynamicResource[CustomFieldQueuesArgs]):
    provider_type = CustomFieldQueuesProvider
