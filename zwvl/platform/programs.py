"""The resource graphs of the two Pulumi programs (`pulumi/data-platform`, `pulumi/helpdesk`).

`pulumi/<project>/__main__.py` reads the stack config and calls `data_platform` / `helpdesk`; the
unit tests run those same files under `pulumi.runtime.set_mocks`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pulumi
from zwvl.inventory import Inventory, load_inventory
from zwvl.platform.hosts import service_address
from zwvl.platform.plan import (
    ITIL_CATEGORY_FIELD,
    LOAD_LOG_COLUMNS,
    LOAD_LOG_TABLE,
    PLATFORM_SCHEMA,
    READER_TABLE_PRIVILEGES,
    WRITER_SEQUENCE_PRIVILEGES,
    WRITER_TABLE_PRIVILEGES,
    DataPlatformPlan,
    PartnerDatabase,
    data_platform_plan,
    helpdesk_plan,
)
from zwvl.platform.providers import postgres as pg
from zwvl.platform.providers import rt

REPO = Path(__file__).resolve().parents[2]


def stack_inventory(config: pulumi.Config) -> Inventory:
    """The domain model the stack is built from (`zwvl:inventory`, relative to the repository root)."""
    path = Path(config.get("inventory") or "inventory")
    return load_inventory(path if path.is_absolute() else REPO / path)


# --- data platform ---------------------------------------------------------------------------


@dataclass
class DataPlatform:
    """The data platform's resources by key, as the program declared them."""

    roles: dict[str, pg.Role] = field(default_factory=dict)
    passwords: dict[str, pg.Password] = field(default_factory=dict)
    databases: dict[str, pg.Database] = field(default_factory=dict)
    schemas: dict[str, pg.Schema] = field(default_factory=dict)
    grants: dict[str, pg.Grant] = field(default_factory=dict)
    memberships: dict[str, pg.Membership] = field(default_factory=dict)
    tables: dict[str, pg.Table] = field(default_factory=dict)


