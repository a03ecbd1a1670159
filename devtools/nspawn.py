"""Real servers for the lab: systemd-nspawn machines booting a debootstrapped Debian 12 image.

Each machine has its own file system (the cached image under a volatile overlay, so the image stays
pristine), its own systemd as PID 1, and its own network namespace joined to the host by a veth
pair, so apt, services and config files behave as on a real server and Ansible reaches it over SSH.
Facts checked on these machines: nspawn needs `--keep-unit --register=no` without systemd as init.

The image (debootstrap minbase + systemd, sshd, Python, and the platform's Debian packages, which
are installed while building because the machines' namespaces have no route to a mirror) is cached
in ~/.cache/zwvl/images (or $ZWVL_CACHE_DIR/images) and rebuilt when absent or when its package list
changes. Everything is started by PID and stopped by PID; nothing is registered with machined.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from zwvl import procs
from zwvl.filelock import file_lock
from zwvl.procs import Progress

SUITE = "bookworm"
MIRROR = os.environ.get("ZWVL_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BASE_PACKAGES = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "python3",
    "python3-apt",
    "iproute2",
    "ca-certificates",
    "sudo",
    "procps",
)
# what the roles install (postgresql, request_tracker, prometheus_exporters, and the monitoring roles:
# prometheus_server, prometheus_alertmanager, prometheus_blackbox_exporter, prometheus_frr_exporter with
# the FRR it reads): present in the image
PLATFORM_PACKAGES = (
    "postgresql-15",
    "postgresql-client-15",
    "ssl-cert",
    "python3-psycopg2",
    "request-tracker5",
    "rt5-db-sqlite",
    "rt5-standalone",
    "nginx-light",
    "prometheus-node-exporter",
    "prometheus-postgres-exporter",
    "prometheus",
    "prometheus-alertmanager",
    "prometheus-blackbox-exporter",
    "prometheus-frr-exporter",
    "frr",
    "frr-pythontools",  # frr_ospf's graceful reload (frr-reload.py)
)
# installed but not started at boot: FRR holds up network.target (and so sshd) for minutes in a machine
# that is no router; a test that needs it configures and starts it
DISABLED_SERVICES = ("frr.service",)


class NspawnError(RuntimeError):
    pass


def _noop(_: str) -> None:
    pass


def cache_dir() -> Path:
    base = os.environ.get("ZWVL_CACHE_DIR") or str(Path.home() / ".cache" / "zwvl")
    return Path(base) / "images"


def image_key() -> str:
    text = "\n".join([SUITE, MIRROR, *BASE_PACKAGES, "--", *PLATFORM_PACKAGES, "--", *DISABLED_SERVICES])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def missing_tools() -> list[str]:
    tools = ("debootstrap", "systemd-nspawn", "ip", "ssh", "ssh-keygen")
    return [t for t in tools if shutil.which(t) is None]


def _run(
    cmd: list[str], timeout: float, what: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    proc = procs.run(cmd, timeout=timeout, what=what, env=env, check=False, error=NspawnError)
    if proc.returncode != 0:
        raise NspawnError(f"{what} failed ({proc.returncode}): {proc.stdout[-1500:]}{proc.stderr[-1500:]}")
    return proc


def ensure_image(progress: Progress = _noop) -> Path:
    """The cached machine image, built when absent (debootstrap minbase, then the platform packages)."""
    missing = missing_tools()
    if missing:
        raise NspawnError(f"missing {', '.join(missing)}: run scripts/install-system-deps")
    root = cache_dir()
    image = root / f"{SUITE}-platform-{image_key()}"
    lock = root / ".build.lock"
    # another process building the same image: wait for it (a build takes a few minutes), then reuse it
    with file_lock(lock, 1800, NspawnError(f"timed out waiting for the image build lock {lock}")):
        if (image / ".zwvl-complete").exists():
            return image
        work = root / f".build-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        try:
            progress(f"debootstrap {SUITE} minbase into {work} (about two minutes)")
            _run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--include={','.join(BASE_PACKAGES)}",
                    SUITE,
                    str(work),
                    MIRROR,
                ],
                timeout=1800,
                what="debootstrap",
            )
            # no service starts while installing into the image; the machines boot them
            policy = work / "usr/sbin/policy-rc.d"
            policy.write_text("#!/bin/sh\nexit 101\n")
            policy.chmod(0o755)
            progress("installing the platform's Debian packages into the image")
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            nspawn = ["systemd-nspawn", "--quiet", "--keep-unit", "--register=no", "-D", str(work)]
            _run([*nspawn, "apt-get", "update", "-qq"], timeout=900, what="apt-get update (image)", env=env)
            _run(
                [
                    *nspawn,
                    "--setenv=DEBIAN_FRONTEND=noninteractive",
                    "apt-get",
                    "install",
                    "-y",
                    "-qq",
                    "--no-install-recommends",
                    *PLATFORM_PACKAGES,
                ],
                timeout=3600,
                what="apt-get install (image)",
                env=env,
            )
            disable = [*nspawn, "systemctl", "disable", *DISABLED_SERVICES]
            _run(disable, timeout=120, what="systemctl disable (image)")
            _run([*nspawn, "apt-get", "clean"], timeout=300, what="apt-get clean (image)")
            policy.unlink()
            # per-machine identity comes at boot; sshd lets root in with a key only
            (work / "etc/machine-id").write_text("")
            (work / "root/.ssh").mkdir(mode=0o700, exist_ok=True)
            (work / "etc/ssh/sshd_config.d/zwvl.conf").write_text(
                "PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n"
            )
            (work / ".zwvl-complete").write_text(image_key() + "\n")
            if image.exists():
                shutil.rmtree(image)
            work.rename(image)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        for old in root.glob(f"{SUITE}-platform-*"):
            if old != image:
                shutil.rmtree(old, ignore_errors=True)
    return image


# --- machines --------------------------------------------------------------------------------


@dataclass
class Machine:
    name: str
    netns: str
    host_if: str
    host_address: str  # on the host's end of the veth
    address: str  # the machine's address
    prefixlen: int
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def network(self) -> str:
        import ipaddress

        return str(ipaddress.ip_interface(f"{self.address}/{self.prefixlen}").network)

    def log(self) -> str:
        path = self.workdir / "console.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def ip(*args: str) -> None:
    """Run `ip ARGS` (links, addresses, routes of the machines' namespaces); an NspawnError names it."""
    _run(["ip", *args], timeout=30, what="ip " + " ".join(args))


def start_machine(
    image: Path,
    name: str,
    *,
    netns: str,
    host_address: str,
    address: str,
    prefixlen: int,
    authorized_key: str,
    workdir: Path,
    progress: Progress = _noop,
    timeout: float = 180,
    bind_ro: Sequence[tuple[Path, str]] = (),
    capabilities: Sequence[str] = (),
) -> Machine:
    """Boot `image` as machine `name` in network namespace `netns` and wait for its sshd.

    `bind_ro`: host folders or files to mount read-only into the machine (host path, machine path),
    e.g. what a test installs from (a wheelhouse, an interpreter). `capabilities`: more than nspawn's
    default set, e.g. CAP_NET_ADMIN for a machine that runs FRR (its own network namespace only)."""
    workdir.mkdir(parents=True, exist_ok=True)
    keys = workdir / "authorized_keys"
    keys.write_text(authorized_key.strip() + "\n")
    keys.chmod(0o600)
    host_if = f"{netns[:11]}h"
    machine = Machine(name, netns, host_if, host_address, address, prefixlen, workdir)
    subprocess.run(["ip", "netns", "del", netns], capture_output=True, check=False)
    subprocess.run(["ip", "link", "del", host_if], capture_output=True, check=False)
    ip("netns", "add", netns)
    ip("link", "add", host_if, "type", "veth", "peer", "name", "eth0", "netns", netns)
    ip("addr", "add", f"{host_address}/{prefixlen}", "dev", host_if)
    ip("link", "set", host_if, "up")
    ip("-n", netns, "addr", "add", f"{address}/{prefixlen}", "dev", "eth0")
    ip("-n", netns, "link", "set", "eth0", "up")
    ip("-n", netns, "link", "set", "lo", "up")
    ip("-n", netns, "route", "add", "default", "via", host_address)
    progress(f"booting {name} ({address}) with systemd-nspawn")
    log = open(workdir / "console.log", "wb")  # noqa: SIM115 (kept open for the machine's lifetime)
    machine.proc = subprocess.Popen(
        [
            "systemd-nspawn", "--quiet", "--keep-unit", "--register=no", "--boot",
            "--volatile=overlay", "-D", str(image), "-M", name,
            f"--network-namespace-path=/run/netns/{netns}",
            "--resolv-conf=off", "--timezone=off", "--link-journal=no", "--console=passive",
            f"--bind-ro={keys}:/root/.ssh/authorized_keys",
            *(f"--bind-ro={src}:{dst}" for src, dst in bind_ro),
            *([f"--capability={','.join(capabilities)}"] if capabilities else []),
        ],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if machine.proc.poll() is not None:
            stop_machine(machine)
            raise NspawnError(f"{name} exited while booting: {machine.log()}")
        try:
            with socket.create_connection((address, 22), timeout=2) as s:
                if s.recv(4).startswith(b"SSH"):
                    return machine
        except OSError:
            time.sleep(1)
    stop_machine(machine)
    raise NspawnError(f"{name} did not answer on SSH within {timeout:.0f} s: {machine.log()}")


def stop_machine(machine: Machine, timeout: float = 60) -> None:
    """Power the machine off (SIGTERM to nspawn shuts its systemd down), then remove its network."""
    if machine.proc is not None:
        procs.stop_group(machine.proc, timeout, kill_wait=30)
    subprocess.run(["ip", "link", "del", machine.host_if], capture_output=True, check=False)
    subprocess.run(["ip", "netns", "del", machine.netns], capture_output=True, check=False)
