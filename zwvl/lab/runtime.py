"""The running lab: network namespaces, veth pairs, and one FRR + sshd per router, tracked by PID.

Per router ``R`` of lab ``L`` (see :func:`namespace_name`):

- a named network namespace ``zl-R`` (``zl-L.R`` for a lab not called ``main``) with ``R``'s loopback
  on ``lo`` and one veth end per fibre circuit, named and addressed exactly as in NetBox;
- a process tree started as ``nsenter --net=<ns> unshare --mount --uts --pid --fork --kill-child
  --mount-proc tini -- router-init.sh``: its own mount, UTS and PID namespaces. The init script
  bind-mounts per-router copies of ``/etc/frr``, ``/etc/ssh``, ``/etc/hostname``, ``/var/log``,
  ``/root``, ``/tmp`` and ``/run`` over the real paths, sets the hostname, starts ``sshd`` on the
  loopback and FRR (``frrinit.sh start``: watchfrr, zebra, staticd and what ``/etc/frr/daemons``
  enables). A router therefore looks like a Debian box with FRR installed: ``vtysh``, ``/etc/frr/frr.conf``
  and ``frr-reload.py`` work over ssh without any pathspace option;
- ``tini`` is PID 1 of the router's PID namespace: killing the ``unshare`` process (whose PID the
  state file records) kills tini (``--kill-child``) and with it every process of the router.

State lives in ``$ZWVL_LAB_DIR/<lab>/`` (default ``/run/zwvl-lab/main/``): ``lab.json`` (routers,
links, PIDs, cut links), ``ssh_config`` (ProxyCommand ``ip netns exec <ns> nc %h %p``, ControlPath),
``ssh/`` (the lab's key pair and known_hosts), ``routers/<R>/`` (the per-router file systems above and
``console.log``). Names are recorded before anything is created, so ``down`` also cleans up after an
``up`` that was interrupted.
"""

from __future__ import annotations

import contextlib
import grp
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path
from typing import Any

from zwvl.filelock import file_lock
from zwvl.lab.spec import LOOPBACK_INTERFACE, PLAN, LabSpec, Link, Router

ENV_DIR = "ZWVL_LAB_DIR"
DEFAULT_BASE = Path("/run/zwvl-lab")
DEFAULT_LAB = "main"
NS_PREFIX = "zl-"
STATE_VERSION = 1

T_CMD = 60.0
T_READY = 120.0
T_STOP = 10.0
START_WINDOW = 12
"""Routers started at once: on two cores, more only queues FRR's start-up behind itself."""

CLEAN_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/root",
    "TERM": "dumb",
}
"""Environment of every process started in a router: nothing of the caller's (no NetBox token)."""

_LAB_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,15}$")
_CUT_TABLE = "zwvl_cut_{ifname}"
CUT_MODES = ("down", "silent")

ROUTER_INIT = r"""#!/bin/bash
# Started by zwvl.lab as the only child of tini (PID 1 of the router's PID namespace), already inside
# the router's network, mount and UTS namespaces. Arguments: router name, router folder.
set -euo pipefail
router=$1
root=$2
exec 9<"$root"   # reach the router folder by descriptor: the bind mounts below may hide its path
for pair in etc/frr:/etc/frr etc/ssh:/etc/ssh etc/hostname:/etc/hostname var/log:/var/log \
            root:/root tmp:/tmp run:/run; do
  mount --bind "/proc/self/fd/9/${pair%%:*}" "${pair#*:}"
done
exec 9<&-
hostname "$router"
/usr/sbin/sshd -f /etc/ssh/sshd_config -E /var/log/sshd.log
/usr/lib/frr/frrinit.sh start >/var/log/frrinit.log 2>&1
: >/run/zwvl-lab-ready
exec sleep infinity
"""

SSHD_CONFIG = """# zwvl lab router {router}: sshd on the loopback only
ListenAddress {loopback}
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
MaxStartups 64:30:128
MaxSessions 32
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
"""

FACTORY_FRR_CONF = """! factory default of a fresh Debian FRR install (zwvl lab); frr_ospf replaces it
hostname {router}
log file /var/log/frr/frr.log informational
service integrated-vtysh-config
"""

