"""Planning, drift, saved plans, rendering and import against NetBox states built in memory.

A state is built from raw records shaped like NetBox's API answers (nested objects with ids, choices
as value/label, custom fields, tags), so the normalisation is exercised the same way as against a
real NetBox (the integration tests do that for real).
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from zwvl.inventory import load_inventory
from zwvl.netbox.apps import DesiredState, desired_state, import_state
from zwvl.netbox.kinds import BY_NAME, KINDS, LEGACY_TAG, ORDER, OWNER, OWNER_KIND, TAG, Ref, has_owners
from zwvl.netbox.plan import make_plan, plan_from_json, plan_to_json, with_bookkeeping
from zwvl.netbox.reconcile import (
    ConflictError,
    DeleteGuardError,
    PlanMismatchError,
    check_cascades,
    check_guard,
    check_same,
    find_drift,
)
from zwvl.netbox.render import render_drift, render_plan
from zwvl.netbox.state import UnsupportedNetboxError, build_state

SMALL = REPO / "tests" / "fixtures" / "small-region"
URL = "http://netbox.example"


@pytest.fixture(scope="module")
def small() -> DesiredState:
    return desired_state(load_inventory(SMALL))


def raw_from(desired: DesiredState, *, skip: set[str] = frozenset()) -> dict[str, list[dict[str, Any]]]:  # type: ignore[assignment]
    """NetBox as zwvl would have left it after applying ``desired`` (ids assigned in order)."""
    ids: dict[tuple[str, tuple[str, ...]], int] = {}
    counter = itertools.count(1)
    raw: dict[str, list[dict[str, Any]]] = {k: [] for k in ORDER}
    for kind in ORDER:
        for d in desired.objects.get(kind, {}).values():
            ids[(kind, d.key)] = next(counter)

    def ref_id(ref: Ref) -> int:
        return ids[(ref.kind, ref.key)]

    for kind in ORDER:
        if kind in skip:
            continue
        spec = BY_NAME[kind]
        for d in desired.objects.get(kind, {}).values():
            fields = with_bookkeeping(d)
            rec: dict[str, Any] = {"id": ids[(kind, d.key)], "last_updated": "2026-01-01T00:00:00Z"}
            cfs: dict[str, Any] = {}
            for name, value in fields.items():
                if name.startswith("cf."):
                    cfs[name[3:]] = value
                elif name in spec.generic:
                    t, i = spec.generic[name]
                    rec[t], rec[i] = (value.kind, ref_id(value)) if value is not None else (None, None)
                elif name in spec.ref_lists:
                    rec[name] = [{"object_type": r.kind, "object_id": ref_id(r)} for r in value]
                elif name in spec.refs:
                    rec[name] = None if value is None else {"id": ref_id(value), "display": str(value)}
                elif name == "status":
                    rec[name] = {"value": value, "label": str(value).title()}
                else:
                    rec[name] = value
            if spec.taggable:
                rec["custom_fields"] = {} if d.implicit else cfs
                rec["tags"] = [] if d.implicit else [{"slug": TAG, "name": TAG}]
            raw[kind].append(rec)
    return raw


def test_empty_netbox_gets_everything_created_in_dependency_order(small: DesiredState) -> None:
    p = make_plan(small, build_state(URL, "4.7.3", {}))
    assert {op.action for op in p.ops} == {"create"}
    order = {k: i for i, k in enumerate(ORDER)}
    assert [order[op.kind] for op in p.ops] == sorted(order[op.kind] for op in p.ops)
    # template interfaces come with their devices; lo is created
    ifaces = [op.key for op in p.ops if op.kind == "dcim.interface"]
    assert ifaces and all(k[1] == "lo" for k in ifaces)
    assert len(p.ops) == small.count() - sum(1 for d in small.all() if d.implicit)


def test_netbox_as_applied_means_no_changes_and_no_drift(small: DesiredState) -> None:
    state = build_state(URL, "4.7.3", raw_from(small))
    p = make_plan(small, state)
    assert p.ops == [] and p.conflicts == [] and p.unmanaged == []
    assert find_drift(small, state) == []
    assert "No changes" in render_plan(p, "text")


def test_a_changed_field_is_one_update_with_its_diff_and_drift(small: DesiredState) -> None:
    raw = raw_from(small)
    site = next(r for r in raw["dcim.site"] if r["slug"] == "avelgem-library")
    site["status"] = {"value": "planned", "label": "Planned"}
    site["latitude"] = 50.0
    state = build_state(URL, "4.7.3", raw)
    p = make_plan(small, state)
    assert [(op.action, op.kind, op.key) for op in p.ops] == [("update", "dcim.site", ("avelgem-library",))]
    changes = {c.field: (c.old, c.new) for c in p.ops[0].changes}
    assert changes["status"] == ("planned", "active")
    assert changes["latitude"][0] == 50.0
    assert set(p.ops[0].fields) == {"status", "latitude"}  # the hash still matches the inventory
    drift = find_drift(small, state)
    assert [(d.kind, d.key) for d in drift] == [("dcim.site", ("avelgem-library",))]
    text = render_drift(drift, URL, "text")
    assert 'status: inventory "active", NetBox "planned"' in text
    md = render_plan(p, "markdown")
    assert '| `dcim.site` avelgem-library | `status` | `"planned"` | `"active"` |' in md


def test_a_location_changed_by_hand_is_drift_field_by_field(small: DesiredState) -> None:
    raw = raw_from(small)
    room = next(r for r in raw["dcim.location"] if r["slug"] == "technical-room")
    room["name"] = "Kelder"
    dev = next(r for r in raw["dcim.device"] if r["name"] == "ave-dc1-srv01")
    dev["location"] = None
    state = build_state(URL, "4.7.3", raw)
    p = make_plan(small, state)
    ops = {(op.kind, op.key): op for op in p.ops}
    assert set(ops) == {
        ("dcim.location", ("avelgem-town-hall", "technical-room")),
        ("dcim.device", ("ave-dc1-srv01",)),
    }
    changes = {
        c.field: (c.old, c.new)
        for c in ops[("dcim.location", ("avelgem-town-hall", "technical-room"))].changes
    }
    assert changes == {"name": ("Kelder", "Technisch lokaal")}
    moved = ops[("dcim.device", ("ave-dc1-srv01",))].changes
    assert [(c.field, c.old, c.new) for c in moved] == [
        ("location", None, Ref("dcim.location", ("avelgem-dc1", "server-room")))
    ]
    drift = find_drift(small, state)
    assert sorted(d.kind for d in drift) == ["dcim.device", "dcim.location"]
    assert 'name: inventory "Technisch lokaal", NetBox "Kelder"' in render_drift(drift, URL, "text")


def test_an_inventory_change_is_an_update_but_not_drift(small: DesiredState) -> None:
    state = build_state(URL, "4.7.3", raw_from(small))
    changed = copy.deepcopy(small)
    site = changed.objects["dcim.site"][("avelgem-library",)]
    site.fields["description"] = "renovated"
    p = make_plan(changed, state)
    assert [op.key for op in p.ops] == [("avelgem-library",)]
    assert set(p.ops[0].fields) == {"description", "cf.zwvl_hash"}
    assert find_drift(changed, state) == []


def test_unmanaged_conflicts_duplicates_and_deletes(small: DesiredState) -> None:
    raw = raw_from(small)
    # a hand-made site (unmanaged), a provider that lost its tag (conflict), a duplicate managed VLAN,
    # and a managed circuit the inventory no longer has
    raw["dcim.site"].append(
        {"id": 9001, "slug": "handmade", "name": "Handmade", "tags": [], "custom_fields": {}}
    )
    prov = raw["circuits.provider"][0]
    prov["tags"] = [{"slug": "important"}]
    dup = dict(raw["ipam.vlan"][0], id=9002)
    raw["ipam.vlan"].append(dup)
    gone = dict(raw["circuits.circuit"][0], id=9003, cid="ZWVL-FO-9999")
    raw["circuits.circuit"].append(gone)
    state = build_state(URL, "4.7.3", raw)
    p = make_plan(small, state)
    assert [(u.kind, u.key) for u in p.unmanaged] == [("dcim.site", ("handmade",))]
    assert [(c.kind, c.key) for c in p.conflicts] == [("circuits.provider", ("regional-fibre-operator",))]
    deletes = [(op.kind, op.id, op.reason) for op in p.ops if op.action == "delete"]
    assert sorted(deletes) == [("circuits.circuit", 9003, ""), ("ipam.vlan", 9002, "duplicate")]
    assert all(op.action == "delete" for op in p.ops[: len(deletes)])  # deletes go first
    adopted = make_plan(small, state, adopt=True)
    up = next(op for op in adopted.ops if op.kind == "circuits.provider")
    assert up.action == "update" and up.adopt_tags == ["important", TAG] and up.reason == "adopt"
    assert adopted.conflicts == []


# ----------------------------------------------------------------------------------------- ownership


def _owner_id(raw: dict[str, list[dict[str, Any]]]) -> int:
    return next(int(r["id"]) for r in raw[OWNER_KIND] if r["name"] == OWNER)


def test_an_object_tagged_only_gitops_is_not_managed_but_a_conflict_until_adopted(
    small: DesiredState,
) -> None:
    """NetBoxes that earlier zwvl versions wrote carry the generic tag 'gitops', which other tools use too:
    such an object is not zwvl's. Where it holds a desired key it is a conflict; --adopt takes it over
    (adds zwvl-managed, keeps the other tags, sets the owner). Where it does not, it is left alone."""
    raw = raw_from(small)
    site = next(r for r in raw["dcim.site"] if r["slug"] == "avelgem-library")
    site["tags"] = [{"slug": LEGACY_TAG}]
    site["owner"] = None
    stray = dict(raw["circuits.circuit"][0], id=9004, cid="OTHER-TOOL-1", tags=[{"slug": LEGACY_TAG}])
    raw["circuits.circuit"].append(stray)
    state = build_state(URL, "4.7.3", raw)
    assert not state.find("dcim.site", ("avelgem-library",)).managed  # type: ignore[union-attr]
    p = make_plan(small, state)
    assert [(c.kind, c.key) for c in p.conflicts] == [("dcim.site", ("avelgem-library",))]
    assert "'gitops'" in p.conflicts[0].note
    assert p.ops == []  # not updated, and the stray circuit tagged gitops is not deleted
    assert [(u.kind, u.key) for u in p.unmanaged] == [("circuits.circuit", ("OTHER-TOOL-1",))]
    assert "gitops" in render_plan(p, "text") and "gitops" in render_plan(p, "markdown")
    assert plan_from_json(plan_to_json(p)).conflicts[0].note == p.conflicts[0].note
    adopted = make_plan(small, state, adopt=True)
    assert adopted.conflicts == []
    (op,) = adopted.ops
    assert (op.kind, op.key, op.reason) == ("dcim.site", ("avelgem-library",), "adopt")
    assert op.adopt_tags == [LEGACY_TAG, TAG]
    assert op.fields == {"owner": Ref(OWNER_KIND, (OWNER,))}


def test_schema_objects_zwvl_did_not_create_are_conflicts_left_unchanged(small: DesiredState) -> None:
    """A hand-made custom field named like zwvl's (no owner zwvl), other object types: a conflict, no
    update (rewriting object_types would purge the values on the types it drops); the same for the tag
    and a choice set. --adopt takes them over with the owner and zwvl's definition."""
    raw = raw_from(small)
    cf = next(r for r in raw["extras.customfield"] if r["name"] == "ospf_cost")
    cf["owner"] = None
    cf["object_types"] = ["circuits.circuit", "dcim.interface"]
    tag = next(r for r in raw["extras.tag"] if r["slug"] == TAG)
    tag["description"] = "Our own tag"  # the tag has no owner in NetBox's API: its description marks it
    other = {"id": 9100, "name": "someone", "description": ""}
    raw[OWNER_KIND].append(other)
    choices = next(r for r in raw["extras.customfieldchoiceset"] if r["name"] == "zwvl-monitoring")
    choices["owner"] = {"id": 9100, "display": "someone"}
    state = build_state(URL, "4.7.3", raw)
    p = make_plan(small, state)
    assert sorted((c.kind, c.key) for c in p.conflicts) == [
        ("extras.customfield", ("ospf_cost",)),
        ("extras.customfieldchoiceset", ("zwvl-monitoring",)),
        ("extras.tag", (TAG,)),
    ]
    notes = {c.kind: c.note for c in p.conflicts}
    assert "not created by zwvl (owner none" in notes["extras.customfield"]
    assert "someone" in notes["extras.customfieldchoiceset"]
    assert "Managed by zwvl" in notes["extras.tag"]
    assert p.ops == []
    # the owner 'someone' is someone else's: left alone, not deleted
    assert (OWNER_KIND, ("someone",)) in [(u.kind, u.key) for u in p.unmanaged]
    adopted = make_plan(small, state, adopt=True)
    assert adopted.conflicts == []
    ops = {(op.kind, op.key): op for op in adopted.ops}
    assert set(ops) == {
        ("extras.customfield", ("ospf_cost",)),
        ("extras.customfieldchoiceset", ("zwvl-monitoring",)),
        ("extras.tag", (TAG,)),
    }
    cf_op = ops[("extras.customfield", ("ospf_cost",))]
    assert cf_op.reason == "adopt" and cf_op.adopt_tags is None  # custom fields carry no tags
    assert cf_op.fields == {"object_types": ["circuits.circuit"], "owner": Ref(OWNER_KIND, (OWNER,))}


