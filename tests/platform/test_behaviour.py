"""Behaviour of the provisioned services: the programs applied for real (tests/platform/harness.Applier)
to a real PostgreSQL and a real RT 5, then used the way partners and the helpdesk pool use them."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.platform.harness import REPO, Applier, run_program
from tests.platform.services import PgServer, RtServer
from zwvl.exporter.datasets import DatasetFreshnessSource
from zwvl.exporter.model import ModelCache
from zwvl.inventory import Inventory
from zwvl.platform.providers import rt
from zwvl.platform.sla import UnknownSlaError, due_dates

pytestmark = pytest.mark.integration

PREFIX = "zwvl_plat_b_"


def ident(*parts: str) -> str:
    return PREFIX + "_".join(p.replace("-", "_") for p in parts)


# --- data platform ---------------------------------------------------------------------------


class Platform:
    def __init__(self, server: PgServer, applier: Applier) -> None:
        self.server, self.applier = server, applier

    def password(self, key: str) -> str:
        return str(self.applier.resources[f"{key}-password"].outputs["result"])

    def connect(self, key: str, role: str, db: str) -> psycopg.Connection[Any]:
        return psycopg.connect(self.server.dsn(db, user=role, password=self.password(key)), autocommit=True)

    def admin(self, stmt: str, db: str) -> None:
        with psycopg.connect(self.server.dsn(db), autocommit=True) as c:
            c.execute(stmt)


@pytest.fixture(scope="module")
def platform(postgres: PgServer, inventory: Inventory) -> Iterator[Platform]:
    applier = Applier({"pgAdminPassword": postgres.provisioner_password})
    run_program(
        "data-platform",
        applier,
        {
            "pgHost": postgres.host,
            "pgPort": str(postgres.port),
            "pgAdminUser": postgres.provisioner,
            "pgSslRootCert": str(postgres.ca_file),
            "namePrefix": PREFIX,
        },
    )
    p = Platform(postgres, applier)
    # data as its owners would load it: a table per partner database and per dataset schema
    for slug in inventory.partners:
        p.admin(
            f"SET ROLE {ident(slug, 'owner')}; CREATE TABLE public.facts (partner text);"
            f"INSERT INTO public.facts VALUES ('{slug}')",
            ident(slug),
        )
    for ds in inventory.datasets:
        schema = ds.replace("-", "_")
        p.admin(
            f"SET ROLE {ident('platform_owner')}; CREATE TABLE {schema}.obs (dataset text);"
            f"INSERT INTO {schema}.obs VALUES ('{ds}')",
            ident("shared"),
        )
    try:
        yield p
    finally:
        for ds in inventory.datasets:
            p.admin(f"DROP TABLE IF EXISTS {ds.replace('-', '_')}.obs", ident("shared"))
        for slug in inventory.partners:  # a database holding tables is never dropped (nor a schema)
            p.admin("DROP TABLE IF EXISTS public.facts", ident(slug))
        p.admin("DELETE FROM platform.dataset_loads", ident("shared"))  # a load log with rows is kept
        applier.destroy()
        with psycopg.connect(postgres.dsn(), autocommit=True) as c:
            left = c.execute(
                "SELECT rolname FROM pg_roles WHERE rolname LIKE %s UNION ALL "
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                (PREFIX + "%", PREFIX + "%"),
            ).fetchall()
        assert left == [], f"pulumi destroy left {left}"


def can_read(conn_factory: Any, query: str) -> bool:
    try:
        with conn_factory() as c:
            c.execute(query).fetchall()
        return True
    except (psycopg.errors.InsufficientPrivilege, psycopg.OperationalError):
        return False


def test_partner_reader_reads_own_database_only(platform: Platform, inventory: Inventory) -> None:
    partners = sorted(inventory.partners)
    for slug in partners:
        with platform.connect(f"{slug}-reader", ident(slug, "reader"), ident(slug)) as c:
            assert c.execute("SELECT partner FROM public.facts").fetchall() == [(slug,)]
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute("INSERT INTO public.facts VALUES ('x')")
        other = partners[(partners.index(slug) + 1) % len(partners)]
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            platform.connect(f"{slug}-reader", ident(slug, "reader"), ident(other))


def test_the_provisioner_cannot_read_partner_data(platform: Platform, inventory: Inventory) -> None:
    """The role Pulumi provisioned everything as (no superuser, NOINHERIT) is a member of the owner
    roles and may connect to the partners' databases, yet it reads none of their data: a direct
    SELECT on a partner's table, or on a shared dataset, is refused."""
    server = platform.server
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        row = c.execute(
            "SELECT rolsuper, rolinherit, pg_has_role(%s, %s, 'MEMBER') FROM pg_roles WHERE rolname = %s",
            (server.provisioner, ident("kortrijk", "owner"), server.provisioner),
        ).fetchone()
    assert row == (False, False, True)  # a member of the owner, without its privileges
    for slug in sorted(inventory.partners):
        dsn = server.dsn(ident(slug), user=server.provisioner, password=server.provisioner_password)
        with psycopg.connect(dsn, autocommit=True) as c:
            with pytest.raises(
                psycopg.errors.InsufficientPrivilege, match="permission denied for table facts"
            ):
                c.execute("SELECT partner FROM public.facts")
            assert c.execute("SELECT has_table_privilege('public.facts', 'SELECT')").fetchone() == (False,)
    shared = server.dsn(ident("shared"), user=server.provisioner, password=server.provisioner_password)
    with psycopg.connect(shared, autocommit=True) as c:
        for ds in inventory.datasets:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute(f"SELECT dataset FROM {ds.replace('-', '_')}.obs")


