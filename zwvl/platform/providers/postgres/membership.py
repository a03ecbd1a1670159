"""Membership of a PostgreSQL role in a group role."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from psycopg import sql

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from zwvl.platform.providers.dynamic import DynamicResource, inputs_of
from zwvl.platform.providers.postgres.base import PgArgs, PgProvider


class MembershipProvider(PgProvider):
    """`member` is a member of the group role `role` (GRANT role TO member)."""

    managed = ("conn", "role", "member")
    replace_on = ("role", "member")

    def _held(self, props: Mapping[str, Any]) -> bool:
        with self.connect(props["conn"]) as c:
            return bool(
                self.one(
                    c,
                    "SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                    "JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = %s AND u.rolname = %s",
                    props["role"],
                    props["member"],
                )
            )

    def create(self, props: dict[str, Any]) -> CreateResult:
        role, member = sql.Identifier(props["role"]), sql.Identifier(props["member"])
        self.execute(props["conn"], sql.SQL("GRANT {} TO {}").format(role, member))
        return CreateResult(f"{props['member']}>{props['role']}", inputs_of(props, self.managed))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if not self._held(props):
            return ReadResult(None, {})
        return ReadResult(id_, inputs_of(props, self.managed))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(inputs_of(news, self.managed))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.connect(props["conn"]) as c:
            exists = self.one(
                c,
                "SELECT count(*) FROM pg_roles WHERE rolname IN (%s, %s)",
                props["role"],
                props["member"],
            )
            if exists == 2:
                c.execute(
                    sql.SQL("REVOKE {} FROM {}").format(
                        sql.Identifier(props["role"]), sql.Identifier(props["member"])
                    )
                )


@dataclass(kw_only=True)
class MembershipArgs(PgArgs):
    role: pulumi.Input[str]
    member: pulumi.Input[str]


class Membership(DynamicResource[MembershipArgs]):
    provider_type = MembershipProvider