def test_managed_objects_carry_the_zwvl_owner_compared_in_plan_and_drift(small: DesiredState) -> None:
    owned = [k.name for k in KINDS if k.owned]
    assert {"extras.customfield", "dcim.device", "dcim.interface", "ipam.prefix"} <= set(owned)
    assert "extras.tag" not in owned  # NetBox 4.7's API drops a tag's owner
    for d in small.all():
        if BY_NAME[d.kind].owned:
            assert d.fields["owner"] == Ref(OWNER_KIND, (OWNER,)), (d.kind, d.key)
        else:
            assert "owner" not in d.fields
    assert list(small.objects[OWNER_KIND]) == [(OWNER,)]
    raw = raw_from(small)
    assert _owner_id(raw)
    dev = next(r for r in raw["dcim.device"] if r["name"] == "ave-dc1-srv01")
    dev["owner"] = None  # cleared by hand
    state = build_state(URL, "4.7.3", raw)
    p = make_plan(small, state)
    assert [(op.action, op.kind, op.key) for op in p.ops] == [("update", "dcim.device", ("ave-dc1-srv01",))]
    assert [(c.field, c.old, c.new) for c in p.ops[0].changes] == [("owner", None, Ref(OWNER_KIND, (OWNER,)))]
    drift = find_drift(small, state)
    assert [(d.kind, d.key, [c.field for c in d.changes]) for d in drift] == [
        ("dcim.device", ("ave-dc1-srv01",), ["owner"])
    ]


