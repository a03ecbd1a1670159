"""Compare desired objects with NetBox's state: create / update / delete operations, field by field.

Ownership (``Record.managed``, see ``zwvl.netbox.state``): an object carrying the ``kinds.TAG`` tag,
or a schema object with the ``kinds.OWNER`` owner, is managed (it may be updated or deleted); anything
else is unmanaged and never touched. A desired object whose natural key is taken by an unmanaged
object is a *conflict* (apply refuses unless ``adopt``, which tags it, sets the owner and takes it
over). Interfaces NetBox instantiates from device-type templates belong to their device: they are
created only when missing. Interface templates belong to their (managed) device type.

A plan serialises to JSON (``--out``) with the fingerprint of the state it was computed from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from zwvl.netbox.apps.common import Desired, DesiredState
from zwvl.netbox.kinds import BY_NAME, CASCADES, CF_HASH, CF_SOURCE, ORDER, TAG, Ref
from zwvl.netbox.state import Record, State

PLAN_FORMAT = 1


@dataclass
class Change:
    field: str
    old: Any
    new: Any


@dataclass
class Op:
    action: str  # create | update | delete
    kind: str
    key: tuple[str, ...]
    id: int | None = None
    source: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    """create: every desired field; update: the changed fields (new values); delete: nothing."""
    changes: list[Change] = field(default_factory=list)
    weight: float = 1.0
    adopt_tags: list[str] | None = None
    """update of an unmanaged object being adopted: the tags it will carry (existing + kinds.TAG)."""
    reason: str = ""

    @property
    def title(self) -> str:
        return f"{self.kind} {' '.join(self.key)}"


@dataclass
class Conflict:
    kind: str
    key: tuple[str, ...]
    id: int
    source: str | None
    note: str = ""
    """Why the object is not zwvl's (``Record.foreign_note``)."""


@dataclass
class Unmanaged:
    kind: str
    key: tuple[str, ...]
    id: int


@dataclass
class Cascade:
    """An unmanaged object NetBox would delete with a managed one (see ``kinds.CASCADES``)."""

    kind: str
    key: tuple[str, ...]
    id: int
    via: str
    """The deleted object that takes it along (``kind key``)."""


@dataclass
class Plan:
    url: str
    version: str
    fingerprint: str
    ops: list[Op]
    conflicts: list[Conflict] = field(default_factory=list)
    unmanaged: list[Unmanaged] = field(default_factory=list)
    cascades: list[Cascade] = field(default_factory=list)
    """Unmanaged objects the deletes take along: apply refuses them unless ``adopt``."""
    adopt: bool = False
    managed_count: int = 0
    created: str = ""
    commit: str | None = None
    read_requests: int = 0
    branch: str | None = None
    """The NetBox branch planned against (``--branch``); None for main."""
    branch_url: str | None = None
    """That branch in NetBox's web UI, for reviewers."""

    @property
    def changes(self) -> bool:
        return bool(self.ops)

    def counts(self) -> dict[str, int]:
        out = {"create": 0, "update": 0, "delete": 0}
        for op in self.ops:
            out[op.action] += 1
        return out

    def delete_count(self) -> int:
        """Objects the apply deletes: the delete operations and the unmanaged objects they cascade to."""
        return sum(1 for op in self.ops if op.action == "delete") + len(self.cascades)

    def delete_share(self) -> float:
        deletes = self.delete_count()
        return deletes / self.managed_count if self.managed_count else (1.0 if deletes else 0.0)


# ------------------------------------------------------------------------------------------ hashing


