"""What the lab measures in its routers: daemons alive, loopbacks answering pings, OSPF neighbours."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from zwvl.lab.errors import LabError
from zwvl.lab.processes import _run, ns_pids
from zwvl.lab.routerfs import daemon_pid_files
from zwvl.lab.spec import PLAN, LabSpec


def daemons(folder: Path, init_pid: int) -> dict[str, bool]:
    """Daemon (PID file stem: zebra, ospfd, sshd...) -> whether its PID runs in the router."""
    out: dict[str, bool] = {}
    inside = ns_pids(init_pid)  # PID files hold PIDs of the router's PID namespace
    for pf in daemon_pid_files(folder):
        with contextlib.suppress(OSError, ValueError):
            out[pf.stem] = int(pf.read_text().strip()) in inside
    return out


def unreachable(
    spec: LabSpec,
    namespace: Callable[[str], str],
    sources: Iterable[str] | None = None,
    *,
    timeout_ms: int = 400,
    workers: int = 4,
) -> dict[str, set[str]]:
    """Ping every other router's loopback from each source router (one ``fping`` per router, in
    its namespace). Returns source -> routers whose loopback did not answer."""
    by_ip = {str(r.loopback_ip): n for n, r in spec.routers.items()}
    for ip in by_ip:
        if IPv4Address(ip) not in PLAN:  # never ping outside the plan
            raise LabError(f"refusing to ping {ip}: outside {PLAN}")
    srcs = sorted(sources) if sources is not None else sorted(spec.routers)

    def one(src: str) -> tuple[str, set[str]]:
        targets = [ip for ip, n in by_ip.items() if n != src]
        if not targets:
            return src, set()
        fping = ["fping", "-a", "-q", "-r", "2", "-t", str(timeout_ms), "-i", "1", *targets]
        proc = _run(["ip", "netns", "exec", namespace(src), *fping], check=False, timeout=30)
        alive = set(proc.stdout.split())
        return src, {by_ip[ip] for ip in targets if ip not in alive}

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return dict(pool.map(one, srcs))


def adjacencies(
    spec: LabSpec, vtysh_json: Callable[[str, str], Any], workers: int = 4
) -> dict[str, dict[str, str]]:
    """OSPF neighbour state per link end: cid -> {router: state} (e.g. ``Full/-``; missing if none)."""

    def one(router: str) -> tuple[str, dict[str, str]]:
        data = vtysh_json(router, "show ip ospf neighbor json")
        states: dict[str, str] = {}
        for entries in (data.get("neighbors") or {}).values():
            for nb in entries if isinstance(entries, list) else [entries]:
                ifname = str(nb.get("ifaceName", "")).split(":")[0]
                states[ifname] = str(nb.get("nbrState") or nb.get("state") or "")
        return router, states

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        per_router = dict(pool.map(one, sorted(spec.routers)))
    out: dict[str, dict[str, str]] = {}
    for lk in spec.links.values():
        out[lk.cid] = {}
        for end in (lk.a, lk.z):
            st = per_router.get(end.router, {}).get(end.interface)
            if st:
                out[lk.cid][end.router] = st
    return out