def test_partner_writer_writes_own_database(platform: Platform) -> None:
    with platform.connect("waregem-writer", ident("waregem", "writer"), ident("waregem")) as c:
        c.execute("INSERT INTO public.facts VALUES ('written')")
        assert ("written",) in c.execute("SELECT partner FROM public.facts").fetchall()
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        platform.connect("waregem-writer", ident("waregem", "writer"), ident("kortrijk"))


def test_partner_reader_reads_exactly_its_shared_datasets(platform: Platform, inventory: Inventory) -> None:
    for slug in sorted(inventory.partners):
        for ds in inventory.datasets.values():
            query = f"SELECT dataset FROM {ds.slug.replace('-', '_')}.obs"
            allowed = can_read(
                lambda s=slug: platform.connect(f"{s}-reader", ident(s, "reader"), ident("shared")), query
            )
            assert allowed == (slug in ds.partners), (slug, ds.slug)


def test_open_data_role_sees_only_open_datasets(platform: Platform, inventory: Inventory) -> None:
    for ds in inventory.datasets.values():
        query = f"SELECT dataset FROM {ds.slug.replace('-', '_')}.obs"
        allowed = can_read(lambda: platform.connect("open-data", ident("open_data"), ident("shared")), query)
        assert allowed == ds.open_data, ds.slug
    assert {d.slug for d in inventory.datasets.values() if not d.open_data} >= {
        "anpr-cameras",
        "it-operations",
    }
    for slug in inventory.partners:
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            platform.connect("open-data", ident("open_data"), ident(slug))


def test_monitoring_role_reads_the_load_log_only(platform: Platform, inventory: Inventory) -> None:
    """The exporter's dataset freshness source, logged in as the monitoring role, reads the loads the
    platform owner (the loaders) logged; it can neither write the log nor read any dataset."""
    when = dt.datetime(2026, 11, 28, 6, 0, tzinfo=dt.UTC)
    platform.admin(
        f"SET ROLE {ident('platform_owner')}; INSERT INTO platform.dataset_loads VALUES "
        f"('telraam-counts', '{when.isoformat()}', 1200), ('telraam-counts', '2026-11-27T06:00:00Z', 1100)",
        ident("shared"),
    )
    dsn = platform.server.dsn(
        ident("shared"), user=ident("monitoring"), password=platform.password("monitoring")
    )
    source = DatasetFreshnessSource(ModelCache(REPO / "inventory"), dsn)
    assert source.read() == {"telraam-counts": when.timestamp()}
    with platform.connect("monitoring", ident("monitoring"), ident("shared")) as c:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("INSERT INTO platform.dataset_loads VALUES ('x', now(), 1)")
        for ds in inventory.datasets:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute(f"SELECT dataset FROM {ds.replace('-', '_')}.obs")
    for slug in inventory.partners:
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            platform.connect("monitoring", ident("monitoring"), ident(slug))


# --- helpdesk --------------------------------------------------------------------------------

MEMBER = "kortrijk-helpdesk-1"  # in the pool-helpdesk group through the headcount of Kortrijk
DPO = "kortrijk-dpo-1"
PASSWORDS = {MEMBER: secrets.token_urlsafe(12), DPO: secrets.token_urlsafe(12)}  # generated per run


