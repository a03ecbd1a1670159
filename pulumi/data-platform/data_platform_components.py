"""The data platform's ComponentResources: the platform-wide part, one per shared dataset, one per
partner. Each owns its PostgreSQL resources (from the provider library `zwvl.platform.providers`),
which keep the names (and, through `child_opts`' alias, the URNs) they had before they were grouped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
from zwvl.platform import plan
from zwvl.platform.providers import postgres as pg
from zwvl.platform.stack import child_opts


@dataclass
class DataPlatform:
    """The data platform's resources by key, as the components declared them."""

    roles: dict[str, pg.Role] = field(default_factory=dict)
    passwords: dict[str, pg.Password] = field(default_factory=dict)
    databases: dict[str, pg.Database] = field(default_factory=dict)
    schemas: dict[str, pg.Schema] = field(default_factory=dict)
    grants: dict[str, pg.Grant] = field(default_factory=dict)
    memberships: dict[str, pg.Membership] = field(default_factory=dict)
    tables: dict[str, pg.Table] = field(default_factory=dict)
    components: dict[str, pulumi.ComponentResource] = field(default_factory=dict)


class _PgComponent(pulumi.ComponentResource):
    """A component declaring PostgreSQL resources on one server as its children, into `out`."""

    def __init__(
        self, type_: str, name: str, conn: pg.Conn, out: DataPlatform, opts: pulumi.ResourceOptions | None
    ) -> None:
        super().__init__(type_, name, None, opts)
        self.conn = conn
        self.out = out
        out.components[name] = self

    def role(self, key: str, name: str) -> pg.Role:
        """A group role (no login)."""
        role = pg.Role(key, pg.RoleArgs(conn=self.conn, name=name, login=False), child_opts(self))
        self.out.roles[key] = role
        return role

    def login_role(self, key: str, name: str) -> pg.Role:
        """A login role with a generated password."""
        pw = pg.Password(f"{key}-password", pg.PasswordArgs(), child_opts(self))
        self.out.passwords[key] = pw
        args = pg.RoleArgs(conn=self.conn, name=name, login=True, password=pw.result)
        role = pg.Role(key, args, child_opts(self))
        self.out.roles[key] = role
        return role

    def database(self, key: str, name: str, owner: pg.Role, protect: bool = False) -> pg.Database:
        """`protect`: Pulumi refuses to delete it (destroying a partner's data needs intent)."""
        args = pg.DatabaseArgs(conn=self.conn, name=name, owner=owner.name)
        opts = pulumi.ResourceOptions.merge(child_opts(self), pulumi.ResourceOptions(protect=protect))
        db = self.out.databases[key] = pg.Database(key, args, opts)
        return db

    def schema(self, key: str, database: pg.Database, name: str, owner: pg.Role) -> pg.Schema:
        args = pg.SchemaArgs(conn=self.conn, database=database.name, name=name, owner=owner.name)
        schema = self.out.schemas[key] = pg.Schema(key, args, child_opts(self))
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
        depends_on: Sequence[pulumi.Resource] | None = None,
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
        self.out.grants[key] = pg.Grant(key, args, child_opts(self, depends_on))

    def read_grants(
        self,
        key: str,
        role: pg.Role,
        database: pg.Database,
        schema: pulumi.Input[str],
        owner: pg.Role,
        depends_on: Sequence[pulumi.Resource] | None = None,
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
            plan.READER_TABLE_PRIVILEGES,
            schema=schema,
            owner=owner,
            depends_on=depends_on,
        )

    def member_of_dataset(self, key: str, dataset: str, member: pg.Role) -> None:
        """`member` reads the dataset (a member of its read role)."""
        read_role = self.out.roles[f"ds-{dataset}-read"].name
        args = pg.MembershipArgs(conn=self.conn, role=read_role, member=member.name)
        self.out.memberships[key] = pg.Membership(key, args, child_opts(self))


