"""Request Tracker 5: a client (REST2 + the admin web interface) and Pulumi dynamic providers.

What REST2 in RT 5.0.3 can and cannot do, and how each provider copes:

- queues, users, groups, group members, custom fields and their values: REST2 (create, read, update;
  "delete" disables, because RT never deletes these records). Creating a record whose name belongs to
  a disabled one re-enables and updates it, so destroy followed by up converges.
- a queue's default SLA can only be set when the queue is created (REST2 ignores it on update and
  does not return it), so it is a create-time property: changing it replaces the queue.
- queues are created with SLA disabled unless `SLADisabled: 0` is sent: every queue sends it.
- rights and applying a custom field to queues: REST2 has no endpoint for either, so these two
  providers use RT's admin web interface (`/Admin/Queues/GroupRights.html`,
  `/Admin/CustomFields/Objects.html`), logging in through `/NoAuth/Login.html`, and read the rights
  back from the same page.
- an unknown SLA name is accepted by REST2 silently and the ticket loses its due dates, so
  `RtClient.create_ticket` checks the name against the inventory's SLA set first.

Credentials: `zwvl:rtUser`/`zwvl:rtPassword` stack settings (the password a Pulumi secret), else
`$ZWVL_RT_USER`/`$ZWVL_RT_PASSWORD`. The RT URL is an input of every resource (from NetBox).
"""

from __future__ import annotations

import html.parser
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import requests

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from zwvl.model import Helpdesk
from zwvl.platform.dynamic import DynamicResource, Provider, inputs_of
from zwvl.platform.sla import check_sla_name

TIMEOUT = 60


class RtError(RuntimeError):
    pass


