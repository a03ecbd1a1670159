"""A Request Tracker queue. Its default SLA can only be set when the queue is created (REST2 ignores it
on update and does not return it), so it is a create-time property: changing it replaces the queue.
Queues are created with SLA disabled unless `SLADisabled: 0` is sent: every queue sends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from zwvl.platform.providers.dynamic import DynamicResource
from zwvl.platform.providers.rt.base import RecordArgs, RecordProvider, flag


class QueueProvider(RecordProvider):
    kind = "queue"
    fields = ("description", "sla_disabled")
    rt_fields = ("Description", "SLADisabled")
    create_only = {"default_sla": "SLA"}
    managed = ("url", "name", "description", "sla_disabled", "default_sla", "disabled")
    replace_on = ("name", "default_sla")

    def body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "Description": props.get("description") or "",
            "SLADisabled": 1 if props.get("sla_disabled") else 0,
        }

    def from_rt(self, prop: str, value: Any) -> Any:
        return flag(value) if prop == "sla_disabled" else value

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        # The default SLA can only be set at creation, so a replaced queue must free its name: the
        # disabled queue keeps its tickets under a retired name.
        rt = self.client(props)
        record = rt.get(f"/queue/{id_}")
        if record is None or str(record.get("Disabled", "0")) == "1":
            return
        rt.update("queue", id_, {"Name": f"{record['Name']} (retired #{id_})"})
        rt.call("DELETE", f"/queue/{id_}", ok=(204, 200))


@dataclass(kw_only=True)
class QueueArgs(RecordArgs):
    description: str
    default_sla: str

    def props(self) -> dict[str, Any]:
        return dict(super().props(), sla_disabled=False)


class Queue(DynamicResource[QueueArgs]):
    provider_type = QueueProvider
    rt_id: pulumi.Output[str]
    name: pulumi.Output[str]
