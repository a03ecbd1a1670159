"""A schema in a PostgreSQL database, with its owner."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from zwvl.platform.providers.dynamic import DynamicResource, inputs_of
from zwvl.platform.providers.postgres.base import SCHEMA_OBJECTS, PgArgs, PgProvider, listed


class SchemaProvider(PgProvider):
    """A schema in a database, with its owner. Deleting drops it only when empty unless `force_destroy`:
    otherwise it refuses, naming what the schema holds (which tables hold rows), and drops nothing."""

    managed = ("conn", "database", "name", "owner", "force_destroy")
    kind = "schema"
    replace_on = ("database", "name")
    refuse_replace = ("database", "name")

    def _outs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return inputs_of(props, ("conn", "database", "name", "owner", "force_destroy"))

    def create(self, props: dict[str, Any]) -> CreateResult:
        name, owner = sql.Identifier(props["name"]), sql.Identifier(props["owner"])
        create = sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(name, owner)
        with self.connect(props["conn"], props["database"]) as c:
            self.ensure_member(c, props["owner"])  # only a member of the owner may create for it
            c.execute(create)
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
        with self.connect(news["conn"], news["database"]) as c:
            old = self.one(
                c, "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s", news["name"]
            )
            alter = sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(name, owner)
            self.change_owner(c, alter, str(old), news["owner"])
        return UpdateResult(self._outs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if not self.database_exists(props["conn"], props["database"]):
            return
        name = props["name"]
        mode = sql.SQL("CASCADE" if props.get("force_destroy") else "RESTRICT")
        drop = sql.SQL("DROP SCHEMA IF EXISTS {} {}").format(sql.Identifier(name), mode)
        with self.connect(props["conn"], props["database"]) as c:
            held = [] if props.get("force_destroy") else self._held(c, name)
            if held:
                raise RuntimeError(
                    f"schema {name} in database {props['database']} holds {len(held)} object(s) "
                    f"({listed(held)}): not dropped. Drop them first, or set force_destroy"
                )
            owner = self.one(c, "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s", name)
            if owner is None:
                return
            with self.as_owner(c, str(owner)):  # only its owner may drop it
                c.execute(drop)

    def _held(self, c: psycopg.Connection[Any], schema: str) -> list[str]:
        """What the schema holds, as `table obs (holds rows)`, `view v`, `function f`."""
        held = []
        for kind, obj, is_table in c.execute(SCHEMA_OBJECTS, {"schema": schema}).fetchall():
            rows = is_table and self.holds_rows(c, schema, obj)
            held.append(f"{kind} {obj}" + (" (holds rows)" if rows else ""))
        return held


@dataclass(kw_only=True)
class SchemaArgs(PgArgs):
    database: pulumi.Input[str]
    name: str
    owner: pulumi.Input[str]
    force_destroy: bool = False


class Schema(DynamicResource[SchemaArgs]):
    provider_type = SchemaProvider
    name: pulumi.Output[str]