Progress = Callable[[str], None]


class LabError(RuntimeError):
    """The lab could not be built, changed or torn down."""


def _noop(_: str) -> None:
    return None


def lab_base(base: Path | str | None = None) -> Path:
    if base is not None:
        return Path(base)
    env = os.environ.get(ENV_DIR, "").strip()
    return Path(env) if env else DEFAULT_BASE


def namespace_name(lab: str, router: str) -> str:
    """``zl-<router>`` for the ``main`` lab, ``zl-<lab>.<router>`` for any other."""
    return f"{NS_PREFIX}{router}" if lab == DEFAULT_LAB else f"{NS_PREFIX}{lab}.{router}"


def _run(
    cmd: Sequence[str | Path],
    *,
    timeout: float = T_CMD,
    input: str | None = None,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    args = [str(c) for c in cmd]
    try:
        proc = subprocess.run(
            args,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env if env is not None else CLEAN_ENV,
        )
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"{' '.join(args[:6])}: timed out after {timeout:.0f}s") from exc
    except FileNotFoundError as exc:
        raise LabError(
            f"{args[0]}: command not found (install the lab's Debian packages: scripts/install-system-deps)"
        ) from exc
    if check and proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise LabError(f"{' '.join(args[:8])} failed (exit {proc.returncode}): {tail}")
    return proc


def _ip_batch(lines: Iterable[str], netns: str | None = None) -> None:
    text = "\n".join(lines)
    if not text:
        return
    cmd = ["ip"] + (["-n", netns] if netns else []) + ["-batch", "-"]
    _run(cmd, input=text + "\n")


# ------------------------------------------------------------------------------------ processes


def _proc_state(pid: int) -> str | None:
    """The process state letter (R, S, Z...), or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def pid_alive(pid: int | None) -> bool:
    """True for a running process (zombies count as dead)."""
    if not pid or pid <= 0:
        return False
    state = _proc_state(pid)
    return state is not None and state not in ("Z", "X")


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [p.decode(errors="replace") for p in raw.split(b"\0") if p]


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(x) for x in text.split()]
    except OSError:
        out = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    ppid = int(Path(entry, "stat").read_text().rsplit(")", 1)[1].split()[1])
                    if ppid == pid:
                        out.append(int(entry.name))
        return out


def _ns_pids(init_pid: int) -> dict[int, int]:
    """PIDs inside a router's PID namespace -> host PIDs, for tini and its children (daemons are
    re-parented to tini, PID 1 of the namespace)."""
    out: dict[int, int] = {}
    for pid in [init_pid, *_children(init_pid)]:
        if not pid_alive(pid):
            continue
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("NSpid:"):
                    ids = [int(x) for x in line.split()[1:]]
                    if len(ids) >= 2:
                        out[ids[-1]] = pid
                    break
    return out


def _reap(pid: int) -> None:
    """Collect a child's exit status when the caller started it (no zombie left behind)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _kill_and_wait(pid: int, sig: int = signal.SIGKILL, timeout: float = T_STOP) -> bool:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_alive(pid)


# ----------------------------------------------------------------------------------------- state


@dataclass
class RouterInfo:
    """A router of a running lab, as the exporter and the tests see it."""

    name: str
    namespace: str
    loopback: IPv4Interface
    pid: int | None
    """Host PID of the ``unshare`` process holding the router (kill it and the router is gone)."""
    init_pid: int | None
    """Host PID of tini, PID 1 of the router's PID namespace (``nsenter -t`` target)."""
    folder: Path
    alive: bool = False
    daemons: dict[str, bool] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "namespace": self.namespace,
            "loopback": str(self.loopback),
            "pid": self.pid,
            "init_pid": self.init_pid,
            "alive": self.alive,
            "daemons": self.daemons,
        }


@dataclass
class LinkInfo:
    cid: str
    a: tuple[str, str, str]
    z: tuple[str, str, str]
    cost: int | None
    cut: str | None
    """``None``, ``"down"`` (interfaces down) or ``"silent"`` (nftables drop, interfaces up)."""
    present: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "cid": self.cid,
            "a": list(self.a),
            "z": list(self.z),
            "cost": self.cost,
            "cut": self.cut,
            "present": self.present,
        }


