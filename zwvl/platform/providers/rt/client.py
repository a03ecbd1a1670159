"""The Request Tracker 5 client the providers and the exporter share: REST2 and, where REST2 stops, RT's
admin web interface, on one RT web session (CSRF-safe: the client's own URL as `Origin`, RT's own
page as `Referer` on form posts).

An unknown SLA name is accepted by REST2 silently and the ticket loses its due dates, so
`RtClient.create_ticket` checks the name against the inventory's SLA set first.
"""

from __future__ import annotations

import html.parser
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from zwvl.model import Helpdesk
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
    With a `token` (RT::Authen::Token) every request carries it instead and no password is sent: the
    way for API clients (Pulumi, the exporter); the first request opens an RT session with it, whose
    cookie spares RT a bcrypt round per request. TLS is verified against
    `ca_file` (the region CA's certificate, PEM) when given, else against the system's CAs; never
    switched off. When the
    form login fails the client raises `RtError`, unless `basic_auth_fallback` (e.g. RT behind single
    sign-on): then it sends the user and password as HTTP basic auth. A request answered 401 on a
    session cookie (the RT session expired) logs in again once and is sent again.
    """

    def __init__(
        self,
        url: str,
        user: str = "",
        password: str = "",
        *,
        token: str | None = None,
        timeout: float = TIMEOUT,
        basic_auth_fallback: bool = False,
        ca_file: str | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.api = self.url + "/REST/2.0"
        self.timeout = timeout
        self._user, self._password, self._token = user, password, token
        self._basic_auth_fallback = basic_auth_fallback
        # passed with every request: a Session's own `verify` loses to $REQUESTS_CA_BUNDLE
        self.verify: str | bool = ca_file or True
        self._session: requests.Session | None = None
        self._cookie = False  # the session is a form login's cookie (renewed on HTTP 401)
        parts = urlsplit(self.url)
        self.origin = f"{parts.scheme}://{parts.netloc}"

    def web(self) -> requests.Session:
        if self._session is None:
            s = requests.Session()
            s.headers["Accept"] = "application/json"
            if self._token:
                s.headers["Authorization"] = f"token {self._token}"
                self._open_token_session(s)
            elif self._user and self._password:
                self._log_in(s)
            self._session = s
        return self._session

    def _open_token_session(self, s: requests.Session) -> None:
        """RT checks a token with bcrypt on every request (~0.4 s); one web page fetched with it opens
        an RT session whose cookie REST2 accepts first, so later requests cost nothing. The token stays
        in the header: should the session end, RT falls back to it."""
        try:
            resp = s.get(
                self.url + "/", headers={"Accept": "text/html"}, timeout=self.timeout, verify=self.verify
            )
        except requests.RequestException:
            return  # the requests themselves will say what is wrong
        if resp.status_code == 200 and s.cookies and 'name="pass"' not in resp.text:
            s.headers["Origin"] = self.origin  # REST2 writes on the cookie are CSRF-checked
        else:  # RT refused the token and showed its login form: no session, the token alone answers
            s.cookies.clear()

    def _log_in(self, s: requests.Session) -> None:
        resp = s.post(
            self.url + "/NoAuth/Login.html",
            data={"user": self._user, "pass": self._password},
            headers={"Referer": self.url + "/NoAuth/Login.html", "Accept": "text/html"},
            timeout=self.timeout,
            verify=self.verify,
        )
        # RT answers with a page whose RT.CurrentUser names the user once logged in
        if resp.status_code != 200 or f'"Name":{json.dumps(self._user)}' not in resp.text:
            if not self._basic_auth_fallback:
                raise RtError(f"RT login as {self._user!r} at {self.url} failed (HTTP {resp.status_code})")
            s.cookies.clear()
            s.auth = (self._user, self._password)
            self._cookie = False
            return
        # REST2 requests on the web session cookie are CSRF-checked since Debian's 5.0.3+dfsg-3~deb12u7
        # (CVE-2026-108277): a write must name an origin RT accepts ($WebBaseURL or
        # @ReferrerWhitelist), as RT's own pages do. The URL this client uses is that origin.
        s.headers["Origin"] = self.origin
        self._cookie = True

    # --- REST2 ---------------------------------------------------------------------------

    def request(
        self, method: str, path: str, body: Any = None, params: Mapping[str, str] | None = None
    ) -> requests.Response:
        """One REST2 request (`path` below `/REST/2.0`), whatever RT answers."""
        kwargs: dict[str, Any] = {"json": body, "timeout": self.timeout, "verify": self.verify}
        if params is not None:
            kwargs["params"] = dict(params)
        resp = self.web().request(method, self.api + path, **kwargs)
        if resp.status_code == 401 and self._cookie:  # session expired: log in again once
            self._session = None
            resp = self.web().request(method, self.api + path, **kwargs)
        return resp

    def call(self, method: str, path: str, body: Any = None, ok: Sequence[int] = (200, 201, 204)) -> Any:
        resp = self.request(method, path, body)
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
        resp = self.request("GET", path)
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
            self.url + page,
            params=dict(params),
            headers={"Accept": "text/html"},
            timeout=self.timeout,
            verify=self.verify,
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
            timeout=self.timeout,
            verify=self.verify,
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
