"""Each router's file system, and the lab's ssh files.

A router's folder ``routers/<R>/`` holds the per-router copies of ``/etc/frr``, ``/etc/ssh``,
``/etc/hostname``, ``/var/log``, ``/root``, ``/tmp`` and ``/run`` that its init script
(``templates/router-init.sh``) bind-mounts over the real paths inside the router's mount namespace:
a router therefore looks like a Debian box with FRR freshly installed. The files written come from
``zwvl/lab/templates/``.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from zwvl.lab import templates
from zwvl.lab.processes import _run
from zwvl.lab.spec import LabSpec, Router
from zwvl.lab.state import LabFolder

READY_FILE = "run/zwvl-lab-ready"
"""Written (inside the router folder) by the init script once sshd and FRR are started."""


def _ssh_keygen(key_file: Path, comment: str) -> None:
    """A new ed25519 key pair without passphrase: ``key_file`` and ``key_file.pub``."""
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key_file])


def write_init_script(lab: LabFolder) -> None:
    lab.init_script.write_text(templates.text("router-init.sh"), encoding="utf-8")


def ensure_key(lab: LabFolder) -> None:
    """The lab's own ssh key pair (the routers' root accepts it)."""
    lab.ssh_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(lab.ssh_dir, 0o700)
    if not lab.key_file.exists():
        _ssh_keygen(lab.key_file, f"zwvl-lab-{lab.name}")


def prepare_router_folder(lab: LabFolder, router: Router) -> None:
    """A fresh router folder: FRR's factory configuration, sshd on the loopback with a new host key,
    the lab's key in root's authorized_keys, empty /var/log, /tmp and /run."""
    d = lab.router_folder(router.name)
    if d.exists():
        shutil.rmtree(d)
    frr_uid, frr_gid = pwd.getpwnam("frr").pw_uid, grp.getgrnam("frr").gr_gid
    (d / "etc").mkdir(parents=True)
    shutil.copytree("/etc/frr", d / "etc/frr", symlinks=True)
    daemons = d / "etc/frr/daemons"
    text = daemons.read_text(encoding="utf-8")
    # a freshly installed FRR: every optional daemon off, whatever the host's copy says
    daemons.write_text(re.sub(r"(?m)^(\w+d)=yes\b", r"\1=no", text), encoding="utf-8")
    (d / "etc/frr/frr.conf").write_text(templates.render("frr.conf", router=router.name), encoding="utf-8")
    for p in [d / "etc/frr", *(d / "etc/frr").iterdir()]:
        os.chown(p, frr_uid, frr_gid)
        os.chmod(p, 0o755 if p.is_dir() else 0o640)
    (d / "etc/ssh").mkdir()
    (d / "etc/hostname").write_text(router.name + "\n", encoding="utf-8")
    (d / "etc/ssh/sshd_config").write_text(
        templates.render("sshd_config", router=router.name, loopback=router.loopback_ip), encoding="utf-8"
    )
    _ssh_keygen(d / "etc/ssh/ssh_host_ed25519_key", f"{router.name}")
    (d / "var/log/frr").mkdir(parents=True)
    os.chown(d / "var/log/frr", frr_uid, frr_gid)
    (d / "root/.ssh").mkdir(parents=True, mode=0o700)
    os.chmod(d / "root", 0o700)
    auth = d / "root/.ssh/authorized_keys"
    auth.write_text(Path(f"{lab.key_file}.pub").read_text(encoding="utf-8"), encoding="utf-8")
    os.chmod(auth, 0o600)
    (d / "tmp").mkdir()
    os.chmod(d / "tmp", 0o1777)
    (d / "run/sshd").mkdir(parents=True)
    (d / "run/frr").mkdir()
    os.chown(d / "run/frr", frr_uid, frr_gid)
    os.chmod(d / "run/frr", 0o755)


def is_ready(lab: LabFolder, router: str) -> bool:
    return (lab.router_folder(router) / READY_FILE).exists()


def console_tail(lab: LabFolder, router: str) -> str:
    log = lab.router_folder(router) / "console.log"
    return log.read_text(errors="replace")[-800:] if log.exists() else ""


def daemon_pid_files(folder: Path) -> list[Path]:
    """The PID files of the router's FRR daemons and sshd (PIDs of the router's PID namespace)."""
    return [*sorted((folder / "run/frr").glob("*.pid")), folder / "run/sshd.pid"]


# ------------------------------------------------------------------------------------- ssh files


def write_ssh_files(lab: LabFolder, spec: LabSpec, namespace: Callable[[str], str]) -> None:
    """``ssh_config`` (a Host per router, ProxyCommand into its namespace) and ``known_hosts``."""
    hosts = []
    known = []
    for name, r in sorted(spec.routers.items()):
        hosts.append(
            templates.render("ssh_config.host", name=name, ip=r.loopback_ip, namespace=namespace(name))
        )
        pub = (lab.router_folder(name) / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()
        known.append(f"{name} {pub[0]} {pub[1]}\n")
    common = templates.render(
        "ssh_config.common", key_file=lab.key_file, known_hosts=lab.known_hosts, ssh_dir=lab.ssh_dir
    )
    header = f"# zwvl lab {lab.name}: written by `zwvl lab up` from NetBox; ssh -F {lab.ssh_config}\n"
    lab.ssh_config.write_text(header + "\n".join(hosts) + "\n" + common, encoding="utf-8")
    lab.known_hosts.write_text("".join(known), encoding="utf-8")


def close_ssh_masters(lab: LabFolder) -> None:
    """Close the ssh control connections of the lab (its own and Ansible's) and remove their sockets."""
    if not lab.ssh_dir.is_dir():
        return
    for sock in [*lab.ssh_dir.glob("cm-*"), *lab.ssh_dir.glob("ac-*")]:
        _run(["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "zwvl-lab-router"], check=False, timeout=10)
        with contextlib.suppress(FileNotFoundError):
            sock.unlink()