class _Checkboxes(html.parser.HTMLParser):
    """Collects checked checkbox values per input name (for the rights page)."""

    def __init__(self) -> None:
        super().__init__()
        self.checked: dict[str, set[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "input":
            return
        a = dict(attrs)
        if a.get("type") == "checkbox" and "checked" in a and a.get("name"):
            self.checked.setdefault(str(a["name"]), set()).add(str(a.get("value") or ""))


class RtClient:
    """REST2 at `<url>/REST/2.0` and the admin web interface, sharing one RT web session.

    RT 5 hashes passwords with bcrypt, so HTTP basic auth costs a bcrypt round per request; logging
    in once through the login form and reusing the session cookie (REST2 accepts it) is far faster.
    """

    def __init__(self, url: str, user: str, password: str) -> None:
        self.url = url.rstrip("/")
        self.api = self.url + "/REST/2.0"
        self._user, self._password = user, password
        self._session: requests.Session | None = None
        parts = urlsplit(self.url)
        self.origin = f"{parts.scheme}://{parts.netloc}"

    def web(self) -> requests.Session:
        if self._session is None:
            s = requests.Session()
            resp = s.post(
                self.url + "/NoAuth/Login.html",
                data={"user": self._user, "pass": self._password},
                headers={"Referer": self.url + "/NoAuth/Login.html"},
                timeout=TIMEOUT,
            )
            # RT answers with a page whose RT.CurrentUser names the user once logged in
            if resp.status_code != 200 or f'"Name":{json.dumps(self._user)}' not in resp.text:
                raise RtError(f"RT login as {self._user!r} at {self.url} failed (HTTP {resp.status_code})")
            s.headers["Accept"] = "application/json"
            # REST2 requests on the web session cookie are CSRF-checked since Debian's 5.0.3+dfsg-3~deb12u7
            # (CVE-2026-108277): a write must name an origin RT accepts ($WebBaseURL or
            # @ReferrerWhitelist), as RT's own pages do. The URL this client uses is that origin.
            s.headers["Origin"] = self.origin
            self._session = s
        return self._session

    # --- REST2 ---------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: Any = None) -> requests.Response:
        resp = self.web().request(method, self.api + path, json=body, timeout=TIMEOUT)
        if resp.status_code == 401:  # session expired: log in again once
            self._session = None
            resp = self.web().request(method, self.api + path, json=body, timeout=TIMEOUT)
        return resp

    def call(self, method: str, path: str, body: Any = None, ok: Sequence[int] = (200, 201, 204)) -> Any:
        resp = self._request(method, path, body)
        if resp.status_code not in ok:
            raise RtError(f"RT {method} {path}: HTTP {resp.status_code}: {resp.text[:300]}")
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            raise RtError(f"RT {method} {path}: not JSON: {resp.text[:200]}") from exc

    def get(self, path: str) -> dict[str, Any] | None:
        """A record, or None when RT does not know it."""
        resp = self._request("GET", path)
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise RtError(f"RT GET {path}: HTTP {resp.status_code}: {resp.text[:300]}")
        data: dict[str, Any] = resp.json()
        return data

    @staticmethod
    def check_results(what: str, results: Any) -> None:
        for msg in results or []:
            if isinstance(msg, str) and ("denied" in msg.lower() or "could not" in msg.lower()):
                raise RtError(f"{what}: {msg}")

    def create(self, kind: str, body: Mapping[str, Any]) -> str:
        data = self.call("POST", f"/{kind}", dict(body), ok=(201,))
        return str(data["id"])

    def update(self, kind: str, id_: str, body: Mapping[str, Any]) -> None:
        self.check_results(f"update {kind} {id_}", self.call("PUT", f"/{kind}/{id_}", dict(body), ok=(200,)))

    def find(self, kind: str, name: str) -> dict[str, Any] | None:
        """A queue/user/group/custom field by name, also when disabled."""
        if kind in ("queue", "user"):
            return self.get(f"/{kind}/{quote(name, safe='')}")
        collection = {"group": "groups", "customfield": "customfields"}[kind]
        for disabled in (0, 1):
            query = [{"field": "Name", "value": name}]
            if disabled:
                query.append({"field": "Disabled", "value": "1"})
            found = self.call("POST", f"/{collection}?find_disabled_rows=1", query, ok=(200,))
            for item in found.get("items", []):
                record = self.get(f"/{kind}/{item['id']}")
                if record and record.get("Name") == name:
                    return record
        return None

    def user_id(self, name: str) -> int:
        user = self.get(f"/user/{quote(name, safe='')}")
        if user is None:
            raise RtError(f"RT user {name!r} not found")
        return int(user["id"])

    def user_name(self, id_: int) -> str:
        user = self.get(f"/user/{id_}")
        if user is None:
            raise RtError(f"RT user #{id_} not found")
        return str(user["Name"])

    def group_member_ids(self, group_id: str) -> list[int]:
        out: list[int] = []
        page = 1
        while True:
            data = self.call("GET", f"/group/{group_id}/members?users=1&groups=0&per_page=100&page={page}")
            out += [int(i["id"]) for i in data.get("items", [])]
            if page * 100 >= int(data.get("total") or 0):
                return out
            page += 1

    def queue_custom_fields(self, queue_id: str) -> list[int]:
        queue = self.get(f"/queue/{queue_id}")
        if queue is None:
            return []
        return [int(cf["id"]) for cf in queue.get("TicketCustomFields", [])]

    def create_ticket(
        self,
        helpdesk: Helpdesk,
        *,
        queue: str,
        subject: str,
        requestor: str,
        content: str = "",
        sla: str | None = None,
        custom_fields: Mapping[str, Any] | None = None,
    ) -> int:
        """Create a ticket; an SLA name outside the uniform set raises UnknownSlaError before RT is called."""
        body: dict[str, Any] = {"Queue": queue, "Subject": subject, "Requestor": requestor}
        if content:
            body.update(Content=content, ContentType="text/plain")
        if sla is not None:
            body["SLA"] = check_sla_name(helpdesk, sla).name
        if custom_fields:
            body["CustomFields"] = dict(custom_fields)
        return int(self.create("ticket", body))

    # --- the admin web interface (for what REST2 lacks) ----------------------------------

    def web_get(self, page: str, params: Mapping[str, Any]) -> str:
        resp = self.web().get(
            self.url + page, params=dict(params), headers={"Accept": "text/html"}, timeout=TIMEOUT
        )
        if resp.status_code != 200:
            raise RtError(f"RT web GET {page}: HTTP {resp.status_code}")
        return resp.text

    def web_post(self, page: str, data: Sequence[tuple[str, str]]) -> str:
        # RT refuses cross-site POSTs: the Referer names RT's own page.
        resp = self.web().post(
            self.url + page,
            data=list(data),
            headers={"Referer": self.url + page, "Accept": "text/html"},
            timeout=TIMEOUT,
        )
        if resp.status_code != 200:
            raise RtError(f"RT web POST {page}: HTTP {resp.status_code}")
        if "Possible cross-site request forgery" in resp.text:
            raise RtError(f"RT web POST {page}: refused as a possible CSRF (check WebBaseURL)")
        return resp.text

    def queue_group_rights(self, queue_id: str) -> dict[str, list[str]]:
        """Rights of every group principal on a queue, from the admin rights page."""
        page = self.web_get("/Admin/Queues/GroupRights.html", {"id": queue_id})
        parser = _Checkboxes()
        parser.feed(page)
        prefix, suffix = "SetRights-", f"-RT::Queue-{queue_id}"
        out: dict[str, list[str]] = {}
        for name, values in parser.checked.items():
            if name.startswith(prefix) and name.endswith(suffix):
                principal = name[len(prefix) : -len(suffix)]
                if principal.isdigit():
                    out[principal] = sorted(v for v in values if v)
        return out

    def set_queue_group_rights(self, queue_id: str, rights: Mapping[str, Iterable[str]]) -> None:
        """Make each group's rights on the queue exactly the given ones (RT's own ProcessACLs does it)."""
        data: list[tuple[str, str]] = [("id", str(queue_id))]
        for principal, names in sorted(rights.items()):
            tuple_ = f"{principal}-RT::Queue-{queue_id}"
            data.append(("CheckACL", tuple_))
            data.append((f"SetRights-{tuple_}", ""))
            data += [(f"SetRights-{tuple_}", r) for r in sorted(set(names))]
        self.web_post("/Admin/Queues/GroupRights.html", data)

    def apply_custom_field(self, cf_id: str, add: Iterable[str], remove: Iterable[str]) -> None:
        data = [("id", str(cf_id)), ("UpdateObjs", "1")]
        data += [(f"AddCustomField-{cf_id}", str(q)) for q in add]
        data += [(f"RemoveCustomField-{cf_id}", str(q)) for q in remove]
        self.web_post("/Admin/CustomFields/Objects.html", data)


# --- providers -------------------------------------------------------------------------------


class RtProvider(Provider):
    def config_keys(self) -> Iterable[str]:
        return ("rtUser", "rtPassword")

    def client(self, props: Mapping[str, Any]) -> RtClient:
        user = self.setting("rtUser", "ZWVL_RT_USER") or "root"
        password = self.setting("rtPassword", "ZWVL_RT_PASSWORD")
        if not password:
            raise RtError("no RT password: set the stack secret zwvl:rtPassword or $ZWVL_RT_PASSWORD")
        key = (str(props["url"]), user, password)
        cache: dict[tuple[str, str, str], RtClient] = self.__dict__.setdefault("_clients", {})
        if key not in cache:  # one login per provider process, not one per call
            cache[key] = RtClient(*key)
        return cache[key]


class _RecordProvider(RtProvider):
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


def _flag(value: Any) -> bool:
    return str(value) in ("1", "True", "true")


class QueueProvider(_RecordProvider):
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
        return _flag(value) if prop == "sla_disabled" else value

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        # The default SLA can only be set at creation, so a replaced queue must free its name: the
        # disabled queue keeps its tickets under a retired name.
        rt = self.client(props)
        record = rt.get(f"/queue/{id_}")
        if record is None or str(record.get("Disabled", "0")) == "1":
            return
        rt.update("queue", id_, {"Name": f"{record['Name']} (retired #{id_})"})
        rt.call("DELETE", f"/queue/{id_}", ok=(204, 200))


class UserProvider(_RecordProvider):
    """A privileged RT user. The password (optional) is set at creation only; RT does not return it."""

    kind = "user"
    fields = ("real_name", "email", "privileged")
    rt_fields = ("RealName", "EmailAddress", "Privileged")
    create_only = {"password": "Password"}
    managed = ("url", "name", "real_name", "email", "privileged", "disabled")
    replace_on = ("name",)

    def body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "RealName": props.get("real_name") or "",
            "EmailAddress": props.get("email") or "",
            "Privileged": 1 if props.get("privileged") else 0,
        }

    def from_rt(self, prop: str, value: Any) -> Any:
        if prop == "privileged":
            return _flag(value)
        return value or (None if prop == "email" else "")


class GroupProvider(_RecordProvider):
    kind = "group"
    fields = ("description",)
    rt_fields = ("Description",)
    managed = ("url", "name", "description", "disabled")
    replace_on = ("name",)


class CustomFieldProvider(_RecordProvider):
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


class GroupMembersProvider(RtProvider):
    """Exactly these users (by name) are the direct user members of a group."""

    managed = ("url", "group_id", "members")
    replace_on = ("group_id",)
    set_like = ("members",)

    def _sync(self, props: Mapping[str, Any]) -> None:
        rt = self.client(props)
        group = str(props["group_id"])
        want = {rt.user_id(n) for n in props.get("members") or []}
        have = set(rt.group_member_ids(group))
        for uid in sorted(have - want):
            rt.call("DELETE", f"/group/{group}/member/{uid}", ok=(204, 200))
        if want - have:
            rt.check_results(
                f"add members to group {group}",
                rt.call("PUT", f"/group/{group}/members", sorted(want - have)),
            )

    def _outs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return dict(inputs_of(props, self.managed), members=sorted(props.get("members") or []))

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._sync(props)
        return CreateResult(f"group-{props['group_id']}-members", self._outs(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        rt = self.client(props)
        if rt.get(f"/group/{props['group_id']}") is None:
            return ReadResult(None, {})
        names = sorted(rt.user_name(i) for i in rt.group_member_ids(str(props["group_id"])))
        return ReadResult(id_, dict(self._outs(props), members=names))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._sync(news)
        return UpdateResult(self._outs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        rt = self.client(props)
        group = str(props["group_id"])
        if rt.get(f"/group/{group}") is None:
            return
        ids = set(rt.group_member_ids(group))
        for name in props.get("members") or []:
            user = rt.get(f"/user/{quote(name, safe='')}")
            if user is not None and int(user["id"]) in ids:
                rt.call("DELETE", f"/group/{group}/member/{user['id']}", ok=(204, 200))


class QueueRightsProvider(RtProvider):
    """The rights of groups on a queue, through the admin web interface (REST2 has no rights endpoint).

    `rights` maps group id -> right names; exactly those are granted to those groups on the queue.
    Groups not named are left alone.
    """

    managed = ("url", "queue_id", "rights")
    replace_on = ("queue_id",)

    @staticmethod
    def _norm(rights: Mapping[str, Iterable[str]] | None) -> dict[str, list[str]]:
        return {str(k): sorted(set(v)) for k, v in sorted((rights or {}).items())}

    def _outs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return dict(inputs_of(props, ("url", "queue_id")), rights=self._norm(props.get("rights")))

    def create(self, props: dict[str, Any]) -> CreateResult:
        self.client(props).set_queue_group_rights(str(props["queue_id"]), self._norm(props["rights"]))
        return CreateResult(f"queue-{props['queue_id']}-rights", self._outs(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        rt = self.client(props)
        if rt.get(f"/queue/{props['queue_id']}") is None:
            return ReadResult(None, {})
        held = rt.queue_group_rights(str(props["queue_id"]))
        mine = {g: held.get(g, []) for g in self._norm(props.get("rights"))}
        return ReadResult(id_, dict(self._outs(props), rights=mine))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        want = self._norm(news["rights"])
        # groups dropped from the declaration lose their rights on this queue
        dropped: dict[str, list[str]] = {g: [] for g in self._norm(olds.get("rights")) if g not in want}
        self.client(news).set_queue_group_rights(str(news["queue_id"]), {**dropped, **want})
        return UpdateResult(self._outs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        rt = self.client(props)
        if rt.get(f"/queue/{props['queue_id']}") is None:
            return
        rt.set_queue_group_rights(str(props["queue_id"]), {g: [] for g in self._norm(props.get("rights"))})


class CustomFieldQueuesProvider(RtProvider):
    """A custom field applied to exactly these queues, through the admin web interface (REST2 has no
    endpoint for applying custom fields); read back from REST2's queue records."""

    managed = ("url", "custom_field_id", "queue_ids")
    replace_on = ("custom_field_id",)
    set_like = ("queue_ids",)

    def _outs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return dict(
            inputs_of(props, ("url", "custom_field_id")),
            queue_ids=sorted(str(q) for q in props.get("queue_ids") or []),
        )

    def _applied(self, rt: RtClient, cf: str, queues: Iterable[str]) -> list[str]:
        return sorted(q for q in queues if int(cf) in rt.queue_custom_fields(q))

    def _sync(self, props: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> None:
        rt = self.client(props)
        cf = str(props["custom_field_id"])
        want = {str(q) for q in props.get("queue_ids") or []}
        known = want | {str(q) for q in (olds or {}).get("queue_ids") or []}
        have = set(self._applied(rt, cf, known))
        if want - have or have - want:
            rt.apply_custom_field(cf, sorted(want - have), sorted(have - want))

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._sync(props)
        return CreateResult(f"customfield-{props['custom_field_id']}-queues", self._outs(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        rt = self.client(props)
        cf = str(props["custom_field_id"])
        if rt.get(f"/customfield/{cf}") is None:
            return ReadResult(None, {})
        applied = self._applied(rt, cf, [str(q) for q in props.get("queue_ids") or []])
        return ReadResult(id_, dict(self._outs(props), queue_ids=applied))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._sync(news, olds)
        return UpdateResult(self._outs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        rt = self.client(props)
        cf = str(props["custom_field_id"])
        if rt.get(f"/customfield/{cf}") is None:
            return
        applied = self._applied(rt, cf, [str(q) for q in props.get("queue_ids") or []])
        if applied:
            rt.apply_custom_field(cf, [], applied)


# --- resources -------------------------------------------------------------------------------


class Queue(DynamicResource):
    rt_id: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        url: pulumi.Input[str],
        name: str,
        description: str,
        default_sla: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "url": url,
            "name": name,
            "description": description,
            "sla_disabled": False,
            "default_sla": default_sla,
            "disabled": False,
            "rt_id": None,
        }
        super().__init__(QueueProvider(), resource_name, props, opts)


class User(DynamicResource):
    rt_id: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        url: pulumi.Input[str],
        name: str,
        real_name: str,
        email: str | None = None,
        privileged: bool = True,
        password: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "url": url,
            "name": name,
            "real_name": real_name,
            "email": email,
            "privileged": privileged,
            "password": password,
            "disabled": False,
            "rt_id": None,
        }
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["password"])
        )
        super().__init__(UserProvider(), resource_name, props, opts)


class Group(DynamicResource):
    rt_id: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        url: pulumi.Input[str],
        name: str,
        description: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"url": url, "name": name, "description": description, "disabled": False, "rt_id": None}
        super().__init__(GroupProvider(), resource_name, props, opts)


class GroupMembers(DynamicResource):
    members: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        *,
        url: pulumi.Input[str],
        group_id: pulumi.Input[str],
        members: Sequence[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"url": url, "group_id": group_id, "members": sorted(members)}
        super().__init__(GroupMembersProvider(), resource_name, props, opts)


class CustomField(DynamicResource):
    rt_id: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        url: pulumi.Input[str],
        name: str,
        description: str,
        values: Sequence[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "url": url,
            "name": name,
            "description": description,
            "values": list(values),
            "type": "Select",
            "max_values": 1,
            "lookup_type": "RT::Queue-RT::Ticket",
            "disabled": False,
            "rt_id": None,
        }
        super().__init__(CustomFieldProvider(), resource_name, props, opts)


class CustomFieldQueues(DynamicResource):
    def __init__(
        self,
        resource_name: str,
        *,
        url: pulumi.Input[str],
        custom_field_id: pulumi.Input[str],
        queue_ids: Sequence[pulumi.Input[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"url": url, "custom_field_id": custom_field_id, "queue_ids": list(queue_ids)}
        super().__init__(CustomFieldQueuesProvider(), resource_name, props, opts)


class QueueRights(DynamicResource):
    rights: pulumi.Output[dict[str, list[str]]]

    def __init__(
        self,
        resource_name: str,
        *,
        url: pulumi.Input[str],
        queue_id: pulumi.Input[str],
        grants: Sequence[tuple[pulumi.Input[str], Sequence[str]]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`grants`: (group id, right names) pairs; the ids are usually other resources' outputs."""
        rights = pulumi.Output.all(*[g for g, _ in grants]).apply(
            lambda ids: {str(i): sorted(r) for i, (_, r) in zip(ids, grants, strict=True)}
        )
        props = {"url": url, "queue_id": queue_id, "rights": rights}
        super().__init__(QueueRightsProvider(), resource_name, props, opts)