def test_a_netbox_without_owners_is_refused_with_its_version(small: DesiredState) -> None:
    assert has_owners("4.7.3") and has_owners("4.5.0-Docker-3.4") and has_owners("5.0")
    assert not has_owners("4.4.9") and not has_owners("3.7.1")
    state = build_state(URL, "4.4.9", raw_from(small))
    with pytest.raises(UnsupportedNetboxError, match=r"NetBox 4\.4\.9 .*no owners \(NetBox 4\.5\+\)"):
        make_plan(small, state)


def test_the_delete_guard(small: DesiredState) -> None:
    state = build_state(URL, "4.7.3", raw_from(small))
    fewer = copy.deepcopy(small)
    for kind in ("ipam.vlan", "ipam.prefix", "ipam.ipaddress", "dcim.cable"):
        fewer.objects[kind] = {}
    p = make_plan(fewer, state)
    assert p.delete_share() > 0.2
    with pytest.raises(DeleteGuardError, match="--allow-mass-delete"):
        check_guard(p, 0.2, False)
    check_guard(p, 0.2, True)
    check_guard(p, 0.9, False)


def test_saved_plans_round_trip_through_json(small: DesiredState) -> None:
    raw = raw_from(small, skip={"dcim.cable", "ipam.ipaddress"})
    state = build_state(URL, "4.7.3", raw)
    p = make_plan(small, state)
    assert p.ops
    back = plan_from_json(plan_to_json(p))
    assert back.fingerprint == p.fingerprint == state.fingerprint
    assert [(o.action, o.kind, o.key, o.fields) for o in back.ops] == [
        (o.action, o.kind, o.key, o.fields) for o in p.ops
    ]
    with pytest.raises(ValueError):
        plan_from_json({**plan_to_json(p), "format": 99})


