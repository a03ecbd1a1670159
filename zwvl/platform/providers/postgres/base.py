"""What every PostgreSQL provider shares: the connection (`Conn`, the admin password from the stack or
the environment, never from the state), the advisory lock that serializes changes per database, and
acting as an object's owner.

The provisioning role is not a superuser: it has CREATEDB and CREATEROLE, and NOINHERIT, so the roles
it is a member of (it makes itself a member of the owners it creates objects for, which PostgreSQL 15
requires for `CREATE DATABASE ... OWNER` and `CREATE SCHEMA ... AUTHORIZATION`) give it none of their
privileges, hence none of the partners' data. What only an owner may do (ALTER, DROP, GRANT on its
objects) runs under `SET ROLE owner` (`as_owner`), which ends with the call. Connected as a superuser
all of this works the same.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypedDict

import psycopg
from psycopg import sql

import pulumi
from zwvl.platform.providers.dynamic import Provider, ResourceArgs


class Conn(TypedDict, total=False):
    host: str
    port: int
    user: str
    sslmode: str
    sslrootcert: str


# the CA file a verifying client uses when the connection names none
ENV_CA_FILE = "ZWVL_CA_FILE"


# the objects a schema holds, for the refusal to drop it: (kind, name, is a table)
SCHEMA_OBJECTS = (
    "SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' "
    "WHEN 'f' THEN 'foreign table' ELSE 'table' END, c.relname, c.relkind IN ('r', 'p') FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
    "UNION ALL SELECT 'function', p.proname, false FROM pg_proc p "
    "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %(schema)s "
    "UNION ALL SELECT 'type', t.typname, false FROM pg_type t "
    "JOIN pg_namespace n ON n.oid = t.typnamespace "
    "WHERE n.nspname = %(schema)s AND t.typtype IN ('d', 'e', 'r') "
    "ORDER BY 1, 2"
)
# the user tables a database holds, for the refusal to drop it
USER_TABLES = (
    "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p', 'm', 'f') AND n.nspname <> 'information_schema' "
    "AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1"
)


def listed(items: list[str], most: int = 5) -> str:
    """`a, b, c` — at most `most` of them, then how many more."""
    more = f" and {len(items) - most} more" if len(items) > most else ""
    return ", ".join(items[:most]) + more


ADVISORY_LOCK = 0x7A77_6C70  # "zwlp": serializes this provider's changes per database


class PgProvider(Provider):
    def config_keys(self) -> Iterable[str]:
        return ("pgAdminPassword",)

    @contextmanager
    def connect(self, conn: Mapping[str, Any], dbname: str = "postgres") -> Iterator[psycopg.Connection[Any]]:
        kwargs: dict[str, Any] = {
            "host": conn.get("host"),
            "port": int(conn.get("port") or 5432),
            "user": conn.get("user"),
            "dbname": dbname,
            "connect_timeout": 10,
            "application_name": "zwvl-pulumi",
            "autocommit": True,
        }
        if conn.get("sslmode"):
            kwargs["sslmode"] = conn["sslmode"]
        cafile = conn.get("sslrootcert") or os.environ.get(ENV_CA_FILE)
        if cafile:
            kwargs["sslrootcert"] = cafile
        password = self.setting("pgAdminPassword", "ZWVL_PG_ADMIN_PASSWORD")
        if password:
            kwargs["password"] = password
        if dbname != "postgres":
            self.ensure_database_access(conn, dbname)
        with psycopg.connect(**{k: v for k, v in kwargs.items() if v is not None}) as c:
            # Pulumi creates resources in parallel, and concurrent GRANTs on one object fail with
            # "tuple concurrently updated": each provider call holds this database's advisory lock.
            c.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK,))
            try:
                yield c
            finally:
                if not c.closed:
                    c.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK,))

    @staticmethod
    def one(c: psycopg.Connection[Any], query: str, *args: Any) -> Any:
        row = c.execute(query, args).fetchone()
        return None if row is None else row[0]

    def execute(self, conn: Mapping[str, Any], *statements: sql.Composed, dbname: str = "postgres") -> None:
        """Run the statements in order on one connection (holding the database's advisory lock)."""
        with self.connect(conn, dbname) as c:
            for stmt in statements:
                c.execute(stmt)

    def first_row(
        self, conn: Mapping[str, Any], query: str, *args: Any, dbname: str = "postgres"
    ) -> tuple[Any, ...] | None:
        """The first row the query returns, None when it returns none."""
        with self.connect(conn, dbname) as c:
            row: tuple[Any, ...] | None = c.execute(query, args).fetchone()
            return row

    def database_exists(self, conn: Mapping[str, Any], name: str) -> bool:
        with self.connect(conn) as c:
            return bool(self.one(c, "SELECT 1 FROM pg_database WHERE datname = %s", name))

    @staticmethod
    def ensure_member(c: psycopg.Connection[Any], role: str) -> None:
        """Make the session's role a member of `role` unless it is one (or a superuser): what PG 15
        needs to create objects for `role` and to `SET ROLE` to it. A CREATEROLE role may grant
        itself any non-superuser role on PG 15; NOINHERIT keeps the membership from giving it the
        role's privileges."""
        if c.execute(
            "SELECT r.rolsuper OR pg_has_role(session_user, r.oid, 'MEMBER') OR r.rolname = session_user "
            "FROM pg_roles r WHERE r.rolname = %s",
            (role,),
        ).fetchone() in (None, (True,)):
            return
        c.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(role), sql.Identifier(session_user(c))))

    @contextmanager
    def as_owner(self, c: psycopg.Connection[Any], owner: str) -> Iterator[None]:
        """Run statements as `owner` (SET ROLE, then RESET ROLE), becoming a member first if needed."""
        self.ensure_member(c, owner)
        c.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(owner)))
        try:
            yield
        finally:
            if not c.closed:
                c.execute("RESET ROLE")

    def change_owner(self, c: psycopg.Connection[Any], stmt: sql.Composed, old: str, new: str) -> None:
        """Run `ALTER ... OWNER TO new` on an object `old` owns; nothing when the owner is unchanged.

        PostgreSQL lets only a role with the old owner's privileges give an object away, only to a
        role it is a member of (and a database only with CREATEDB, checked on the acting role itself).
        The NOINHERIT provisioner, a member of both, inherits for this one statement: in one
        transaction it is made INHERIT, runs it and is made NOINHERIT again (no other session ever
        sees it INHERIT)."""
        if old == new:
            return
        row = c.execute("SELECT rolsuper, rolinherit FROM pg_roles WHERE rolname = session_user").fetchone()
        if row is None or row[0] or row[1]:
            c.execute(stmt)
            return
        self.ensure_member(c, old)
        self.ensure_member(c, new)
        me = sql.Identifier(session_user(c))
        with c.transaction():
            c.execute(sql.SQL("ALTER ROLE {} INHERIT").format(me))
            c.execute(stmt)
            c.execute(sql.SQL("ALTER ROLE {} NOINHERIT").format(me))

    def holds_rows(self, c: psycopg.Connection[Any], schema: str, table: str) -> bool:
        """Whether the table holds a row, looked at as its owner (the provisioner reads no data). A
        table a superuser owns, which a provisioner cannot act as, counts as holding rows unless its
        storage is empty."""
        row = c.execute(
            "SELECT pg_get_userbyid(c.relowner), o.rolsuper AND NOT s.rolsuper, pg_relation_size(c.oid) > 0 "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_roles o ON o.oid = c.relowner "
            "JOIN pg_roles s ON s.rolname = session_user WHERE n.nspname = %s AND c.relname = %s",
            (schema, table),
        ).fetchone()
        if row is None:
            return False
        if row[1]:
            return bool(row[2])
        with self.as_owner(c, str(row[0])):
            name = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            return c.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(name)).fetchone() is not None

    def ensure_database_access(self, conn: Mapping[str, Any], dbname: str) -> None:
        """Let the session's role connect to `dbname` and create schemas in it (CONNECT, CREATE:
        neither reads any data), granted by the database's owner, unless it can already."""
        with self.connect(conn) as c:
            row = c.execute(
                "SELECT pg_get_userbyid(datdba), has_database_privilege(session_user, oid, 'CONNECT') "
                "AND has_database_privilege(session_user, oid, 'CREATE') FROM pg_database WHERE datname = %s",
                (dbname,),
            ).fetchone()
            if row is None or row[1]:
                return
            with self.as_owner(c, str(row[0])):
                c.execute(
                    sql.SQL("GRANT CONNECT, CREATE ON DATABASE {} TO {}").format(
                        sql.Identifier(dbname), sql.Identifier(session_user(c))
                    )
                )


def session_user(c: psycopg.Connection[Any]) -> str:
    return str(c.execute("SELECT session_user").fetchone()[0])  # type: ignore[index]


@dataclass(kw_only=True)
class PgArgs(ResourceArgs):
    """The connection every PostgreSQL resource names (its password is not part of it)."""

    conn: pulumi.Input[Conn]
