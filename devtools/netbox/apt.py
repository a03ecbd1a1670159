"""The Debian packages the local NetBox needs, installed with apt-get when missing."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence

from devtools.netbox.common import (
    SYSTEM_PACKAGES,
    T_APT,
    T_QUICK,
    LocalNetboxError,
    run,
    say,
    stream,
)
from zwvl.procs import Progress
from zwvl.repo import RepoNotFoundError, repo_root


def netbox_system_packages() -> tuple[str, ...]:
    """The Debian packages NetBox needs: scripts/system-packages.d/netbox.txt in the repository (the
    list scripts/install-system-deps installs; see :func:`zwvl.repo.repo_root`), else the built-in
    SYSTEM_PACKAGES."""
    try:
        listing = repo_root() / "scripts" / "system-packages.d" / "netbox.txt"
        lines = listing.read_text(encoding="utf-8").splitlines()
    except (OSError, RepoNotFoundError):
        return SYSTEM_PACKAGES
    names = tuple(name for line in lines if (name := line.split("#", 1)[0].strip()))
    return names or SYSTEM_PACKAGES


def missing_system_packages(packages: Sequence[str] | None = None) -> list[str]:
    """Debian packages (default: NetBox's) that are not installed; empty when dpkg is unavailable."""
    packages = tuple(packages) if packages is not None else netbox_system_packages()
    if shutil.which("dpkg-query") is None:
        return []
    proc = run(
        ["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *packages],
        timeout=T_QUICK,
        check=False,
    )
    installed = {
        parts[0]
        for parts in (line.split() for line in proc.stdout.splitlines())
        if len(parts) == 2 and parts[1] == "installed"
    }
    return [p for p in packages if p not in installed]


def ensure_system_packages(progress: Progress | None = None) -> None:
    """Install NetBox's missing Debian packages with apt-get (the same check and list as
    scripts/install-system-deps, but only NetBox's packages; apt runs under the shared
    /tmp/zwvl-apt.lock so parallel set-ups wait for each other)."""
    missing = missing_system_packages()
    if not missing:
        return
    if os.geteuid() != 0:
        raise LocalNetboxError(
            f"missing Debian packages: {' '.join(missing)}; run scripts/install-system-deps as root"
        )
    say(progress, f"Installing Debian packages: {' '.join(missing)} ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    lock = ["flock", "-w", str(T_APT), "/tmp/zwvl-apt.lock"] if shutil.which("flock") else []
    stream(
        [*lock, "apt-get", "update", "-qq"], timeout=T_APT, progress=progress, env=env, what="apt-get update"
    )
    stream(
        [*lock, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        timeout=T_APT,
        progress=progress,
        env=env,
        what="apt-get install",
    )
    still = missing_system_packages()
    if still:
        raise LocalNetboxError(f"Debian packages still missing after install: {' '.join(still)}")
