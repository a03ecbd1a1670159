"""What every Request Tracker provider shares: the client (one login per provider process, credentials
from the stack or the environment, never from the state) and the named records (queue, user, group,
custom field) that REST2 creates, reads and updates and whose "delete" disables them.

Creating a record whose name belongs to a disabled one re-enables and updates it, so destroy followed
by up converges. Credentials: an RT auth token (RT::Authen::Token) of an RT SuperUser service account,
the stack secret `zwvl:rtToken`, else `$ZWVL_RT_TOKEN`; never a password. TLS is verified against the CA
file `zwvl:rtCaFile`, else `$ZWVL_CA_FILE` (the region CA), else the system's CAs. The RT URL is an
input of every resource (from NetBox).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from zwvl.platform.providers.dynamic import Provider, ResourceArgs, inputs_of
from zwvl.platform.providers.rt.client import RtClient, RtError


class RtProvider(Provider):
    def config_keys(self) -> Iterable[str]:
        return ("rtToken", "rtCaFile")

    def client(self, props: Mapping[str, Any]) -> RtClient:
        token = self.setting("rtToken", "ZWVL_RT_TOKEN")
        if not token:
            raise RtError(
                "no RT auth token: set the stack secret zwvl:rtToken or $ZWVL_RT_TOKEN "
                "(made on the RT host with zwvl-rt-token, see ansible/roles/request_tracker/README.md)"
            )
        ca_file = self.setting("rtCaFile", "ZWVL_CA_FILE") or None
        key = (str(props["url"]), token, ca_file or "")
        cache: dict[tuple[str, str, str], RtClient] = self.__dict__.setdefault("_clients", {})
        if key not in cache:  # one session per provider process, not one per call
            cache[key] = RtClient(key[0], token=token, ca_file=ca_file)
        return cache[key]


class RecordProvider(RtProvider):
    """A named RT record (queue, user, group, custom field) whose delete disables it."""

    kind = ""
    fields: tuple[str, ...] = ()  # input property -> RT field, same order as rt_fields
    rt_fields: tuple[str, ...] = ()
    create_only: dict[str, str] = {}  # input property -> RT field, sent only on create

    def body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {rf: props.get(f) for f, rf in zip(self.fields, self.rt_fields, strict=True)}

    def outs(self, props: Mapping[str, Any], rt_id: str) -> dict[str, Any]:
        return dict(
            inputs_of(props, ("url", "name", *self.fields, *self.create_only)), rt_id=rt_id, disabled=False
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        rt = self.client(props)
        body = dict(self.body(props), Name=props["name"])
        existing = rt.find(self.kind, props["name"])
        if existing is not None:
            if str(existing.get("Disabled", "0")) != "1":
                raise RtError(f"RT {self.kind} {props['name']!r} already exists (import it instead)")
            rt_id = str(existing["id"])
            rt.update(self.kind, rt_id, dict(body, Disabled=0))
        else:
            body.update({rf: props.get(f) for f, rf in self.create_only.items() if props.get(f) is not None})
            rt_id = rt.create(self.kind, body)
            if self.kind in ("queue", "user"):  # these ids come back as names
                record = rt.get(f"/{self.kind}/{quote(rt_id, safe='')}")
                rt_id = str(record["id"]) if record else rt_id
        return CreateResult(rt_id, self.outs(props, rt_id))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        rt = self.client(props)
        record = rt.get(f"/{self.kind}/{id_}")
        if record is None:
            return ReadResult(None, {})
        outs = self.outs(props, id_)
        outs["name"] = record.get("Name")
        for f, rf in zip(self.fields, self.rt_fields, strict=True):
            outs[f] = self.from_rt(f, record.get(rf))
        outs["disabled"] = str(record.get("Disabled", "0")) == "1"
        return ReadResult(id_, outs)

    def from_rt(self, prop: str, value: Any) -> Any:
        return value

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        rt = self.client(news)
        rt.update(self.kind, id_, dict(self.body(news), Name=news["name"], Disabled=0))
        return UpdateResult(self.outs(news, id_))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        rt = self.client(props)
        record = rt.get(f"/{self.kind}/{id_}")
        if (
            record is not None and str(record.get("Disabled", "0")) != "1"
        ):  # RT answers 500 to a second DELETE
            rt.call("DELETE", f"/{self.kind}/{id_}", ok=(204, 200))


class AttachedProvider(RtProvider):
    """What is attached to one RT record, as a whole (a group's members, groups' rights on a queue, the
    queues a custom field applies to): `sync` makes it exactly as declared (`olds`: the declaration it
    replaces, on update); once the record is gone there is nothing to read or delete."""

    record_kind = ""  # the record's kind in REST2, e.g. "group"
    record_input = ""  # the input property holding the record's id, e.g. "group_id"
    id_format = ""  # the resource's id, formatted with the record's id

    def record_id(self, props: Mapping[str, Any]) -> str:
        return str(props[self.record_input])

    def record_client(self, props: Mapping[str, Any]) -> RtClient | None:
        """The client, or None when RT does not know the record (any more)."""
        rt = self.client(props)
        return None if rt.get(f"/{self.record_kind}/{self.record_id(props)}") is None else rt

    def outs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def sync(self, props: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> None:
        raise NotImplementedError

    def create(self, props: dict[str, Any]) -> CreateResult:
        self.sync(props)
        return CreateResult(self.id_format.format(props[self.record_input]), self.outs(props))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self.sync(news, olds)
        return UpdateResult(self.outs(news))


def flag(value: Any) -> bool:
    return str(value) in ("1", "True", "true")


@dataclass(kw_only=True)
class RtArgs(ResourceArgs):
    url: pulumi.Input[str]


@dataclass(kw_only=True)
class RecordArgs(RtArgs):
    """A named record; `rt_id` is RT's id, filled in by the provider."""

    name: str

    def props(self) -> dict[str, Any]:
        return dict(super().props(), disabled=False, rt_id=None)