def _canon(value: Any) -> Any:
    if isinstance(value, Ref):
        return value.label()
    if isinstance(value, list):
        return [_canon(v) for v in value]
    if isinstance(value, tuple):
        return [_canon(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canon(v) for k, v in sorted(value.items())}
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def state_hash(kind: str, fields: dict[str, Any]) -> str:
    """Hash of an object's compared fields (what zwvl writes), the bookkeeping hash itself excluded."""
    spec = BY_NAME[kind]
    names = list(spec.key + spec.fields) + ["cf." + CF_SOURCE]
    doc = {n: _canon(fields.get(n)) for n in names}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def with_bookkeeping(d: Desired) -> dict[str, Any]:
    """Desired fields plus zwvl_source and zwvl_hash (for taggable kinds)."""
    spec = BY_NAME[d.kind]
    fields = dict(d.fields)
    if spec.taggable:
        fields["cf." + CF_SOURCE] = d.source
        fields["cf." + CF_HASH] = state_hash(d.kind, fields)
    return fields


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return a is not None and b is not None and abs(float(a) - float(b)) < 1e-6
        except (TypeError, ValueError):
            return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(
            _equal(x, y) for x, y in zip(sorted(a, key=str), sorted(b, key=str), strict=True)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def diff_fields(desired: dict[str, Any], rec: Record) -> list[Change]:
    out = []
    for name, new in desired.items():
        old = rec.fields.get(name)
        if not _equal(old, new):
            out.append(Change(name, old, new))
    return out


# ------------------------------------------------------------------------------------------ planning


def make_plan(desired: DesiredState, state: State, *, adopt: bool = False) -> Plan:
    state.require_owners()
    ops_forward: list[Op] = []
    deletes: list[Op] = []
    conflicts: list[Conflict] = []
    unmanaged: list[Unmanaged] = []
    for name in ORDER:
        spec = BY_NAME[name]
        want = desired.objects.get(name, {})
        have = state.by_key.get(name, {})
        for key, d in want.items():
            recs = have.get(key, [])
            fields = with_bookkeeping(d)
            if not recs:
                if d.implicit and _parent_missing(d, state):
                    continue  # NetBox instantiates it with its device
                ops_forward.append(Op("create", name, key, None, d.source, fields, weight=d.weight))
                continue
            managed = [r for r in recs if r.managed]
            rec = managed[0] if managed else recs[0]
            adopt_tags = None
            if not rec.managed:
                if d.implicit or not (spec.taggable or spec.schema):
                    continue  # NetBox's own interface of a device / a template of an unmanaged type
                if not adopt:
                    conflicts.append(Conflict(name, key, rec.id, d.source, rec.foreign_note()))
                    continue
                # taken over: tagged (taggable kinds), and given the zwvl owner (a compared field)
                adopt_tags = sorted(set(rec.tags) | {TAG}) if spec.taggable else None
            # (an implicit interface zwvl had to create itself is tagged: compared like any other)
            changes = diff_fields(fields, rec)
            if changes or not rec.managed:
                ops_forward.append(
                    Op(
                        "update",
                        name,
                        key,
                        rec.id,
                        d.source,
                        {c.field: c.new for c in changes},
                        changes,
                        weight=1.0,
                        adopt_tags=adopt_tags,
                        reason="" if rec.managed else "adopt",
                    )
                )
            for extra in managed[1:]:
                deletes.append(Op("delete", name, key, extra.id, extra.source, reason="duplicate"))
        for key, recs in have.items():
            if key in want:
                continue
            for rec in recs:
                if rec.managed and not spec.schema:
                    if not spec.taggable and _parent_deleted(rec, spec.parent, desired):
                        continue  # goes with its parent
                    deletes.append(Op("delete", name, key, rec.id, rec.source))
                elif not rec.managed:
                    unmanaged.append(Unmanaged(name, key, rec.id))
    order = {n: i for i, n in enumerate(ORDER)}
    deletes.sort(key=lambda op: -order[op.kind])
    taken = _cascaded(deletes, state)
    cascades = [c for c in taken.values() if c is not None]
    unmanaged = [u for u in unmanaged if (u.kind, u.id) not in taken]
    return Plan(
        url=state.url,
        version=state.version,
        fingerprint=state.fingerprint,
        ops=deletes + ops_forward,
        conflicts=conflicts,
        unmanaged=unmanaged,
        cascades=cascades,
        adopt=adopt,
        managed_count=state.managed_count(),
        created=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        read_requests=state.requests,
    )


def _cascaded(deletes: list[Op], state: State) -> dict[tuple[str, int], Cascade | None]:
    """Every record NetBox deletes along with ``deletes`` (transitively), by (kind, id): a
    :class:`Cascade` for an unmanaged one that matters, None for the rest (managed records, and the
    interfaces NetBox made from the device type's templates, which belong to their device)."""
    gone = {(op.kind, op.key) for op in deletes if op.reason != "duplicate"}
    out: dict[tuple[str, int], Cascade | None] = {}
    templates = {rec.key for rec in state.records.get("dcim.interfacetemplate", [])}
    changed = True
    while changed:  # nested locations, device -> interface -> IP address: a few rounds at most
        changed = False
        for name, fields in CASCADES.items():
            for rec in state.records.get(name, []):
                if (name, rec.id) in out or (name, rec.key) in gone:
                    continue
                parent = next(
                    (
                        ref
                        for f in fields
                        if isinstance(ref := rec.fields.get(f), Ref) and (ref.kind, ref.key) in gone
                    ),
                    None,
                )
                if parent is None:
                    continue
                changed = True
                gone.add((name, rec.key))
                own = rec.managed or (name == "dcim.interface" and _from_template(rec, state, templates))
                out[(name, rec.id)] = None if own else Cascade(name, rec.key, rec.id, parent.label())
    return out


def _from_template(rec: Record, state: State, templates: set[tuple[str, ...]]) -> bool:
    """An interface NetBox instantiated from its device type's interface templates."""
    device = rec.fields.get("device")
    drec = state.find(device.kind, device.key) if isinstance(device, Ref) else None
    dtype = drec.fields.get("device_type") if drec else None
    return isinstance(dtype, Ref) and (str(dtype), rec.key[-1]) in templates


def _parent_missing(d: Desired, state: State) -> bool:
    parent = d.fields.get("device")
    return isinstance(parent, Ref) and state.find(parent.kind, parent.key) is None


def _parent_deleted(rec: Record, parent_field: str | None, desired: DesiredState) -> bool:
    """The record's parent is not desired (a managed child that cannot be tagged goes with it)."""
    if parent_field is None:
        return False
    parent = rec.fields.get(parent_field)
    return isinstance(parent, Ref) and parent.key not in desired.objects.get(parent.kind, {})


# ------------------------------------------------------------------------------------ serialisation


def encode(value: Any) -> Any:
    if isinstance(value, Ref):
        return {"$ref": [value.kind, list(value.key)]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$ref"}:
            kind, key = value["$ref"]
            return Ref(str(kind), tuple(str(k) for k in key))
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def plan_to_json(plan: Plan) -> dict[str, Any]:
    return {
        "format": PLAN_FORMAT,
        "netbox": {
            "url": plan.url,
            "version": plan.version,
            "branch": plan.branch,
            "branch_url": plan.branch_url,
        },
        "fingerprint": plan.fingerprint,
        "created": plan.created,
        "commit": plan.commit,
        "summary": {
            **plan.counts(),
            "conflicts": len(plan.conflicts),
            "unmanaged": len(plan.unmanaged),
            "cascaded": len(plan.cascades),
            "managed": plan.managed_count,
        },
        "adopt": plan.adopt,
        "ops": [
            {
                "action": op.action,
                "kind": op.kind,
                "key": list(op.key),
                "id": op.id,
                "source": op.source,
                "fields": encode(op.fields),
                "changes": [
                    {"field": c.field, "old": encode(c.old), "new": encode(c.new)} for c in op.changes
                ],
                "weight": op.weight,
                "adopt_tags": op.adopt_tags,
                "reason": op.reason,
            }
            for op in plan.ops
        ],
        "conflicts": [
            {"kind": c.kind, "key": list(c.key), "id": c.id, "source": c.source, "note": c.note}
            for c in plan.conflicts
        ],
        "unmanaged": [{"kind": u.kind, "key": list(u.key), "id": u.id} for u in plan.unmanaged],
        "cascades": [{"kind": c.kind, "key": list(c.key), "id": c.id, "via": c.via} for c in plan.cascades],
    }


def plan_from_json(doc: dict[str, Any]) -> Plan:
    if doc.get("format") != PLAN_FORMAT:
        raise ValueError(f"unsupported plan format {doc.get('format')!r} (expected {PLAN_FORMAT})")
    ops = []
    for o in doc["ops"]:
        if o["kind"] not in BY_NAME or o["action"] not in ("create", "update", "delete"):
            raise ValueError(f"invalid operation in plan: {o.get('action')} {o.get('kind')}")
        ops.append(
            Op(
                action=o["action"],
                kind=o["kind"],
                key=tuple(o["key"]),
                id=o.get("id"),
                source=o.get("source"),
                fields=decode(o.get("fields") or {}),
                changes=[
                    Change(c["field"], decode(c["old"]), decode(c["new"])) for c in o.get("changes", [])
                ],
                weight=float(o.get("weight", 1.0)),
                adopt_tags=o.get("adopt_tags"),
                reason=o.get("reason", ""),
            )
        )
    return Plan(
        url=doc["netbox"]["url"],
        version=doc["netbox"]["version"],
        fingerprint=doc["fingerprint"],
        ops=ops,
        conflicts=[
            Conflict(c["kind"], tuple(c["key"]), c["id"], c.get("source"), c.get("note", ""))
            for c in doc.get("conflicts", [])
        ],
        unmanaged=[Unmanaged(u["kind"], tuple(u["key"]), u["id"]) for u in doc.get("unmanaged", [])],
        cascades=[Cascade(c["kind"], tuple(c["key"]), c["id"], c["via"]) for c in doc.get("cascades", [])],
        adopt=bool(doc.get("adopt", False)),
        managed_count=int(doc.get("summary", {}).get("managed", 0)),
        created=doc.get("created", ""),
        commit=doc.get("commit"),
        branch=doc["netbox"].get("branch"),
        branch_url=doc["netbox"].get("branch_url"),
    )
