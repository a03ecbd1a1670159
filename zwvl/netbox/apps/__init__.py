"""The inventory as NetBox objects and back, one module per NetBox app.

Each app module holds both directions side by side, so they cannot drift apart: ``map_*`` turns the
domain model (``zwvl.inventory.Inventory``) into the desired NetBox objects, ``import_*`` turns a
NetBox state (``zwvl.netbox.state.State``) back into the inventory's YAML sections (`zwvl import`,
so that importing a NetBox zwvl manages and then planning against it shows no changes).

- ``extras``: zwvl's owner, tag, custom fields and choice sets (forward only);
- ``tenancy``: partners (tenants), contacts; the helpdesk stub on import;
- ``dcim``: the region, sites and locations, device types, devices (with their loopback or, for a
  server, its address on its interface);
- ``circuits``: providers, circuits (with their terminations, cables, /31s and addresses);
- ``ipam``: the standards' pools, VLANs, the partners' prefixes, the services on their devices; the
  standards on import;
- ``common``: ``Desired`` / ``DesiredState`` / ``MappingError`` (forward), ``Imported`` (reverse).

``desired_state`` and ``import_state`` below call the apps in dependency order. Writing the import
into the output folder safely is ``zwvl.netbox.import_out``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import yaml

from zwvl.inventory import DEVICE_TYPE_DIR, Inventory
from zwvl.netbox.apps import circuits, dcim, extras, ipam, tenancy
from zwvl.netbox.apps.common import DesiredState, Imported, ImportResult, MappingError, Warn
from zwvl.netbox.state import State

MAPPERS: tuple[Callable[[DesiredState, Inventory], None], ...] = (
    dcim.map_region,
    tenancy.map_tenants,
    dcim.map_sites,
    dcim.map_device_types,
    dcim.map_devices,
    circuits.map_providers,
    circuits.map_circuits,
    ipam.map_pools,
    ipam.map_vlans,
    ipam.map_prefixes,
    ipam.map_services,
    tenancy.map_contacts,
)
"""The forward mapping, app by app, in dependency order (after zwvl's own schema objects)."""


def desired_state(inv: Inventory) -> DesiredState:
    """Map the whole inventory; raises MappingError when NetBox could not hold it as is."""
    ds = DesiredState()
    extras.map_schema(ds)
    for mapper in MAPPERS:
        mapper(ds, inv)
    if ds.problems:
        raise MappingError(ds.problems)
    return ds


def import_state(state: State, out: Path, *, url: str, warn: Warn) -> ImportResult:
    """Write the inventory NetBox's ``state`` describes under ``out``; what cannot be is warned of."""
    im = Imported(state.records, warn)
    dcim.import_region(im)
    tenancy.import_partners(im)
    tenancy.import_contacts(im)
    dcim.import_sites(im)
    dcim.import_device_types(im)
    ipam.find_addresses(im)
    dcim.import_devices(im)
    circuits.import_providers(im)
    circuits.import_circuits(im)
    vlans = ipam.import_vlans(im)
    pools = ipam.import_prefixes(im, vlans)
    ipam.import_standards(im, pools)
    ipam.import_services(im)
    tenancy.import_helpdesk(im)
    return ImportResult(out, _write(im, out, url), dict(im.counts))


def _write(im: Imported, out: Path, url: str) -> list[str]:
    header = (
        f"# Imported from NetBox {url} by `zwvl import` on {dt.date.today().isoformat()}.\n"
        "# Review before committing: NetBox holds no standards or helpdesk SLAs (stubs were written).\n"
    )
    written: list[str] = []
    for rel, body in sorted(im.sections.items()):
        if rel.startswith(DEVICE_TYPE_DIR + "/"):
            im.warn(f"{rel}: not written (device-types/ holds device types only)")
            continue
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=110), encoding="utf-8"
        )
        written.append(rel)
    for rel, body in sorted(im.device_type_files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "# devicetype-library format; imported from NetBox by `zwvl import`.\n"
            + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=110),
            encoding="utf-8",
        )
        written.append(rel)
    return written


__all__ = ["DesiredState", "ImportResult", "MappingError", "desired_state", "import_state"]
