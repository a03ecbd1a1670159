"""The lab's network: one named network namespace per router, veth pairs for the fibre links, and
cutting and restoring a fibre.

Per router ``R`` of lab ``L``: a network namespace ``zl-R`` (``zl-L.R`` for a lab not called ``main``)
with ``R``'s loopback on ``lo`` and one veth end per fibre circuit, named and addressed exactly as in
NetBox. Deleting the namespace deletes its veth ends (and so the links).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from zwvl.lab import templates
from zwvl.lab.processes import _run, kill_and_wait
from zwvl.lab.spec import LOOPBACK_INTERFACE, LabSpec, Link, Router
from zwvl.lab.state import DEFAULT_LAB

NS_PREFIX = "zl-"
_CUT_TABLE = "zwvl_cut_{ifname}"
CUT_MODES = ("down", "silent")

Namespace = Callable[[str], str]
"""Router name -> its namespace in one lab."""


def namespace_name(lab: str, router: str) -> str:
    """``zl-<router>`` for the ``main`` lab, ``zl-<lab>.<router>`` for any other."""
    return f"{NS_PREFIX}{router}" if lab == DEFAULT_LAB else f"{NS_PREFIX}{lab}.{router}"


def netns_exists(ns: str) -> bool:
    return Path("/run/netns", ns).exists()


def _ip_batch(lines: Iterable[str], netns: str | None = None) -> None:
    text = "\n".join(lines)
    if not text:
        return
    cmd = ["ip"] + (["-n", netns] if netns else []) + ["-batch", "-"]
    _run(cmd, input=text + "\n")


def create_namespaces(routers: list[Router], namespace: Namespace) -> None:
    """A namespace per router, its loopback up and addressed."""
    if not routers:
        return
    _ip_batch(f"netns add {namespace(r.name)}" for r in routers)
    for r in routers:
        _ip_batch(
            ["link set lo up", f"addr replace {r.loopback} dev {LOOPBACK_INTERFACE}"],
            namespace(r.name),
        )


def delete_namespace(ns: str) -> None:
    """Kill what still runs in the namespace and delete it (with its veth ends); none is fine."""
    if netns_exists(ns):
        # processes still inside the namespace (an ssh ProxyCommand's nc, a stray exec) are ours too
        proc = _run(["ip", "netns", "pids", ns], check=False)
        for tok in proc.stdout.split():
            if tok.isdigit():
                kill_and_wait(int(tok), timeout=2)
        _run(["ip", "netns", "del", ns])


def interfaces(ns: str) -> dict[str, dict[str, Any]]:
    """Interfaces of a namespace (``ip -j addr``): name -> {addrs, up}."""
    proc = _run(["ip", "-n", ns, "-j", "addr", "show"])
    out: dict[str, dict[str, Any]] = {}
    for itf in json.loads(proc.stdout or "[]"):
        addrs = {
            f"{a['local']}/{a['prefixlen']}" for a in itf.get("addr_info", []) if a.get("family") == "inet"
        }
        out[itf["ifname"]] = {"addrs": addrs, "up": "UP" in itf.get("flags", [])}
    return out


def link_names(ns: str) -> set[str]:
    """Names of the namespace's interfaces (``ip -o link``)."""
    out = _run(["ip", "-n", ns, "-o", "link", "show"], check=False).stdout
    return {ln.split(": ", 2)[1].split("@", 1)[0] for ln in out.splitlines() if ": " in ln}


def converge_links(spec: LabSpec, cuts: dict[str, str], namespace: Namespace) -> None:
    """Make the veth pairs what ``spec`` says: stray ends deleted, missing or misaddressed links
    rebuilt (a rebuilt link is no longer cut), every link up but those cut ``down``."""
    actual = {n: interfaces(namespace(n)) for n in spec.routers}
    wanted: dict[str, set[str]] = {n: set() for n in spec.routers}
    create: list[Link] = []
    for lk in spec.links.values():
        ok = True
        for end in (lk.a, lk.z):
            wanted[end.router].add(end.interface)
            have = actual[end.router].get(end.interface)
            if have is None or have["addrs"] != {str(end.address)}:
                ok = False
        if not ok:
            create.append(lk)
    # remove stray veths and the broken halves of links to rebuild
    for n, itfs in actual.items():
        stale = [
            i
            for i in itfs
            if i != LOOPBACK_INTERFACE
            and (i not in wanted[n] or any(i == lk.end(n).interface for lk in create if n in lk.routers))
        ]
        for ifname in stale:
            _run(["ip", "-n", namespace(n), "link", "del", ifname], check=False)
    for lk in create:
        cuts.pop(lk.cid, None)
    _ip_batch(
        f"link add {lk.a.interface} netns {namespace(lk.a.router)} type veth "
        f"peer name {lk.z.interface} netns {namespace(lk.z.router)}"
        for lk in create
    )
    per_ns: dict[str, list[str]] = {}
    for lk in create:
        for end in (lk.a, lk.z):
            per_ns.setdefault(namespace(end.router), []).append(
                f"addr replace {end.address} dev {end.interface}"
            )
    for lk in spec.links.values():
        if cuts.get(lk.cid) == "down":
            continue
        for end in (lk.a, lk.z):
            per_ns.setdefault(namespace(end.router), []).append(f"link set {end.interface} up")
    for ns, lines in per_ns.items():
        _ip_batch(lines, ns)


# ------------------------------------------------------------------------------------ fibre cuts


def _cut_table(ifname: str) -> str:
    return _CUT_TABLE.format(ifname=ifname.replace("-", "_").replace(".", "_"))


def cut_end(ns: str, ifname: str, mode: str) -> None:
    """``down``: the interface down; ``silent``: an nftables table dropping all it sends and receives."""
    if mode == "down":
        _run(["ip", "-n", ns, "link", "set", ifname, "down"])
    else:
        rules = templates.render("cut.nft", table=_cut_table(ifname), ifname=ifname)
        _run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=rules)


def restore_end(ns: str, ifname: str) -> None:
    """Undo :func:`cut_end`, whatever its mode."""
    _run(["ip", "netns", "exec", ns, "nft", "delete", "table", "inet", _cut_table(ifname)], check=False)
    _run(["ip", "-n", ns, "link", "set", ifname, "up"])
