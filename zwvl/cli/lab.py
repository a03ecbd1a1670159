"""`zwvl lab ...`: the FRRouting network-namespace lab built from NetBox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import click

from zwvl.cli.common import json_option, progress
from zwvl.lab.errors import LabError
from zwvl.lab.netns import CUT_MODES
from zwvl.lab.runtime import Lab
from zwvl.lab.source import HUB_GROUP, load_spec
from zwvl.lab.spec import SpecError
from zwvl.lab.state import DEFAULT_LAB
from zwvl.netbox.client import NetboxError
from zwvl.netbox.settings import NetboxSettingsError

_name_option = click.option(
    "--name",
    default=DEFAULT_LAB,
    show_default=True,
    help="Lab name: namespaces are zl-<router> for 'main', zl-<name>.<router> otherwise.",
)


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _lab(name: str) -> Lab:
    try:
        return Lab(name)
    except LabError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(name="lab")
def lab_group() -> None:
    """The fibre backbone as a lab: one network namespace per router, built from NetBox.

    Each router (NetBox devices with role `router`, platform `frr`) gets a network namespace with its
    own mount, UTS and PID namespaces, its loopback on `lo`, one veth pair per fibre circuit (names and
    /31 addresses exactly as in NetBox), FRRouting 8.4 from Debian and an sshd on its loopback.
    Ansible (ansible/fibre.yml) then configures OSPF; `zwvl lab provision` runs it against the lab.

    Needs root. NetBox is NETBOX_URL/NETBOX_TOKEN, else the local `zwvl netbox up` instance.
    """


@lab_group.command("up")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Every router in NetBox (the default when no other scope option is given).",
)
@click.option(
    "--partners",
    default="",
    metavar="SLUG,...",
    help="Only the routers of these partners (NetBox tenants), plus the regional datacenter.",
)
@click.option("--sites", default="", metavar="SLUG,...", help="Also the routers at these sites.")
@click.option("--routers", default="", metavar="NAME,...", help="Also these routers.")
@click.option(
    "--hub-group",
    default=HUB_GROUP,
    show_default=True,
    help="Site group whose routers every partial scope includes ('' for none).",
)
@click.option(
    "--active-only",
    is_flag=True,
    help="Light only active circuits [default: active and planned, as the I1 policy counts them].",
)
@_name_option
@json_option("Print the lab's status as JSON.")
def up_command(
    everything: bool,
    partners: str,
    sites: str,
    routers: str,
    hub_group: str,
    active_only: bool,
    name: str,
    as_json: bool,
) -> None:
    """Build the lab from NetBox, or converge a running one to it; safe to run again.

    Scope: the whole region by default (72 routers, about 1.1 GB of memory; ansible/README.md has the
    measured figures), or `--partners kortrijk,zwevegem` for their routers plus the regional datacenter's.
    """
    lab = _lab(name)
    partial = bool(_csv(partners) or _csv(sites) or _csv(routers))
    started = time.monotonic()
    try:
        spec, url, scope = load_spec(
            everything=everything or not partial,
            partners=_csv(partners),
            sites=_csv(sites),
            routers=_csv(routers),
            hub_group=hub_group or None,
            design=not active_only,
        )
        if not spec.routers:
            raise click.ClickException("NetBox has no router (role router, platform frr) in that scope")
        status = lab.up(spec, progress=progress, netbox_url=url, scope=scope)
    except (LabError, SpecError, NetboxError, NetboxSettingsError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(status.as_dict(), indent=2))
        return
    click.echo(
        f"Lab {name!r} up in {time.monotonic() - started:.1f}s: {len(status.routers)} routers, "
        f"{len(status.links)} fibre links (scope {scope})."
    )
    opt = "" if name == DEFAULT_LAB else f" --name {name}"
    click.echo(f"  ssh -F {lab.ssh_config} <router>    # or: zwvl lab ssh{opt} <router>")
    click.echo(f"  zwvl lab provision{opt}    # Ansible: OSPF from NetBox (ansible/fibre.yml)")


@lab_group.command("down")
@_name_option
def down_command(name: str) -> None:
    """Stop every router process (by PID) and delete every namespace and veth the lab made."""
    try:
        removed = _lab(name).down(progress=progress)
    except LabError as exc:
        raise click.ClickException(str(exc)) from exc
    if not removed:
        click.echo(f"Lab {name!r} was not up.")
    else:
        click.echo(f"Lab {name!r} is down ({len(removed)} routers removed).")


@lab_group.command("status")
@_name_option
@json_option("Print the status as JSON.")
@click.option("--ospf", is_flag=True, help="Also check OSPF adjacencies (vtysh in every router).")
def status_command(name: str, as_json: bool, ospf: bool) -> None:
    """Routers (processes, FRR daemons, sshd) and links. Exit 0 when everything runs, 1 otherwise."""
    lab = _lab(name)
    st = lab.status()
    adj: dict[str, dict[str, str]] = {}
    if ospf and st.up:
        try:
            adj = lab.adjacencies()
        except LabError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        data = st.as_dict()
        if ospf:
            data["adjacencies"] = adj
        click.echo(json.dumps(data, indent=2))
    elif not st.up:
        click.echo(f"Lab {name!r} is not up.")
    else:
        click.echo(
            f"Lab {name!r} ({st.scope or 'all'}; NetBox {st.netbox_url}): {len(st.routers)} routers, "
            f"{len(st.links)} links"
        )
        for r in st.routers:
            daemons = " ".join(f"{d}{'' if ok else '(dead)'}" for d, ok in sorted(r.daemons.items()))
            click.echo(
                f"  {r.name:<22} {'up ' if r.alive else 'DOWN'} {r.namespace:<26} {r.loopback.ip!s:<15} "
                f"pid {r.pid}  {daemons}"
            )
        for lk in st.links:
            cut = f"  CUT ({lk.cut})" if lk.cut else ("" if lk.present else "  MISSING (run `zwvl lab up`)")
            states = adj.get(lk.cid, {})
            ospf_txt = (
                (" ospf " + "/".join(states.get(e[0], "-").split("/")[0] for e in (lk.a, lk.z)))
                if ospf
                else ""
            )
            click.echo(
                f"  {lk.cid:<14} {lk.a[0]}:{lk.a[1]} <-> {lk.z[0]}:{lk.z[1]}  cost {lk.cost}{ospf_txt}{cut}"
            )
    sys.exit(0 if st.ok else 1)


@lab_group.command("cut")
@click.argument("cid")
@click.option(
    "--mode",
    type=click.Choice(CUT_MODES),
    default="down",
    show_default=True,
    help="down: both interfaces down; silent: nftables drops everything, interfaces stay up.",
)
@_name_option
def cut_command(cid: str, mode: str, name: str) -> None:
    """Cut the fibre of circuit CID, for example ZWVL-FO-0057."""
    try:
        lk = _lab(name).cut_link(cid, mode)
    except LabError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Cut {cid} ({mode}): {lk.a} <-> {lk.z}")


@lab_group.command("restore")
@click.argument("cid")
@_name_option
def restore_command(cid: str, name: str) -> None:
    """Restore the fibre of circuit CID."""
    try:
        lk = _lab(name).restore_link(cid)
    except LabError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored {cid}: {lk.a} <-> {lk.z}")


@lab_group.command("vtysh", context_settings={"ignore_unknown_options": True})
@click.argument("router")
@click.argument("command", nargs=-1, required=True)
@_name_option
def vtysh_command(router: str, command: tuple[str, ...], name: str) -> None:
    """Run one vtysh command in ROUTER, e.g. `zwvl lab vtysh kor-th-rtr01 show ip ospf neighbor`."""
    try:
        click.echo(_lab(name).vtysh(router, " ".join(command)), nl=False)
    except LabError as exc:
        raise click.ClickException(str(exc)) from exc


@lab_group.command("ssh", context_settings={"ignore_unknown_options": True})
@click.argument("router")
@click.argument("command", nargs=-1)
@_name_option
def ssh_command(router: str, command: tuple[str, ...], name: str) -> None:
    """ssh to ROUTER as Ansible does (ProxyCommand into its namespace), optionally running COMMAND."""
    lab = _lab(name)
    if not lab.ssh_config.exists():
        raise click.ClickException(f"lab {name!r} is not up")
    os.execvp("ssh", ["ssh", "-F", str(lab.ssh_config), router, *command])


@lab_group.command("verify")
@_name_option
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for convergence.")
def verify_command(name: str, timeout: float) -> None:
    """Wait for Full OSPF adjacencies on every link and all-to-all loopback reachability."""
    from zwvl.lab.verify import wait_converged

    started = time.monotonic()
    try:
        rep = wait_converged(_lab(name), timeout=timeout)
    except LabError as exc:
        raise click.ClickException(str(exc)) from exc
    took = time.monotonic() - started
    if rep.ok:
        click.echo(
            f"Converged after {took:.1f}s: every link Full, "
            f"{rep.details.get('pairs', 0)} loopback pairs reachable."
        )
        return
    for p in rep.problems:
        click.echo(p, err=True)
    raise click.ClickException(f"not converged after {took:.0f}s")


@lab_group.command("provision", context_settings={"ignore_unknown_options": True})
@click.option("--check", is_flag=True, help="ansible-playbook --check.")
@click.option("--diff", is_flag=True, help="ansible-playbook --diff.")
@click.option("--inventory", default=None, help="Inventory source in ansible/ [default: ansible.cfg's].")
@_name_option
@click.argument("extra", nargs=-1)
def provision_command(
    check: bool, diff: bool, inventory: str | None, name: str, extra: tuple[str, ...]
) -> None:
    """Run ansible/fibre.yml against the lab's routers (inventory and circuits from NetBox)."""
    from zwvl.lab.ansible import ansible_dir, ansible_env, venv_bin
    from zwvl.netbox.settings import NetboxSettingsError, resolve_netbox

    lab = _lab(name)
    routers = [r.name for r in lab.routers()]
    if not routers:
        raise click.ClickException(f"lab {name!r} is not up")
    try:
        url, token = resolve_netbox()
    except NetboxSettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    cmd = [venv_bin("ansible-playbook"), "fibre.yml", "--limit", ",".join(routers)]
    cmd += (
        (["-i", inventory] if inventory else [])
        + (["--check"] if check else [])
        + (["--diff"] if diff else [])
    )
    cmd += list(extra)
    rc = subprocess.call(cmd, cwd=Path(ansible_dir()), env=ansible_env(lab, url, token))
    sys.exit(rc)
