"""Load inventory/ once into the domain model and validate it as a whole.

Every problem is collected (not just the first) and reported as `file:line:col: message`
naming the object, so a reviewer fixes a pull request in one round.
"""

from __future__ import annotations

import gc
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from zwvl.inventory_checks import check_addressing, check_references
from zwvl.model import (
    Circuit,
    Contact,
    Dataset,
    Device,
    DeviceType,
    Helpdesk,
    Obj,
    Partner,
    Prefix,
    Provider,
    Region,
    Service,
    Site,
    Software,
    Standards,
    Vlan,
)
from zwvl.problems import ProblemsError, did_you_mean, position, problem
from zwvl.yamlsrc import Problem, Src, YamlError, YList, YMap, load_file, locate

DEVICE_TYPE_DIR = "device-types"

# top-level key -> (model, is a list)
SECTIONS: dict[str, tuple[type[Obj], bool]] = {
    "region": (Region, False),
    "standards": (Standards, False),
    "helpdesk": (Helpdesk, False),
    "partner": (Partner, False),
    "contacts": (Contact, True),
    "sites": (Site, True),
    "devices": (Device, True),
    "providers": (Provider, True),
    "circuits": (Circuit, True),
    "vlans": (Vlan, True),
    "prefixes": (Prefix, True),
    "services": (Service, True),
    "datasets": (Dataset, True),
    "software": (Software, True),
}

T = TypeVar("T", bound=Obj)

# section -> (what a reference calls it, the fields naming one object); an object whose own
# definition is invalid is remembered by these, so references to it are not reported as unknown
_REFERABLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "region": ("region", ()),
    "standards": ("standards", ()),
    "helpdesk": ("helpdesk", ()),
    "partner": ("partner", ("slug",)),
    "sites": ("site", ("slug",)),
    "device_types": ("device type", ("slug",)),
    "devices": ("device", ("name",)),
    "providers": ("provider", ("slug",)),
    "circuits": ("circuit", ("cid",)),
    "vlans": ("VLAN", ("partner", "vid")),
    "services": ("service", ("slug",)),
    "datasets": ("dataset", ("slug",)),
    "software": ("software", ("slug",)),
}


class InventoryError(ProblemsError[Problem]):
    """The inventory is invalid; `problems` lists every problem found."""

    where = "in the inventory"


@dataclass
class Inventory:
    root: Path
    files: list[str] = field(default_factory=list)
    region: Region | None = None
    standards: Standards | None = None
    helpdesk: Helpdesk | None = None
    partners: dict[str, Partner] = field(default_factory=dict)
    contacts: list[Contact] = field(default_factory=list)
    sites: dict[str, Site] = field(default_factory=dict)
    device_types: dict[str, DeviceType] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    providers: dict[str, Provider] = field(default_factory=dict)
    circuits: dict[str, Circuit] = field(default_factory=dict)
    vlans: list[Vlan] = field(default_factory=list)
    prefixes: list[Prefix] = field(default_factory=list)
    services: dict[str, Service] = field(default_factory=dict)
    datasets: dict[str, Dataset] = field(default_factory=dict)
    software: dict[str, Software] = field(default_factory=dict)
    # what a reference calls a kind ("device") -> keys of objects whose definition was invalid
    # (a single section such as "helpdesk" maps to its own name); filled only when loading fails
    rejected: dict[str, set[Any]] = field(default_factory=dict)

    # convenience views used by policies, sync and the exporter
    def sites_of(self, partner: str) -> list[Site]:
        return [s for s in self.sites.values() if s.partner == partner]

    def devicesposition(self, site: str) -> list[Device]:
        return [d for d in self.devices.values() if d.site == site]

    def partner_of_site(self, site: str) -> Partner:
        return self.partners[self.sites[site].partner]

    def file_of(self, obj: Obj) -> str:
        return obj.src.file

    def counts(self) -> dict[str, int]:
        return {
            "partners": len(self.partners),
            "sites": len(self.sites),
            "devices": len(self.devices),
            "circuits": len(self.circuits),
            "datasets": len(self.datasets),
            "services": len(self.services),
            "prefixes": len(self.prefixes),
            "vlans": len(self.vlans),
        }


_ADAPTERS: dict[type[Obj], TypeAdapter[Any]] = {}


