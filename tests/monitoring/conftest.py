"""The monitoring stack the tests run: a small fibre lab (zwvl.lab) with prometheus-frr-exporter on
each router, PostgreSQL with the data platform provisioned by its Pulumi program, Request Tracker 5
provisioned by the helpdesk program (both programs applied for real by tests/platform/harness.Applier),
the session's NetBox filled with the region (tests/conftest.py), the zwvl exporter reading all of
them, Prometheus with the repository's rules (short intervals) finding the routers through the
exporter's HTTP service discovery from NetBox, and Alertmanager with the generated configuration.
Everything is started here and stopped by PID."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
import yaml

from tests.monitoring import labkit
from tests.monitoring.promql import RULES_DIR
from tests.monitoring.services import (
    Alertmanager,
    Postgres,
    Prometheus,
    free_port,
    start,
    start_alertmanager,
    start_postgres,
    start_prometheus,
    wait_until,
    webhook_sink,
)
from tests.platform.harness import Applier, run_program
from tests.platform.services import RtServer, start_rt, stop_rt
from zwvl.inventory import Inventory, load_inventory
from zwvl.lab import Lab, LabSpec
from zwvl.platform.plan import ITIL_CATEGORY_FIELD, data_platform_plan
from zwvl.platform.providers import rt as rtapi

REPO = Path(__file__).resolve().parents[2]
CATEGORY_FIELD = ITIL_CATEGORY_FIELD
STALE_DATASET = "anpr-cameras"  # loaded three days ago in the test data platform: stale
DP_PREFIX = "dp_"  # the programs' default: the cluster is this session's own
SCRAPE = "2s"
ZWVL_SCRAPE = "5s"
EVALUATE = "1s"
FRR_EXPORTER = "/usr/bin/prometheus-frr-exporter"
SD_TEST_ADDRESSES = r"127\..*"  # devices a test adds to NetBox get loopback addresses: kept, never routed
# A test-only SLA level in the test RT (beside the region's uniform set, rendered by the role's own
# template): its acknowledge deadline is 3 seconds after creation, so RT itself gives a ticket a due
# date that passes during the tests. The region's shortest is P1-critical: 30 real minutes.
BREACH_SLA = "T0-breach-test"
BREACH_SECONDS = 3


@pytest.fixture(scope="session")
def inv() -> Inventory:
    return load_inventory(REPO / "inventory")


@pytest.fixture(scope="session")
def lab(inv: Inventory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, LabSpec]]:
    """Four routers of the region in the lab's own runtime, OSPF converged."""
    base = tmp_path_factory.mktemp("lab")
    the_lab = Lab(f"mon{os.getpid() % 100000}", base=base)
    spec = labkit.spec_from_inventory(inv)
    try:
        the_lab.up(spec)
        labkit.configure_ospf(the_lab, spec)
        labkit.wait_full(the_lab, spec)
        yield the_lab, spec
    finally:
        the_lab.down()


@pytest.fixture(scope="session")
def frr_exporters(
    lab: tuple[Lab, LabSpec], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, int]]:
    """prometheus-frr-exporter (Debian) for each lab router, as the role runs it on a router: reading
    FRR's sockets (here the router's own /run/frr, in its folder) with the OSPF collector; each on a
    loopback port of the host. Yields router -> port."""
    the_lab, spec = lab
    folder = tmp_path_factory.mktemp("frr-exporters")
    procs, ports = [], {}
    try:
        for name in sorted(spec.routers):
            ports[name] = free_port()
            argv = [
                FRR_EXPORTER,
                f"--frr.socket.dir-path={the_lab.router_folder(name) / 'run/frr'}",
                f"--web.listen-address=127.0.0.1:{ports[name]}",
                "--no-collector.bgp",
                "--no-collector.bfd",
            ]
            procs.append(start(f"frr-exporter-{name}", argv, folder / f"{name}.log"))
        for name, port in ports.items():
            wait_until(
                lambda p=port: "frr_ospf_neighbor_adjacencies"
                in requests.get(f"http://127.0.0.1:{p}/metrics", timeout=5).text,
                30,
                f"prometheus-frr-exporter of {name}",
            )
        yield ports
    finally:
        for proc in procs:
            proc.stop()


