"""A PostgreSQL database with its owner, closed to PUBLIC."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from psycopg import sql

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from zwvl.platform.providers.dynamic import DynamicResource, inputs_of
from zwvl.platform.providers.postgres.base import USER_TABLES, PgArgs, PgProvider, listed


class DatabaseProvider(PgProvider):
    """A database with its owner; CONNECT and TEMPORARY are revoked from PUBLIC (`public_access`).

    Deleting refuses a database that holds any user table, naming them (nothing is dropped):
    destroying a partner's data needs intent, so its tables must be dropped (or moved) first.
    """

    managed = ("conn", "name", "owner", "public_access")
    kind = "database"
    replace_on = ("name",)
    refuse_replace = ("name",)  # a rename (or a namePrefix change) would drop the data

    def _outs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return dict(inputs_of(props, ("conn", "name", "owner")), public_access=[])

    def _fix(self, conn: Mapping[str, Any], name: str, owner: str) -> None:
        """The owner, and PUBLIC's access revoked (as the owner: only it may grant and revoke)."""
        with self.connect(conn) as c:
            old = self.one(c, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", name)
            alter = sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(name), sql.Identifier(owner)
            )
            self.change_owner(c, alter, str(old), owner)
            with self.as_owner(c, owner):
                c.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))

    def create(self, props: dict[str, Any]) -> CreateResult:
        name, owner = props["name"], props["owner"]
        create = sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner))
        with self.connect(props["conn"]) as c:
            self.ensure_member(c, owner)  # PG 15: only a member of the owner may create for it
            c.execute(create)
        self._fix(props["conn"], name, owner)
        return CreateResult(name, self._outs(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        row = self.first_row(
            props["conn"],
            "SELECT pg_get_userbyid(datdba), "
            "ARRAY(SELECT a.privilege_type FROM aclexplode(COALESCE(datacl, acldefault('d', datdba))) a "
            "      WHERE a.grantee = 0 ORDER BY 1) "
            "FROM pg_database WHERE datname = %s",
            id_,
        )
        if row is None:
            return ReadResult(None, {})
        return ReadResult(id_, dict(self._outs(props), name=id_, owner=row[0], public_access=list(row[1])))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._fix(news["conn"], id_, news["owner"])
        return UpdateResult(self._outs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if not self.database_exists(props["conn"], id_):
            return
        with self.connect(props["conn"], id_) as c:
            tables = [str(r[0]) for r in c.execute(USER_TABLES).fetchall()]
        if tables:
            raise RuntimeError(
                f"database {id_} holds {len(tables)} table(s) ({listed(tables)}): not dropped. Destroying "
                "its data needs intent: drop or move those tables first (a protected database also "
                "needs `pulumi state unprotect`)"
            )
        with self.connect(props["conn"]) as c:
            owner = self.one(c, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", id_)
            with self.as_owner(c, str(owner)):  # only its owner may drop it
                c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(id_)))


@dataclass(kw_only=True)
class DatabaseArgs(PgArgs):
    name: str
    owner: pulumi.Input[str]

    def props(self) -> dict[str, Any]:
        return dict(super().props(), public_access=[])


class Database(DynamicResource[DatabaseArgs]):
    provider_type = DatabaseProvider
    name: pulumi.Output[str]
    owner: pulumi.Output[str]