def test_the_fingerprint_sees_any_change(small: DesiredState) -> None:
    raw = raw_from(small)
    base = build_state(URL, "4.7.3", raw).fingerprint
    raw["dcim.site"][0]["last_updated"] = "2026-01-02T00:00:00Z"
    assert build_state(URL, "4.7.3", raw).fingerprint != base


def test_import_of_an_applied_netbox_gives_the_same_desired_state(
    small: DesiredState, tmp_path: Path
) -> None:
    state = build_state(URL, "4.7.3", raw_from(small))
    warnings: list[str] = []
    out = tmp_path / "inventory"
    result = import_state(state, out, url=URL, warn=warnings.append)
    assert warnings == []
    assert result.counts["devices"] == 12 and result.counts["circuits"] == 7
    assert len(small.objects["dcim.location"]) == result.counts["locations"] == 4
    again = desired_state(load_inventory(out))
    assert {k: set(v) for k, v in again.objects.items()} == {k: set(v) for k, v in small.objects.items()}
    for kind, objs in small.objects.items():
        for key, d in objs.items():
            assert again.objects[kind][key].fields == d.fields, (kind, key)
            assert again.objects[kind][key].source == d.source, (kind, key)
    assert make_plan(again, state).ops == []


def _without(desired: DesiredState, kind: str, key: tuple[str, ...]) -> DesiredState:
    """``desired`` less one object and everything that refers to it, directly or not."""
    out = copy.deepcopy(desired)
    gone = {Ref(kind, key)}

    def refers(value: Any) -> bool:
        if isinstance(value, Ref):
            return value in gone
        if isinstance(value, list | tuple):
            return any(refers(v) for v in value)
        return False

    del out.objects[kind][key]
    changed = True
    while changed:
        changed = False
        for name in ORDER:
            for k, d in list(out.objects.get(name, {}).items()):
                if any(refers(v) for f, v in d.fields.items() if f not in BY_NAME[name].deferred):
                    del out.objects[name][k]
                    gone.add(Ref(name, k))
                    changed = True
    return out