@pytest.fixture(scope="module")
def helpdesk(rt_server: RtServer) -> Iterator[Applier]:
    applier = Applier({"rtToken": rt_server.token, "rtCaFile": str(rt_server.ca_file)})
    host, port = rt_server.url.removeprefix("https://").split(":")
    run_program("helpdesk", applier, {"rtHost": host, "rtPort": port})  # https by default
    for user in (MEMBER, DPO):
        rt_server.set_password(user, PASSWORDS[user])
    try:
        yield applier
    finally:
        applier.destroy()


def ticket(client: rt.RtClient, tid: int) -> dict[str, Any]:
    record = client.get(f"/ticket/{tid}")
    assert record is not None
    return record


def utc(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def within_seconds(got: dt.datetime, want: dt.datetime, late: float = 5) -> bool:
    """RT's deadline, never earlier than the SLA's and at most ``late`` seconds later (RT counts from
    the creation transaction, which a busy RT records after the ticket's Created time)."""
    return dt.timedelta(0) <= got - want <= dt.timedelta(seconds=late)


@pytest.mark.parametrize("sla", [None, "P1-critical", "P2-high"])
def test_ticket_gets_the_uniform_sla_due_dates(
    helpdesk: Applier, rt_server: RtServer, inventory: Inventory, sla: str | None
) -> None:
    assert inventory.helpdesk is not None
    service = rt_server.client()  # a service account
    tid = service.create_ticket(
        inventory.helpdesk,
        queue="Kortrijk",
        subject="Printer on fire",
        requestor="citizen@example.com",
        content="Please help",
        sla=sla,
    )
    t = ticket(service, tid)
    level = sla or inventory.helpdesk.default_sla
    assert t["SLA"] == level
    acknowledge, resolve = due_dates(inventory.helpdesk, level, utc(t["Created"]))
    # RT applies the SLA a moment after it stamps Created: under load its clock may pass a second
    assert within_seconds(utc(t["Due"]), acknowledge), (t["Due"], acknowledge)

    # once the pool member owns it and answers, the resolve deadline is what remains
    member = rt_server.login(MEMBER, PASSWORDS[MEMBER])
    member.call("PUT", f"/ticket/{tid}/take", {})
    member.call(
        "POST", f"/ticket/{tid}/correspond", {"Content": "On it", "ContentType": "text/plain"}, ok=(201,)
    )
    due = utc(ticket(service, tid)["Due"])
    assert within_seconds(due, resolve), (due, resolve)


def test_pool_member_takes_tickets_in_every_partner_queue(
    helpdesk: Applier, rt_server: RtServer, inventory: Inventory
) -> None:
    assert inventory.helpdesk is not None
    service = rt_server.client()
    member = rt_server.login(MEMBER, PASSWORDS[MEMBER])
    dpo = rt_server.login(DPO, PASSWORDS[DPO])
    queues = [p.helpdesk.queue for p in inventory.partners.values() if p.helpdesk]
    assert len(queues) == len(inventory.partners)
    for queue in queues:
        tid = service.create_ticket(
            inventory.helpdesk,
            queue=queue,
            subject=f"Password reset in {queue}",
            requestor="employee@example.com",
            custom_fields={"ITIL category": "service-request"},
        )
        assert ticket(service, tid)["SLA"] == inventory.helpdesk.default_sla
        # a DPO may read the ticket but not own it; the helpdesk pool member takes it
        assert ticket(dpo, tid)["Subject"].startswith("Password reset")
        assert dpo.call("PUT", f"/ticket/{tid}/take", {}) == ["That user may not own tickets in that queue"]
        member.call("PUT", f"/ticket/{tid}/take", {})
        assert ticket(service, tid)["Owner"]["id"] == MEMBER, queue
        fields = {cf["name"]: cf["values"] for cf in ticket(service, tid)["CustomFields"]}
        assert fields["ITIL category"] == ["service-request"]


def test_unknown_sla_rejected_before_reaching_rt(
    helpdesk: Applier, rt_server: RtServer, inventory: Inventory
) -> None:
    assert inventory.helpdesk is not None
    service = rt_server.client()
    before = service.call("POST", "/tickets?per_page=1", [{"field": "id", "operator": ">", "value": 0}])[
        "total"
    ]
    with pytest.raises(UnknownSlaError, match="P9-bogus"):
        service.create_ticket(
            inventory.helpdesk, queue="Menen", subject="x", requestor="c@example.com", sla="P9-bogus"
        )
    after = service.call("POST", "/tickets?per_page=1", [{"field": "id", "operator": ">", "value": 0}])[
        "total"
    ]
    assert after == before
