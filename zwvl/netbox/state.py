"""Read NetBox's current state once: every managed kind as one list (large pages, only needed fields).

Records are normalised into key space (see ``zwvl.netbox.kinds``), indexed by natural key and by id,
and summarised by a fingerprint (ids, natural keys and ``last_updated`` of every object read) that a
saved plan carries so that `apply` can refuse it when NetBox changed in between.

Which records are zwvl's (``Record.managed``): taggable kinds when they carry ``kinds.TAG`` (the tag of
earlier versions, ``kinds.LEGACY_TAG``, alone does not count); custom fields and choice sets when
their NetBox owner is ``kinds.OWNER``, the owner itself when it has that name, the ownership tag when
its description starts with ``kinds.TAG_MARK``; interface templates through their device type.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from zwvl.netbox.client import NetboxClient, NetboxError, NetboxRequestError
from zwvl.netbox.kinds import (
    BY_NAME,
    CF_HASH,
    CF_SOURCE,
    LEGACY_TAG,
    LOCK_TAG,
    MIN_OWNER_VERSION,
    ORDER,
    OWNER,
    OWNER_KIND,
    TAG,
    TAG_MARK,
    UNKNOWN,
    Kind,
    Ref,
    has_owners,
    owner_ref,
)


@dataclass
class Record:
    kind: str
    id: int
    key: tuple[str, ...]
    fields: dict[str, Any]
    managed: bool
    source: str | None
    hash: str | None
    tags: list[str]
    last_updated: str

    def foreign_note(self) -> str:
        """Why an unmanaged record is not zwvl's (shown with a conflict)."""
        if self.kind == "extras.tag":
            return f"not created by zwvl (its description does not begin {TAG_MARK!r})"
        if BY_NAME[self.kind].schema:
            owner = self.fields.get("owner")
            return f"not created by zwvl (owner {owner or 'none'}, not {OWNER})"
        if LEGACY_TAG in self.tags:
            return f"tagged {LEGACY_TAG!r} (earlier zwvl or another tool), not {TAG!r}"
        return f"not tagged {TAG!r}"


class UnsupportedNetboxError(NetboxError):
    """The NetBox is too old for zwvl's ownership model (no owners)."""


@dataclass
class State:
    url: str
    version: str
    records: dict[str, list[Record]] = field(default_factory=dict)
    by_key: dict[str, dict[tuple[str, ...], list[Record]]] = field(default_factory=dict)
    by_id: dict[str, dict[int, Record]] = field(default_factory=dict)
    fingerprint: str = ""
    requests: int = 0
    change_mark: int | None = None
    """The newest change-log entry when the read began (None: the change log cannot be read)."""
    owners: bool = True
    """NetBox has owners (4.5+); without them the owner fields were not read and planning refuses."""

    def require_owners(self) -> None:
        if not self.owners:
            need = ".".join(map(str, MIN_OWNER_VERSION))
            raise UnsupportedNetboxError(
                f"NetBox {self.version} at {self.url} has no owners (NetBox {need}+): zwvl marks the tag, "
                "custom fields and choice sets it created with its owner and cannot tell them from "
                "hand-made ones; upgrade NetBox"
            )

    def find(self, kind: str, key: tuple[str, ...]) -> Record | None:
        """The record for a natural key (a managed one first when there are duplicates)."""
        recs = self.by_key.get(kind, {}).get(key)
        if not recs:
            return None
        for rec in recs:
            if rec.managed:
                return rec
        return recs[0]

    def id_of(self, ref: Ref) -> int | None:
        rec = self.find(ref.kind, ref.key)
        return rec.id if rec else None

    def count(self) -> int:
        return sum(len(v) for v in self.records.values())

    def managed_count(self) -> int:
        return sum(
            1 for recs in self.records.values() for r in recs if r.managed and not BY_NAME[r.kind].schema
        )


def _choice(value: Any) -> Any:
    if isinstance(value, dict) and "value" in value and "label" in value:
        return value["value"]
    return value


