"""The lab's folder and persisted state: where everything of a lab lives, ``lab.json`` (read, written
atomically, under the lab's lock), and the status the lab reports (:class:`LabStatus`).

State lives in ``$ZWVL_LAB_DIR/<lab>/`` (default ``/run/zwvl-lab/main/``): ``lab.json`` (routers,
links, PIDs, cut links), ``ssh_config`` (ProxyCommand ``ip netns exec <ns> nc %h %p``, ControlPath),
``ssh/`` (the lab's key pair and known_hosts), ``routers/<R>/`` (the per-router file systems, see
:mod:`zwvl.lab.routerfs`, and ``console.log``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass, field
from ipaddress import IPv4Interface
from pathlib import Path
from typing import Any

from zwvl.filelock import file_lock
from zwvl.lab.errors import LabError
from zwvl.lab.spec import LabSpec

ENV_DIR = "ZWVL_LAB_DIR"
DEFAULT_BASE = Path("/run/zwvl-lab")
DEFAULT_LAB = "main"
STATE_VERSION = 1

_LAB_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,15}$")


def lab_base(base: Path | str | None = None) -> Path:
    if base is not None:
        return Path(base)
    env = os.environ.get(ENV_DIR, "").strip()
    return Path(env) if env else DEFAULT_BASE


class LabFolder:
    """A lab's paths and its ``lab.json``; nothing here starts or stops anything."""

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

    def _new_state(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, "name": self.name, "routers": {}, "cuts": {}}

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


# ---------------------------------------------------------------------------------------- status


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
