"""The Ansible roles against real servers: systemd-nspawn machines booting a Debian 12 image, each in
its own network namespace (devtools.nspawn), reached over SSH like any server.

The hosts are the devices the domain model runs the services on (lei-rdc-srv01/02); the test plays
NetBox's part by writing the inventory with the machines' addresses. Each playbook: a first run
that changes things, a second run with changed=0, a meaningful --check --diff, then the services are
used from the host: PostgreSQL over TLS only (a certificate from a region CA, verified), both
exporters, RT over HTTPS (nginx, a region-CA certificate; HTTP only redirects) with an auth token
made on the host, and the uniform SLA in Brussels business hours.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
import yaml

from devtools import nspawn
from devtools.region_ca import ensure_ca
from tests.platform.ansible_lab import SSH_ARGS, assert_lint_production, play, ssh
from tests.platform.harness import Applier, run_program
from zwvl.inventory import Inventory
from zwvl.platform.providers import rt
from zwvl.platform.sla import due_dates

pytestmark = pytest.mark.integration

SERVICES_ON = {"lei-rdc-srv01": ["data-platform"], "lei-rdc-srv02": ["helpdesk"]}


class Lab:
    def __init__(self, root: Path, machines: dict[str, nspawn.Machine], key: Path) -> None:
        self.root, self.machines, self.key = root, machines, key
        self.pg_password = secrets.token_urlsafe(18)
        self.rt_password = secrets.token_urlsafe(18)
        self.inventory = root / "inventory.yml"
        # what NetBox gives each server: its address and the services it runs (service-groups.yml)
        hosts = {
            name: {
                "ansible_host": m.address,
                "primary_ip4": f"{m.address}/{m.prefixlen}",
                "services": [{"name": s} for s in SERVICES_ON.get(name, [])],
            }
            for name, m in machines.items()
        }
        self.inventory.write_text(
            yaml.safe_dump(
                {
                    "all": {
                        "hosts": hosts,
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

    def ssh(self, machine: nspawn.Machine, command: str) -> str:
        return ssh(self.key, machine.address, command, timeout=120)

    def play(
        self,
        playbook: str,
        *args: str,
        extra: dict[str, Any] | None = None,
        env_override: dict[str, str] | None = None,
        expect_failure: bool = False,
    ) -> tuple[str, dict[str, int]]:
        env = {"ZWVL_PG_ADMIN_PASSWORD": self.pg_password, "ZWVL_RT_PASSWORD": self.rt_password}
        env.update(env_override or {})
        return play(
            playbook, *args, inventory=self.inventory, workdir=self.root, extra=extra or {}, env=env,
            timeout=1200, expect_failure=expect_failure,
        )  # fmt: skip


def metrics(url: str, attempts: int = 30) -> str:
    """An exporter's metrics page (a restarted exporter may need a moment to listen)."""
    for _ in range(attempts):
        try:
            resp = requests.get(url, timeout=30)
            if resp.status_code == 200:
                return resp.text
        except requests.ConnectionError:
            pass
        time.sleep(1)
    raise AssertionError(f"{url} did not answer")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[Lab]:
    from tests.platform.conftest import _progress

    if os.geteuid() != 0:
        pytest.fail("the nspawn lab needs root (network namespaces, systemd-nspawn)")
    image = nspawn.ensure_image(lambda m: _progress(pytestconfig, m))
    root = tmp_path_factory.mktemp("lab")
    key = root / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    tag = os.getpid() % 1000
    subnet = 200 + os.getpid() % 50
    machines: dict[str, nspawn.Machine] = {}
    try:
        for i, name in enumerate(("lei-rdc-srv01", "lei-rdc-srv02")):
            machines[name] = nspawn.start_machine(
                image,
                name,
                netns=f"zwp{tag}-{i + 1}",
                host_address=f"169.254.{subnet}.{4 * i + 1}",
                address=f"169.254.{subnet}.{4 * i + 2}",
                prefixlen=30,
                authorized_key=(key.with_suffix(".pub")).read_text(),
                workdir=root / name,
                progress=lambda m: _progress(pytestconfig, m),
            )
        yield Lab(root, machines, key)
    finally:
        for m in machines.values():
            nspawn.stop_machine(m)


