"""A PostgreSQL role (never a superuser or any other dangerous attribute), with its password."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
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

    def _statement(
        self, props: Mapping[str, Any], create: bool, held: Mapping[str, bool] | None = None
    ) -> sql.Composed:
        """CREATE or ALTER ROLE. PG 15 lets only a superuser name SUPERUSER, REPLICATION or BYPASSRLS
        (even to switch them off) in an ALTER ROLE: they are only named when `held` (the role's
        attributes now) has them, which only a superuser can repair."""
        superuser_only = ("SUPERUSER", "REPLICATION", "BYPASSRLS")
        off = ["NOCREATEDB", "NOCREATEROLE"]
        off += [f"NO{a}" for a in superuser_only if create or (held or {}).get(a)]
        opts = [
            "LOGIN" if props.get("login") else "NOLOGIN",
            "INHERIT" if props.get("inherit", True) else "NOINHERIT",
            " ".join(off),
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
        with self.connect(props["conn"]) as c:
            c.execute(self._statement(props, create=True))
            # PG 15 makes the creator no member: the provisioner joins it, to create objects for it
            # (NOINHERIT: the membership gives it none of the role's privileges)
            self.ensure_member(c, props["name"])
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
        with self.connect(news["conn"]) as c:
            row = c.execute(
                "SELECT rolsuper, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = %s", (id_,)
            ).fetchone()
            held = dict(zip(("SUPERUSER", "REPLICATION", "BYPASSRLS"), row or (False,) * 3, strict=True))
            try:
                c.execute(self._statement(news, create=False, held=held))
            except psycopg.errors.InsufficientPrivilege as exc:
                dangerous = ", ".join(a for a, v in held.items() if v)
                raise RuntimeError(
                    f"role {id_} has {dangerous or 'an attribute'} that only a superuser can take away "
                    f"(the provisioning role is none): {exc}"
                ) from None
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
