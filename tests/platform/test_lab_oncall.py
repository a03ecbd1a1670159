"""On-call end to end, deployed as production deploys it: NetBox holds two backbone routers, the fibre
circuit between them and the monitoring server with its service; `fibre.yml` configures OSPF on the
routers and `monitoring.yml` installs Prometheus, Alertmanager, the FRR exporters, the zwvl exporter and
the alert relay, both playbooks with their NetBox inventories. Then the fibre is cut.

Three systemd-nspawn machines boot the lab image (devtools.nspawn): the monitoring server
ave-dc1-srv01 and the routers spi-th-rtr01 and ave-th-rtr01 of the small region's circuit ZWVL-FO-0060.
- The fibre is a veth pair between the routers (eth4 - eth3, as NetBox cables them); the cut sets
  one end down.
- Each router has its own management link to the monitoring server (a veth pair with host routes to
  the loopback, NetBox's primary IPv4), so Prometheus keeps scraping both routers while the fibre is
  cut and the host needs no IP forwarding.
- NetBox (a clone of the migrated template, filled by `zwvl apply`) and Request Tracker run on this
  host. The monitoring server reaches them on the host's end of its veth: RT's nginx listens there
  with a certificate for that address from RT's own CA; gunicorn listens on 127.0.0.1 only, so a TCP
  forwarder in this process passes NetBox on.

Checked: the cut fires FibreLinkDown at both ends, from frr_exporter's adjacencies against the
exporter's NetBox expectation, within OSPF's dead interval plus a scrape and an evaluation.
Alertmanager delivers it through the relay: one ticket in each partner's queue, SLA P2-high
(severity warning), ITIL category incident. Alertmanager's repeats reach the relay and open nothing new.
Restoring the fibre resolves both tickets.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from devtools import netbox as local
from devtools import nspawn
from devtools.nspawn import ip
from tests.integration.reconcile_support import SMALL, env_for, launch, teardown, zwvl
from tests.monitoring.conftest import provision_helpdesk
from tests.monitoring.test_alert_relay import category
from tests.platform.ansible_lab import (
    ANSIBLE,
    PYTHON312,
    REPO,
    SSH_ARGS,
    machine_get,
    play,
    ssh,
    wait_for,
)
from tests.platform.services import RtServer, start_rt, stop_rt
from zwvl.inventory import load_inventory
from zwvl.relay.tickets import TAG

pytestmark = pytest.mark.integration

CID = "ZWVL-FO-0060"
MONITORING, SPI, AVE = "ave-dc1-srv01", "spi-th-rtr01", "ave-th-rtr01"
FIBRE = {SPI: "eth4", AVE: "eth3"}  # the circuit's ends in the small region's backbone/core.yaml
QUEUES = {"spiere-helkijn": "Spiere-Helkijn", "avelgem": "Avelgem"}
ROLE_DEFAULTS = ANSIBLE / "roles" / "frr_ospf" / "defaults" / "main.yml"
RESOLVED = ["resolved"]
INTERVAL = 5  # Prometheus' scrape and evaluation interval here (seconds)


def lab_inventory(dest: Path, server_address: str) -> Path:
    """The small region cut down to the circuit's two routers, plus the monitoring server (its address
    on the lab's veth as primary IPv4) running the service monitoring."""
    shutil.copytree(SMALL, dest)
    keep = {SPI, AVE}
    for path in sorted((dest / "partners").glob("*/devices.yaml")):
        doc = yaml.safe_load(path.read_text())
        doc["devices"] = [d for d in doc["devices"] if d["name"] in keep]
        if path.parent.name == "avelgem":
            doc["devices"].append(
                {
                    "name": MONITORING,
                    "site": "avelgem-dc1",
                    "location": "server-room",
                    "role": "server",
                    "device_type": "dell-poweredge-r650",
                    "platform": "debian-12",
                    "status": "active",
                    "primary_ip4": {"interface": "eno1", "address": server_address},
                    "monitoring": "node-exporter",
                }
            )
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    network = dest / "partners" / "avelgem" / "network.yaml"
    doc = yaml.safe_load(network.read_text())
    doc["prefixes"].append(
        {
            "partner": "avelgem",
            "prefix": str(ipaddress.ip_interface(server_address).network),
            "role": "management",
            "description": "Management link of the on-call lab's monitoring server",
        }
    )
    network.write_text(yaml.safe_dump(doc, sort_keys=False))
    for path in (dest / "partners").glob("*/circuits.yaml"):
        path.unlink()  # the access fibres: their far routers are not in this lab
    (dest / "platform").mkdir()
    service = {
        "slug": "monitoring",
        "name": "Monitoring (Prometheus, Alertmanager)",
        "partner": "avelgem",
        "business_owner": "Regional enterprise architects",
        "hosting": {"model": "on-premise", "reason": "Observes the backbone from inside it"},
        "site": "avelgem-dc1",
        "devices": [MONITORING],
        "ports": [9090, 9093],
        "exposed": False,
        "tls": True,
        "mfa": True,
        "monitoring": "none",
    }
    (dest / "platform" / "services.yaml").write_text(yaml.safe_dump({"services": [service]}, sort_keys=False))
    return dest