def test_data_platform_playbook(lab: Lab) -> None:
    db = lab.machines["lei-rdc-srv01"]
    # the region CA issues the host's certificate for its address; the playbook installs it
    ca = ensure_ca(lab.root / "region-ca")
    cert = ca.issue("lei-rdc-srv01", ips=[db.address])
    extra = {
        "postgresql_hba_networks": [db.network],
        "data_platform_tls_cert": str(cert.chain),
        "data_platform_tls_key": str(cert.key),
        "data_platform_ca_file": str(ca.cert),
    }
    out, changed = lab.play("data-platform.yml", extra=extra)
    assert changed["lei-rdc-srv01"] > 0, out[-3000:]
    # idempotent: a second run changes nothing, and neither does --check --diff
    out, changed = lab.play("data-platform.yml", extra=extra)
    assert changed["lei-rdc-srv01"] == 0, out[-3000:]
    out, changed = lab.play("data-platform.yml", "--check", "--diff", extra=extra)
    assert changed["lei-rdc-srv01"] == 0, out[-3000:]
    # --check --diff shows what a new client network would change, without changing it
    more = dict(extra, postgresql_hba_networks=[db.network, "192.0.2.0/24"])
    out, changed = lab.play("data-platform.yml", "--check", "--diff", extra=more)
    # the template and the reload it would notify
    assert changed["lei-rdc-srv01"] == 2 and "+hostssl  all       all   192.0.2.0/24" in out, out[-3000:]
    assert "192.0.2.0/24" not in lab.ssh(db, "cat /etc/postgresql/15/main/pg_hba.conf")  # check mode only

    # the key is the server's alone
    assert lab.ssh(db, "stat -c '%U %a' /etc/postgresql/15/main/tls/server.key").split() == [
        "postgres",
        "600",
    ]

    # TLS only from the network (verified: the region CA, the host's address), SCRAM, as the
    # provisioning role Pulumi uses, which is no superuser
    tls = f"sslmode=verify-full sslrootcert={ca.cert}"
    dsn = f"host={db.address} port=5432 dbname=postgres user=zwvl_provisioner password={lab.pg_password}"
    with psycopg.connect(f"{dsn} {tls}", connect_timeout=10) as c:
        row = c.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
        assert row is not None and row[0] is True and row[1] in ("TLSv1.2", "TLSv1.3")
        attrs = c.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolinherit FROM pg_roles "
            "WHERE rolname = current_user"
        ).fetchone()
        assert attrs == (False, True, True, False)
    with pytest.raises(psycopg.OperationalError, match="pg_hba.conf rejects connection .* no encryption"):
        psycopg.connect(dsn + " sslmode=disable", connect_timeout=10)
    other = ensure_ca(lab.root / "other-ca", name="Some other CA")
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(f"{dsn} sslmode=verify-full sslrootcert={other.cert}", connect_timeout=10)

    # both exporters answer on the host's address; the postgres exporter reaches the database
    assert re.search(r"^pg_up 1", metrics(f"http://{db.address}:9187/metrics"), re.M)
    assert "node_uname_info" in metrics(f"http://{db.address}:9100/metrics")

    # and Pulumi's data-platform program provisions through it (then destroys what it made)
    applier = Applier({"pgAdminPassword": lab.pg_password})
    run_program(
        "data-platform",
        applier,
        {"pgHost": db.address, "pgPort": "5432", "pgAdminUser": "zwvl_provisioner",
         "pgSslRootCert": str(ca.cert), "namePrefix": "zwvl_plat_lab_"},
    )  # fmt: skip
    try:
        reader = applier.resources["kortrijk-reader-password"].outputs["result"]
        rdsn = (
            f"host={db.address} dbname=zwvl_plat_lab_kortrijk user=zwvl_plat_lab_kortrijk_reader "
            f"password={reader}"
        )
        with psycopg.connect(f"{rdsn} {tls}", connect_timeout=10) as c:
            assert c.execute("SELECT current_user").fetchone() == ("zwvl_plat_lab_kortrijk_reader",)
        # the partner's data, loaded by its owner, is not the provisioner's to read
        owner = applier.resources["kortrijk-owner-password"].outputs["result"]
        odsn = (
            f"host={db.address} dbname=zwvl_plat_lab_kortrijk user=zwvl_plat_lab_kortrijk_owner "
            f"password={owner}"
        )
        with psycopg.connect(f"{odsn} {tls}", connect_timeout=10, autocommit=True) as c:
            c.execute("CREATE TABLE facts (n int); INSERT INTO facts VALUES (1)")
        pdsn = dsn.replace("dbname=postgres", "dbname=zwvl_plat_lab_kortrijk")
        try:
            denied = pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for table")
            with psycopg.connect(f"{pdsn} {tls}", connect_timeout=10) as c, denied:
                c.execute("SELECT n FROM facts")
        finally:
            with psycopg.connect(f"{odsn} {tls}", connect_timeout=10, autocommit=True) as c:
                c.execute("DROP TABLE facts")  # a database holding a table is never dropped
    finally:
        applier.destroy()