def _adapter(model: type[Obj]) -> TypeAdapter[Any]:
    if model not in _ADAPTERS:
        _ADAPTERS[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return _ADAPTERS[model]


def _describe(item: Any, model: type[Obj]) -> str:
    name = model.__name__.lower().replace("devicetype", "device type")
    if isinstance(item, dict):
        for k in ("slug", "name", "cid", "prefix", "vid", "role", "rule"):
            if k in item and isinstance(item[k], (str, int)):
                return f"{name} {str(item[k])!r}"
    return name


def _pydantic_problems(
    exc: ValidationError, doc: Any, base: tuple[Any, ...], rel: str, item: Any, model: type[Obj]
) -> Iterator[Problem]:
    """The problems of one item that failed its schema; `base` is the item's path in `doc`."""
    what = _describe(item, model)
    for err in exc.errors(include_url=False):
        inner = tuple(err["loc"])
        line, col = locate(doc, base + inner)
        field_path = ".".join(str(p) for p in inner)
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "missing required field"
        yield Problem(rel, line, col, f"{what}: {field_path}: {msg}" if field_path else f"{what}: {msg}")


def _reject(rejected: dict[str, set[Any]], section: str, item: Any) -> None:
    """Remember an object whose definition is invalid, by the key references use for it."""
    if section not in _REFERABLE:
        return
    what, fields = _REFERABLE[section]
    keys = rejected.setdefault(what, set())
    if not fields:
        keys.add(what)
    elif isinstance(item, dict):
        value = tuple(item.get(f) for f in fields)
        if all(isinstance(v, (str, int)) for v in value):
            keys.add(value[0] if len(value) == 1 else value)


def _iter_files(root: Path, shown: str) -> tuple[list[tuple[str, Path]], list[Problem]]:
    """(posix path relative to root, path) of every YAML file, sorted, and the problems of the walk.

    A symbolic link is followed only to a target inside the folder (a linked file is read, a linked
    folder is not walked: its target is, under its own path); one that leaves the folder is a
    problem (`shown` is the root as problems name it). Folders that cannot be read are problems too.
    """
    real_root = os.path.realpath(root)
    inside = real_root.rstrip(os.sep) + os.sep
    out: list[tuple[str, Path]] = []
    problems: list[Problem] = []
    todo = [(str(root), "")]
    while todo:
        folder, rel = todo.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            where = (shown + rel).rstrip("/") or str(root)
            problems.append(Problem(where, 0, 0, f"cannot read the folder: {exc.strerror}"))
            continue
        for entry in entries:
            name = entry.name
            is_yaml = name.endswith((".yaml", ".yml"))
            if entry.is_symlink():
                if not is_yaml and not entry.is_dir():
                    continue  # a link to something that is neither YAML nor a folder
                target = os.path.realpath(entry.path)
                if target != real_root and not target.startswith(inside):
                    what = "file" if is_yaml else "folder"
                    problems.append(
                        Problem(
                            shown + rel + name,
                            1 if is_yaml else 0,
                            1 if is_yaml else 0,
                            f"symbolic link to the {what} {target}, outside the inventory folder: refused",
                        )
                    )
                elif is_yaml:
                    out.append((rel + name, Path(entry.path)))
            elif entry.is_dir(follow_symlinks=False):
                todo.append((entry.path, f"{rel}{name}/"))
            elif is_yaml:
                out.append((rel + name, Path(entry.path)))
    out.sort()
    return out, problems


def parse_inventory(root: Path) -> tuple[Inventory, list[Problem]]:
    """Parse and schema-check every file; returns what could be built plus the problems."""
    inv = Inventory(root=root)
    if not root.is_dir():
        return inv, [Problem(str(root), 0, 0, "inventory folder not found")]
    collected: dict[str, list[Obj]] = defaultdict(list)
    prefix = f"{root.name}/" if root.name else ""
    files, problems = _iter_files(root, prefix)
    for rel, path in files:
        display = prefix + rel
        inv.files.append(rel)
        try:
            doc = load_file(path, display)
        except YamlError as exc:
            problems.append(exc.problem)
            continue
        if not isinstance(doc, YMap):
            line, col = getattr(doc, "mark", (1, 1))
            problems.append(Problem(display, line, col, "expected a YAML mapping at the top"))
            continue
        if rel.startswith(DEVICE_TYPE_DIR + "/"):
            sections: list[tuple[str, Any, tuple[Any, ...], type[Obj], bool]] = [
                ("device_types", doc, (), DeviceType, True)
            ]
        else:
            sections = []
            for key, value in doc.items():
                if key not in SECTIONS:
                    hint = did_you_mean(str(key), SECTIONS)
                    line, col = doc.marks[key]
                    problems.append(Problem(display, line, col, f"unknown section {key!r}{hint}"))
                    continue
                model, is_list = SECTIONS[key]
                if is_list and not isinstance(value, YList):
                    line, col = doc.marks[key]
                    problems.append(Problem(display, line, col, f"section {key!r} must be a list"))
                    continue
                if not is_list and not isinstance(value, YMap):
                    line, col = doc.marks[key]
                    problems.append(Problem(display, line, col, f"section {key!r} must be a mapping"))
                    continue
                sections.append((key, value, (key,), model, not is_list))
        for key, value, base, model, single in sections:
            items = [value] if single else list(value)
            try:
                objs = list(enumerate(_adapter(model).validate_python(items)))
            except ValidationError:
                # validate item by item: keep the valid ones, report each invalid one on its own
                objs = []
                for i, raw in enumerate(items):
                    try:
                        objs.append((i, model.model_validate(raw)))
                    except ValidationError as exc:
                        at = base if single else base + (i,)
                        problems.extend(_pydantic_problems(exc, doc, at, display, raw, model))
                        _reject(inv.rejected, key, raw)
            for i, obj in objs:
                raw = items[i]
                mark = raw.mark if isinstance(raw, (YMap, YList)) else locate(doc, base + (i,))
                obj._src = Src(display, mark[0], mark[1])
                obj._raw = raw
                collected[key].append(obj)
    _assemble(inv, collected, problems)
    return inv, problems


def _shown(k: Any) -> str:
    return k if isinstance(k, str) else "/".join(map(str, k)) if isinstance(k, tuple) else str(k)


def _index(
    objs: Iterable[T], keyf: Callable[[T], Any], what: str, problems: list[Problem], field_name: str
) -> dict[Any, T]:
    """Objects by a key that must be unique; a duplicate names itself and where the first one is."""
    out: dict[Any, T] = {}
    for obj in objs:
        k = keyf(obj)
        if k in out:
            first = "{}:{}:{}".format(*position(out[k], field_name))
            problems.append(
                problem(obj, (field_name,), f"duplicate {what} {_shown(k)!r} (first defined at {first})")
            )
            continue
        out[k] = obj
    return out


def _unique_names(
    objs: Iterable[Partner | Site | Device | Provider], what: str, problems: list[Problem]
) -> None:
    """Names NetBox keeps unique, compared as NetBox does: ignoring case."""
    first: dict[str, Partner | Site | Device | Provider] = {}
    for obj in objs:
        other = first.setdefault(obj.name.lower(), obj)
        if other is not obj:
            also = "" if other.name == obj.name else f" (as {other.name!r})"
            where = "{}:{}:{}".format(*position(other, "name"))
            problems.append(
                problem(
                    obj, ("name",), f"duplicate {what} name {obj.name!r} (first defined at {where}{also})"
                )
            )


def _single(
    key: str, objs: list[Obj], problems: list[Problem], root: Path, rejected: dict[str, set[Any]]
) -> Any:
    if not objs:
        if key not in rejected:  # an invalid one was already reported
            problems.append(Problem(root.name or str(root), 0, 0, f"no {key!r} section found in any file"))
        return None
    for extra in objs[1:]:
        problems.append(problem(extra, (), f"{key!r} is defined more than once (first at {objs[0].src})"))
    return objs[0]


def _assemble(inv: Inventory, c: dict[str, list[Any]], problems: list[Problem]) -> None:
    inv.region = _single("region", c["region"], problems, inv.root, inv.rejected)
    inv.standards = _single("standards", c["standards"], problems, inv.root, inv.rejected)
    inv.helpdesk = _single("helpdesk", c["helpdesk"], problems, inv.root, inv.rejected)
    # NetBox keeps slugs unique, and the names of tenants (partners), sites, providers and devices
    inv.partners = _index(c["partner"], lambda o: o.slug, "partner slug", problems, "slug")
    _unique_names(inv.partners.values(), "partner", problems)
    _index(c["partner"], lambda o: o.code, "partner code", problems, "code")
    inv.sites = _index(c["sites"], lambda o: o.slug, "site slug", problems, "slug")
    _unique_names(inv.sites.values(), "site", problems)
    inv.device_types = _index(c["device_types"], lambda o: o.slug, "device type slug", problems, "slug")
    _index(c["device_types"], lambda o: (o.manufacturer, o.model), "device type model", problems, "model")
    inv.devices = _index(c["devices"], lambda o: o.name, "device name", problems, "name")
    _unique_names(inv.devices.values(), "device", problems)  # same names already reported above
    inv.providers = _index(c["providers"], lambda o: o.slug, "provider slug", problems, "slug")
    _unique_names(inv.providers.values(), "provider", problems)
    inv.circuits = _index(c["circuits"], lambda o: o.cid, "circuit id", problems, "cid")
    inv.services = _index(c["services"], lambda o: o.slug, "service slug", problems, "slug")
    inv.datasets = _index(c["datasets"], lambda o: o.slug, "dataset slug", problems, "slug")
    inv.software = _index(c["software"], lambda o: o.slug, "software slug", problems, "slug")
    inv.contacts = list(_index(c["contacts"], lambda o: o.key, "contact role", problems, "role").values())
    inv.vlans = list(_index(c["vlans"], lambda o: o.key, "VLAN id", problems, "vid").values())
    _index(c["vlans"], lambda o: (o.partner, o.name), "VLAN name", problems, "name")
    inv.prefixes = list(_index(c["prefixes"], lambda o: o.prefix, "prefix", problems, "prefix").values())


def load_inventory(root: Path | str = "inventory") -> Inventory:
    """Load and fully validate; raises InventoryError listing every problem."""
    root = Path(root)
    # Loading allocates many small, acyclic objects; the cyclic GC would rescan them over and
    # over as the heap grows (a third of the time at 100x), so pause it while loading.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        inv, problems = parse_inventory(root)
        # references and addressing are checked even after schema errors, so one run reports all
        check_references(inv, problems)
        check_addressing(inv, problems)
    finally:
        if gc_was_enabled:
            gc.enable()
    if problems:
        problems.sort(key=lambda p: (p.path, p.line, p.col, p.message))
        raise InventoryError(_dedupe(problems))
    return inv


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    out = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def model_dump_public(obj: BaseModel) -> dict[str, Any]:
    return obj.model_dump(mode="json", exclude_defaults=False)
