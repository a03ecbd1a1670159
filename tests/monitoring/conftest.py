"""The monitoring stack the tests run: a small fibre lab (zwvl.lab), PostgreSQL, a REST2 stand-in,
the zwvl exporter reading all of them, Prometheus with the repository's rules (short intervals) and
Alertmanager with the generated configuration. Everything is started here and stopped by PID."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Iterator
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
    RtData,
    Ticket,
    free_port,
    rt_server,
    start,
    start_alertmanager,
    start_postgres,
    start_prometheus,
    wait_until,
    webhook_sink,
)
from zwvl.inventory import Inventory, load_inventory
from zwvl.lab import Lab, LabSpec

REPO = Path(__file__).resolve().parents[2]
RT_TOKEN = "test-token-not-a-secret"
CATEGORY_FIELD = "ITIL category"
STALE_DATASET = "anpr-cameras"  # loaded three days ago in the test data platform: stale
SCRAPE = "2s"
EVALUATE = "1s"


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
def postgres() -> Iterator[Postgres]:
    pg = start_postgres()
    try:
        yield pg
    finally:
        pg.stop()


@pytest.fixture(scope="session")
def data_platform(postgres: Postgres, inv: Inventory) -> str:
    """A 'platform' database with the load log the dataset freshness source reads; returns its DSN."""
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE platform")
    dsn = postgres.dsn("platform")
    now = dt.datetime.now(dt.UTC)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA platform")
        conn.execute(
            "CREATE TABLE platform.dataset_loads "
            "(dataset text NOT NULL, loaded_at timestamptz NOT NULL, rows bigint)"
        )
        for slug in sorted(inv.datasets):
            when = now - dt.timedelta(days=3) if slug == STALE_DATASET else now - dt.timedelta(minutes=10)
            conn.execute(
                "INSERT INTO platform.dataset_loads VALUES (%s, %s, 100), (%s, %s, 90)",
                (slug, when, slug, when - dt.timedelta(days=1)),
            )
        conn.execute("INSERT INTO platform.dataset_loads VALUES ('not-in-the-inventory', now(), 1)")
    return dsn


def rt_tickets() -> list[Ticket]:
    past = "2026-01-01T08:00:00Z"
    future = "2999-01-01T08:00:00Z"
    return [
        Ticket(1, "Kortrijk", "open", "incident", past),
        Ticket(2, "Kortrijk", "new", "incident", future),
        Ticket(3, "Kortrijk", "open", "change", past),
        Ticket(4, "Menen", "stalled", "service request", future),
        Ticket(5, "Menen", "resolved", "incident", past),
        Ticket(6, "Menen", "open", None),
        Ticket(7, "General", "open", "Incident", future),
        Ticket(8, "Wervik", "resolved", "change"),
        Ticket(9, "Wervik", "open", "something else"),
    ]


@pytest.fixture(scope="session")
def rt() -> Iterator[tuple[str, RtData]]:
    data = RtData(RT_TOKEN, CATEGORY_FIELD, rt_tickets())
    with rt_server(data) as url:
        yield url, data


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
    ]  # fmt: skip


@pytest.fixture(scope="session")
def exporter(
    lab: tuple[Lab, LabSpec],
    rt: tuple[str, RtData],
    data_platform: str,
    netbox_state: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The real exporter with every source configured; yields its /metrics URL."""
    the_lab, _ = lab
    port = free_port()
    log = tmp_path_factory.mktemp("exporter") / "exporter.log"
    env = {**os.environ, "RT_TOKEN": RT_TOKEN, "ZWVL_LAB_DIR": str(the_lab.folder.parent)}
    proc = start("exporter", exporter_argv(port, the_lab, rt[0], data_platform, *netbox_state), log, env)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        wait_until(lambda: "zwvl_backbone_link_up" in requests.get(url, timeout=30).text, 60, "the exporter")
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
                if "alert" in rule:
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


@pytest.fixture(scope="session")
def prometheus(
    exporter: str, alertmanager: Alertmanager, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prometheus]:
    """Prometheus scraping the exporter every two seconds, with the repository's rules and Alertmanager."""
    folder = tmp_path_factory.mktemp("prometheus")
    rules = short_rules(folder / "rules")
    host = exporter.split("/")[2]
    config = {
        "global": {"scrape_interval": SCRAPE, "scrape_timeout": SCRAPE, "evaluation_interval": EVALUATE},
        "rule_files": [str(rules / "*.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager.url.split("//")[1]]}]}]},
        "scrape_configs": [{"job_name": "zwvl", "static_configs": [{"targets": [host]}]}],
    }
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    prom = start_prometheus(path, folder / "data", folder / "prometheus.log")
    try:
        # scraped, and every recording rule evaluated at least once
        wait_until(
            lambda: {"zwvl_backbone_link_up", "zwvl:dataset_age_seconds", "zwvl:backbone_circuits_down:count"}
            <= prom.names(),
            90,
            "Prometheus to scrape the exporter and evaluate the rules",
        )
        yield prom
    finally:
        prom.proc.stop()