def test_deletes_that_cascade_to_unmanaged_objects_are_shown_counted_and_refused(small: DesiredState) -> None:
    raw = raw_from(small)
    device = next(r for r in raw["dcim.device"] if r["name"] == "spi-th-rtr01")
    own = next(r for r in raw["dcim.interface"] if r["device"]["id"] == device["id"] and not r["tags"])
    # a hand-made interface on the device, and a hand-made address on one of NetBox's own interfaces
    raw["dcim.interface"].append(
        {"id": 9101, "device": {"id": device["id"]}, "name": "hand0", "type": "virtual", "tags": []}
    )
    raw["ipam.ipaddress"].append(
        {
            "id": 9102,
            "address": "198.18.0.1/32",
            "status": {"value": "active", "label": "Active"},
            "assigned_object_type": "dcim.interface",
            "assigned_object_id": own["id"],
            "tags": [],
            "custom_fields": {},
        }
    )
    state = build_state(URL, "4.7.3", raw)
    assert [u.id for u in make_plan(small, state).unmanaged] == [9101, 9102]  # kept: left alone

    fewer = _without(small, "dcim.device", ("spi-th-rtr01",))
    p = make_plan(fewer, state)
    via = "dcim.device:spi-th-rtr01"
    assert [(c.kind, c.id, c.via) for c in p.cascades] == [
        ("dcim.interface", 9101, via),
        ("ipam.ipaddress", 9102, f"dcim.interface:spi-th-rtr01 {own['name']}"),
    ]
    assert p.unmanaged == []  # NetBox's own interfaces go with their device, unlisted
    assert p.delete_count() == p.counts()["delete"] + 2
    with pytest.raises(ConflictError, match=r"2 unmanaged object\(s\).*hand0.*--adopt"):
        check_cascades(p)
    text = render_plan(p, "text")
    assert "Unmanaged objects the deletes take with them (apply refuses, see --adopt)" in text
    assert "#### Cascaded deletes" in render_plan(p, "markdown")
    adopted = make_plan(fewer, state, adopt=True)
    check_cascades(adopted)
    back = plan_from_json(plan_to_json(adopted))
    assert back.cascades == adopted.cascades and back.adopt
    # the guard counts what cascades: with 2 more the share tips over a threshold set just above
    share = p.counts()["delete"] / p.managed_count
    check_guard(p, share + 2.5 / p.managed_count, False)
    with pytest.raises(DeleteGuardError, match="2 of them by cascade"):
        check_guard(p, share + 1 / p.managed_count, False)