class _DataPlatformBuilder:
    """Declares the data platform's resources on one PostgreSQL server into `out`."""

    def __init__(self, conn: pg.Conn) -> None:
        self.conn = conn
        self.out = DataPlatform()

    def role(self, key: str, name: str) -> pg.Role:
        """A group role (no login)."""
        role = pg.Role(key, pg.RoleArgs(conn=self.conn, name=name, login=False))
        self.out.roles[key] = role
        return role

    def login_role(self, key: str, name: str) -> pg.Role:
        """A login role with a generated password."""
        pw = pg.Password(f"{key}-password", pg.PasswordArgs())
        self.out.passwords[key] = pw
        role = pg.Role(key, pg.RoleArgs(conn=self.conn, name=name, login=True, password=pw.result))
        self.out.roles[key] = role
        return role

    def schema(self, key: str, database: pg.Database, name: str, owner: pg.Role) -> pg.Schema:
        args = pg.SchemaArgs(conn=self.conn, database=database.name, name=name, owner=owner.name)
        schema = self.out.schemas[key] = pg.Schema(key, args)
        return schema

    def grant(
        self,
        key: str,
        role: pg.Role,
        kind: str,
        database: pg.Database,
        privileges: tuple[str, ...],
        schema: pulumi.Input[str] | None = None,
        owner: pg.Role | None = None,
        depends_on: list[pulumi.Resource] | None = None,
    ) -> None:
        args = pg.GrantArgs(
            conn=self.conn,
            role=role.name,
            object_type=kind,
            database=database.name,
            schema=schema,
            owner=owner.name if owner is not None else None,
            privileges=list(privileges),
        )
        self.out.grants[key] = pg.Grant(key, args, pulumi.ResourceOptions(depends_on=depends_on or []))

    def read_grants(
        self,
        key: str,
        role: pg.Role,
        database: pg.Database,
        schema: pulumi.Input[str],
        owner: pg.Role,
        depends_on: list[pulumi.Resource] | None = None,
    ) -> None:
        """`role` connects to the database and reads every table of the schema (`<key>-connect`,
        `<key>-usage`, `<key>-tables`)."""
        self.grant(f"{key}-connect", role, "database", database, ("CONNECT",))
        self.grant(f"{key}-usage", role, "schema", database, ("USAGE",), schema=schema)
        self.grant(
            f"{key}-tables",
            role,
            "tables",
            database,
            READER_TABLE_PRIVILEGES,
            schema=schema,
            owner=owner,
            depends_on=depends_on,
        )

    def member_of_dataset(self, key: str, dataset: str, member: pg.Role) -> None:
        """`member` reads the dataset (a member of its read role)."""
        read_role = self.out.roles[f"ds-{dataset}-read"].name
        args = pg.MembershipArgs(conn=self.conn, role=read_role, member=member.name)
        self.out.memberships[key] = pg.Membership(key, args)

    def load_log(self, plan: DataPlatformPlan, shared: pg.Database, owner: pg.Role) -> None:
        """The loaders' log (dataset freshness) and the monitoring role that reads it."""
        platform_schema = self.schema("platform", shared, PLATFORM_SCHEMA, owner)
        table = pg.TableArgs(
            conn=self.conn,
            database=shared.name,
            schema=platform_schema.name,
            name=LOAD_LOG_TABLE,
            owner=owner.name,
            columns=list(LOAD_LOG_COLUMNS),
        )
        loads = self.out.tables["dataset-loads"] = pg.Table("dataset-loads", table)
        monitoring = self.login_role("monitoring", plan.monitoring_role)
        self.read_grants("monitoring", monitoring, shared, platform_schema.name, owner, depends_on=[loads])

    def partner(self, plan: DataPlatformPlan, p: PartnerDatabase) -> None:
        """The partner's database, its owner, writer and reader, and the datasets the reader reads."""
        owner = self.login_role(f"{p.partner}-owner", p.owner)
        writer = self.login_role(f"{p.partner}-writer", p.writer)
        reader = self.login_role(f"{p.partner}-reader", p.reader)
        db = pg.Database(p.partner, pg.DatabaseArgs(conn=self.conn, name=p.database, owner=owner.name))
        self.out.databases[p.partner] = db
        self.grant(f"{p.partner}-writer-connect", writer, "database", db, ("CONNECT", "TEMPORARY"))
        self.grant(f"{p.partner}-writer-usage", writer, "schema", db, ("USAGE",), schema="public")
        for kind, privileges in (
            ("tables", WRITER_TABLE_PRIVILEGES),
            ("sequences", WRITER_SEQUENCE_PRIVILEGES),
        ):
            key = f"{p.partner}-writer-{kind}"
            self.grant(key, writer, kind, db, privileges, schema="public", owner=owner)
        self.read_grants(f"{p.partner}-reader", reader, db, "public", owner)
        for ds in plan.datasets_of(p.partner):
            self.member_of_dataset(f"{p.partner}-reader-in-ds-{ds.dataset}", ds.dataset, reader)


def data_platform(inv: Inventory, conn: pg.Conn, prefix: str = "dp_") -> DataPlatform:
    """Per partner a database with owner/writer/reader login roles; the shared datasets as schemas in
    one shared database, readable by exactly the partners taking part; an open-data login role that
    reads the open datasets only; in the shared database the loaders' log `platform.dataset_loads`,
    readable by the monitoring login role the exporter uses (and nothing else). Passwords are
    generated and kept as Pulumi secrets."""
    plan = data_platform_plan(inv, prefix)
    build = _DataPlatformBuilder(conn)
    platform_owner = build.role("platform-owner", plan.platform_owner)
    shared = pg.Database(
        "shared", pg.DatabaseArgs(conn=conn, name=plan.shared_database, owner=platform_owner.name)
    )
    build.out.databases["shared"] = shared
    open_data = build.login_role("open-data", plan.open_data_role)
    build.load_log(plan, shared, platform_owner)
    for ds in plan.datasets:
        key = f"ds-{ds.dataset}"
        read = build.role(f"{key}-read", ds.read_role)
        schema = build.schema(key, shared, ds.schema, platform_owner)
        build.read_grants(f"{key}-read", read, shared, schema.name, platform_owner)
    for p in plan.partners:
        build.partner(plan, p)
    for ds in plan.open_datasets:
        build.member_of_dataset(f"open-data-in-ds-{ds.dataset}", ds.dataset, open_data)
    return build.out


