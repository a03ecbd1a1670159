"""Exactly these privileges for a role on a database, a schema, or the tables/sequences of a schema."""

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

PRIVILEGES = {
    "database": frozenset({"CONNECT", "TEMPORARY", "CREATE"}),
    "schema": frozenset({"USAGE", "CREATE"}),
    "tables": frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}),
    "sequences": frozenset({"USAGE", "SELECT", "UPDATE"}),
}
_DEFACL_TYPE = {"tables": "r", "sequences": "S"}
_OBJECTS = {"tables": "TABLES", "sequences": "SEQUENCES"}
_ACL_QUERY = {  # the privileges a role (a grantee oid) holds on a database or a schema
    "database": "SELECT a.privilege_type FROM pg_database d, "
    "aclexplode(COALESCE(d.datacl, acldefault('d', d.datdba))) a "
    "WHERE d.datname = %s AND a.grantee = %s",
    "schema": "SELECT a.privilege_type FROM pg_namespace n, "
    "aclexplode(COALESCE(n.nspacl, acldefault('n', n.nspowner))) a "
    "WHERE n.oid = %s AND a.grantee = %s",
}
_RELKIND = {"tables": ("r", "p", "v", "m", "f"), "sequences": ("S",)}


def _privs(kind: str, privileges: Iterable[str]) -> list[str]:
    privs = sorted({p.upper() for p in privileges})
    bad = [p for p in privs if p not in PRIVILEGES[kind]]
    if bad:
        raise ValueError(f"privilege(s) {', '.join(bad)} do not apply to {kind}")
    return privs