class Forwarder:
    """TCP from (address, any port) to target: how a lab machine reaches a service that listens on the
    host's loopback. A thread of this process; each connection pumps both ways until either side ends."""

    def __init__(self, address: str, target: tuple[str, int]) -> None:
        self.target = target
        self.sock = socket.create_server((address, 0))
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.closed = True
        self.sock.close()


@dataclass
class OncallLab:
    root: Path
    key: Path
    machines: dict[str, nspawn.Machine]
    netbox: local.Instance
    netbox_url: str  # the forwarder's URL, as the monitoring server reaches NetBox
    rt: RtServer

    def ssh(self, host: str, command: str, check: bool = True) -> str:
        return ssh(self.key, self.machines[host].address, command, check=check)

    def api(self, path: str) -> Any:
        """GET Prometheus' or Alertmanager's API on the monitoring server's loopback."""
        address = self.machines[MONITORING].address
        return json.loads(machine_get(self.key, address, f"http://127.0.0.1:{path}"))

    def play(self, playbook: str, inventories: list[Path], extra: dict[str, Any]) -> dict[str, int]:
        env = {
            # nb_inventory and the repository's plugin read NetBox from here; the zwvl exporter on the
            # monitoring server gets NETBOX_URL, the forwarder
            "NETBOX_API": self.netbox.url,
            "NETBOX_URL": self.netbox_url,
            "NETBOX_TOKEN": self.netbox.token,
            "ZWVL_EXPORTER_PACKAGE": "zwvl",  # found only in the wheelhouse (--no-index)
            "ANSIBLE_REMOTE_USER": "root",
            "ANSIBLE_PRIVATE_KEY_FILE": str(self.key),
            "ANSIBLE_SSH_COMMON_ARGS": SSH_ARGS,
            **self.rt_tokens,
        }
        out, changed = play(playbook, inventory=inventories, workdir=self.root, extra=extra, env=env)
        for secret in (self.netbox.token, *self.rt_tokens.values()):
            assert secret not in out
        return changed

    @functools.cached_property
    def rt_tokens(self) -> dict[str, str]:
        """The RT auth tokens monitoring.yml reads from the environment, made as the RT host's admin does."""
        return {
            "ZWVL_RT_EXPORTER_TOKEN": self.rt.create_token("zwvl-exporter", "exporter (on-call lab)"),
            "ZWVL_RT_RELAY_TOKEN": self.rt.create_token("zwvl-alert-relay", "alert relay (on-call lab)"),
        }