def frr_scrape_job(sd_url: str, ports: dict[str, int]) -> dict[str, Any]:
    """The frr job as production has it (targets from NetBox through the exporter's /sd/frr), kept to
    the lab's routers and the devices tests add at loopback addresses, each lab router's address
    pointed at its exporter's port (its NetBox loopback lives inside the lab's namespaces)."""
    routers = "|".join(sorted(ports))
    relabel: list[dict[str, Any]] = [
        {
            "source_labels": ["device", "__address__"],
            "regex": f"({routers});.*|.*;{SD_TEST_ADDRESSES}",
            "action": "keep",
        }
    ]
    relabel += [
        {
            "source_labels": ["device"],
            "regex": name,
            "target_label": "__address__",
            "replacement": f"127.0.0.1:{port}",
        }
        for name, port in sorted(ports.items())
    ]
    return {
        "job_name": "frr",
        "http_sd_configs": [{"url": sd_url, "refresh_interval": "2s"}],
        "relabel_configs": relabel,
    }


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    pg = start_postgres()
    try:
        yield pg
    finally:
        pg.stop()


@pytest.fixture(scope="session")
def data_platform(postgres: Postgres, inv: Inventory) -> str:
    """The data platform as its Pulumi program provisions it (the load log `platform.dataset_loads`
    and the monitoring role included), with loads logged by the platform owner as the loaders would;
    returns the DSN the exporter uses: the shared database as the monitoring role."""
    run_program(
        "data-platform",
        Applier({}),  # trust authentication (over TLS, verified against the cluster's CA): no password
        {
            "pgHost": postgres.host,
            "pgPort": str(postgres.port),
            "pgAdminUser": "postgres",
            "pgSslRootCert": str(postgres.ca_file),
            "namePrefix": DP_PREFIX,
        },
    )
    plan = data_platform_plan(inv, DP_PREFIX)
    now = dt.datetime.now(dt.UTC)
    with psycopg.connect(postgres.dsn(plan.shared_database), autocommit=True) as conn:
        conn.execute(f"SET ROLE {plan.platform_owner}")
        for slug in sorted(inv.datasets):
            when = now - dt.timedelta(days=3) if slug == STALE_DATASET else now - dt.timedelta(minutes=10)
            conn.execute(
                "INSERT INTO platform.dataset_loads VALUES (%s, %s, 100), (%s, %s, 90)",
                (slug, when, slug, when - dt.timedelta(days=1)),
            )
        conn.execute("INSERT INTO platform.dataset_loads VALUES ('not-in-the-inventory', now(), 1)")
    return postgres.tcp_dsn(plan.shared_database, user=plan.monitoring_role)  # verify-full


@dataclass
class HelpdeskRt:
    """The running RT with the helpdesk provisioned and the test tickets (ids by name)."""

    server: RtServer
    tickets: dict[str, int]
    created: dict[str, dt.datetime]
    exporter_token: str  # of the role's read-only API account zwvl-exporter

    @property
    def url(self) -> str:
        return self.server.url

    def client(self) -> rtapi.RtClient:
        return self.server.client()


# name: (queue, ITIL category or None, SLA or None (the queue's default), status after creation)
TICKETS: dict[str, tuple[str, str | None, str | None, str]] = {
    "kortrijk-outage": ("Kortrijk", "incident", "P1-critical", "new"),
    "kortrijk-breached": ("Kortrijk", "incident", BREACH_SLA, "open"),
    "kortrijk-firewall-change": ("Kortrijk", "change", None, "open"),
    "menen-new-laptop": ("Menen", "service-request", None, "stalled"),
    "menen-uncategorised": ("Menen", None, None, "new"),
    "menen-printer-fixed": ("Menen", "incident", None, "resolved"),
    "general-question": ("General", None, None, "open"),  # RT's own queue: no partner
    "wervik-migration-done": ("Wervik", "change", None, "resolved"),
    "wervik-recurring-fault": ("Wervik", "problem", None, "open"),
    "wervik-fibre-project": ("Wervik", "project", None, "open"),  # a value added in RT by hand
}
UNKNOWN_CATEGORY = "project"  # not one of the inventory's categories: the exporter reports `other`


