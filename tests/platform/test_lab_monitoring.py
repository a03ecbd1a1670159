"""ansible/monitoring.yml against a real server: a systemd-nspawn machine booting the Debian 12 image
(devtools.nspawn, which holds the monitoring packages and FRR), reached over SSH like any server.

The machine is the monitoring host lei-rdc-srv03 (NetBox's service `monitoring`) and, under a second
inventory name, a backbone router (role router, platform frr) with FRR running and its loopback on `lo`,
so both plays of the playbook run: Prometheus, Alertmanager, the blackbox exporter, the zwvl exporter,
the alert relay and the node exporter on the one, Debian's FRR exporter on the other. The test plays
NetBox's part by writing the inventory. zwvl needs Python >= 3.12 and Debian 12 has 3.11: the region's
interpreter is this host's CPython 3.12 (built on Debian 12) mounted read-only at /opt/python3.12, and
zwvl is installed from a wheelhouse built here (`pip wheel`) with `--no-index --find-links`: the machine
has no package index.

Checked: a missing token or package name stops the play before it changes anything; first run changes,
second run changed=0, `--check --diff` then changes nothing and shows no token; Prometheus has loaded
exactly the repository's rule groups and its http_sd jobs; it discovers targets over HTTP SD and scrapes
them (the FRR exporter, and an HTTPS URL through the blackbox exporter); Alertmanager serves the
repository's configuration; the blackbox exporter verifies HTTPS against the region CA (another CA's
certificate fails the probe); the FRR exporter answers on the loopback; the zwvl exporter answers
/metrics and both zwvl services run as their own user with root-only token files.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import secrets
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
import yaml

from devtools import nspawn
from devtools.region_ca import RegionCA, ensure_ca
from tests.platform.ansible_lab import (
    PYTHON312,
    REPO,
    SSH_ARGS,
    assert_lint_production,
    machine_get,
    play,
    ssh,
    wait_for,
)

pytestmark = pytest.mark.integration

MONITORING, ROUTER = "lei-rdc-srv03", "lei-rdc-rtr01"


class HostServer:
    """A small HTTP(S) server on the host (a thread of this process) answering GET with `answer(path)`:
    (status, content type, body)."""

    def __init__(
        self, address: str, answer: Callable[[str], tuple[int, str, bytes]], tls: ssl.SSLContext | None = None
    ) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the base class's name)
                status, content_type, body = answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = http.server.ThreadingHTTPServer((address, 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://{address}:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def https_server(address: str, cert: Path, key: Path) -> HostServer:
    """An HTTPS server with a certificate for its address, answering "ok"."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    return HostServer(address, lambda _path: (200, "text/plain", b"ok\n"), ctx)


def sd_server(address: str, jobs: dict[str, list[dict[str, Any]]]) -> HostServer:
    """Prometheus HTTP service discovery in its standard format ([{"targets": [...], "labels": {...}}]
    per job at /sd/<job>), served from the host: this lab has no NetBox, so the deployed exporter runs
    without --from-netbox and the test serves the lists it would serve. The exporter's own /sd/<job>,
    read from a real NetBox, is tested with Prometheus in tests/monitoring/test_stack.py."""

    def answer(path: str) -> tuple[int, str, bytes]:
        job = path.removeprefix("/sd/")
        found = path.startswith("/sd/") and job in jobs
        body = json.dumps(jobs.get(job, []) if found else {"error": "no such job"}).encode()
        return 200 if found else 404, "application/json", body

    return HostServer(address, answer)