def _fk_id(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return int(value["id"]) if value.get("id") is not None else None
    return int(value)


class _Normaliser:
    """Turns raw records into key space, kind by kind in dependency order."""

    def __init__(self) -> None:
        self.keys: dict[str, dict[int, tuple[str, ...]]] = defaultdict(dict)

    def ref(self, kind: str, obj_id: int | None) -> Ref | None:
        if obj_id is None:
            return None
        key = self.keys.get(kind, {}).get(obj_id)
        return Ref(kind, key if key is not None else (f"{UNKNOWN}{obj_id}",))

    def raw_value(self, kind: Kind, name: str, raw: dict[str, Any]) -> Any:
        """One normalised field (references still as (kind, id) pairs)."""
        if name.startswith("cf."):
            return _choice((raw.get("custom_fields") or {}).get(name[3:]))
        if name in kind.generic:
            type_field, id_field = kind.generic[name]
            t, i = raw.get(type_field), raw.get(id_field)
            return None if t is None or i is None else ("@", str(t), int(i))
        value = raw.get(name)
        if name in kind.refs:
            fk = _fk_id(value)
            return None if fk is None else ("@", kind.refs[name], fk)
        if name in kind.ref_lists:
            return [("@", str(t["object_type"]), int(t["object_id"])) for t in (value or [])]
        value = _choice(value)
        if name in kind.floats and value is not None:
            return round(float(value), 6)
        if name in kind.sorted_lists and isinstance(value, list):
            return sorted(value)
        return value

    def resolve(self, value: Any) -> Any:
        if isinstance(value, tuple) and len(value) == 3 and value[0] == "@":
            return self.ref(value[1], value[2])
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value


def key_part(kind: Kind, name: str, value: Any) -> str:
    """One element of a natural key."""
    if isinstance(value, Ref):
        return f"{value.kind}:{value}" if name in kind.generic else str(value)
    if value is None:
        return ""
    return str(value)


def make_key(kind: Kind, values: dict[str, Any]) -> tuple[str, ...]:
    return tuple(key_part(kind, n, values.get(n)) for n in kind.key)


def read_state(client: NetboxClient, kinds: Iterable[str] = ORDER, workers: int = 3) -> State:
    """Fetch every kind (concurrently, one list each) and normalise."""
    status = client.status()
    version = str(status.get("netbox-version", "?"))
    owners = has_owners(version)
    before = client.stats.requests
    mark = change_mark(client)
    names = [n for n in kinds if owners or n != OWNER_KIND]

    jobs: list[tuple[str, str, dict[str, Any], list[str]]] = []
    for name in names:
        kind = BY_NAME[name]
        jobs.append((name, kind.endpoint, {}, kind.api_fields(owners=owners)))
        if kind.sparse_tags:
            jobs.append((name + "#tagged", kind.endpoint, {"tag": TAG}, ["id", "tags", "custom_fields"]))
        if kind.joined:
            jobs.append(
                (
                    name + "#ends",
                    "dcim/cable-terminations",
                    {},
                    ["id", "cable", "cable_end", "termination_type", "termination_id"],
                )
            )

    def fetch(job: tuple[str, str, dict[str, Any], list[str]]) -> tuple[str, list[dict[str, Any]]]:
        label, endpoint, params, fields = job
        try:
            return label, client.list(endpoint, params=params, fields=fields)
        except NetboxRequestError as exc:
            if exc.status == 400 and "tag" in params:
                return label, []  # the tag does not exist yet: nothing is tagged
            raise

    # biggest lists first so that the pool finishes together
    jobs.sort(key=lambda j: j[0] not in ("dcim.interface", "ipam.ipaddress", "dcim.device"))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        fetched = dict(pool.map(fetch, jobs))
    raw = {name: fetched[name] for name in names}
    for name in names:
        kind = BY_NAME[name]
        if kind.sparse_tags:
            extra = {int(r["id"]): r for r in fetched[name + "#tagged"]}
            for rec in raw[name]:
                more = extra.get(int(rec["id"]))
                rec["tags"] = more.get("tags", []) if more else []
                rec["custom_fields"] = more.get("custom_fields", {}) if more else {}
        if kind.joined:
            ends: dict[int, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: {"A": [], "B": []})
            for t in sorted(fetched[name + "#ends"], key=lambda t: int(t["id"])):
                cable = _fk_id(t.get("cable"))
                if cable is not None and t.get("cable_end") in ("A", "B"):
                    ends[cable][str(t["cable_end"])].append(
                        {"object_type": t["termination_type"], "object_id": t["termination_id"]}
                    )
            for rec in raw[name]:
                sides = ends.get(int(rec["id"]), {"A": [], "B": []})
                rec["a_terminations"], rec["b_terminations"] = sides["A"], sides["B"]
    state = build_state(client.url, version, raw)
    state.requests = client.stats.requests - before + 1
    state.change_mark = mark
    return state


def change_mark(client: NetboxClient) -> int | None:
    """Id of the newest change-log entry (every write through the API or UI adds one)."""
    try:
        body = client.request(
            "GET", "core/object-changes/", params={"limit": 1, "ordering": "-id", "fields": "id"}
        )
    except NetboxRequestError:
        return None
    results = body.get("results") if isinstance(body, dict) else None
    return int(results[0]["id"]) if results else 0


def changes_since(client: NetboxClient, mark: int) -> list[dict[str, Any]] | None:
    """The change-log entries after ``mark`` (None when the change log cannot be read)."""
    try:
        return client.list(
            "core/object-changes",
            params={"id__gt": mark},
            fields=["id", "changed_object_type", "changed_object_id", "action"],
        )
    except NetboxRequestError:
        return None


def build_state(url: str, version: str, raw: dict[str, list[dict[str, Any]]]) -> State:
    state = State(url=url, version=version, owners=has_owners(version))
    norm = _Normaliser()
    partial: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    # pass 1: natural keys, in dependency order (keys only use non-deferred references)
    for name in ORDER:
        if name not in raw:
            continue
        kind = BY_NAME[name]
        items = []
        for rec in raw[name]:
            if name == "extras.tag" and rec.get("slug") == LOCK_TAG:
                continue  # the apply lock is not part of the state
            values = {n: norm.raw_value(kind, n, rec) for n in kind.key + kind.fields}
            key_vals = {n: norm.resolve(values[n]) for n in kind.key}
            key = make_key(kind, key_vals)
            vrf = _fk_id(rec.get("vrf")) if "vrf" in kind.extra_read else None
            if vrf is not None:
                key = key + (f"vrf{UNKNOWN}{vrf}",)
            norm.keys[name][int(rec["id"])] = key
            items.append((rec, values))
        partial[name] = items
    # pass 2: every field, now that all keys are known
    for name in ORDER:
        if name not in partial:
            continue
        kind = BY_NAME[name]
        recs: list[Record] = []
        by_key: dict[tuple[str, ...], list[Record]] = defaultdict(list)
        by_id: dict[int, Record] = {}
        for rec, values in partial[name]:
            fields = {n: norm.resolve(v) for n, v in values.items()}
            tags = [str(t.get("slug")) for t in rec.get("tags") or [] if isinstance(t, dict)]
            cfs = rec.get("custom_fields") or {}
            if kind.taggable:
                managed = TAG in tags
            elif name == OWNER_KIND:
                managed = rec.get("name") == OWNER
            elif name == "extras.tag":
                managed = str(rec.get("description") or "").startswith(TAG_MARK)
            elif kind.schema:
                managed = fields.get("owner") == owner_ref()
            elif kind.parent is not None:
                parent = fields.get(kind.parent)
                managed = False
                if isinstance(parent, Ref):
                    prec = by_parent_lookup(state, parent)
                    managed = bool(prec and prec.managed)
            else:
                managed = True
            record = Record(
                kind=name,
                id=int(rec["id"]),
                key=norm.keys[name][int(rec["id"])],
                fields=fields,
                managed=managed,
                source=cfs.get(CF_SOURCE) if kind.taggable else None,
                hash=cfs.get(CF_HASH) if kind.taggable else None,
                tags=tags,
                last_updated=str(rec.get("last_updated") or ""),
            )
            if kind.taggable:
                record.fields["cf." + CF_SOURCE] = record.source
                record.fields["cf." + CF_HASH] = record.hash
            recs.append(record)
            by_key[record.key].append(record)
            by_id[record.id] = record
        state.records[name] = recs
        state.by_key[name] = dict(by_key)
        state.by_id[name] = by_id
    state.fingerprint = fingerprint(state)
    return state


def by_parent_lookup(state: State, ref: Ref) -> Record | None:
    return state.find(ref.kind, ref.key)


def fingerprint(state: State) -> str:
    """Hash of what was observed: every object's kind, id, natural key and last change time."""
    h = hashlib.sha256()
    for name in sorted(state.records):
        for rec in sorted(state.records[name], key=lambda r: r.id):
            h.update(json.dumps([name, rec.id, list(rec.key), rec.last_updated]).encode())
    return h.hexdigest()[:32]
