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
