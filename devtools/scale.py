"""Write a region N times larger with the same shape, for benchmarks and scale tests.

Copy k of the region gets its own partners (new 3-character codes), sites (with their locations,
whose slugs are per site and stay as they are), devices, circuits, regional datacenter and address
blocks, so the copies validate together and every rule sees the same topology N times. Shared files
(region, standards, helpdesk, device types) are written once.
"""

from __future__ import annotations

import ipaddress
import shutil
import string
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from zwvl.inventory import Inventory
from zwvl.model import Obj

_ALPHABET = string.ascii_lowercase + string.digits
_SHARED = ("region", "standards", "helpdesk")


def _code(n: int) -> str:
    return "".join(_ALPHABET[(n // 36**i) % 36] for i in (2, 1, 0))


class _Renamer:
    def __init__(self, inv: Inventory, k: int) -> None:
        self.k = k
        self.inv = inv
        partners = sorted(inv.partners)
        # copies get codes from "xaa" on; no real partner code starts with x
        first = _ALPHABET.index("x") * 36 * 36 + k * len(partners)
        self.codes = {inv.partners[slug].code: _code(first + i) for i, slug in enumerate(partners)}
        self.p2p_off = k * 2 * max(64, len(inv.circuits) * 2)
        self.loop_off = k * max(64, len(inv.devices))
        self.pfx_off = k * len(partners) * 4096  # one /20 per partner
        self._by_length = sorted(partners, key=len, reverse=True)

    def slug(self, s: str) -> str:
        # a partner's own slugs keep the partner first (kortrijk-library -> kortrijk-r1-library), as
        # the naming convention wants; longest partner slug first (spiere-helkijn before spiere)
        for partner in self._by_length:
            if s.startswith(partner + "-"):
                return f"{partner}-r{self.k}{s[len(partner) :]}"
        return f"{s}-r{self.k}"

    def device(self, name: str) -> str:
        code, rest = name.split("-", 1) if "-" in name else (name, "")
        return f"{self.codes.get(code, code)}-{rest}" if rest else self.codes.get(code, code)

    def shift(self, iface: str, offset: int) -> str:
        ip = ipaddress.ip_interface(iface)
        return f"{ip.ip + offset}/{ip.network.prefixlen}"

    def net(self, net: str, offset: int) -> str:
        n = ipaddress.ip_network(net)
        return f"{n.network_address + offset}/{n.prefixlen}"

    def prefix(self, net: str) -> str:
        n = ipaddress.ip_network(net)
        # partner blocks are /20s in 10/8: move by whole /20s
        return f"{n.network_address + self.pfx_off}/{n.prefixlen}"


def _dump(obj: Obj) -> dict[str, Any]:
    return obj.model_dump(mode="json", exclude_defaults=True)


def _rename(section: str, d: dict[str, Any], r: _Renamer) -> dict[str, Any]:
    if section == "partner":
        d["slug"] = r.slug(d["slug"])
        d["code"] = r.codes[d["code"]]
        d["name"] = f"{d['name']} ({r.k})"
        d["team"] = f"{d['team']}-r{r.k}"
    elif section in ("contacts", "vlans"):
        d["partner"] = r.slug(d["partner"])
    elif section == "sites":
        d["slug"], d["partner"] = r.slug(d["slug"]), r.slug(d["partner"])
        d["name"] = f"{d['name']} ({r.k})"  # NetBox wants unique site names
    elif section == "devices":
        d["name"], d["site"] = r.device(d["name"]), r.slug(d["site"])
        if "loopback" in d:
            d["loopback"] = r.shift(d["loopback"], r.loop_off)
        if "primary_ip4" in d:  # a server's address moves with its partner's prefixes
            d["primary_ip4"]["address"] = r.shift(d["primary_ip4"]["address"], r.pfx_off)
    elif section == "providers":
        d["slug"], d["name"] = r.slug(d["slug"]), f"{d['name']} ({r.k})"
    elif section == "circuits":
        d["cid"] = d["cid"].replace("ZWVL-", f"ZWVL-R{r.k}-", 1)
        d["provider"] = r.slug(d["provider"])
        d["prefix"] = r.net(d["prefix"], r.p2p_off)
        for side in ("a", "z"):
            e = d[side]
            e["site"], e["device"] = r.slug(e["site"]), r.device(e["device"])
            e["address"] = r.shift(e["address"], r.p2p_off)
    elif section == "prefixes":
        d["partner"] = r.slug(d["partner"])
        d["prefix"] = r.prefix(d["prefix"])
        if "site" in d:
            d["site"] = r.slug(d["site"])
    elif section == "services":
        d["slug"], d["partner"] = r.slug(d["slug"]), r.slug(d["partner"])
        if "site" in d:
            d["site"] = r.slug(d["site"])
        d["devices"] = [r.device(x) for x in d.get("devices", [])]
    elif section == "datasets":
        d["slug"], d["service"] = r.slug(d["slug"]), r.slug(d["service"])
        d["partners"] = [r.slug(p) for p in d["partners"]]
    elif section == "software":
        # each copy is its own region with its own purchases
        d["slug"], d["product"] = r.slug(d["slug"]), f"{d['product']} (region {r.k})"
        d["partners"] = [r.slug(p) for p in d["partners"]]
    return d


def _sections(inv: Inventory) -> list[tuple[str, list[Obj]]]:
    return [
        ("partner", list(inv.partners.values())),
        ("contacts", list(inv.contacts)),
        ("sites", list(inv.sites.values())),
        ("devices", list(inv.devices.values())),
        ("providers", list(inv.providers.values())),
        ("circuits", list(inv.circuits.values())),
        ("vlans", list(inv.vlans)),
        ("prefixes", list(inv.prefixes)),
        ("services", list(inv.services.values())),
        ("datasets", list(inv.datasets.values())),
        ("software", list(inv.software.values())),
    ]


def write_scaled(inv: Inventory, n: int, out: Path) -> int:
    """Write `n` copies of `inv` below `out`; returns the number of files written."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    prefix = inv.root.name + "/"
    written = 0
    # shared, written once: region, standards, helpdesk, device types (copied verbatim)
    shared_files = {obj.src.file for obj in (inv.region, inv.standards, inv.helpdesk) if obj is not None}
    shared_files |= {dt.src.file for dt in inv.device_types.values()}
    for f in sorted(shared_files):
        rel = f.removeprefix(prefix)
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(inv.root / rel, dest)
        written += 1
    for k in range(n):
        r = _Renamer(inv, k)
        files: dict[str, dict[str, Any]] = defaultdict(dict)
        for section, objs in _sections(inv):
            for obj in objs:
                d = _dump(obj)
                if k:
                    d = _rename(section, d, r)
                rel = obj.src.file.removeprefix(prefix)
                if section == "partner":
                    files[rel]["partner"] = d
                else:
                    files[rel].setdefault(section, []).append(d)
        for rel, body in files.items():
            dest = out / f"r{k}" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(yaml.safe_dump(body, sort_keys=False, allow_unicode=True), encoding="utf-8")
            written += 1
    return written


def write_scaled_policies(inv: Inventory, policies: Path, n: int, out: Path) -> None:
    """Copy the policy catalogue and repeat every waiver for each copy (objects renamed alike)."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(policies / "catalogue.yaml", out / "catalogue.yaml")
    src = policies / "waivers.yaml"
    waivers = (
        (yaml.safe_load(src.read_text(encoding="utf-8")) or {}).get("waivers", []) if src.exists() else []
    )
    scaled = []
    for k in range(n):
        r = _Renamer(inv, k)
        for w in waivers:
            w = dict(w)
            kind, _, key = str(w["object"]).partition(":")
            if k and kind == "device":
                w["object"] = f"device:{r.device(key)}"
            elif k and kind in ("software", "site", "dataset", "service", "partner"):
                w["object"] = f"{kind}:{r.slug(key)}"
            scaled.append(w)
    (out / "waivers.yaml").write_text(yaml.safe_dump({"waivers": scaled}, sort_keys=False), encoding="utf-8")