class Platform(_PgComponent):
    """The platform-wide part: the platform owner, the shared database the datasets live in, the
    open-data login role, and the loaders' log (dataset freshness) with the monitoring login role
    that reads it and nothing else."""

    def __init__(
        self,
        name: str,
        p: plan.DataPlatformPlan,
        conn: pg.Conn,
        out: DataPlatform,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("zwvl:dataplatform:Platform", name, conn, out, opts)
        self.owner = self.role("platform-owner", p.platform_owner)
        self.shared = self.database("shared", p.shared_database, self.owner)
        self.open_data = self.login_role("open-data", p.open_data_role)
        platform_schema = self.schema("platform", self.shared, plan.PLATFORM_SCHEMA, self.owner)
        table = pg.TableArgs(
            conn=conn,
            database=self.shared.name,
            schema=platform_schema.name,
            name=plan.LOAD_LOG_TABLE,
            owner=self.owner.name,
            columns=list(plan.LOAD_LOG_COLUMNS),
        )
        loads = out.tables["dataset-loads"] = pg.Table("dataset-loads", table, child_opts(self))
        monitoring = self.login_role("monitoring", p.monitoring_role)
        self.read_grants(
            "monitoring", monitoring, self.shared, platform_schema.name, self.owner, depends_on=[loads]
        )
        self.register_outputs({"shared_database": self.shared.name, "open_data_role": self.open_data.name})


class SharedDataset(_PgComponent):
    """A shared dataset: its schema in the shared database and the read role that reads exactly it;
    an open dataset is also read by the open-data role."""

    def __init__(
        self,
        name: str,
        ds: plan.DatasetSchema,
        platform: Platform,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("zwvl:dataplatform:SharedDataset", name, platform.conn, platform.out, opts)
        key = f"ds-{ds.dataset}"
        self.read_role = self.role(f"{key}-read", ds.read_role)
        self.dataset_schema = self.schema(key, platform.shared, ds.schema, platform.owner)
        self.read_grants(
            f"{key}-read", self.read_role, platform.shared, self.dataset_schema.name, platform.owner
        )
        if ds.open_data:
            self.member_of_dataset(f"open-data-in-ds-{ds.dataset}", ds.dataset, platform.open_data)
        self.register_outputs({"schema": self.dataset_schema.name, "read_role": self.read_role.name})


class PartnerDatabase(_PgComponent):
    """A partner's database (`protect=True`: Pulumi never deletes it) with its owner, writer and
    reader login roles (generated passwords), their grants, and the reader's membership in the read
    role of every dataset the partner takes part in."""

    def __init__(
        self,
        name: str,
        p: plan.PartnerDatabase,
        datasets: Sequence[plan.DatasetSchema],
        platform: Platform,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("zwvl:dataplatform:PartnerDatabase", name, platform.conn, platform.out, opts)
        owner = self.login_role(f"{p.partner}-owner", p.owner)
        writer = self.login_role(f"{p.partner}-writer", p.writer)
        reader = self.login_role(f"{p.partner}-reader", p.reader)
        db = self.database(p.partner, p.database, owner, protect=True)
        self.grant(f"{p.partner}-writer-connect", writer, "database", db, ("CONNECT", "TEMPORARY"))
        self.grant(f"{p.partner}-writer-usage", writer, "schema", db, ("USAGE",), schema="public")
        for kind, privileges in (
            ("tables", plan.WRITER_TABLE_PRIVILEGES),
            ("sequences", plan.WRITER_SEQUENCE_PRIVILEGES),
        ):
            key = f"{p.partner}-writer-{kind}"
            self.grant(key, writer, kind, db, privileges, schema="public", owner=owner)
        self.read_grants(f"{p.partner}-reader", reader, db, "public", owner)
        for ds in datasets:
            self.member_of_dataset(f"{p.partner}-reader-in-ds-{ds.dataset}", ds.dataset, reader)
        self.db = db
        self.register_outputs({"database": db.name})
