"""The running lab behind one facade, :class:`Lab`: network namespaces, veth pairs, and one FRR + sshd
per router, tracked by PID.

Per router ``R`` of lab ``L`` (see :func:`zwvl.lab.netns.namespace_name`):

- a named network namespace ``zl-R`` (``zl-L.R`` for a lab not called ``main``) with ``R``'s loopback
  on ``lo`` and one veth end per fibre circuit, named and addressed exactly as in NetBox
  (:mod:`zwvl.lab.netns`, which also cuts and restores a fibre);
- a process tree started as ``nsenter --net=<ns> unshare --mount --uts --pid --fork --kill-child
  --mount-proc tini -- router-init.sh``: its own mount, UTS and PID namespaces (:mod:`zwvl.lab.processes`).
  The init script (``zwvl/lab/templates/router-init.sh``) bind-mounts per-router copies of ``/etc/frr``,
  ``/etc/ssh``, ``/etc/hostname``, ``/var/log``, ``/root``, ``/tmp`` and ``/run`` over the real paths
  (:mod:`zwvl.lab.routerfs`), sets the hostname, starts ``sshd`` on the loopback and FRR
  (``frrinit.sh start``: watchfrr, zebra, staticd and what ``/etc/frr/daemons`` enables). A router
  therefore looks like a Debian box with FRR installed: ``vtysh``, ``/etc/frr/frr.conf`` and
  ``frr-reload.py`` work over ssh without any pathspace option;
- ``tini`` is PID 1 of the router's PID namespace: killing the ``unshare`` process (whose PID the
  state file records) kills tini (``--kill-child``) and with it every process of the router.

State lives in ``$ZWVL_LAB_DIR/<lab>/`` (default ``/run/zwvl-lab/main/``, :mod:`zwvl.lab.state`):
``lab.json`` (routers, links, PIDs, cut links), ``ssh_config`` (ProxyCommand ``ip netns exec <ns> nc
%h %p``, ControlPath), ``ssh/`` (the lab's key pair and known_hosts), ``routers/<R>/`` (the per-router
file systems above and ``console.log``). Names are recorded before anything is created, so ``down``
also cleans up after an ``up`` that was interrupted. What the lab measures (daemons, pings, OSPF
neighbours) is in :mod:`zwvl.lab.probes`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterable, Sequence
from ipaddress import IPv4Interface
from pathlib import Path
from typing import Any

from zwvl.lab import netns, probes, routerfs
from zwvl.lab.errors import LabError, Progress, _noop
from zwvl.lab.processes import (
    CLEAN_ENV,
    T_CMD,
    _reap,
    _run,
    find_init,
    pid_alive,
    spawn_router,
    stop_router_processes,
    verified_pid,
)
from zwvl.lab.spec import LabSpec, Link, Router
from zwvl.lab.state import LabFolder, LabStatus, LinkInfo, RouterInfo

T_READY = 120.0
START_WINDOW = 12
"""Routers started at once: on two cores, more only queues FRR's start-up behind itself."""

_TOOLS = ("ip", "nsenter", "unshare", "tini", "nc", "ssh-keygen", "fping", "nft")
_FILES = ("/usr/lib/frr/frrinit.sh", "/usr/sbin/sshd")


def _preflight() -> None:
    """Root, and the Debian packages the lab runs on."""
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, veth pairs, mounts)")
    for tool in _TOOLS:
        if shutil.which(tool, path=CLEAN_ENV["PATH"]) is None:
            raise LabError(f"{tool} is missing: run scripts/install-system-deps")
    for path in _FILES:
        if not Path(path).exists():
            raise LabError(f"{path} is missing: run scripts/install-system-deps")