class GrantProvider(PgProvider):
    """Exactly `privileges` for `role` on a database, a schema, or all tables/sequences of a schema.

    For tables and sequences the grant covers the existing objects and, through ALTER DEFAULT
    PRIVILEGES FOR ROLE `owner`, the ones the schema owner creates later. `read` reports what
    PostgreSQL really holds: `privileges` present on the default ACL and on every existing object,
    and `extra_privileges` (declared empty) those held on some of them only, per object
    (`"public.t: INSERT"`), so a privilege granted by hand on one table shows as a diff and the
    update revokes it.
    """

    managed = ("conn", "role", "object_type", "database", "schema", "owner", "privileges", "extra_privileges")
    replace_on = ("role", "object_type", "database", "schema", "owner")
    set_like = ("privileges",)

    def _outs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        outs = inputs_of(props, ("conn", "role", "object_type", "database", "schema", "owner"))
        outs["privileges"] = _privs(props["object_type"], props.get("privileges") or [])
        outs["extra_privileges"] = []
        return outs

    def changed(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        # a state written before `extra_privileges` existed had none (and none are ever declared)
        none: dict[str, Any] = {"extra_privileges": []}
        return super().changed(dict(none, **olds), dict(none, **news))

    @staticmethod
    def grant_id(props: Mapping[str, Any]) -> str:
        where = props["database"] + (f"/{props['schema']}" if props.get("schema") else "")
        return f"{props['role']}@{where}:{props['object_type']}"

    def _statements(self, props: Mapping[str, Any], privs: list[str], revoke: bool) -> list[sql.Composed]:
        kind, role = props["object_type"], sql.Identifier(props["role"])
        if not privs:
            return []
        plist = sql.SQL(", ").join(sql.SQL(p) for p in privs)
        verb = sql.SQL("REVOKE {} ON {} FROM {}" if revoke else "GRANT {} ON {} TO {}")
        if kind == "database":
            return [
                verb.format(plist, sql.SQL("DATABASE {}").format(sql.Identifier(props["database"])), role)
            ]
        schema = sql.Identifier(props["schema"])
        if kind == "schema":
            return [verb.format(plist, sql.SQL("SCHEMA {}").format(schema), role)]
        objects = sql.SQL(_OBJECTS[kind])
        default = sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} ").format(
            sql.Identifier(props["owner"]), schema
        ) + verb.format(plist, objects, role)
        return [verb.format(plist, sql.SQL("ALL {} IN SCHEMA {}").format(objects, schema), role), default]

    def _db_for(self, props: Mapping[str, Any]) -> str:
        return "postgres" if props["object_type"] == "database" else str(props["database"])

    @staticmethod
    def _held_on(c: psycopg.Connection[Any], kind: str, target: Any, oid: Any) -> list[str]:
        """The privileges `oid` holds on a database (by name) or a schema (by oid)."""
        rows = c.execute(_ACL_QUERY[kind], (target, oid)).fetchall()
        return sorted({r[0] for r in rows})

    def _current(self, props: Mapping[str, Any]) -> tuple[list[str], list[str], list[str]] | None:
        """(privileges the role holds on everything, `"object: PRIVILEGE"` it holds on some objects
        only, every privilege it holds anywhere); None when the target (database/schema/role) is gone."""
        kind = props["object_type"]
        conn = props["conn"]
        if not self.database_exists(conn, props["database"]):
            return None
        with self.connect(conn, self._db_for(props)) as c:
            oid = self.one(c, "SELECT oid FROM pg_roles WHERE rolname = %s", props["role"])
            if oid is None:
                return None
            if kind == "database":
                held = self._held_on(c, kind, props["database"], oid)
                return held, [], held
            nsp = self.one(c, "SELECT oid FROM pg_namespace WHERE nspname = %s", props["schema"])
            if nsp is None:
                return None
            if kind == "schema":
                held = self._held_on(c, kind, nsp, oid)
                return held, [], held
            default = {
                r[0]
                for r in c.execute(
                    "SELECT a.privilege_type FROM pg_default_acl d, aclexplode(d.defaclacl) a "
                    "WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = %s) "
                    "AND d.defaclnamespace = %s AND d.defaclobjtype = %s AND a.grantee = %s",
                    (props["owner"], nsp, _DEFACL_TYPE[kind], oid),
                ).fetchall()
            }
            objects = c.execute(
                "SELECT c.relname, ARRAY(SELECT a.privilege_type FROM aclexplode(COALESCE(c.relacl, "
                "acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::\"char\", c.relowner))) a "
                "WHERE a.grantee = %s) FROM pg_class c WHERE c.relnamespace = %s AND c.relkind = ANY(%s)",
                (oid, nsp, list(_RELKIND[kind])),
            ).fetchall()
        return self._per_object(str(props["schema"]), default, [(str(r), set(p)) for r, p in objects])

    @staticmethod
    def _per_object(
        schema: str, default: set[str], objects: list[tuple[str, set[str]]]
    ) -> tuple[list[str], list[str], list[str]]:
        """What the default ACL and every object hold, what some hold only, and all of it."""
        held, anywhere = set(default), set(default)
        for _name, privs in objects:
            held &= privs
            anywhere |= privs
        extra = [f"(default privileges): {p}" for p in sorted(default - held)]
        for name, privs in sorted(objects):
            extra += [f"{schema}.{name}: {p}" for p in sorted(privs - held)]
        return sorted(held), extra, sorted(anywhere)

    def _grantor(self, c: psycopg.Connection[Any], props: Mapping[str, Any]) -> str:
        """The role that grants and revokes: the object's owner (a schema owned by PG 15's
        pg_database_owner, like `public`, by the database's owner). The provisioner holds no
        privilege to grant, and a GRANT without one only warns: it must act as the owner."""
        kind = props["object_type"]
        if kind in ("tables", "sequences"):
            return str(props["owner"])
        if kind == "database":
            query = "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s"
            arg = props["database"]
        else:
            query = (
                "SELECT CASE WHEN n.nspowner = 'pg_database_owner'::regrole THEN pg_get_userbyid(d.datdba) "
                "ELSE pg_get_userbyid(n.nspowner) END FROM pg_namespace n, pg_database d "
                "WHERE n.nspname = %s AND d.datname = current_database()"
            )
            arg = props["schema"]
        return str(self.one(c, query, arg))

    def _run(self, props: Mapping[str, Any], statements: list[sql.Composed]) -> None:
        with self.connect(props["conn"], self._db_for(props)) as c, self.as_owner(c, self._grantor(c, props)):
            for stmt in statements:
                c.execute(stmt)

    def _set(self, props: Mapping[str, Any], want: list[str]) -> None:
        current = self._current(props)
        have = current[2] if current else []
        # revoke what is held (on any object) but not wanted, then grant everything wanted
        extra = sorted(set(have) - set(want))
        revokes = self._statements(props, extra, revoke=True)
        grants = self._statements(props, want, revoke=False)
        self._run(props, [*revokes, *grants])

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._outs(props)
        self._set(props, outs["privileges"])
        return CreateResult(self.grant_id(props), outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        current = self._current(props)
        if current is None:
            return ReadResult(None, {})
        return ReadResult(id_, dict(self._outs(props), privileges=current[0], extra_privileges=current[1]))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        outs = self._outs(news)
        self._set(news, outs["privileges"])
        return UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        current = self._current(props)
        if current is None:
            return
        privs = sorted(PRIVILEGES[props["object_type"]])
        self._run(props, self._statements(props, privs, revoke=True))


@dataclass(kw_only=True)
class GrantArgs(PgArgs):
    role: pulumi.Input[str]
    object_type: str
    database: pulumi.Input[str]
    privileges: list[str]
    schema: pulumi.Input[str] | None = None
    owner: pulumi.Input[str] | None = None

    def __post_init__(self) -> None:
        if self.object_type not in PRIVILEGES:
            raise ValueError(f"object_type must be one of {', '.join(PRIVILEGES)}")
        if self.object_type in ("tables", "sequences") and self.owner is None:
            raise ValueError("grants on tables/sequences need the schema owner for default privileges")

    def props(self) -> dict[str, Any]:
        return dict(
            super().props(), privileges=_privs(self.object_type, self.privileges), extra_privileges=[]
        )


class Grant(DynamicResource[GrantArgs]):
    provider_type = GrantProvider
    privileges: pulumi.Output[list[str]]
