"""Pulumi dynamic providers for PostgreSQL (psycopg 3): roles, databases, schemas, tables, grants,
memberships.

Every provider really creates, reads back, diffs, updates and deletes, so `pulumi refresh` finds a
change made behind Pulumi's back (a revoked grant, a changed owner, a dropped role).

Connection: the non-secret part (`host`, `port`, `user`, `sslmode`) is an input of every resource;
the admin password is the stack secret `zwvl:pgAdminPassword`, else `$ZWVL_PG_ADMIN_PASSWORD`, else
libpq's own (`PGPASSWORD`, `~/.pgpass`). It is never written to the state.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypedDict

import psycopg
from psycopg import sql

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from zwvl.platform.dynamic import DynamicResource, Provider, inputs_of


class Conn(TypedDict, total=False):
    host: str
    port: int
    user: str
    sslmode: str


PRIVILEGES = {
    "database": frozenset({"CONNECT", "TEMPORARY", "CREATE"}),
    "schema": frozenset({"USAGE", "CREATE"}),
    "tables": frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}),
    "sequences": frozenset({"USAGE", "SELECT", "UPDATE"}),
}
ADVISORY_LOCK = 0x7A77_6C70  # "zwlp": serializes this provider's changes per database
_DEFACL_TYPE = {"tables": "r", "sequences": "S"}
_OBJECTS = {"tables": "TABLES", "sequences": "SEQUENCES"}
_RELKIND = {"tables": ("r", "p", "v", "m", "f"), "sequences": ("S",)}


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

    def database_exists(self, conn: Mapping[str, Any], name: str) -> bool:
        with self.connect(conn) as c:
            return bool(self.one(c, "SELECT 1 FROM pg_database WHERE datname = %s", name))


def _privs(kind: str, privileges: Iterable[str]) -> list[str]:
    privs = sorted({p.upper() for p in privileges})
    bad = [p for p in privs if p not in PRIVILEGES[kind]]
    if bad:
        raise ValueError(f"privilege(s) {', '.join(bad)} do not apply to {kind}")
    return privs


# --- roles -----------------------------------------------------------------------------------

_ROLE_FLAGS = ("login", "inherit")


class RoleProvider(PgProvider):
    """A role. Safe by construction: never SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS.

    The password cannot be read back from PostgreSQL (only its hash), so a changed password is only
    applied when the input changes; `read` reports the other attributes as they are.
    """

    managed = ("conn", "name", "login", "inherit", "password", "safe")
    replace_on = ("name",)

    def _apply(self, c: psycopg.Connection[Any], props: Mapping[str, Any], create: bool) -> None:
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
        c.execute(stmt)

    def create(self, props: dict[str, Any]) -> CreateResult:
        with self.connect(props["conn"]) as c:
            self._apply(c, props, create=True)
        return CreateResult(props["name"], self._outs(props))

    def _outs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        outs = inputs_of(props, ("conn", "name", "login", "password"))
        outs["inherit"] = props.get("inherit", True)
        outs["safe"] = True
        return outs

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.connect(props["conn"]) as c:
            row = c.execute(
                "SELECT rolcanlogin, rolinherit, rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication "
                "OR rolbypassrls FROM pg_roles WHERE rolname = %s",
                (id_,),
            ).fetchone()
        if row is None:
            return ReadResult(None, {})
        outs = dict(self._outs(props), name=id_, login=row[0], inherit=row[1], safe=not row[2])
        return ReadResult(id_, outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        with self.connect(news["conn"]) as c:
            self._apply(c, news, create=False)
        return UpdateResult(self._outs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.connect(props["conn"]) as c:
            c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(id_)))


# --- databases and schemas -------------------------------------------------------------------


class DatabaseProvider(PgProvider):
    """A database with its owner; CONNECT and TEMPORARY are revoked from PUBLIC (`public_access`)."""

    managed = ("conn", "name", "owner", "public_access")
    replace_on = ("name",)

    def _outs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return dict(inputs_of(props, ("conn", "name", "owner")), public_access=[])

    def _fix(self, c: psycopg.Connection[Any], name: str, owner: str) -> None:
        c.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(name), sql.Identifier(owner))
        )
        c.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))

    def create(self, props: dict[str, Any]) -> CreateResult:
        name, owner = props["name"], props["owner"]
        with self.connect(props["conn"]) as c:
            c.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner))
            )
            self._fix(c, name, owner)
        return CreateResult(name, self._outs(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.connect(props["conn"]) as c:
            row = c.execute(
                "SELECT pg_get_userbyid(datdba), "
                "ARRAY(SELECT a.privilege_type FROM aclexplode(COALESCE(datacl, acldefault('d', datdba))) a "
                "      WHERE a.grantee = 0 ORDER BY 1) "
                "FROM pg_database WHERE datname = %s",
                (id_,),
            ).fetchone()
        if row is None:
            return ReadResult(None, {})
        return ReadResult(id_, dict(self._outs(props), name=id_, owner=row[0], public_access=list(row[1])))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        with self.connect(news["conn"]) as c:
            self._fix(c, id_, news["owner"])
        return UpdateResult(self._outs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.connect(props["conn"]) as c:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(id_)))


class SchemaProvider(PgProvider):
    """A schema in a database, with its owner. Deleting drops it only when empty unless `force_destroy`."""

    managed = ("conn", "database", "name", "owner", "force_destroy")
    replace_on = ("database", "name")

    def _outs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return inputs_of(props, ("conn", "database", "name", "owner", "force_destroy"))

    def create(self, props: dict[str, Any]) -> CreateResult:
        with self.connect(props["conn"], props["database"]) as c:
            c.execute(
                sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(
                    sql.Identifier(props["name"]), sql.Identifier(props["owner"])
                )
            )
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
        with self.connect(news["conn"], news["database"]) as c:
            c.execute(
                sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(
                    sql.Identifier(news["name"]), sql.Identifier(news["owner"])
                )
            )
        return UpdateResult(self._outs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if not self.database_exists(props["conn"], props["database"]):
            return
        with self.connect(props["conn"], props["database"]) as c:
            mode = sql.SQL("CASCADE" if props.get("force_destroy") else "RESTRICT")
            c.execute(sql.SQL("DROP SCHEMA IF EXISTS {} {}").format(sql.Identifier(props["name"]), mode))


class TableProvider(PgProvider):
    """A table with its columns and owner: `columns` is a list of `[name, type, not_null]`.

    `read` reports the columns as PostgreSQL holds them (types as `format_type` spells them), so a
    column dropped, added or retyped by hand shows as a diff; `update` repairs it with ALTER TABLE
    (added columns are appended, undeclared ones dropped, types and NOT NULL set). Deleting refuses
    a table holding rows unless `force_destroy`, like the schemas. Column order is set at creation
    only (PostgreSQL cannot reorder columns), so it is not compared.
    """

    managed = ("conn", "database", "schema", "name", "owner", "columns", "force_destroy")
    replace_on = ("database", "schema", "name")
    set_like = ("columns",)

    @staticmethod
    def _cols(columns: Iterable[Iterable[Any]] | None) -> list[list[Any]]:
        return [[str(n), str(t), bool(nn)] for n, t, nn in (columns or [])]

    def _outs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        outs = inputs_of(props, ("conn", "database", "schema", "name", "owner", "force_destroy"))
        outs["columns"] = self._cols(props.get("columns"))
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
            "WHERE a.attrelid = (quote_ident(%s) || '.' || quote_ident(%s))::regclass "
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
        with self.connect(props["conn"], props["database"]) as c:
            # created as its owner, so the owner's default privileges (GrantProvider) apply to it
            c.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(props["owner"])))
            try:
                c.execute(
                    sql.SQL("CREATE TABLE {} ({})").format(
                        self._table(props), sql.SQL(", ").join(self._column(*col) for col in cols)
                    )
                )
            finally:
                c.execute("RESET ROLE")
        return CreateResult(f"{props['database']}/{props['schema']}.{props['name']}", self._outs(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if not self.database_exists(props["conn"], props["database"]):
            return ReadResult(None, {})
        with self.connect(props["conn"], props["database"]) as c:
            held = self._held(c, props)
        if held is None:
            return ReadResult(None, {})
        owner, columns = held
        return ReadResult(id_, dict(self._outs(props), owner=owner, columns=columns))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        want = self._cols(news.get("columns"))
        table = self._table(news)
        with self.connect(news["conn"], news["database"]) as c:
            held = self._held(c, news)
            if held is None:
                raise RuntimeError(f"table {news['schema']}.{news['name']} is gone: refresh to re-create it")
            have = {col[0]: col for col in held[1]}
            declared = {col[0] for col in want}
            for name in have:
                if name not in declared:
                    c.execute(sql.SQL("ALTER TABLE {} DROP COLUMN {}").format(table, sql.Identifier(name)))
            for name, typ, not_null in want:
                if name not in have:
                    c.execute(
                        sql.SQL("ALTER TABLE {} ADD COLUMN {}").format(
                            table, self._column(name, typ, not_null)
                        )
                    )
                    continue
                col = sql.Identifier(name)
                if have[name][1] != typ:
                    c.execute(
                        sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {}").format(table, col, sql.SQL(typ))
                    )
                if have[name][2] != not_null:
                    verb = "SET" if not_null else "DROP"
                    c.execute(
                        sql.SQL("ALTER TABLE {} ALTER COLUMN {} " + verb + " NOT NULL").format(table, col)
                    )
            c.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(table, sql.Identifier(news["owner"])))
        return UpdateResult(self._outs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if not self.database_exists(props["conn"], props["database"]):
            return
        with self.connect(props["conn"], props["database"]) as c:
            if self._held(c, props) is None:
                return
            table = self._table(props)
            if (
                not props.get("force_destroy")
                and c.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(table)).fetchone()
            ):
                raise RuntimeError(
                    f"table {props['schema']}.{props['name']} holds rows: not dropped (set force_destroy)"
                )
            c.execute(sql.SQL("DROP TABLE {}").format(table))


# --- grants and memberships ------------------------------------------------------------------


class GrantProvider(PgProvider):
    """Exactly `privileges` for `role` on a database, a schema, or all tables/sequences of a schema.

    For tables and sequences the grant covers the existing objects and, through ALTER DEFAULT
    PRIVILEGES FOR ROLE `owner`, the ones the schema owner creates later. `read` reports what
    PostgreSQL really holds: the privileges present on the default ACL and on every existing object.
    """

    managed = ("conn", "role", "object_type", "database", "schema", "owner", "privileges")
    replace_on = ("role", "object_type", "database", "schema", "owner")
    set_like = ("privileges",)

    def _outs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        outs = inputs_of(props, ("conn", "role", "object_type", "database", "schema", "owner"))
        outs["privileges"] = _privs(props["object_type"], props.get("privileges") or [])
        return outs

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

    def _current(self, props: Mapping[str, Any]) -> list[str] | None:
        """Privileges the role holds now; None when the target (database/schema/role) is gone."""
        kind = props["object_type"]
        conn = props["conn"]
        if not self.database_exists(conn, props["database"]):
            return None
        with self.connect(conn, self._db_for(props)) as c:
            oid = self.one(c, "SELECT oid FROM pg_roles WHERE rolname = %s", props["role"])
            if oid is None:
                return None
            if kind == "database":
                rows = c.execute(
                    "SELECT a.privilege_type FROM pg_database d, "
                    "aclexplode(COALESCE(d.datacl, acldefault('d', d.datdba))) a "
                    "WHERE d.datname = %s AND a.grantee = %s",
                    (props["database"], oid),
                ).fetchall()
                return sorted({r[0] for r in rows})
            nsp = self.one(c, "SELECT oid FROM pg_namespace WHERE nspname = %s", props["schema"])
            if nsp is None:
                return None
            if kind == "schema":
                rows = c.execute(
                    "SELECT a.privilege_type FROM pg_namespace n, "
                    "aclexplode(COALESCE(n.nspacl, acldefault('n', n.nspowner))) a "
                    "WHERE n.oid = %s AND a.grantee = %s",
                    (nsp, oid),
                ).fetchall()
                return sorted({r[0] for r in rows})
            held = {
                r[0]
                for r in c.execute(
                    "SELECT a.privilege_type FROM pg_default_acl d, aclexplode(d.defaclacl) a "
                    "WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = %s) "
                    "AND d.defaclnamespace = %s AND d.defaclobjtype = %s AND a.grantee = %s",
                    (props["owner"], nsp, _DEFACL_TYPE[kind], oid),
                ).fetchall()
            }
            objects = c.execute(
                "SELECT ARRAY(SELECT a.privilege_type FROM aclexplode(COALESCE(c.relacl, "
                "acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::\"char\", c.relowner))) a "
                "WHERE a.grantee = %s) FROM pg_class c WHERE c.relnamespace = %s AND c.relkind = ANY(%s)",
                (oid, nsp, list(_RELKIND[kind])),
            ).fetchall()
            for (privs,) in objects:
                held &= set(privs)
            return sorted(held)

    def _set(self, props: Mapping[str, Any], want: list[str]) -> None:
        have = self._current(props) or []
        with self.connect(props["conn"], self._db_for(props)) as c:
            # revoke what is held but not wanted, then grant everything wanted (also repairs partial drift)
            extra = sorted(set(have) - set(want))
            for stmt in self._statements(props, extra, revoke=True):
                c.execute(stmt)
            for stmt in self._statements(props, want, revoke=False):
                c.execute(stmt)

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._outs(props)
        self._set(props, outs["privileges"])
        return CreateResult(self.grant_id(props), outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        current = self._current(props)
        if current is None:
            return ReadResult(None, {})
        return ReadResult(id_, dict(self._outs(props), privileges=current))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        outs = self._outs(news)
        self._set(news, outs["privileges"])
        return UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        current = self._current(props)
        if current is None:
            return
        privs = sorted(PRIVILEGES[props["object_type"]])
        with self.connect(props["conn"], self._db_for(props)) as c:
            for stmt in self._statements(props, privs, revoke=True):
                c.execute(stmt)


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
        with self.connect(props["conn"]) as c:
            c.execute(
                sql.SQL("GRANT {} TO {}").format(
                    sql.Identifier(props["role"]), sql.Identifier(props["member"])
                )
            )
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


class PasswordProvider(Provider):
    """A generated password (kept only as a Pulumi secret in the state), like random.RandomPassword."""

    managed = ("length", "keepers")
    replace_on = ("length", "keepers")

    def create(self, props: dict[str, Any]) -> CreateResult:
        length = int(props.get("length") or 32)
        value = secrets.token_urlsafe(length)[:length]
        return CreateResult(
            "password-" + secrets.token_hex(4),
            {"length": length, "keepers": props.get("keepers"), "result": value},
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(dict(olds, keepers=news.get("keepers")))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        return None


# --- resources (what the programs declare) ---------------------------------------------------


def _secret_opts(opts: pulumi.ResourceOptions | None, *names: str) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=list(names)))


class Password(DynamicResource):
    result: pulumi.Output[str]

    def __init__(self, name: str, length: int = 32, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            PasswordProvider(),
            name,
            {"length": length, "keepers": None, "result": None},
            _secret_opts(opts, "result"),
        )


class Role(DynamicResource):
    name: pulumi.Output[str]
    password: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        conn: pulumi.Input[Conn],
        name: str,
        login: bool,
        password: pulumi.Input[str] | None = None,
        inherit: bool = True,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            RoleProvider(),
            resource_name,
            {
                "conn": conn,
                "name": name,
                "login": login,
                "inherit": inherit,
                "password": password,
                "safe": True,
            },
            _secret_opts(opts, "password"),
        )


class Database(DynamicResource):
    name: pulumi.Output[str]
    owner: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        conn: pulumi.Input[Conn],
        name: str,
        owner: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            DatabaseProvider(),
            resource_name,
            {"conn": conn, "name": name, "owner": owner, "public_access": []},
            opts,
        )


class Schema(DynamicResource):
    name: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        conn: pulumi.Input[Conn],
        database: pulumi.Input[str],
        name: str,
        owner: pulumi.Input[str],
        force_destroy: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            SchemaProvider(),
            resource_name,
            {
                "conn": conn,
                "database": database,
                "name": name,
                "owner": owner,
                "force_destroy": force_destroy,
            },
            opts,
        )


class Table(DynamicResource):
    name: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        conn: pulumi.Input[Conn],
        database: pulumi.Input[str],
        schema: pulumi.Input[str],
        name: str,
        owner: pulumi.Input[str],
        columns: list[tuple[str, str, bool]],
        force_destroy: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`columns`: (name, type as PostgreSQL's format_type spells it, not null)."""
        super().__init__(
            TableProvider(),
            resource_name,
            {
                "conn": conn,
                "database": database,
                "schema": schema,
                "name": name,
                "owner": owner,
                "columns": [[n, t, nn] for n, t, nn in columns],
                "force_destroy": force_destroy,
            },
            opts,
        )


class Grant(DynamicResource):
    privileges: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        *,
        conn: pulumi.Input[Conn],
        role: pulumi.Input[str],
        object_type: str,
        database: pulumi.Input[str],
        privileges: list[str],
        schema: pulumi.Input[str] | None = None,
        owner: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if object_type not in PRIVILEGES:
            raise ValueError(f"object_type must be one of {', '.join(PRIVILEGES)}")
        if object_type in ("tables", "sequences") and owner is None:
            raise ValueError("grants on tables/sequences need the schema owner for default privileges")
        super().__init__(
            GrantProvider(),
            resource_name,
            {
                "conn": conn,
                "role": role,
                "object_type": object_type,
                "database": database,
                "schema": schema,
                "owner": owner,
                "privileges": _privs(object_type, privileges),
            },
            opts,
        )


class Membership(DynamicResource):
    def __init__(
        self,
        resource_name: str,
        *,
        conn: pulumi.Input[Conn],
        role: pulumi.Input[str],
        member: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            MembershipProvider(), resource_name, {"conn": conn, "role": role, "member": member}, opts
        )