class Lab(LabFolder):
    """One lab on this machine. Safe to construct when nothing runs; see the module docstring."""

    def namespace(self, router: str) -> str:
        return netns.namespace_name(self.name, router)

    # ------------------------------------------------------------------------------------- up

    def up(
        self,
        spec: LabSpec,
        *,
        progress: Progress | None = None,
        netbox_url: str | None = None,
        scope: str = "",
    ) -> LabStatus:
        """Build (or converge to) ``spec``. Running routers and links that already match are left alone;
        routers and links no longer in ``spec`` are removed. Cut links stay cut."""
        say = progress or _noop
        spec.validate()
        _preflight()
        with self._locked():
            state = self._load() or self._new_state()
            state.update(netbox_url=netbox_url, scope=scope)
            old_spec = LabSpec.from_dict(state.get("spec", {}))
            self.folder.mkdir(parents=True, exist_ok=True)
            routerfs.write_init_script(self)
            routerfs.ensure_key(self)

            # routers that left the spec, or whose loopback changed, go first
            for name in sorted(state["routers"]):
                if name not in spec.routers or (
                    name in old_spec.routers
                    and old_spec.routers[name].loopback != spec.routers[name].loopback
                ):
                    say(f"Removing router {name} ...")
                    self._stop_router(name, state["routers"][name])
                    del state["routers"][name]
            # record names before creating anything (an interrupted up can still be torn down)
            for name in spec.routers:
                entry = state["routers"].setdefault(name, {})
                entry.update(namespace=self.namespace(name), folder=str(self.router_folder(name)))
            state["spec"] = spec.as_dict()
            state["cuts"] = {c: m for c, m in state.get("cuts", {}).items() if c in spec.links}
            self._save(state)

            alive = {
                n
                for n, e in state["routers"].items()
                if verified_pid(e) and netns.netns_exists(e["namespace"])
            }
            new = [n for n in sorted(spec.routers) if n not in alive]
            if alive:
                say(f"{len(alive)} router(s) already running.")
            for name in new:
                self._stop_router(name, state["routers"][name])  # leftovers of an interrupted up
            netns.create_namespaces([spec.routers[n] for n in new], self.namespace)
            netns.converge_links(spec, state["cuts"], self.namespace)
            self._save(state)
            if new:
                say(f"Starting {len(new)} router(s) (FRR and sshd in their own namespaces) ...")
                self._start_routers([spec.routers[n] for n in new], state, say)
            routerfs.write_ssh_files(self, spec, self.namespace)
            self._save(state)
        status = self.status()
        dead = [r.name for r in status.routers if not r.alive]
        if dead:
            raise LabError(f"router(s) not running after up: {', '.join(dead)}; see their console.log")
        return status

    def _start_routers(self, routers: list[Router], state: dict[str, Any], say: Progress) -> None:
        """Start the routers, at most START_WINDOW at once, each until its init script says ready."""
        for r in routers:
            routerfs.prepare_router_folder(self, r)
        pending: list[Router] = list(routers)
        starting: dict[str, float] = {}
        deadline = time.monotonic() + T_READY + 2 * len(routers)
        while pending or starting:
            while pending and len(starting) < START_WINDOW:
                r = pending.pop(0)
                pid = spawn_router(
                    self.namespace(r.name), self.init_script, r.name, self.router_folder(r.name)
                )
                state["routers"][r.name].update(pid=pid, init_pid=None, started=time.time())
                starting[r.name] = time.monotonic()
            self._save(state)
            for name in list(starting):
                entry = state["routers"][name]
                if routerfs.is_ready(self, name):
                    entry["init_pid"] = find_init(entry)
                    del starting[name]
                elif not pid_alive(entry.get("pid")):
                    _reap(int(entry.get("pid") or 0))
                    tail = routerfs.console_tail(self, name)
                    raise LabError(f"router {name} died while starting:\n{tail}")
            if time.monotonic() > deadline:
                raise LabError(f"routers not ready in time: {', '.join(sorted(starting))}")
            if starting:
                time.sleep(0.05)
        say(f"{len(routers)} router(s) started.")

    # ----------------------------------------------------------------------------------- down

    def down(self, *, progress: Progress | None = None) -> list[str]:
        """Stop every router process (by PID), delete every namespace (and so every veth) the lab made,
        close the ssh control connections and remove the lab folder. Returns the removed routers."""
        say = progress or _noop
        with self._locked():
            state = self._load()
            routerfs.close_ssh_masters(self)
            removed = []
            for name, entry in sorted(state.get("routers", {}).items()):
                self._stop_router(name, entry)
                removed.append(name)
            if removed:
                say(f"Stopped {len(removed)} router(s) and deleted their namespaces.")
            if self.folder.exists():
                shutil.rmtree(self.folder)
            with contextlib.suppress(FileNotFoundError):
                self._lock_file.unlink()  # nothing is left to guard
        return removed

    def _stop_router(self, name: str, entry: dict[str, Any]) -> None:
        stop_router_processes(name, entry)
        netns.delete_namespace(entry.get("namespace") or self.namespace(name))
        entry.update(pid=None, init_pid=None)

    # --------------------------------------------------------------------------------- status

    def status(self) -> LabStatus:
        state = self._load()
        if not state:
            return LabStatus(self.name, self.folder, False, [], [])
        spec = LabSpec.from_dict(state.get("spec", {}))
        routers = [
            self._router_info(name, entry, spec) for name, entry in sorted(state.get("routers", {}).items())
        ]
        cuts = state.get("cuts", {})
        present = {r.name: netns.link_names(r.namespace) for r in routers if netns.netns_exists(r.namespace)}
        links = [
            LinkInfo(
                lk.cid,
                (lk.a.router, lk.a.interface, str(lk.a.address)),
                (lk.z.router, lk.z.interface, str(lk.z.address)),
                lk.cost,
                cuts.get(lk.cid),
                present=all(e.interface in present.get(e.router, set()) for e in (lk.a, lk.z)),
            )
            for lk in sorted(spec.links.values(), key=lambda x: x.cid)
        ]
        return LabStatus(
            self.name, self.folder, True, routers, links, state.get("netbox_url"), state.get("scope", "")
        )

    def _router_info(self, name: str, entry: dict[str, Any], spec: LabSpec) -> RouterInfo:
        pid = verified_pid(entry)
        folder = Path(entry.get("folder") or self.router_folder(name))
        init = entry.get("init_pid")
        daemons = probes.daemons(folder, init) if pid is not None and isinstance(init, int) else {}
        lo = spec.routers[name].loopback if name in spec.routers else IPv4Interface("0.0.0.0/32")
        return RouterInfo(
            name,
            entry.get("namespace", self.namespace(name)),
            lo,
            pid,
            entry.get("init_pid"),
            folder,
            alive=pid is not None and netns.netns_exists(entry.get("namespace", "")),
            daemons=daemons,
        )

    def routers(self) -> list[RouterInfo]:
        """The lab's routers with their namespaces, loopbacks and PIDs."""
        return self.status().routers

    # ----------------------------------------------------------------------------- in a router

    def exec(
        self,
        router: str,
        argv: Sequence[str],
        *,
        timeout: float = T_CMD,
        input: str | None = None,
        check: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside a router (its network, mount, UTS and PID namespaces), as root."""
        entry = self._router_entry(router)
        init = entry.get("init_pid")
        if not (isinstance(init, int) and pid_alive(init)):
            raise LabError(f"router {router!r} is not running")
        cmd = ["nsenter", "-t", str(init), "-m", "-u", "-n", "-p", "--wd=/", "--", *argv]
        return _run(cmd, timeout=timeout, input=input, check=check)

    def vtysh(self, router: str, *commands: str, timeout: float = T_CMD) -> str:
        """Output of ``vtysh -c <command> ...`` in a router."""
        argv = ["vtysh"]
        for c in commands:
            argv += ["-c", c]
        proc = self.exec(router, argv, timeout=timeout)
        if proc.returncode != 0:
            raise LabError(f"vtysh in {router} failed (exit {proc.returncode}): {proc.stderr.strip()[-400:]}")
        return proc.stdout

    def vtysh_json(self, router: str, command: str) -> Any:
        """A ``... json`` show command in a router, decoded."""
        out = self.vtysh(router, command if command.rstrip().endswith(" json") else command + " json")
        try:
            return json.loads(out or "{}")
        except ValueError as exc:
            raise LabError(f"vtysh in {router}: {command!r} did not answer JSON") from exc

    # ---------------------------------------------------------------------------- fibre cuts

    def link(self, cid: str) -> Link:
        spec = self.spec()
        if cid not in spec.links:
            raise LabError(f"circuit {cid!r} is not a link of lab {self.name!r}")
        return spec.links[cid]

    def cut_link(self, cid: str, mode: str = "down") -> Link:
        """Cut a fibre: ``down`` sets both veth ends down (the routers see the loss of light at once);
        ``silent`` drops every packet on both ends with nftables while the interfaces stay up (OSPF
        notices after its dead interval)."""
        if mode not in netns.CUT_MODES:
            raise LabError(f"cut mode must be one of {', '.join(netns.CUT_MODES)}")
        lk = self.link(cid)
        with self._locked():
            state = self._load()
            for end in (lk.a, lk.z):
                netns.cut_end(self.namespace(end.router), end.interface, mode)
            state.setdefault("cuts", {})[cid] = mode
            self._save(state)
        return lk

    def restore_link(self, cid: str) -> Link:
        """Undo :meth:`cut_link` (whatever its mode)."""
        lk = self.link(cid)
        with self._locked():
            state = self._load()
            for end in (lk.a, lk.z):
                netns.restore_end(self.namespace(end.router), end.interface)
            state.setdefault("cuts", {}).pop(cid, None)
            self._save(state)
        return lk

    # --------------------------------------------------------------------------- measurements

    def unreachable(
        self, sources: Iterable[str] | None = None, *, timeout_ms: int = 400, workers: int = 4
    ) -> dict[str, set[str]]:
        """Ping every other router's loopback from each source router (one ``fping`` per router, in
        its namespace). Returns source -> routers whose loopback did not answer."""
        return probes.unreachable(
            self.spec(), self.namespace, sources, timeout_ms=timeout_ms, workers=workers
        )

    def adjacencies(self, workers: int = 4) -> dict[str, dict[str, str]]:
        """OSPF neighbour state per link end: cid -> {router: state} (e.g. ``Full/-``; missing if none)."""
        return probes.adjacencies(self.spec(), self.vtysh_json, workers)