def data_platform_main() -> None:
    """Entry point of pulumi/data-platform/__main__.py."""
    config = pulumi.Config("zwvl")
    inv = stack_inventory(config)
    conn: pg.Conn = {
        "host": service_address(inv, "data-platform", config.get("pgHost")),
        "port": config.get_int("pgPort") or 5432,
        "user": config.get("pgAdminUser") or "postgres",
        "sslmode": config.get("pgSslmode") or "require",
    }
    dp = data_platform(inv, conn, config.get("namePrefix") or "dp_")
    pulumi.export("host", conn["host"])
    pulumi.export("databases", {k: d.name for k, d in dp.databases.items()})
    pulumi.export("login_roles", {k: r.name for k, r in dp.roles.items() if k in dp.passwords})
    # what the monitoring exporter's --datasets-dsn names (password: passwords["monitoring"])
    pulumi.export("datasets_database", dp.databases["shared"].name)
    pulumi.export("passwords", pulumi.Output.secret({k: p.result for k, p in dp.passwords.items()}))


# --- helpdesk --------------------------------------------------------------------------------


@dataclass
class HelpdeskResources:
    """The helpdesk's resources by key, as the program declared them."""

    queues: dict[str, rt.Queue] = field(default_factory=dict)
    groups: dict[str, rt.Group] = field(default_factory=dict)
    users: dict[str, rt.User] = field(default_factory=dict)
    members: dict[str, rt.GroupMembers] = field(default_factory=dict)
    rights: dict[str, rt.QueueRights] = field(default_factory=dict)
    custom_field: rt.CustomField | None = None
    custom_field_queues: rt.CustomFieldQueues | None = None


def helpdesk(inv: Inventory, url: pulumi.Input[str]) -> HelpdeskResources:
    """A queue per partner with the default SLA; the pool's groups with their members; the ITIL
    category field on every queue; each group's rights on each queue (through RT's admin web
    interface, as REST2 has no rights endpoint)."""
    plan = helpdesk_plan(inv)
    out = HelpdeskResources()
    for q in plan.queues:
        out.queues[q.partner] = rt.Queue(
            f"queue-{q.partner}",
            rt.QueueArgs(url=url, name=q.name, description=q.description, default_sla=plan.default_sla),
        )
    for u in plan.users:
        out.users[u.name] = rt.User(
            f"user-{u.name}", rt.UserArgs(url=url, name=u.name, real_name=u.real_name)
        )
    for g in plan.groups:
        group = rt.Group(f"group-{g.slug}", rt.GroupArgs(url=url, name=g.slug, description=g.description))
        out.groups[g.slug] = group
        out.members[g.slug] = rt.GroupMembers(
            f"members-{g.slug}",
            rt.GroupMembersArgs(url=url, group_id=group.id, members=g.members),
            pulumi.ResourceOptions(depends_on=[out.users[m] for m in g.members]),
        )
    cf = rt.CustomField(
        "cf-itil-category",
        rt.CustomFieldArgs(
            url=url,
            name=ITIL_CATEGORY_FIELD,
            description="ITIL category of the ticket",
            values=plan.categories,
        ),
    )
    out.custom_field = cf
    out.custom_field_queues = rt.CustomFieldQueues(
        "cf-itil-category-queues",
        rt.CustomFieldQueuesArgs(
            url=url, custom_field_id=cf.id, queue_ids=[q.id for q in out.queues.values()]
        ),
    )
    for q in plan.queues:
        grants = [(out.groups[g.slug].id, g.rights) for g in plan.groups]
        out.rights[q.partner] = rt.QueueRights(
            f"rights-{q.partner}",
            rt.QueueRightsArgs(url=url, queue_id=out.queues[q.partner].id, grants=grants),
        )
    return out


def helpdesk_main() -> None:
    """Entry point of pulumi/helpdesk/__main__.py."""
    config = pulumi.Config("zwvl")
    inv = stack_inventory(config)
    url = config.get("rtUrl")
    if not url:
        scheme = config.get("rtScheme") or "https"
        port = config.get_int("rtPort")
        host = service_address(inv, "helpdesk", config.get("rtHost"))
        url = f"{scheme}://{host}" + (f":{port}" if port else "")
    hd = helpdesk(inv, url)
    pulumi.export("url", url)
    pulumi.export("queues", {k: q.id for k, q in hd.queues.items()})
    pulumi.export("groups", {k: g.id for k, g in hd.groups.items()})
