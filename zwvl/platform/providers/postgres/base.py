"""What every PostgreSQL provider shares: the connection (`Conn`, the admin password from the stack or
the environment, never from the state) and the advisory lock that serializes changes per database."""

from __future__ import annotations

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
        password = self.setting("pgAdminPassword", "ZWVL_PG_ADMIN_PASSWORD")
        if password:
            kwargs["password"] = password
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


@dataclass(kw_only=True)
class PgArgs(ResourceArgs):
    """The connection every PostgreSQL resource names (its password is not part of it)."""

    conn: pulumi.Input[Conn]
