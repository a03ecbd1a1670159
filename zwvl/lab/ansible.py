"""Run the repository's Ansible (ansible/) against a lab: environment, playbook runs, PLAY RECAP.

Ansible reads NetBox itself (the inventory plugins want ``NETBOX_API`` and ``NETBOX_TOKEN``; ``nb_lookup``
also takes ``NETBOX_URL``); the lab only adds how to reach its routers: ``ssh -F
<lab>/ssh_config`` (ProxyCommand into the router's namespace, ControlPath) and a ``--limit`` to the
routers the lab runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from zwvl.lab.errors import LabError
from zwvl.lab.runtime import Lab
from zwvl.repo import repo_root

PLAYBOOK = "fibre.yml"
_RECAP_RE = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+"
    r"failed=(?P<failed>\d+)",
    re.M,
)


def ansible_dir() -> Path:
    """The repository's ansible/ folder (see :func:`zwvl.repo.repo_root`)."""
    return repo_root() / "ansible"


def venv_bin(tool: str) -> str:
    """A console script of the running Python's environment (ansible-playbook, ansible-inventory...)."""
    cand = Path(sys.executable).parent / tool
    return str(cand) if cand.exists() else tool


def ansible_env(lab: Lab | None, url: str, token: str, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.update(
        NETBOX_API=url,
        NETBOX_URL=url,
        NETBOX_TOKEN=token,
        ANSIBLE_CONFIG=str(ansible_dir() / "ansible.cfg"),
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_NOCOLOR="1",
        PYTHONWARNINGS="ignore",
    )
    if lab is not None:
        env["ANSIBLE_SSH_COMMON_ARGS"] = f"-F {lab.ssh_config}"
        # Ansible's own ControlPath (short, per user) would bypass the lab's; use the lab's
        env["ANSIBLE_SSH_CONTROL_PATH"] = str(lab.ssh_dir / "ac-%%C")
        env["ANSIBLE_SSH_CONTROL_PATH_DIR"] = str(lab.ssh_dir)
    return env


def _run_in_ansible_dir(
    cmd: Sequence[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """An Ansible command in ansible/, its output captured (a timeout raises TimeoutExpired)."""
    return subprocess.run(
        cmd, cwd=ansible_dir(), env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@dataclass
class PlaybookRun:
    returncode: int
    seconds: float
    output: str
    recap: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(h["changed"] for h in self.recap.values())

    @property
    def failed(self) -> int:
        return sum(h["failed"] + h["unreachable"] for h in self.recap.values())

    def changed_hosts(self) -> list[str]:
        return sorted(h for h, r in self.recap.items() if r["changed"])


def parse_recap(output: str) -> dict[str, dict[str, int]]:
    tail = output[output.rfind("PLAY RECAP") :] if "PLAY RECAP" in output else ""
    return {
        m["host"]: {k: int(m[k]) for k in ("ok", "changed", "unreachable", "failed")}
        for m in _RECAP_RE.finditer(tail)
    }


def run_playbook(
    lab: Lab | None,
    url: str,
    token: str,
    *,
    playbook: str = PLAYBOOK,
    inventory: str | None = None,
    limit: Sequence[str] | None = None,
    check: bool = False,
    diff: bool = False,
    extra: Sequence[str] = (),
    timeout: float = 1800.0,
) -> PlaybookRun:
    """``ansible-playbook <playbook>`` in ansible/, limited to the lab's routers (or ``limit``)."""
    if limit is None and lab is not None:
        limit = [r.name for r in lab.routers()]
    cmd = [venv_bin("ansible-playbook"), playbook]
    if inventory:
        cmd += ["-i", inventory]
    if limit:
        cmd += ["--limit", ",".join(limit)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    cmd += list(extra)
    started = time.monotonic()
    try:
        proc = _run_in_ansible_dir(cmd, ansible_env(lab, url, token), timeout)
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"ansible-playbook {playbook} timed out after {timeout:.0f}s") from exc
    out = proc.stdout + ("\n" + proc.stderr if proc.stderr.strip() else "")
    return PlaybookRun(proc.returncode, time.monotonic() - started, out, parse_recap(proc.stdout))


def build_inventory(
    url: str, token: str, inventory: str, timeout: float = 900.0
) -> tuple[float, dict[str, object]]:
    """Time ``ansible-inventory -i <inventory> --list`` and return (seconds, parsed inventory)."""
    import json

    cmd = [venv_bin("ansible-inventory"), "-i", inventory, "--list"]
    started = time.monotonic()
    proc = _run_in_ansible_dir(cmd, ansible_env(None, url, token), timeout)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise LabError(f"ansible-inventory -i {inventory} failed: {proc.stderr.strip()[-800:]}")
    data = json.loads(proc.stdout)
    return seconds, data if isinstance(data, dict) else {}