class Lab:
    def __init__(self, root: Path, machine: nspawn.Machine, key: Path, loopback: str) -> None:
        self.root, self.machine, self.key, self.loopback = root, machine, key, loopback
        self.exporter_token = secrets.token_urlsafe(24)
        self.relay_token = secrets.token_urlsafe(24)
        self.inventory = root / "inventory.yml"
        common = {"ansible_host": machine.address}
        self.inventory.write_text(
            yaml.safe_dump(
                {
                    "all": {
                        "hosts": {
                            MONITORING: {
                                **common,
                                "primary_ip4": f"{machine.address}/{machine.prefixlen}",
                                "services": [{"name": "monitoring"}],
                            },
                            ROUTER: {**common, "backbone_loopback": f"{loopback}/32"},
                        },
                        "children": {
                            "role_router": {"hosts": {ROUTER: {}}},
                            "platform_frr": {"hosts": {ROUTER: {}}},
                        },
                        "vars": {
                            "ansible_user": "root",
                            "ansible_ssh_private_key_file": str(key),
                            "ansible_ssh_common_args": SSH_ARGS,
                            "ansible_python_interpreter": "/usr/bin/python3",
                        },
                    }
                }
            )
        )

    def ssh(self, command: str, check: bool = True) -> str:
        return ssh(self.key, self.machine.address, command, check=check)

    def get(self, url: str) -> str:
        """GET a URL from inside the machine (services on its loopback), with Debian's python3."""
        return machine_get(self.key, self.machine.address, url)

    def api(self, url: str) -> Any:
        return json.loads(self.get(url))

    def play(
        self,
        *args: str,
        extra: dict[str, Any],
        env_override: dict[str, str] | None = None,
        expect_failure: bool = False,
    ) -> tuple[str, dict[str, int]]:
        env = {
            "ZWVL_RT_EXPORTER_TOKEN": self.exporter_token,
            "ZWVL_RT_RELAY_TOKEN": self.relay_token,
            "ZWVL_EXPORTER_PACKAGE": "zwvl",  # found only in the wheelhouse (--no-index)
            # no NetBox in this lab: the test writes the inventory and serves the service discovery
            "NETBOX_URL": "",
            "NETBOX_API": "",
            "NETBOX_TOKEN": "",
        }
        env.update(env_override or {})
        return play(
            "monitoring.yml", *args, inventory=self.inventory, workdir=self.root, extra=extra, env=env,
            expect_failure=expect_failure,
        )  # fmt: skip


@pytest.fixture(scope="module")
def lab(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config, wheelhouse: Path
) -> Iterator[Lab]:
    from tests.platform.conftest import _progress

    if os.geteuid() != 0:
        pytest.fail("the nspawn lab needs root (network namespaces, systemd-nspawn)")
    if not (PYTHON312 / "bin" / "python3.12").is_file():
        pytest.fail(f"no CPython 3.12 at {PYTHON312} (ZWVL_LAB_PYTHON312): zwvl needs Python >= 3.12")
    image = nspawn.ensure_image(lambda m: _progress(pytestconfig, m))
    root = tmp_path_factory.mktemp("monlab")
    key = root / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    tag = os.getpid() % 1000
    subnet = 150 + os.getpid() % 50
    loopback = f"10.255.{subnet}.1"
    machine = None
    try:
        machine = nspawn.start_machine(
            image,
            MONITORING,
            netns=f"zwm{tag}-1",
            host_address=f"169.254.{subnet}.1",
            address=f"169.254.{subnet}.2",
            prefixlen=30,
            authorized_key=key.with_suffix(".pub").read_text(),
            workdir=root / MONITORING,
            progress=lambda m: _progress(pytestconfig, m),
            bind_ro=[(PYTHON312, "/opt/python3.12"), (wheelhouse, "/srv/wheelhouse")],
            capabilities=["CAP_NET_ADMIN"],  # FRR (zebra) in the machine's own network namespace
        )
        # the host reaches the router's loopback through the machine (deleted with the veth)
        subprocess.run(
            ["ip", "route", "replace", f"{loopback}/32", "via", machine.address, "dev", machine.host_if],
            check=True,
        )
        lab = Lab(root, machine, key, loopback)
        # What the region provides before the playbook runs: the interpreter's libraries on the loader's
        # path, and on the router FRR with OSPF (fibre.yml's part) and its loopback.
        lab.ssh(
            "echo /opt/python3.12/lib > /etc/ld.so.conf.d/zwvl-python3.12.conf && ldconfig && "
            f"ip addr add {loopback}/32 dev lo && "
            "sed -i 's/^ospfd=no/ospfd=yes/' /etc/frr/daemons && "
            f"printf 'frr defaults traditional\\nhostname {ROUTER}\\ninterface eth0\\n ip ospf area 0\\n"
            f"exit\\nrouter ospf\\n ospf router-id {loopback}\\nexit\\n' > /etc/frr/frr.conf && "
            "systemctl enable --now --no-block frr"
        )
        yield lab
    finally:
        if machine is not None:
            nspawn.stop_machine(machine)


