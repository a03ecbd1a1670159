"""A PostgreSQL table with its columns and owner, repaired in place when changed by hand."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from zwvl.platform.providers.dynamic import DynamicResource, inputs_of
from zwvl.platform.providers.postgres.base import PgArgs, PgProvider


class TableProvider(PgProvider):
    """A table with its columns and owner: `columns` is a list of `[name, type, not_null]`.

    `read` reports the declared columns as PostgreSQL holds them (types as `format_type` spells
    them), so a column dropped or retyped by hand shows as a diff; `update` repairs it with ALTER
    TABLE (missing columns are appended, types and NOT NULL set). A column that is not declared (added
    by hand, or no longer declared) is never dropped: it is left alone with its data and reported in
    the output `undeclared_columns`. Deleting refuses a table holding rows unless `force_destroy`,
    like the schemas. Column order is set at creation only (PostgreSQL cannot reorder columns), so
    it is not compared.
    """

    managed = ("conn", "database", "schema", "name", "owner", "columns", "force_destroy")
    kind = "table"
    replace_on = ("database", "schema", "name")
    refuse_replace = ("database", "schema", "name")
    set_like = ("columns",)

    @staticmethod
    def _cols(columns: Iterable[Iterable[Any]] | None) -> list[list[Any]]:
        return [[str(n), str(t), bool(nn)] for n, t, nn in (columns or [])]

    def _outs(self, props: Mapping[str, Any], held: list[list[Any]] | None = None) -> dict[str, Any]:
        """The outputs; with `held` (the columns PostgreSQL holds), `columns` are those of them that
        are declared and `undeclared_columns` the names of the others."""
        outs = inputs_of(props, ("conn", "database", "schema", "name", "owner", "force_destroy"))
        outs["columns"] = self._cols(props.get("columns"))
        outs["undeclared_columns"] = []
        if held is not None:
            declared = {col[0] for col in outs["columns"]}
            outs["columns"] = [col for col in held if col[0] in declared]
            outs["undeclared_columns"] = [col[0] for col in held if col[0] not in declared]
        return outs

    def _table(self, props: Mapping[str, Any]) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(props["schema"]), sql.Identifier(props["name"]))

    def _held(
        self, c: psycopg.Connection[Any], props: Mapping[str, Any]
    ) -> tuple[str, list[list[Any]]] | None:
        """(owner, columns) as PostgreSQL holds them; None when the table does not exist."""
        owner = self.one(
            c,
            "SELECT pg_get_userbyid(c.relowner) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')",
            props["schema"],
            props["name"],
        )
        if owner is None:
            return None
        rows = c.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull FROM pg_attribute a "
            "WHERE a.attrelid = (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s) "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            (props["schema"], props["name"]),
        ).fetchall()
        return str(owner), [[r[0], r[1], bool(r[2])] for r in rows]

    @staticmethod
    def _column(name: str, typ: str, not_null: bool) -> sql.Composed:
        # the type is a declared input (e.g. "timestamp with time zone"), not user data
        return sql.SQL("{} {}{}").format(
            sql.Identifier(name), sql.SQL(typ), sql.SQL(" NOT NULL" if not_null else "")
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        cols = self._cols(props.get("columns"))
        # created as its owner, so the owner's default privileges (GrantProvider) apply to it
        with self.connect(props["conn"], props["database"]) as c, self.as_owner(c, props["owner"]):
            c.execute(
                sql.SQL("CREATE TABLE {} ({})").format(
                    self._table(props), sql.SQL(", ").join(self._column(*col) for col in cols)
                )
            )
        return CreateResult(f"{props['database']}/{props['schema']}.{props['name']}", self._outs(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if not self.database_exists(props["conn"], props["database"]):
            return ReadResult(None, {})
        with self.connect(props["conn"], props["database"]) as c:
            held = self._held(c, props)
        if held is None:
            return ReadResult(None, {})
        owner, columns = held
        return ReadResult(id_, dict(self._outs(props, columns), owner=owner))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        want = self._cols(news.get("columns"))
        table = self._table(news)
        with self.connect(news["conn"], news["database"]) as c:
            held = self._held(c, news)
            if held is None:
                raise RuntimeError(f"table {news['schema']}.{news['name']} is gone: refresh to re-create it")
            have = {col[0]: col for col in held[1]}  # undeclared columns are left alone, never dropped
            # the declared owner back first, then the columns repaired as it (only the owner may)
            alter = sql.SQL("ALTER TABLE {} OWNER TO {}").format(table, sql.Identifier(news["owner"]))
            self.change_owner(c, alter, held[0], news["owner"])
            with self.as_owner(c, news["owner"]):
                self._repair(c, table, want, have)
        declared = {col[0] for col in want}
        return UpdateResult(dict(self._outs(news), undeclared_columns=[n for n in have if n not in declared]))

    @staticmethod
    def _repair(
        c: psycopg.Connection[Any], table: sql.Composed, want: list[list[Any]], have: dict[str, list[Any]]
    ) -> None:
        """Missing declared columns appended, types and NOT NULL set; nothing else touched."""
        for name, typ, not_null in want:
            if name not in have:
                c.execute(
                    sql.SQL("ALTER TABLE {} ADD COLUMN {}").format(
                        table, TableProvider._column(name, typ, not_null)
                    )
                )
                continue
            col = sql.Identifier(name)
            if have[name][1] != typ:
                c.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {}").format(table, col, sql.SQL(typ)))
            if have[name][2] != not_null:
                verb = "SET" if not_null else "DROP"
                c.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN {} " + verb + " NOT NULL").format(table, col))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if not self.database_exists(props["conn"], props["database"]):
            return
        with self.connect(props["conn"], props["database"]) as c:
            held = self._held(c, props)
            if held is None:
                return
            table = self._table(props)
            if not props.get("force_destroy") and self.holds_rows(c, props["schema"], props["name"]):
                raise RuntimeError(
                    f"table {props['schema']}.{props['name']} holds rows: not dropped (set force_destroy)"
                )
            with self.as_owner(c, held[0]):  # only its owner may drop it
                c.execute(sql.SQL("DROP TABLE {}").format(table))


@dataclass(kw_only=True)
class TableArgs(PgArgs):
    """`columns`: (name, type as PostgreSQL's format_type spells it, not null)."""

    database: pulumi.Input[str]
    schema: pulumi.Input[str]
    name: str
    owner: pulumi.Input[str]
    columns: list[tuple[str, str, bool]]
    force_destroy: bool = False

    def props(self) -> dict[str, Any]:
        return dict(super().props(), columns=[[n, t, nn] for n, t, nn in self.columns])


class Table(DynamicResource[TableArgs]):
    provider_type = TableProvider
    name: pulumi.Output[str]
