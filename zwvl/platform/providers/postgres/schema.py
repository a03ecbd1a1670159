"""A schema in a PostgreSQL database, with its owner."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from psycopg import sql

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from zwvl.platform.providers.dynamic import DynamicResource, inputs_of
from zwvl.platform.providers.postgres.base import PgArgs, PgProvider


class SchemaProvider(PgProvider):
    """A schema in a database, with its owner. Deleting drops it only when empty unless `force_destroy`."""

    managed = ("conn", "database", "name", "owner", "force_destroy")
    kind = "schema"
    replace_on = ("database", "name")
    refuse_replace = ("database", "name")

    def _outs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return inputs_of(props, ("conn", "database", "name", "owner", "force_destroy"))

    def create(self, props: dict[str, Any]) -> CreateResult:
        name, owner = sql.Identifier(props["name"]), sql.Identifier(props["owner"])
        create = sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(name, owner)
        self.execute(props["conn"], create, dbname=props["database"])
        return CreateResult(f"{props['database']}/{props['name']}", self._outs(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if not self.database_exists(props["conn"], props["database"]):
            return ReadResult(None, {})
        with self.connect(props["conn"], props["database"]) as c:
            owner = self.one(
                c, "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s", props["name"]
            )
        if owner is None:
            return ReadResult(None, {})
        return ReadResult(id_, dict(self._outs(props), owner=owner))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        name, owner = sql.Identifier(news["name"]), sql.Identifier(news["owner"])
        self.execute(
            news["conn"], sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(name, owner), dbname=news["database"]
        )
        return UpdateResult(self._outs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if not self.database_exists(props["conn"], props["database"]):
            return
        mode = sql.SQL("CASCADE" if props.get("force_destroy") else "RESTRICT")
        drop = sql.SQL("DROP SCHEMA IF EXISTS {} {}").format(sql.Identifier(props["name"]), mode)
        self.execute(props["conn"], drop, dbname=props["database"])


@dataclass(kw_only=True)
class SchemaArgs(PgArgs):
    database: pulumi.Input[str]
    name: str
    owner: pulumi.Input[str]
    force_destroy: bool = False


class Schema(DynamicResource[SchemaArgs]):
    provider_type = SchemaProvider
    name: pulumi.Output[str]