def _boot(
    image: Path, root: Path, key: Path, tag: int, subnet: int, progress: Any, wheelhouse: Path
) -> dict[str, nspawn.Machine]:
    machines: dict[str, nspawn.Machine] = {}
    try:
        for i, (name, short) in enumerate(((MONITORING, "mon"), (SPI, "spi"), (AVE, "ave"))):
            machines[name] = nspawn.start_machine(
                image,
                name,
                netns=f"zwo{tag}-{short}",
                host_address=f"198.18.{subnet}.{4 * i + 1}",
                address=f"198.18.{subnet}.{4 * i + 2}",
                prefixlen=30,
                authorized_key=key.with_suffix(".pub").read_text(),
                workdir=root / name,
                progress=progress,
                bind_ro=[(PYTHON312, "/opt/python3.12"), (wheelhouse, "/srv/wheelhouse")],
                capabilities=[] if name == MONITORING else ["CAP_NET_ADMIN"],  # FRR on the routers
            )
    except BaseException:
        for m in machines.values():
            nspawn.stop_machine(m)
        raise
    return machines


def _wire(machines: dict[str, nspawn.Machine], loopbacks: dict[str, str]) -> None:
    """The fibre between the routers and a management link from the monitoring server to each."""
    mon = machines[MONITORING]
    spi, ave = machines[SPI], machines[AVE]
    fibre_peer = ("peer", "name", FIBRE[AVE], "netns", ave.netns)
    ip("link", "add", FIBRE[SPI], "netns", spi.netns, "type", "veth", *fibre_peer)
    for router in (SPI, AVE):
        m, loopback = machines[router], loopbacks[router]
        mgmt = f"mgmt-{router[:3]}"
        ip("link", "add", mgmt, "netns", mon.netns, "type", "veth", "peer", "name", "mgmt", "netns", m.netns)
        ip("-n", mon.netns, "link", "set", mgmt, "up")
        ip("-n", m.netns, "link", "set", "mgmt", "up")
        ip("-n", m.netns, "link", "set", FIBRE[router], "up")
        ip("-n", m.netns, "addr", "add", f"{loopback}/32", "dev", "lo")
        ip("-n", mon.netns, "route", "add", f"{loopback}/32", "dev", mgmt, "src", mon.address)
        ip("-n", m.netns, "route", "add", f"{mon.address}/32", "dev", "mgmt", "src", loopback)
        # the controller (this host) reaches the router at its primary IPv4 through its own veth
        ip("route", "replace", f"{loopback}/32", "via", m.address, "dev", m.host_if)


@pytest.fixture(scope="module")
def oncall(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config, wheelhouse: Path
) -> Iterator[OncallLab]:
    from tests.platform.conftest import _progress

    def progress(message: str) -> None:
        _progress(pytestconfig, message)

    if os.geteuid() != 0:
        pytest.fail("the nspawn lab needs root (network namespaces, systemd-nspawn)")
    if not (PYTHON312 / "bin" / "python3.12").is_file():
        pytest.fail(f"no CPython 3.12 at {PYTHON312} (ZWVL_LAB_PYTHON312): zwvl needs Python >= 3.12")
    image = nspawn.ensure_image(progress)
    root = tmp_path_factory.mktemp("oncall")
    key = root / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    tag, subnet = os.getpid() % 1000, 100 + os.getpid() % 50
    mon_host = f"198.18.{subnet}.1"
    inventory = lab_inventory(root / "inventory", f"198.18.{subnet}.2/30")
    model = load_inventory(inventory)
    loopbacks = {name: str(model.devices[name].loopback.ip) for name in (SPI, AVE)}  # type: ignore[union-attr]

    progress("NetBox for the on-call lab: clone, then zwvl apply")
    template = local.ensure_template(progress=progress)
    inst = launch(template, root / "netbox", progress, settings={"ALLOWED_HOSTS": [mon_host]})
    machines: dict[str, nspawn.Machine] = {}
    rt: RtServer | None = None
    forwarder: Forwarder | None = None
    try:
        applied = zwvl("apply", "--inventory", inventory, env=env_for(inst))
        assert applied.returncode == 0, applied.stderr[-3000:]
        machines = _boot(image, root, key, tag, subnet, progress, wheelhouse)
        _wire(machines, loopbacks)
        forwarder = Forwarder(mon_host, (local.HOST, inst.port))
        progress("Request Tracker with the helpdesk (its Pulumi program)")
        rt = start_rt(load_inventory(REPO / "inventory"), address=mon_host)
        provision_helpdesk(rt)
        lab = OncallLab(root, key, machines, inst, f"http://{mon_host}:{forwarder.port}", rt)
        # What the region provides before the playbooks: the interpreter's libraries on the loader's
        # path on the monitoring server; FRR running on the routers (fibre.yml configures it)
        lab.ssh(MONITORING, "echo /opt/python3.12/lib > /etc/ld.so.conf.d/zwvl-python3.12.conf && ldconfig")
        for router in (SPI, AVE):
            lab.ssh(router, "systemctl enable --now frr")
        yield lab
    finally:
        for m in machines.values():
            nspawn.stop_machine(m)
        if forwarder is not None:
            forwarder.close()
        if rt is not None:
            stop_rt(rt)
        teardown(inst)


