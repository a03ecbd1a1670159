"""Running the repository's playbooks and commands against lab machines over SSH, the way an operator
does: ansible-playbook from the repository's venv with ansible/ansible.cfg, no host key pinning (the
machines are new each run), extra vars from a file, and the play recap read back per host."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[2]
ANSIBLE = REPO / "ansible"
VENV_BIN = REPO / ".venv" / "bin"
SSH_ARGS = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
PYTHON312 = Path(os.environ.get("ZWVL_LAB_PYTHON312", "/root/.pyenv/versions/3.12.1"))
"""The region's interpreter for zwvl on the machines (Debian 12 has 3.11), mounted at /opt/python3.12."""
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def ssh(key: Path, address: str, command: str, *, timeout: float = 180, check: bool = True) -> str:
    """Run `command` as root on the machine at `address`; its standard output."""
    proc = subprocess.run(
        ["ssh", "-i", str(key), *SSH_ARGS.split(), "-o", "BatchMode=yes", f"root@{address}", command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def machine_get(key: Path, address: str, url: str) -> str:
    """GET `url` from inside the machine at `address` (a service on its loopback), with its python3."""
    script = (
        "import sys, urllib.request; "
        "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=60).read().decode())"
    )
    return ssh(key, address, f"python3 -c '{script}' '{url}'")


def play(
    playbook: str,
    *args: str,
    inventory: Path | Sequence[Path],
    workdir: Path,
    extra: dict[str, Any],
    env: dict[str, str],
    timeout: float = 1800,
    expect_failure: bool = False,
) -> tuple[str, dict[str, int]]:
    """Run ansible/<playbook> (an `-i` per inventory) with `env` added to this process's environment;
    returns the output and, per host, the recap's changed count. Asserts the run failed exactly when
    `expect_failure`."""
    full_env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ANSIBLE / "ansible.cfg"),
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}",
    )
    full_env.update(env)
    extra_file = workdir / f"extra-{secrets.token_hex(4)}.json"
    extra_file.write_text(json.dumps(extra))
    sources = [inventory] if isinstance(inventory, Path) else list(inventory)
    inventories = [arg for source in sources for arg in ("-i", str(source))]
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), *inventories, "-e", f"@{extra_file}", *args, playbook],
        cwd=ANSIBLE,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert (proc.returncode != 0) == expect_failure, out[-6000:]
    changed = {host: int(c) for host, _ok, c, _u, _f in RECAP.findall(out)}
    return out, changed


def assert_lint_production(*paths: str) -> None:
    """ansible-lint with the repository's configuration (profile production) passes on `paths`."""
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-lint"), *paths],
        cwd=ANSIBLE,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=dict(os.environ, PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}", NO_COLOR="1"),
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "Profile 'production' was required, and it passed" in proc.stdout + proc.stderr


def wait_for(what: str, check: Any, timeout: float = 120, every: float = 2) -> Any:
    """Poll `check` until it returns something true (returned); fail naming `what` and the last result."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (AssertionError, OSError, ValueError, requests.RequestException) as exc:
            last = exc
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {last!r})")


def build_wheelhouse(out: Path) -> Path:
    """zwvl and its dependencies as wheels (the locked versions), for a machine to install offline."""
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [
            str(VENV_BIN / "python"),
            "-m",
            "pip",
            "wheel",
            "-q",
            "--disable-pip-version-check",
            "--wheel-dir",
            str(out),
            "-c",
            str(REPO / "requirements.lock"),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out