def test_a_saved_plan_applies_only_when_it_equals_the_plan_made_now(small: DesiredState) -> None:
    state = build_state(URL, "4.7.3", raw_from(small))
    fewer = _without(small, "circuits.circuit", next(iter(small.objects["circuits.circuit"])))
    reviewed = make_plan(fewer, state)
    assert reviewed.ops
    check_same(plan_from_json(plan_to_json(reviewed)), make_plan(fewer, state))

    # an edited file: one more delete, one changed field, one op dropped
    doc = plan_to_json(reviewed)
    victim = next(r for r in raw_from(small)["dcim.site"])
    doc["ops"].append(
        {"action": "delete", "kind": "dcim.site", "key": [victim["slug"]], "id": victim["id"], "fields": {}}
    )
    with pytest.raises(PlanMismatchError, match=f"only in the saved plan: delete dcim.site {victim['slug']}"):
        check_same(plan_from_json(doc), make_plan(fewer, state))
    doc = plan_to_json(reviewed)
    doc["ops"][0]["id"] = 1
    with pytest.raises(PlanMismatchError, match="only in the plan made now"):
        check_same(plan_from_json(doc), make_plan(fewer, state))
    doc = plan_to_json(reviewed)
    doc["ops"] = doc["ops"][1:]
    with pytest.raises(PlanMismatchError):
        check_same(plan_from_json(doc), make_plan(fewer, state))
    doc = plan_to_json(reviewed)
    doc["ops"].append(doc["ops"][0])
    with pytest.raises(PlanMismatchError, match="repeated operations"):
        check_same(plan_from_json(doc), make_plan(fewer, state))
    # made from another inventory (the full one plans nothing here)
    with pytest.raises(PlanMismatchError):
        check_same(reviewed, make_plan(small, state))