def short_alertmanager(dest: Path) -> Path:
    """The repository's Alertmanager configuration with the lab's timing: a group is sent a second after
    its first alert and repeated every few seconds, so the resolution and the re-deliveries happen
    within the test. Receivers, routes and inhibitions are the repository's."""
    doc = yaml.safe_load((REPO / "monitoring" / "alertmanager" / "alertmanager.yml").read_text())
    doc["route"].update(group_wait="1s", group_interval="2s", repeat_interval="4s")
    for route in doc["route"]["routes"]:
        route.pop("group_wait", None)
        route.pop("repeat_interval", None)
    dest.write_text(yaml.safe_dump(doc, sort_keys=False))
    return dest


def test_a_fibre_cut_becomes_a_ticket_in_each_partners_queue_and_the_repair_resolves_it(
    oncall: OncallLab,
) -> None:
    started = time.monotonic()
    lab = oncall
    changed = lab.play("fibre.yml", [ANSIBLE / "inventory" / "zwvl_netbox.yml"], extra={})
    assert changed == {SPI: changed[SPI], AVE: changed[AVE]} and min(changed.values()) > 0, changed
    extra = {
        "monitoring_ca_file": str(lab.rt.ca_file),
        "monitoring_rt_url": lab.rt.url,
        "zwvl_exporter_python": "/opt/python3.12/bin/python3.12",
        "zwvl_exporter_pip_args": ["--no-index", "--find-links", "/srv/wheelhouse"],
        "prometheus_alertmanager_config_file": str(short_alertmanager(lab.root / "alertmanager.yml")),
        "prometheus_server_scrape_interval": f"{INTERVAL}s",
        "prometheus_server_evaluation_interval": f"{INTERVAL}s",
        "prometheus_server_sd_refresh_interval": f"{INTERVAL}s",
    }
    inventories = [ANSIBLE / "inventory-platform" / "netbox.yml", ANSIBLE / "inventory-nb" / "netbox.yml"]
    changed = lab.play("monitoring.yml", inventories, extra)
    assert set(changed) >= {MONITORING, SPI, AVE} and changed[MONITORING] > 0, changed
    print(f"\non-call lab: deployed in {time.monotonic() - started:.0f} s")

    # Prometheus finds both routers through the exporter's service discovery (read from NetBox) and
    # scrapes them; the exporter expects an adjacency at each end of the circuit
    def routers_up() -> bool:
        active = lab.api("9090/api/v1/targets?state=active")["data"]["activeTargets"]
        up = {t["labels"].get("device"): t["health"] for t in active if t["labels"]["job"] == "frr"}
        return up == {SPI: "up", AVE: "up"}

    wait_for("Prometheus scrapes both routers' FRR exporters", routers_up, timeout=300, every=5)

    def query(expr: str) -> list[dict[str, Any]]:
        return list(lab.api(f"9090/api/v1/query?query={quote(expr)}")["data"]["result"])

    def ends(expr: str) -> set[tuple[str, str]]:
        return {(r["metric"]["device"], r["metric"]["interface"]) for r in query(expr)}

    expected = {(SPI, FIBRE[SPI]), (AVE, FIBRE[AVE])}
    wait_for("the expected adjacencies", lambda: ends("zwvl_backbone_adjacency_expected == 1") == expected)
    wait_for(
        "OSPF up on the fibre",
        lambda: len(query('frr_ospf_neighbor_adjacencies{job="frr"} > 0')) == 2,
        timeout=120,
    )

    def link_downs() -> list[dict[str, Any]]:
        alerts = lab.api("9090/api/v1/alerts")["data"]["alerts"]
        return [a for a in alerts if a["labels"]["alertname"] == "FibreLinkDown" and a["state"] == "firing"]

    def tickets(queue: str) -> list[dict[str, Any]]:
        query = f"Queue = '{queue}' AND Subject LIKE '{TAG}'"
        resp = lab.rt.client().request(
            "GET", "/tickets", params={"query": query, "fields": "Subject,Status,SLA", "per_page": "100"}
        )
        assert resp.status_code == 200, resp.text
        return [t for t in resp.json()["items"] if "FibreLinkDown" in t["Subject"]]

    wait_for("a quiet backbone", lambda: not link_downs())
    assert all(not tickets(q) for q in QUEUES.values())

    dead = float(yaml.safe_load(ROLE_DEFAULTS.read_text())["frr_ospf_dead_interval"])
    cut_at = dt.datetime.now(dt.UTC)
    ip("-n", lab.machines[SPI].netns, "link", "set", FIBRE[SPI], "down")
    try:
        fired = wait_for("FibreLinkDown at both ends", lambda: len(link_downs()) == 2 and link_downs(), 90, 1)
        assert {(a["labels"]["device"], a["labels"]["partner"], a["labels"]["circuit"]) for a in fired} == {
            (SPI, "spiere-helkijn", CID),
            (AVE, "avelgem", CID),
        }
        # the adjacency goes within the dead interval; Prometheus sees it at the next scrape and fires
        # at the next evaluation (no `for`); 3 s of slack for two loaded cores
        active_at = max(dt.datetime.fromisoformat(a["activeAt"].replace("Z", "+00:00")) for a in fired)
        budget = dead + 2 * INTERVAL + 3
        assert (active_at - cut_at).total_seconds() <= budget, (active_at - cut_at, budget)

        for queue in QUEUES.values():
            wait_for(f"a ticket in {queue}'s queue", lambda q=queue: len(tickets(q)) == 1, 120)
            [record] = tickets(queue)
            assert record["Status"] == "new" and record["SLA"] == "P2-high", record  # warning: priority 2
            assert category(lab.rt, int(record["id"])) == ["incident"]
        # Alertmanager repeats the notification every few seconds: the relay sees it again, no new ticket
        ticket = int(tickets("Avelgem")[0]["id"])

        def repeats() -> int:
            log = lab.ssh(MONITORING, "journalctl -u zwvl-alert-relay --no-pager -o cat")
            return len(re.findall(rf"/partner/avelgem: unchanged ticket={ticket}\b", log))

        wait_for("two re-deliveries to the relay", lambda: repeats() >= 2, 60)
        assert [len(tickets(q)) for q in QUEUES.values()] == [1, 1]
    finally:
        ip("-n", lab.machines[SPI].netns, "link", "set", FIBRE[SPI], "up")

    wait_for("FibreLinkDown to resolve", lambda: not link_downs(), 120)
    for queue in QUEUES.values():
        wait_for(f"{queue}'s ticket resolved", lambda q=queue: [t["Status"] for t in tickets(q)] == RESOLVED)
    print(f"on-call lab: {time.monotonic() - started:.0f} s")