@dataclass
class LabStatus:
    name: str
    folder: Path
    up: bool
    routers: list[RouterInfo]
    links: list[LinkInfo]
    netbox_url: str | None = None
    scope: str = ""

    @property
    def ok(self) -> bool:
        return (
            self.up
            and all(r.alive and all(r.daemons.values()) for r in self.routers)
            and all(lk.present for lk in self.links)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "folder": str(self.folder),
            "up": self.up,
            "ok": self.ok,
            "netbox_url": self.netbox_url,
            "scope": self.scope,
            "routers": [r.as_dict() for r in self.routers],
            "links": [lk.as_dict() for lk in self.links],
        }


class Lab:
    """One lab on this machine. Safe to construct when nothing runs; see the module docstring."""

    def __init__(self, name: str = DEFAULT_LAB, base: Path | str | None = None) -> None:
        if not _LAB_NAME_RE.match(name):
            raise LabError(f"invalid lab name {name!r}: 1-16 characters a-z, 0-9, '-'")
        self.name = name
        self.folder = lab_base(base) / name
        self.state_file = self.folder / "lab.json"
        self.ssh_dir = self.folder / "ssh"
        self.ssh_config = self.folder / "ssh_config"
        self.key_file = self.ssh_dir / "id_ed25519"
        self.known_hosts = self.ssh_dir / "known_hosts"
        self.init_script = self.folder / "router-init.sh"
        self._lock_file = self.folder.parent / f".{name}.lock"

    # -------------------------------------------------------------------------------- plumbing

    def namespace(self, router: str) -> str:
        return namespace_name(self.name, router)

    def router_folder(self, router: str) -> Path:
        return self.folder / "routers" / router

    def _locked(self, timeout: float = 600.0) -> contextlib.AbstractContextManager[None]:
        return file_lock(
            self._lock_file,
            timeout,
            LabError(f"another zwvl process holds the lab lock {self._lock_file}"),
        )

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise LabError(f"unreadable lab state {self.state_file}: {exc}") from exc
        return data if isinstance(data, dict) else {}

    def _save(self, state: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_name(f".lab.json.{os.getpid()}")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.state_file)

    def spec(self) -> LabSpec:
        """What the running lab was built from (no NetBox request)."""
        state = self._load()
        if not state:
            raise LabError(f"lab {self.name!r} is not up (no {self.state_file})")
        return LabSpec.from_dict(state.get("spec", {}))

    def _router_entry(self, router: str) -> dict[str, Any]:
        state = self._load()
        entry = state.get("routers", {}).get(router)
        if entry is None:
            raise LabError(f"router {router!r} is not in lab {self.name!r}")
        return dict(entry)

    def _verified_pid(self, entry: dict[str, Any]) -> int | None:
        """The router's unshare PID, if that process still runs and is really ours (PIDs get reused)."""
        pid = entry.get("pid")
        if not isinstance(pid, int) or not pid_alive(pid):
            return None
        cmd = _cmdline(pid)
        if cmd and Path(cmd[0]).name == "unshare" and str(entry.get("folder")) in cmd:
            return pid
        return None

    @staticmethod
    def _netns_exists(ns: str) -> bool:
        return Path("/run/netns", ns).exists()

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
        if os.geteuid() != 0:
            raise LabError("the lab needs root (network namespaces, veth pairs, mounts)")
        for tool in ("ip", "nsenter", "unshare", "tini", "nc", "ssh-keygen", "fping", "nft"):
            if shutil.which(tool, path=CLEAN_ENV["PATH"]) is None:
                raise LabError(f"{tool} is missing: run scripts/install-system-deps")
        for path in ("/usr/lib/frr/frrinit.sh", "/usr/sbin/sshd"):
            if not Path(path).exists():
                raise LabError(f"{path} is missing: run scripts/install-system-deps")
        with self._locked():
            state = self._load() or {"version": STATE_VERSION, "name": self.name, "routers": {}, "cuts": {}}
            state.update(netbox_url=netbox_url, scope=scope)
            old_spec = LabSpec.from_dict(state.get("spec", {}))
            self.folder.mkdir(parents=True, exist_ok=True)
            self.init_script.write_text(ROUTER_INIT, encoding="utf-8")
            self._ensure_key()

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
                if self._verified_pid(e) and self._netns_exists(e["namespace"])
            }
            new = [n for n in sorted(spec.routers) if n not in alive]
            if alive:
                say(f"{len(alive)} router(s) already running.")
            for name in new:
                self._stop_router(name, state["routers"][name])  # leftovers of an interrupted up
            self._create_namespaces([spec.routers[n] for n in new])
            self._converge_links(spec, state)
            self._save(state)
            if new:
                say(f"Starting {len(new)} router(s) (FRR and sshd in their own namespaces) ...")
                self._start_routers([spec.routers[n] for n in new], state, say)
            self._write_ssh_files(spec)
            self._save(state)
        status = self.status()
        dead = [r.name for r in status.routers if not r.alive]
        if dead:
            raise LabError(f"router(s) not running after up: {', '.join(dead)}; see their console.log")
        return status

    def _ensure_key(self) -> None:
        self.ssh_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.ssh_dir, 0o700)
        if not self.key_file.exists():
            _run(
                [
                    "ssh-keygen",
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    f"zwvl-lab-{self.name}",
                    "-f",
                    self.key_file,
                ]
            )

    def _prepare_router_folder(self, router: Router) -> None:
        d = self.router_folder(router.name)
        if d.exists():
            shutil.rmtree(d)
        frr_uid, frr_gid = pwd.getpwnam("frr").pw_uid, grp.getgrnam("frr").gr_gid
        (d / "etc").mkdir(parents=True)
        shutil.copytree("/etc/frr", d / "etc/frr", symlinks=True)
        daemons = d / "etc/frr/daemons"
        text = daemons.read_text(encoding="utf-8")
        # a freshly installed FRR: every optional daemon off, whatever the host's copy says
        daemons.write_text(re.sub(r"(?m)^(\w+d)=yes\b", r"\1=no", text), encoding="utf-8")
        (d / "etc/frr/frr.conf").write_text(FACTORY_FRR_CONF.format(router=router.name), encoding="utf-8")
        for p in [d / "etc/frr", *(d / "etc/frr").iterdir()]:
            os.chown(p, frr_uid, frr_gid)
            os.chmod(p, 0o755 if p.is_dir() else 0o640)
        (d / "etc/ssh").mkdir()
        (d / "etc/hostname").write_text(router.name + "\n", encoding="utf-8")
        (d / "etc/ssh/sshd_config").write_text(
            SSHD_CONFIG.format(router=router.name, loopback=router.loopback_ip), encoding="utf-8"
        )
        _run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                f"{router.name}",
                "-f",
                d / "etc/ssh/ssh_host_ed25519_key",
            ]
        )
        (d / "var/log/frr").mkdir(parents=True)
        os.chown(d / "var/log/frr", frr_uid, frr_gid)
        (d / "root/.ssh").mkdir(parents=True, mode=0o700)
        os.chmod(d / "root", 0o700)
        auth = d / "root/.ssh/authorized_keys"
        auth.write_text(Path(f"{self.key_file}.pub").read_text(encoding="utf-8"), encoding="utf-8")
        os.chmod(auth, 0o600)
        (d / "tmp").mkdir()
        os.chmod(d / "tmp", 0o1777)
        (d / "run/sshd").mkdir(parents=True)
        (d / "run/frr").mkdir()
        os.chown(d / "run/frr", frr_uid, frr_gid)
        os.chmod(d / "run/frr", 0o755)

    def _create_namespaces(self, routers: list[Router]) -> None:
        if not routers:
            return
        _ip_batch(f"netns add {self.namespace(r.name)}" for r in routers)
        for r in routers:
            _ip_batch(
                ["link set lo up", f"addr replace {r.loopback} dev {LOOPBACK_INTERFACE}"],
                self.namespace(r.name),
            )

    def _interfaces(self, ns: str) -> dict[str, dict[str, Any]]:
        """Interfaces of a namespace (``ip -j addr``): name -> {addrs, up}."""
        proc = _run(["ip", "-n", ns, "-j", "addr", "show"])
        out: dict[str, dict[str, Any]] = {}
        for itf in json.loads(proc.stdout or "[]"):
            addrs = {
                f"{a['local']}/{a['prefixlen']}"
                for a in itf.get("addr_info", [])
                if a.get("family") == "inet"
            }
            out[itf["ifname"]] = {"addrs": addrs, "up": "UP" in itf.get("flags", [])}
        return out

    def _converge_links(self, spec: LabSpec, state: dict[str, Any]) -> None:
        actual = {n: self._interfaces(self.namespace(n)) for n in spec.routers}
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
                _run(["ip", "-n", self.namespace(n), "link", "del", ifname], check=False)
        for lk in create:
            state.get("cuts", {}).pop(lk.cid, None)
        _ip_batch(
            f"link add {lk.a.interface} netns {self.namespace(lk.a.router)} type veth "
            f"peer name {lk.z.interface} netns {self.namespace(lk.z.router)}"
            for lk in create
        )
        per_ns: dict[str, list[str]] = {}
        for lk in create:
            for end in (lk.a, lk.z):
                per_ns.setdefault(self.namespace(end.router), []).append(
                    f"addr replace {end.address} dev {end.interface}"
                )
        cuts = state.get("cuts", {})
        for lk in spec.links.values():
            if cuts.get(lk.cid) == "down":
                continue
            for end in (lk.a, lk.z):
                per_ns.setdefault(self.namespace(end.router), []).append(f"link set {end.interface} up")
        for ns, lines in per_ns.items():
            _ip_batch(lines, ns)

    def _start_routers(self, routers: list[Router], state: dict[str, Any], say: Progress) -> None:
        for r in routers:
            self._prepare_router_folder(r)
        pending: list[Router] = list(routers)
        starting: dict[str, float] = {}
        deadline = time.monotonic() + T_READY + 2 * len(routers)
        while pending or starting:
            while pending and len(starting) < START_WINDOW:
                r = pending.pop(0)
                self._spawn(r, state["routers"][r.name])
                starting[r.name] = time.monotonic()
            self._save(state)
            for name in list(starting):
                entry = state["routers"][name]
                if (self.router_folder(name) / "run/zwvl-lab-ready").exists():
                    entry["init_pid"] = self._find_init(entry)
                    del starting[name]
                elif not pid_alive(entry.get("pid")):
                    _reap(int(entry.get("pid") or 0))
                    log = self.router_folder(name) / "console.log"
                    tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
                    raise LabError(f"router {name} died while starting:\n{tail}")
            if time.monotonic() > deadline:
                raise LabError(f"routers not ready in time: {', '.join(sorted(starting))}")
            if starting:
                time.sleep(0.05)
        say(f"{len(routers)} router(s) started.")

    def _spawn(self, router: Router, entry: dict[str, Any]) -> None:
        folder = self.router_folder(router.name)
        console = open(folder / "console.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            proc = subprocess.Popen(
                [
                    "nsenter",
                    f"--net=/run/netns/{self.namespace(router.name)}",
                    "--",
                    "unshare",
                    "--mount",
                    "--uts",
                    "--pid",
                    "--fork",
                    "--kill-child",
                    "--mount-proc",
                    "--propagation",
                    "private",
                    "--",
                    "tini",
                    "--",
                    "/bin/bash",
                    str(self.init_script),
                    router.name,
                    str(folder),
                ],
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                env=CLEAN_ENV,
                start_new_session=True,
                close_fds=True,
                cwd="/",
            )
        finally:
            console.close()
        entry.update(pid=proc.pid, init_pid=None, started=time.time())

    def _find_init(self, entry: dict[str, Any]) -> int | None:
        pid = entry.get("pid")
        if not isinstance(pid, int):
            return None
        for child in _children(pid):
            cmd = _cmdline(child)
            if cmd and Path(cmd[0]).name == "tini":
                return child
        return None

    def _write_ssh_files(self, spec: LabSpec) -> None:
        hosts = []
        known = []
        for name, r in sorted(spec.routers.items()):
            ns = self.namespace(name)
            hosts.append(
                f"Host {name} {r.loopback_ip}\n"
                f"  HostName {r.loopback_ip}\n"
                f"  HostKeyAlias {name}\n"
                f"  ProxyCommand ip netns exec {ns} nc %h %p\n"
            )
            pub = (self.router_folder(name) / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()
            known.append(f"{name} {pub[0]} {pub[1]}\n")
        common = (
            "Host *\n"
            "  User root\n"
            f"  IdentityFile {self.key_file}\n"
            "  IdentitiesOnly yes\n"
            "  BatchMode yes\n"
            f"  UserKnownHostsFile {self.known_hosts}\n"
            "  StrictHostKeyChecking yes\n"
            "  ControlMaster auto\n"
            f"  ControlPath {self.ssh_dir}/cm-%C\n"
            "  ControlPersist 120\n"
            "  ConnectTimeout 10\n"
            "  ServerAliveInterval 10\n"
            "  LogLevel ERROR\n"
        )
        header = f"# zwvl lab {self.name}: written by `zwvl lab up` from NetBox; ssh -F {self.ssh_config}\n"
        self.ssh_config.write_text(header + "\n".join(hosts) + "\n" + common, encoding="utf-8")
        self.known_hosts.write_text("".join(known), encoding="utf-8")

    # ----------------------------------------------------------------------------------- down

    def down(self, *, progress: Progress | None = None) -> list[str]:
        """Stop every router process (by PID), delete every namespace (and so every veth) the lab made,
        close the ssh control connections and remove the lab folder. Returns the removed routers."""
        say = progress or _noop
        with self._locked():
            state = self._load()
            self._close_ssh_masters()
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

    def _close_ssh_masters(self) -> None:
        if not self.ssh_dir.is_dir():
            return
        for sock in [*self.ssh_dir.glob("cm-*"), *self.ssh_dir.glob("ac-*")]:
            _run(
                ["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "zwvl-lab-router"], check=False, timeout=10
            )
            with contextlib.suppress(FileNotFoundError):
                sock.unlink()

    def _stop_router(self, name: str, entry: dict[str, Any]) -> None:
        pid = self._verified_pid(entry)
        if pid is not None and not _kill_and_wait(pid):
            raise LabError(f"router {name}: process {pid} did not stop")
        init = entry.get("init_pid")
        if isinstance(init, int) and pid_alive(init) and "tini" in " ".join(_cmdline(init)[:1]):
            _kill_and_wait(init)
        ns = entry.get("namespace") or self.namespace(name)
        if self._netns_exists(ns):
            # processes still inside the namespace (an ssh ProxyCommand's nc, a stray exec) are ours too
            proc = _run(["ip", "netns", "pids", ns], check=False)
            for tok in proc.stdout.split():
                if tok.isdigit():
                    _kill_and_wait(int(tok), timeout=2)
            _run(["ip", "netns", "del", ns])
        entry.update(pid=None, init_pid=None)

    # --------------------------------------------------------------------------------- status

    def status(self) -> LabStatus:
        state = self._load()
        if not state:
            return LabStatus(self.name, self.folder, False, [], [])
        spec = LabSpec.from_dict(state.get("spec", {}))
        routers = []
        for name, entry in sorted(state.get("routers", {}).items()):
            pid = self._verified_pid(entry)
            folder = Path(entry.get("folder") or self.router_folder(name))
            daemons: dict[str, bool] = {}
            init = entry.get("init_pid")
            if pid is not None and isinstance(init, int):
                inside = _ns_pids(init)  # PID files hold PIDs of the router's PID namespace
                for pf in [*sorted((folder / "run/frr").glob("*.pid")), folder / "run/sshd.pid"]:
                    with contextlib.suppress(OSError, ValueError):
                        daemons[pf.stem] = int(pf.read_text().strip()) in inside
            lo = spec.routers[name].loopback if name in spec.routers else IPv4Interface("0.0.0.0/32")
            routers.append(
                RouterInfo(
                    name,
                    entry.get("namespace", self.namespace(name)),
                    lo,
                    pid,
                    entry.get("init_pid"),
                    folder,
                    alive=pid is not None and self._netns_exists(entry.get("namespace", "")),
                    daemons=daemons,
                )
            )
        cuts = state.get("cuts", {})
        present: dict[str, set[str]] = {}
        for r in routers:
            if self._netns_exists(r.namespace):
                out = _run(["ip", "-n", r.namespace, "-o", "link", "show"], check=False).stdout
                present[r.name] = {
                    ln.split(": ", 2)[1].split("@", 1)[0] for ln in out.splitlines() if ": " in ln
                }
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
        if mode not in CUT_MODES:
            raise LabError(f"cut mode must be one of {', '.join(CUT_MODES)}")
        lk = self.link(cid)
        with self._locked():
            state = self._load()
            for end in (lk.a, lk.z):
                ns = self.namespace(end.router)
                if mode == "down":
                    _run(["ip", "-n", ns, "link", "set", end.interface, "down"])
                else:
                    table = _CUT_TABLE.format(ifname=end.interface.replace("-", "_").replace(".", "_"))
                    rules = (
                        f"table inet {table} {{\n"
                        f"  chain input {{ type filter hook input priority -300; policy accept; "
                        f'iifname "{end.interface}" drop; }}\n'
                        f"  chain forward {{ type filter hook forward priority -300; policy accept; "
                        f'iifname "{end.interface}" drop; oifname "{end.interface}" drop; }}\n'
                        f"  chain output {{ type filter hook output priority -300; policy accept; "
                        f'oifname "{end.interface}" drop; }}\n'
                        "}\n"
                    )
                    _run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=rules)
            state.setdefault("cuts", {})[cid] = mode
            self._save(state)
        return lk

    def restore_link(self, cid: str) -> Link:
        """Undo :meth:`cut_link` (whatever its mode)."""
        lk = self.link(cid)
        with self._locked():
            state = self._load()
            for end in (lk.a, lk.z):
                ns = self.namespace(end.router)
                table = _CUT_TABLE.format(ifname=end.interface.replace("-", "_").replace(".", "_"))
                _run(["ip", "netns", "exec", ns, "nft", "delete", "table", "inet", table], check=False)
                _run(["ip", "-n", ns, "link", "set", end.interface, "up"])
            state.setdefault("cuts", {}).pop(cid, None)
            self._save(state)
        return lk

    # --------------------------------------------------------------------------- measurements

    def unreachable(
        self, sources: Iterable[str] | None = None, *, timeout_ms: int = 400, workers: int = 4
    ) -> dict[str, set[str]]:
        """Ping every other router's loopback from each source router (one ``fping`` per router, in
        its namespace). Returns source -> routers whose loopback did not answer."""
        spec = self.spec()
        by_ip = {str(r.loopback_ip): n for n, r in spec.routers.items()}
        for ip in by_ip:
            if IPv4Address(ip) not in PLAN:  # never ping outside the plan
                raise LabError(f"refusing to ping {ip}: outside {PLAN}")
        srcs = sorted(sources) if sources is not None else sorted(spec.routers)

        def one(src: str) -> tuple[str, set[str]]:
            targets = [ip for ip, n in by_ip.items() if n != src]
            if not targets:
                return src, set()
            proc = _run(
                [
                    "ip",
                    "netns",
                    "exec",
                    self.namespace(src),
                    "fping",
                    "-a",
                    "-q",
                    "-r",
                    "2",
                    "-t",
                    str(timeout_ms),
                    "-i",
                    "1",
                    *targets,
                ],
                check=False,
                timeout=30,
            )
            alive = set(proc.stdout.split())
            return src, {by_ip[ip] for ip in targets if ip not in alive}

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            return dict(pool.map(one, srcs))

    def adjacencies(self, workers: int = 4) -> dict[str, dict[str, str]]:
        """OSPF neighbour state per link end: cid -> {router: state} (e.g. ``Full/-``; missing if none)."""
        spec = self.spec()

        def one(router: str) -> tuple[str, dict[str, str]]:
            data = self.vtysh_json(router, "show ip ospf neighbor json")
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