def test_helpdesk_playbook(lab: Lab, inventory: Inventory) -> None:
    assert inventory.helpdesk is not None
    hd = lab.machines["lei-rdc-srv02"]
    # the machine's server certificate from the region CA, where helpdesk.yml looks for it
    ca = ensure_ca(lab.root / "region-ca")
    tls = lab.root / "tls"
    issued = ca.issue("lei-rdc-srv02", ips=[hd.address], out_dir=tls)
    issued.chain.replace(tls / "lei-rdc-srv02.pem")  # the certificate followed by the CA's
    extra = {"helpdesk_tls_dir": str(tls)}

    # no root password: the play fails with a clear message before it changes anything on the host
    out, _ = lab.play("helpdesk.yml", extra=extra, env_override={"ZWVL_RT_PASSWORD": ""}, expect_failure=True)
    assert "ZWVL_RT_PASSWORD is not set" in out, out[-3000:]
    assert "changed=0" in out and "Install Request Tracker" not in out, out[-3000:]
    # (the image holds the packages already): no rt-server service, no helpdesk site, no key
    untouched = (
        "test -e /etc/systemd/system/rt-server.service -o -e /etc/nginx/sites-available/zwvl-helpdesk.conf"
    )
    assert (
        lab.ssh(hd, f"if {untouched} -o -e /etc/ssl/private/zwvl-helpdesk.key; then echo changed; fi") == ""
    )

    out, changed = lab.play("helpdesk.yml", extra=extra)
    assert changed["lei-rdc-srv02"] > 0, out[-3000:]
    out, changed = lab.play("helpdesk.yml", extra=extra)
    assert changed["lei-rdc-srv02"] == 0, out[-3000:]
    out, changed = lab.play("helpdesk.yml", "--check", "--diff", extra=extra)
    assert changed["lei-rdc-srv02"] == 0, out[-3000:]

    # rt-server only on the loopback; nginx outside: HTTPS verified by the region CA, HTTP redirects
    listening = lab.ssh(hd, "ss -Hltn")
    assert "127.0.0.1:8080" in listening and f"{hd.address}:8080" not in listening, listening
    assert lab.ssh(hd, "stat -c '%a %U' /etc/ssl/private/zwvl-helpdesk.key").split() == ["600", "root"]
    url = f"https://{hd.address}"
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, verify=True, timeout=30)  # the system's CAs do not know the region CA
    redirect = requests.get(f"http://{hd.address}/REST/2.0/queues/all", allow_redirects=False, timeout=30)
    assert redirect.status_code == 301 and redirect.headers["Location"] == f"{url}/REST/2.0/queues/all"
    assert requests.get(f"{url}/REST/2.0/queues/all", verify=str(ca.cert), timeout=60).status_code == 401

    # an admin makes Pulumi's token on the host, the role's way; the client uses it, never a password
    token = lab.ssh(hd, "zwvl-rt-token zwvl-pulumi 'lab test'").strip()
    client = rt.RtClient(url, token=token, ca_file=str(ca.cert))
    # a queue created without SLADisabled: 0 has its SLA off (RT 5.0.3); the role switches it on
    client.create("queue", {"Name": "Lab queue"})
    assert (client.get("/queue/Lab queue") or {})["SLADisabled"] == "1"
    out, changed = lab.play("helpdesk.yml", "--check", "--diff", extra=extra)
    assert changed["lei-rdc-srv02"] == 1 and "SLA enabled on queue Lab queue" in out
    out, changed = lab.play("helpdesk.yml", extra=extra)
    assert changed["lei-rdc-srv02"] == 1
    assert (client.get("/queue/Lab queue") or {})["SLADisabled"] == "0"

    # the exporter's account reads, and may not write
    reader = rt.RtClient(
        url, token=lab.ssh(hd, "zwvl-rt-token zwvl-exporter 'lab test'").strip(), ca_file=str(ca.cert)
    )
    assert reader.get("/queue/Lab queue") is not None
    assert reader.request("POST", "/queue", {"Name": "not allowed"}).status_code in (400, 403)

    # the deployed %ServiceAgreements: a ticket gets the default SLA's acknowledge deadline in Brussels
    # business hours (AssumeOutsideActor: created by a service account for a requester)
    tid = client.create_ticket(
        inventory.helpdesk, queue="Lab queue", subject="lab", requestor="lab@example.com"
    )
    ticket = client.get(f"/ticket/{tid}") or {}
    created = dt.datetime.fromisoformat(ticket["Created"].replace("Z", "+00:00"))
    assert ticket["SLA"] == inventory.helpdesk.default_sla
    # RT applies the SLA a moment after it stamps Created (seen: a second later, over a minute's edge),
    # so the deadline is that of a start between Created and a few seconds after it
    earliest, _resolve = due_dates(inventory.helpdesk, inventory.helpdesk.default_sla, created)
    latest, _resolve = due_dates(
        inventory.helpdesk, inventory.helpdesk.default_sla, created + dt.timedelta(seconds=5)
    )
    assert earliest <= dt.datetime.fromisoformat(ticket["Due"].replace("Z", "+00:00")) <= latest
    assert "node_uname_info" in metrics(f"http://{hd.address}:9100/metrics")


def test_ansible_lint_production_profile() -> None:
    assert_lint_production(
        "data-platform.yml", "helpdesk.yml", "vars/helpdesk.yml",
        "roles/postgresql", "roles/request_tracker", "roles/prometheus_exporters",
    )  # fmt: skip
