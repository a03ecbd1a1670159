"""A PostgreSQL role (never a superuser or any other dangerous attribute), with its password."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from psycopg import sql

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from zwvl.platform.providers.dynamic import DynamicResource, inputs_of
from zwvl.platform.providers.postgres.base import PgArgs, PgProvider


class RoleProvider(PgProvider):
    """A role. Safe by construction: never SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS.

    The password cannot be read back from PostgreSQL (only its hash), so a changed password is only
    applied when the input changes; `read` reports the other attributes as they are.
    """

    managed = ("conn", "name", "login", "inherit", "password", "safe")
    kind = "role"
    replace_on = ("name",)
    refuse_replace = ("name",)  # dropping it would drop its grants; a namePrefix change renames all

    def _statement(self, props: Mapping[str, Any], create: bool) -> sql.Composed:
        opts = [
            "LOGIN" if props.get("login") else "NOLOGIN",
            "INHERIT" if props.get("inherit", True) else "NOINHERIT",
            "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
        ]
        stmt = sql.SQL("CREATE ROLE {} " if create else "ALTER ROLE {} ").format(
            sql.Identifier(props["name"])
        )
        stmt += sql.SQL(" ".join(opts))
        if props.get("password"):
            stmt += sql.SQL(" PASSWORD {}").format(sql.Literal(props["password"]))
        elif create or not props.get("login"):
            stmt += sql.SQL(" PASSWORD NULL")
        return stmt

    def create(self, props: dict[str, Any]) -> CreateResult:
        self.execute(props["conn"], self._statement(props, create=True))
        return CreateResult(props["name"], self._outs(props))

    def _outs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        outs = inputs_of(props, ("conn", "name", "login", "password"))
        outs["inherit"] = props.get("inherit", True)
        outs["safe"] = True
        return outs

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        row = self.first_row(
            props["conn"],
            "SELECT rolcanlogin, rolinherit, rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication "
            "OR rolbypassrls FROM pg_roles WHERE rolname = %s",
            id_,
        )
        if row is None:
            return ReadResult(None, {})
        outs = dict(self._outs(props), name=id_, login=row[0], inherit=row[1], safe=not row[2])
        return ReadResult(id_, outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self.execute(news["conn"], self._statement(news, create=False))
        return UpdateResult(self._outs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.execute(props["conn"], sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(id_)))


@dataclass(kw_only=True)
class RoleArgs(PgArgs):
    name: str
    login: bool
    password: pulumi.Input[str] | None = None
    inherit: bool = True

    def props(self) -> dict[str, Any]:
        return dict(super().props(), safe=True)


class Role(DynamicResource[RoleArgs]):
    provider_type = RoleProvider
    secret_outputs = ("password",)
    name: pulumi.Output[str]
    password: pulumi.Output[str]