def rule_groups() -> set[tuple[str, str, tuple[str, ...]]]:
    """(file, group, rule names) of the repository's rule files."""
    out = set()
    for path in sorted((REPO / "monitoring" / "prometheus" / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            names = tuple(r.get("alert") or r.get("record") for r in group["rules"])
            out.add((path.name, group["name"], names))
    return out


def test_monitoring_playbook(lab: Lab) -> None:
    started = time.monotonic()
    m = lab.machine
    ca = ensure_ca(lab.root / "region-ca")
    other = ensure_ca(lab.root / "other-ca", name="Some other CA")
    # two HTTPS services on the host's end of the veth: one with the region CA's certificate, one not
    good_cert = ca.issue("good", ips=[m.host_address])
    bad_cert = other.issue("bad", ips=[m.host_address])
    good = https_server(m.host_address, good_cert.chain, good_cert.key)
    bad = https_server(m.host_address, bad_cert.chain, bad_cert.key)
    sd = sd_server(
        m.host_address,
        {
            "frr": [
                {"targets": [f"{lab.loopback}:9342"], "labels": {"device": ROUTER, "partner": "leiedal"}}
            ],
            "blackbox-http": [{"targets": [good.url], "labels": {"service": "lab", "partner": "leiedal"}}],
            "node": [],
            "postgres": [],
            "snmp": [],
        },
    )
    try:
        extra = {
            "monitoring_ca_file": str(RegionCA(ca.root).cert),
            # no RT in this lab: an address that refuses at once (the relay opens no ticket here)
            "monitoring_rt_url": "https://127.0.0.1:1",
            "zwvl_exporter_python": "/opt/python3.12/bin/python3.12",
            "zwvl_exporter_pip_args": ["--no-index", "--find-links", "/srv/wheelhouse"],
            "prometheus_server_sd_url": sd.url,
            "prometheus_server_scrape_interval": "5s",
            "prometheus_server_evaluation_interval": "5s",
            "prometheus_server_sd_refresh_interval": "5s",
        }
        _check_playbook(lab, extra)
        _check_services(lab, ca, good, bad, sd)
    finally:
        for server in (good, bad, sd):
            server.close()
    print(f"\nmonitoring lab: {time.monotonic() - started:.0f} s")


def _check_playbook(lab: Lab, extra: dict[str, Any]) -> None:
    # no relay token: the play stops with a clear message before it changes anything
    out, _ = lab.play(extra=extra, env_override={"ZWVL_RT_RELAY_TOKEN": ""}, expect_failure=True)
    assert "ZWVL_RT_RELAY_TOKEN is not set" in out, out[-3000:]
    assert "changed=0" in out and "Install Prometheus" not in out, out[-3000:]
    # nor without naming the package to install (a bare default name could come from any index)
    out, _ = lab.play(extra=extra, env_override={"ZWVL_EXPORTER_PACKAGE": ""}, expect_failure=True)
    assert "ZWVL_EXPORTER_PACKAGE is not set" in out, out[-3000:]
    assert lab.ssh("ls /etc/zwvl /etc/prometheus/zwvl-rules 2>&1 || true").count("No such file") == 2

    out, changed = lab.play(extra=extra)
    assert changed[MONITORING] > 0 and changed[ROUTER] > 0, out[-3000:]
    outputs = [out]
    out, changed = lab.play(extra=extra)
    assert (changed[MONITORING], changed[ROUTER]) == (0, 0), out[-3000:]
    outputs.append(out)
    out, changed = lab.play("--check", "--diff", extra=extra)
    assert (changed[MONITORING], changed[ROUTER]) == (0, 0), out[-3000:]
    outputs.append(out)
    for text in outputs:  # the tokens never reach Ansible's output
        assert lab.exporter_token not in text and lab.relay_token not in text


def _check_services(lab: Lab, ca: RegionCA, good: HostServer, bad: HostServer, sd: HostServer) -> None:
    m = lab.machine
    # Prometheus: exactly the repository's rule groups and rules
    prom = "http://127.0.0.1:9090"
    loaded = {
        (Path(g["file"]).name, g["name"], tuple(r["name"] for r in g["rules"]))
        for g in lab.api(f"{prom}/api/v1/rules")["data"]["groups"]
    }
    assert loaded == rule_groups()
    # its configuration: one http_sd job per NetBox job at <sd_url>/sd/<job>, the blackbox relabelling
    config = yaml.safe_load(lab.api(f"{prom}/api/v1/status/config")["data"]["yaml"])
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    for job in ("frr", "node", "postgres", "blackbox-http", "snmp"):
        assert [c["url"] for c in jobs[job]["http_sd_configs"]] == [f"{sd.url}/sd/{job}"], job
    assert jobs["blackbox-http"]["params"] == {"module": ["http_2xx"]}
    assert {"target_label": "__address__", "replacement": "127.0.0.1:9115"}.items() <= (
        jobs["blackbox-http"]["relabel_configs"][-1].items()
    )
    assert jobs["zwvl"]["static_configs"][0]["targets"] == [f"{m.address}:9479"]
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9093"]

    # targets discovered over HTTP SD and scraped: the FRR exporter on the router's loopback, and the
    # HTTPS URL through the blackbox exporter (verified by the region CA)
    def healthy() -> dict[str, Any]:
        active = lab.api(f"{prom}/api/v1/targets?state=active")["data"]["activeTargets"]
        ups = {(t["labels"]["job"], t["labels"]["instance"]): t["health"] for t in active}
        want = {("frr", f"{lab.loopback}:9342"), ("blackbox-http", good.url), ("zwvl", f"{m.address}:9479")}
        return ups if all(ups.get(k) == "up" for k in want) else {}

    wait_for("Prometheus scrapes the discovered targets", healthy, timeout=180)
    query = quote('probe_success{job="blackbox-http"}')
    result = wait_for(
        "probe_success in Prometheus",
        lambda: lab.api(f"{prom}/api/v1/query?query={query}")["data"]["result"],
    )
    assert [(r["metric"]["instance"], r["value"][1]) for r in result] == [(good.url, "1")]

    # Alertmanager serves the repository's configuration (its receivers and routes)
    status = lab.api("http://127.0.0.1:9093/api/v2/status")
    served = yaml.safe_load(status["config"]["original"])
    repo = yaml.safe_load((REPO / "monitoring" / "alertmanager" / "alertmanager.yml").read_text())
    assert [r["name"] for r in served["receivers"]] == [r["name"] for r in repo["receivers"]]
    assert [r["receiver"] for r in served["route"]["routes"]] == [
        r["receiver"] for r in repo["route"]["routes"]
    ]
    assert len(served["inhibit_rules"]) == len(repo["inhibit_rules"])
    assert "9094" not in lab.ssh("ss -Hltn")  # no gossip cluster

    # the blackbox exporter verifies against the region CA, and nothing else
    probe = "http://127.0.0.1:9115/probe?module=http_2xx&target="
    assert re.search(r"^probe_success 1$", lab.get(probe + quote(good.url, safe="")), re.M)
    assert re.search(r"^probe_success 0$", lab.get(probe + quote(bad.url, safe="")), re.M)

    # the FRR exporter answers on the router's loopback (from the host) with OSPF data from ospfd
    def frr_metrics() -> str:
        text = requests.get(f"http://{lab.loopback}:9342/metrics", timeout=60).text
        return text if re.search(r'^frr_collector_up\{collector="ospf"\} 1$', text, re.M) else ""

    frr = wait_for("the FRR exporter reads ospfd", frr_metrics, timeout=300, every=5)
    assert "frr_ospf_" in frr, frr[-2000:]

    # the node exporter, as on every platform host, on the host's address
    assert "node_uname_info" in requests.get(f"http://{m.address}:9100/metrics", timeout=60).text

    # the zwvl exporter answers on the host's address; both services run as zwvl, not root
    metrics = requests.get(f"http://{m.address}:9479/metrics", timeout=120).text
    assert re.search(r"^zwvl_up 1", metrics, re.M), metrics[-2000:]
    for unit in ("zwvl-exporter", "zwvl-alert-relay"):
        pid = lab.ssh(f"systemctl show -P MainPID {unit}").strip()
        assert pid not in ("", "0"), unit
        assert lab.ssh(f"ps -o user= -p {pid}").strip() == "zwvl", unit
        unit_text = lab.ssh(f"systemctl cat {unit}")
        assert lab.exporter_token not in unit_text and lab.relay_token not in unit_text
        assert "ProtectSystem=strict" in unit_text and "NoNewPrivileges=yes" in unit_text
    assert "127.0.0.1:9096" in lab.ssh("ss -Hltn")
    assert lab.ssh("id -u zwvl").strip() != "0"
    for name, token in (("exporter", lab.exporter_token), ("alert-relay", lab.relay_token)):
        assert lab.ssh(f"stat -c '%U %G %a' /etc/zwvl/{name}.env").split() == ["root", "root", "600"]
        assert f"RT_TOKEN={token}" in lab.ssh(f"cat /etc/zwvl/{name}.env")
    # the service user cannot read the tokens (systemd reads them as root)
    assert "Permission denied" in lab.ssh(
        "setpriv --reuid zwvl --regid zwvl --clear-groups cat /etc/zwvl/exporter.env 2>&1", check=False
    )


def test_ansible_lint_production_profile() -> None:
    assert_lint_production(
        "monitoring.yml", "roles/prometheus_server", "roles/prometheus_alertmanager",
        "roles/prometheus_blackbox_exporter", "roles/prometheus_frr_exporter", "roles/zwvl_exporter",
    )  # fmt: skip
