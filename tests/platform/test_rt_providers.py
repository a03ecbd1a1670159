"""The Request Tracker dynamic providers, called directly against a real RT 5.0.3 (rt-server, SQLite).

Each: create, read back (no diff), update, a change made behind the provider's back found by read
and diff and repaired by update, delete, and idempotence.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import requests

from tests.platform.services import RtServer
from zwvl.platform.providers import rt

pytestmark = pytest.mark.integration

_n = itertools.count()


def uniq(base: str) -> str:
    return f"t{next(_n)}-{base}"  # never one of the names the programs use


def client(server: RtServer) -> rt.RtClient:
    return server.client()


def no_diff(provider: rt.RtProvider, rid: str, props: dict[str, Any]) -> dict[str, Any]:
    read = provider.read(rid, props)
    assert read.id == rid
    assert read.outs is not None
    assert not provider.diff(rid, read.outs, props).changes, provider.changed(read.outs, props)
    return read.outs


def make_queue(server: RtServer, name: str, sla: str = "P3-normal") -> tuple[str, dict[str, Any]]:
    props = {
        "url": server.url,
        "name": name,
        "description": f"queue {name}",
        "sla_disabled": False,
        "default_sla": sla,
        "disabled": False,
    }
    return str(rt.QueueProvider().create(props).id), props


def test_queue_lifecycle_sla_and_drift(rt_env: RtServer) -> None:
    p = rt.QueueProvider()
    rc = client(rt_env)
    name = uniq("Zwevegem")
    rid, props = make_queue(rt_env, name, "P2-high")
    no_diff(p, rid, props)
    record = rc.get(f"/queue/{rid}")
    assert record is not None and record["SLADisabled"] == "0"  # RT 5.0.3 disables SLA unless told

    # the default SLA set at creation applies to new tickets
    ticket = rc.create(
        "ticket", {"Queue": name, "Subject": "default SLA?", "Requestor": "citizen@example.com"}
    )
    assert (rc.get(f"/ticket/{ticket}") or {})["SLA"] == "P2-high"

    # update
    new = dict(props, description="Helpdesk queue")
    p.update(rid, props, new)
    no_diff(p, rid, new)

    # drift: SLA switched off and the description edited in RT
    rc.update("queue", rid, {"SLADisabled": 1, "Description": "edited by hand"})
    drifted = p.read(rid, new).outs
    assert drifted is not None and set(p.changed(drifted, new)) == {"sla_disabled", "description"}
    p.update(rid, drifted, new)
    no_diff(p, rid, new)

    # RT only takes the default SLA at creation: changing it replaces the queue
    diff = p.diff(rid, new, dict(new, default_sla="P1-critical"))
    assert diff.replaces == ["default_sla"] and diff.delete_before_replace

    # delete disables the queue and frees its name; creating it again gives a fresh queue
    p.delete(rid, new)
    gone = rc.get(f"/queue/{rid}")
    assert gone is not None and gone["Disabled"] == "1" and gone["Name"] != name
    p.delete(rid, new)  # idempotent
    again = p.create(dict(new, default_sla="P1-critical"))
    assert again.id != rid
    no_diff(p, str(again.id), dict(new, default_sla="P1-critical"))


def test_user_lifecycle_and_drift(rt_env: RtServer) -> None:
    p = rt.UserProvider()
    rc = client(rt_env)
    name = uniq("kortrijk-helpdesk")
    props = {
        "url": rt_env.url,
        "name": name,
        "real_name": "Kortrijk helpdesk",
        "email": None,
        "privileged": True,
        "password": "member-pass-123",
        "disabled": False,
    }
    rid = str(p.create(props).id)
    assert rid.isdigit()
    no_diff(p, rid, props)
    assert rt_env.login(name, "member-pass-123").get(f"/user/{name}") is not None

    new = dict(props, real_name="Kortrijk: Helpdesk staff 1")
    p.update(rid, props, new)
    no_diff(p, rid, new)

    rc.update("user", rid, {"Privileged": 0, "Disabled": 1})
    drifted = p.read(rid, new).outs
    assert drifted is not None and set(p.changed(drifted, new)) == {"privileged", "disabled"}
    p.update(rid, drifted, new)
    no_diff(p, rid, new)

    p.delete(rid, new)
    assert (rc.get(f"/user/{rid}") or {})["Disabled"] == "1"
    # creating it again re-enables the same user (RT never deletes users)
    assert str(p.create(new).id) == rid
    no_diff(p, rid, new)
    with pytest.raises(rt.RtError, match="already exists"):
        p.create(new)


def test_group_and_members_lifecycle_and_drift(rt_env: RtServer) -> None:
    gp, mp, up = rt.GroupProvider(), rt.GroupMembersProvider(), rt.UserProvider()
    rc = client(rt_env)
    users = [uniq("menen-helpdesk") for _ in range(3)]
    for u in users:
        up.create({"url": rt_env.url, "name": u, "real_name": u, "privileged": True})
    gname = uniq("pool-helpdesk")
    gprops = {"url": rt_env.url, "name": gname, "description": "Regional pool: helpdesk", "disabled": False}
    gid = str(gp.create(gprops).id)
    no_diff(gp, gid, gprops)
    gnew = dict(gprops, description="Regional pool: helpdesk staff")
    gp.update(gid, gprops, gnew)
    no_diff(gp, gid, gnew)

    mprops = {"url": rt_env.url, "group_id": gid, "members": users[:2]}
    mid = str(mp.create(mprops).id)
    no_diff(mp, mid, mprops)

    # drift: a member removed and an outsider added in RT
    rc.call("DELETE", f"/group/{gid}/member/{rc.user_id(users[0])}")
    rc.call("PUT", f"/group/{gid}/members", [rc.user_id(users[2])])
    drifted = mp.read(mid, mprops).outs
    assert drifted is not None and sorted(drifted["members"]) == sorted(users[1:])
    mp.update(mid, drifted, mprops)
    no_diff(mp, mid, mprops)

    smaller = dict(mprops, members=[users[1]])
    mp.update(mid, mprops, smaller)
    no_diff(mp, mid, smaller)
    mp.delete(mid, smaller)
    assert rc.group_member_ids(gid) == []

    gp.delete(gid, gnew)
    assert (rc.get(f"/group/{gid}") or {})["Disabled"] == "1"
    drifted_g = gp.read(gid, gnew).outs
    assert drifted_g is not None and gp.changed(drifted_g, gnew) == ["disabled"]
    assert str(gp.create(gnew).id) == gid  # re-enabled, not duplicated


def test_custom_field_and_queues_lifecycle_and_drift(rt_env: RtServer) -> None:
    cp, ap = rt.CustomFieldProvider(), rt.CustomFieldQueuesProvider()
    rc = client(rt_env)
    props = {
        "url": rt_env.url,
        "name": uniq("ITIL category"),
        "description": "ITIL category",
        "values": ["incident", "service-request", "change", "problem"],
        "type": "Select",
        "max_values": 1,
        "lookup_type": "RT::Queue-RT::Ticket",
        "disabled": False,
    }
    cf = str(cp.create(props).id)
    no_diff(cp, cf, props)

    # drift: a value deleted and another added by hand
    values = {v["name"]: v["id"] for v in rc.call("GET", f"/customfield/{cf}/values")["items"]}
    rc.call("DELETE", f"/customfield/{cf}/value/{values['change']}")
    rc.call("POST", f"/customfield/{cf}/value", {"Name": "question"})
    drifted = cp.read(cf, props).outs
    assert drifted is not None and sorted(drifted["values"]) == [
        "incident",
        "problem",
        "question",
        "service-request",
    ]
    cp.update(cf, drifted, props)
    no_diff(cp, cf, props)

    queues = [make_queue(rt_env, uniq("Kuurne"))[0] for _ in range(3)]
    aprops = {"url": rt_env.url, "custom_field_id": cf, "queue_ids": queues[:2]}
    aid = str(ap.create(aprops).id)
    no_diff(ap, aid, aprops)
    assert int(cf) in rc.queue_custom_fields(queues[0])

    # drift: removed from one queue in the web interface
    rc.apply_custom_field(cf, [], [queues[1]])
    drifted_a = ap.read(aid, aprops).outs
    assert drifted_a is not None and drifted_a["queue_ids"] == [queues[0]]
    ap.update(aid, drifted_a, aprops)
    no_diff(ap, aid, aprops)

    moved = dict(aprops, queue_ids=queues[1:])
    ap.update(aid, aprops, moved)
    no_diff(ap, aid, moved)
    assert int(cf) not in rc.queue_custom_fields(queues[0])
    ap.delete(aid, moved)
    assert all(int(cf) not in rc.queue_custom_fields(q) for q in queues)

    cp.delete(cf, props)
    assert (rc.get(f"/customfield/{cf}") or {})["Disabled"] == "1"


def test_queue_rights_through_the_admin_interface(rt_env: RtServer) -> None:
    p = rt.QueueRightsProvider()
    rc = client(rt_env)
    qid, _ = make_queue(rt_env, uniq("Wervik"))
    g1 = str(rt.GroupProvider().create({"url": rt_env.url, "name": uniq("pool-a"), "description": "a"}).id)
    g2 = str(rt.GroupProvider().create({"url": rt_env.url, "name": uniq("pool-b"), "description": "b"}).id)
    props = {
        "url": rt_env.url,
        "queue_id": qid,
        "rights": {g1: ["OwnTicket", "SeeQueue", "ShowTicket", "TakeTicket"], g2: ["SeeQueue", "ShowTicket"]},
    }
    rid = str(p.create(props).id)
    no_diff(p, rid, props)
    held = rc.queue_group_rights(qid)
    assert held[g1] == ["OwnTicket", "SeeQueue", "ShowTicket", "TakeTicket"]

    # drift: a right revoked and one added by hand
    rc.set_queue_group_rights(qid, {g1: ["SeeQueue", "ShowTicket", "TakeTicket", "DeleteTicket"]})
    drifted = p.read(rid, props).outs
    assert drifted is not None and drifted["rights"][g1] == [
        "DeleteTicket",
        "SeeQueue",
        "ShowTicket",
        "TakeTicket",
    ]
    assert p.changed(drifted, props) == ["rights"]
    p.update(rid, drifted, props)
    no_diff(p, rid, props)

    # update: g2 dropped from the declaration loses its rights
    only_g1 = dict(props, rights={g1: ["OwnTicket", "SeeQueue", "ShowTicket", "TakeTicket"]})
    p.update(rid, props, only_g1)
    no_diff(p, rid, only_g1)
    assert rc.queue_group_rights(qid).get(g2, []) == []

    p.delete(rid, only_g1)
    assert rc.queue_group_rights(qid).get(g1, []) == []
    p.delete(rid, only_g1)


def test_missing_credentials_are_reported(rt_server: RtServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZWVL_RT_TOKEN", raising=False)
    monkeypatch.setenv("ZWVL_RT_PASSWORD", rt_server.password)  # a password is not a way in
    with pytest.raises(rt.RtError, match="zwvl:rtToken"):
        rt.GroupProvider().read("1", {"url": rt_server.url})


def test_rest2_writes_on_a_web_session_pass_rts_csrf_check(rt_env: RtServer) -> None:
    """RT (Debian 5.0.3+dfsg-3~deb12u7 and later) refuses REST2 writes on the session cookie unless the
    origin is RT's own: the test RT has the role's protection, and the client names its origin."""
    rc = rt_env.login(rt_env.user, rt_env.password)  # a person's web session
    session = rc.web()  # logged in through the form: the session cookie
    body = {"Name": uniq("csrf"), "SLADisabled": 0}
    for origin in (None, "http://evil.example:80"):
        headers = {"Origin": origin} if origin else {}
        resp = requests.post(
            rc.api + "/queue",
            json=body,
            cookies=session.cookies,
            headers={"Accept": "application/json", **headers},
            timeout=60,
            verify=str(rt_env.ca_file),
        )
        assert resp.status_code == 403, (origin, resp.text)
        assert "Cross-site request forgery" in resp.text
    assert rc.find("queue", body["Name"]) is None  # nothing was written
    qid = rc.create("queue", body)
    assert rc.get(f"/queue/{qid}") is not None
