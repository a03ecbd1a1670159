"""What the per-app modules share: desired objects (forward) and the import context (reverse).

Forward: every desired object has a kind (NetBox object type), a natural key, its compared fields in
key space (references are :class:`~zwvl.netbox.kinds.Ref`, never ids) and the inventory file it
comes from; :class:`DesiredState` collects them and the problems found on the way.

Reverse: :class:`Imported` holds NetBox's records, the inventory sections being written (by file)
and what earlier apps found that later ones need (the partners, the sites, the addresses on each
interface, ...).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from zwvl.inventory import Inventory
from zwvl.model import Obj
from zwvl.netbox.kinds import BY_NAME, Ref, owner_ref
from zwvl.netbox.state import Record, make_key
from zwvl.problems import ProblemsError

# ------------------------------------------------------------------------------------------ forward


class MappingError(ProblemsError[str]):
    """The inventory cannot be represented in NetBox (e.g. two sites with the same name)."""

    where = "mapping the inventory to NetBox"


@dataclass
class Desired:
    kind: str
    key: tuple[str, ...]
    fields: dict[str, Any]
    source: str | None = None
    implicit: bool = False
    """Instantiated by NetBox itself (interfaces from templates): created only if missing, never updated."""
    weight: float = 1.0
    """Relative write cost (a device also writes its interfaces)."""


@dataclass
class DesiredState:
    objects: dict[str, dict[tuple[str, ...], Desired]] = field(default_factory=lambda: defaultdict(dict))
    problems: list[str] = field(default_factory=list)
    origin: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)

    def add(
        self, kind: str, fields: dict[str, Any], source: str | None, where: str = "", **kw: Any
    ) -> Desired:
        spec = BY_NAME[kind]
        if spec.owned:
            fields = {**fields, "owner": owner_ref()}
        fields = {n: canonical(kind, n, v) for n, v in fields.items()}
        key = make_key(spec, fields)
        d = Desired(kind, key, fields, source, **kw)
        existing = self.objects[kind].get(key)
        if existing is not None:
            if existing.fields != fields:
                first = self.origin.get((kind, key), existing.source or "?")
                self.problems.append(
                    f"{where or source}: {spec.label} {' '.join(key)!r} is defined twice with different "
                    f"values (first at {first})"
                )
            return existing
        self.objects[kind][key] = d
        self.origin[(kind, key)] = where or source or "?"
        return d

    def add_named(self, kind: str, slugs: Iterable[str], names: dict[str, str] | None = None) -> None:
        """One object of ``kind`` per slug (sorted), named from ``names`` or else the slug as a title.

        For what the inventory names by slug only (tenant and site groups, circuit types, roles).
        """
        for slug in sorted(slugs):
            self.add(
                kind, {"slug": slug, "name": (names or {}).get(slug, title(slug)), "description": ""}, None
            )

    def unique_name(self, seen: dict[str, str], kind: str, name: str, obj: Obj) -> None:
        """NetBox wants some names unique (case-insensitively); ``seen`` holds those of one kind."""
        k = name.lower()
        if k in seen:
            self.problems.append(
                f"{where(obj)}: {obj.label}: NetBox needs unique {kind} names; {name!r} is also used at "
                f"{seen[k]}"
            )
        else:
            seen[k] = where(obj)

    def count(self) -> int:
        return sum(len(v) for v in self.objects.values())

    def all(self) -> list[Desired]:
        return [d for objs in self.objects.values() for d in objs.values()]


def canonical(kind: str, name: str, value: Any) -> Any:
    spec = BY_NAME[kind]
    if name in spec.floats and value is not None:
        return round(float(value), 6)
    if name in spec.sorted_lists and isinstance(value, list):
        return sorted(value)
    return value


def copied(obj: object, *names: str) -> dict[str, Any]:
    """The NetBox fields that take the inventory attribute of the same name as it is."""
    return {name: getattr(obj, name) for name in names}


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def source_of(inv: Inventory, obj: Obj) -> str:
    """The object's file relative to the repository: ``inventory/<path inside the inventory folder>``."""
    file = obj.src.file
    prefix = f"{inv.root.name}/" if inv.root.name else ""
    rel = file[len(prefix) :] if prefix and file.startswith(prefix) else file
    return f"inventory/{rel}"


def where(obj: Obj) -> str:
    return f"{obj.src.file}:{obj.src.line}"


def source_where(inv: Inventory, obj: Obj) -> tuple[str, str]:
    """``(source, where)`` of an inventory object, as ``DesiredState.add`` takes them."""
    return source_of(inv, obj), where(obj)


def title(slug: str) -> str:
    text = slug.replace("-", " ").replace("_", " ")
    return text[:1].upper() + text[1:]


# ------------------------------------------------------------------------------------------ reverse

Warn = Callable[[str], None]


@dataclass
class ImportResult:
    out: Path
    files: list[str]
    counts: dict[str, int]
    warnings: list[str] = field(default_factory=list)


@dataclass
class Imported:
    """One import under way: NetBox's records in, inventory sections (by file) out."""

    records: dict[str, list[Record]]
    warn: Warn
    sections: dict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))
    device_type_files: dict[str, dict[str, Any]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    partners: dict[str, dict[str, Any]] = field(default_factory=dict)
    partner_file: dict[str, str] = field(default_factory=dict)
    sites: dict[str, str] = field(default_factory=dict)
    """site slug -> partner slug"""
    device_sites: dict[str, str] = field(default_factory=dict)
    """device name -> site slug (the devices imported)"""
    site_locations: dict[str, set[str]] = field(default_factory=dict)
    device_types: dict[str, int] = field(default_factory=dict)
    """device type slug -> number of interfaces"""
    ips_on: dict[tuple[str, ...], list[Record]] = field(default_factory=lambda: defaultdict(list))
    """interface key (device, name) -> the IP addresses assigned to it"""
    circuit_prefixes: set[str] = field(default_factory=set)

    def of(self, kind: str) -> list[Record]:
        return self.records.get(kind, [])

    def add(self, rel: str, section: str, item: dict[str, Any]) -> None:
        self.sections[rel].setdefault(section, []).append(item)

    def set(self, rel: str, section: str, item: dict[str, Any]) -> None:
        self.sections[rel][section] = item

    def dump(self, model: type[BaseModel], data: dict[str, Any], what: str) -> dict[str, Any] | None:
        """``data`` validated by the domain model, as YAML-ready values; None (and a warning) if invalid."""
        try:
            obj = model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            loc = ".".join(str(p) for p in first["loc"])
            self.warn(f"skipped {what}: {loc}: {first['msg']}")
            return None
        return obj.model_dump(mode="json", exclude_defaults=True, by_alias=False)


def key_of(ref: Any) -> str | None:
    return ref.key[0] if isinstance(ref, Ref) and ref.key else None


def file_of(rec: Record | None, default: str) -> str:
    """Where to write an object: its zwvl_source (inside the inventory) or the default path."""
    if rec is not None and rec.source and rec.source.startswith("inventory/"):
        rel = rec.source.removeprefix("inventory/")
        parts = rel.split("/")
        if rel.endswith((".yaml", ".yml")) and ".." not in parts and "" not in parts:
            return rel
    return default