def utc(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def provision_helpdesk(server: RtServer) -> None:
    """The helpdesk as its Pulumi program provisions it (queues, groups, the ITIL category field), with
    the program's own credentials: the zwvl-pulumi token, RT's certificate verified against the CA."""
    host, port = server.url.removeprefix("https://").split(":")
    run_program(
        "helpdesk",
        Applier({"rtToken": server.token, "rtCaFile": str(server.ca_file)}),
        {"rtHost": host, "rtPort": port},
    )


@pytest.fixture(scope="session")
def rt(inv: Inventory) -> Iterator[HelpdeskRt]:
    """Request Tracker 5 (rt-server, SQLite) as tests/platform starts it, the helpdesk provisioned by
    its Pulumi program (queues with the default SLA, groups, the ITIL category field on every partner
    queue), and tickets created through REST2 the way the helpdesk pool creates them."""
    assert inv.helpdesk is not None
    breach_level = {
        "name": BREACH_SLA,
        "priority": 1,
        "unit": "RealMinutes",
        "business_hours": False,
        "acknowledge_minutes": BREACH_SECONDS / 60,
        "resolve_minutes": BREACH_SECONDS / 60,
        "timezone": inv.helpdesk.timezone,
    }
    server = start_rt(inv, extra_sla_levels=[breach_level])
    try:
        provision_helpdesk(server)
        client = server.client()
        # someone adds a category to the field in RT by hand (the next `pulumi up` would remove it)
        field = client.find("customfield", CATEGORY_FIELD)
        assert field is not None
        client.call("POST", f"/customfield/{field['id']}/value", {"Name": UNKNOWN_CATEGORY}, ok=(201,))
        ids: dict[str, int] = {}
        created: dict[str, dt.datetime] = {}
        for name, (queue, category, sla, status) in TICKETS.items():
            fields = {CATEGORY_FIELD: category} if category is not None else None
            if sla == BREACH_SLA:  # not in the region's set: create_ticket's guard would refuse it
                body = {"Queue": queue, "Subject": name, "Requestor": "citizen@example.com", "SLA": sla}
                tid = int(client.create("ticket", dict(body, CustomFields=fields)))
            else:
                tid = client.create_ticket(
                    inv.helpdesk,
                    queue=queue,
                    subject=name,
                    requestor="citizen@example.com",
                    sla=sla,
                    custom_fields=fields,
                )
            if status != "new":
                client.update("ticket", str(tid), {"Status": status})
            record = client.get(f"/ticket/{tid}")
            assert record is not None and record["Status"] == status, (name, record)
            ids[name] = tid
            created[name] = utc(record["Created"])
        token = server.create_token("zwvl-exporter", "zwvl exporter (monitoring tests)")
        yield HelpdeskRt(server, ids, created, token)
    finally:
        stop_rt(server)


@pytest.fixture(scope="session")
def netbox_state(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("netbox-state")
    drift = folder / "drift.json"
    drift.write_text(
        json.dumps(
            {
                "checked_at": dt.datetime.now(dt.UTC).isoformat(),
                "drift": [
                    {"kind": "dcim.device", "object": "kor-th-rtr01", "fields": {"serial": ["A", "B"]}},
                    {
                        "kind": "dcim.device",
                        "object": "men-th-rtr01",
                        "fields": {"status": ["active", "offline"]},
                    },
                    {"kind": "ipam.ipaddress", "object": "100.126.0.2/32", "fields": {"dns_name": ["", "x"]}},
                ],
            }
        )
    )
    apply = folder / "last-apply.json"
    apply.write_text(json.dumps({"finished_at": dt.datetime.now(dt.UTC).isoformat(), "commit": "0" * 40}))
    return drift, apply


def exporter_argv(port: int, lab: Lab, rt_url: str, dsn: str, drift: Path, apply: Path) -> list[str]:
    """Every source; NetBox (targets and the expected adjacencies) from NETBOX_URL/NETBOX_TOKEN."""
    return [
        sys.executable, "-m", "zwvl", "exporter",
        "--listen", f"127.0.0.1:{port}",
        "--inventory", str(REPO / "inventory"),
        "--frr", f"lab:{lab.name}",
        "--frr-timeout", "10",
        "--drift", f"file:{drift}",
        "--apply-state", str(apply),
        "--rt-url", rt_url,
        "--rt-min-interval", "0",
        "--datasets-dsn", dsn,
        "--from-netbox",
        "--netbox-refresh", "5",
    ]  # fmt: skip


@pytest.fixture(scope="session")
def exporter(
    lab: tuple[Lab, LabSpec],
    rt: HelpdeskRt,
    data_platform: str,
    netbox_state: tuple[Path, Path],
    region_netbox: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The real exporter with every source configured; yields its /metrics URL."""
    the_lab, _ = lab
    port = free_port()
    log = tmp_path_factory.mktemp("exporter") / "exporter.log"
    env = {
        **os.environ,
        "RT_TOKEN": rt.exporter_token,
        "ZWVL_CA_FILE": str(rt.server.ca_file),
        "ZWVL_LAB_DIR": str(the_lab.folder.parent),
        "NETBOX_URL": region_netbox.url,
        "NETBOX_TOKEN": region_netbox.token,
    }
    proc = start("exporter", exporter_argv(port, the_lab, rt.url, data_platform, *netbox_state), log, env)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        wait_until(
            lambda: "zwvl_backbone_adjacency_expected{" in requests.get(url, timeout=30).text,
            90,
            "the exporter",
        )
        yield url
    finally:
        proc.stop()
        text = proc.tail()
        assert "Traceback" not in text, text


def short_rules(dest: Path) -> Path:
    """The repository's rules with test timings: every group evaluated each second, every `for` 2s."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(RULES_DIR.glob("*.yml")):
        doc = yaml.safe_load(path.read_text())
        for group in doc["groups"]:
            group["interval"] = EVALUATE
            for rule in group["rules"]:
                if "for" in rule:
                    rule["for"] = "2s"
        (dest / path.name).write_text(yaml.safe_dump(doc, sort_keys=False))
    return dest


def alertmanager_config(sink_port: int) -> dict[str, Any]:
    doc = yaml.safe_load((REPO / "monitoring/alertmanager/alertmanager.yml").read_text())
    doc["route"].update(group_wait="1s", group_interval="1s", repeat_interval="1h")
    for route in doc["route"]["routes"]:
        route.pop("group_wait", None)
    for receiver in doc["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = hook["url"].replace("http://127.0.0.1:9096", f"http://127.0.0.1:{sink_port}")
    return dict(doc)


@pytest.fixture(scope="session")
def webhooks() -> Iterator[Any]:
    with webhook_sink() as sink:
        yield sink


@pytest.fixture(scope="session")
def alertmanager(webhooks: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alertmanager]:
    folder = tmp_path_factory.mktemp("alertmanager")
    config = folder / "alertmanager.yml"
    config.write_text(yaml.safe_dump(alertmanager_config(webhooks.server_address[1]), sort_keys=False))
    am = start_alertmanager(config, folder / "data", folder / "alertmanager.log")
    try:
        yield am
    finally:
        am.proc.stop()


@contextlib.contextmanager
def running_prometheus(
    folder: Path, exporter: str, frr_ports: dict[str, int], alertmanager: Alertmanager
) -> Iterator[Prometheus]:
    """Prometheus scraping the routers' frr exporters every two seconds and the zwvl exporter every
    five, with the repository's rules and Alertmanager; ready once every target is up and the rules
    have been evaluated; stopped (by PID) on leaving."""
    rules = short_rules(folder / "rules")
    host = exporter.split("/")[2]
    config = {
        "global": {"scrape_interval": SCRAPE, "scrape_timeout": SCRAPE, "evaluation_interval": EVALUATE},
        "rule_files": [str(rules / "*.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager.url.split("//")[1]]}]}]},
        "scrape_configs": [
            # every zwvl scrape asks RT (no --rt-min-interval) and vtysh: more room than 2 s, since a
            # timed-out scrape marks all the exporter's series stale and the alerts on them resolve
            {
                "job_name": "zwvl",
                "scrape_interval": ZWVL_SCRAPE,
                "scrape_timeout": ZWVL_SCRAPE,
                "static_configs": [{"targets": [host]}],
            },
            frr_scrape_job(f"http://{host}/sd/frr", frr_ports),
        ],
    }
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    prom = start_prometheus(path, folder / "data", folder / "prometheus.log")
    want = {("zwvl", host), *(("frr", name) for name in frr_ports)}

    def health() -> dict[tuple[str, str], str]:
        return {(t["labels"]["job"], t["labels"].get("device", host)): t["health"] for t in prom.targets()}

    try:
        # every target scraped (a just-discovered one is "unknown"), and every recording rule
        # evaluated at least once
        wait_until(lambda: health() == dict.fromkeys(want, "up"), 90, "every target scraped and up")
        wait_until(
            lambda: {
                "zwvl_backbone_link_up",
                "frr_ospf_neighbor_adjacencies",
                "zwvl:dataset_age_seconds",
                "zwvl:backbone_circuits_down:count",
            }
            <= prom.names(),
            90,
            "Prometheus to scrape the exporters and evaluate the rules",
        )
        yield prom
    finally:
        prom.proc.stop()


@pytest.fixture(scope="session")
def prometheus(
    exporter: str,
    frr_exporters: dict[str, int],
    alertmanager: Alertmanager,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Prometheus]:
    with running_prometheus(
        tmp_path_factory.mktemp("prometheus"), exporter, frr_exporters, alertmanager
    ) as prom:
        yield prom
