"""The PostgreSQL dynamic providers, called directly against a real PostgreSQL 15.

Each: create, read back (no diff), update, a change made behind the provider's back found by read
and diff and repaired by update, delete, and idempotence.
"""

from __future__ import annotations

import secrets
from typing import Any

import psycopg
import pytest

from tests.platform.services import PgServer
from zwvl.platform.providers import postgres as pg

pytestmark = pytest.mark.integration

P = "zwvl_plat_t_"
# generated per run, so no password is ever written in the repository
PW = {k: secrets.token_urlsafe(12) for k in ("one", "two", "owner", "writer", "reader", "group")}


def sql(server: PgServer, stmt: str, db: str = "postgres", **kw: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(server.dsn(db, **kw), autocommit=True) as c:
        cur = c.execute(stmt)
        return cur.fetchall() if cur.description else []


def no_diff(provider: pg.PgProvider, rid: str, props: dict[str, Any]) -> dict[str, Any]:
    """Read back and check the read state equals the declared inputs."""
    read = provider.read(rid, props)
    assert read.id == rid
    assert read.outs is not None
    diff = provider.diff(rid, read.outs, props)
    assert not diff.changes, provider.changed(read.outs, props)
    return read.outs


def test_role_lifecycle_and_drift(pg_env: PgServer) -> None:
    p = pg.RoleProvider()
    props = {
        "conn": pg_env.conn,
        "name": P + "role",
        "login": True,
        "inherit": True,
        "password": PW["one"],
        "safe": True,
    }
    created = p.create(props)
    assert created.id == P + "role"
    no_diff(p, created.id, props)
    assert sql(pg_env, "SELECT current_user", user=P + "role", password=PW["one"]) == [(P + "role",)]

    # update: no login, new password
    new = dict(props, login=False, password=PW["two"])
    assert p.diff(created.id, props, new).changes
    p.update(created.id, props, new)
    assert no_diff(p, created.id, new)["login"] is False
    with pytest.raises(psycopg.OperationalError):
        sql(pg_env, "SELECT 1", user=P + "role", password=PW["two"])

    # drift: someone gives it CREATEDB and login again: the provisioner repairs it
    sql(pg_env, f"ALTER ROLE {P}role CREATEDB LOGIN")
    drifted = p.read(created.id, new).outs
    assert drifted is not None and drifted["safe"] is False and drifted["login"] is True
    assert set(p.changed(drifted, new)) == {"login", "safe"}
    p.update(created.id, drifted, new)
    no_diff(p, created.id, new)
    assert sql(pg_env, f"SELECT rolcreatedb FROM pg_roles WHERE rolname = '{P}role'") == [(False,)]

    # someone makes it a superuser: the diff shows it, but the provisioner (no superuser) cannot take
    # it away and says so; a superuser's update (the same provider connected as one) repairs it
    sql(pg_env, f"ALTER ROLE {P}role SUPERUSER")
    drifted = p.read(created.id, new).outs
    assert drifted is not None and p.changed(drifted, new) == ["safe"]
    with pytest.raises(RuntimeError, match="has SUPERUSER that only a superuser can take away"):
        p.update(created.id, drifted, new)
    as_superuser = dict(new, conn=dict(pg_env.conn, user=pg_env.user))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZWVL_PG_ADMIN_PASSWORD", pg_env.password)
        p.update(created.id, drifted, as_superuser)
    no_diff(p, created.id, new)
    assert sql(pg_env, f"SELECT rolsuper FROM pg_roles WHERE rolname = '{P}role'") == [(False,)]

    # a rename would replace it: refused
    with pytest.raises(pg.ReplaceRefused, match="Rename it in the server"):
        p.diff(created.id, new, dict(new, name=P + "other"))

    p.delete(created.id, new)
    assert p.read(created.id, new).id is None
    p.delete(created.id, new)  # idempotent


def test_database_lifecycle_and_drift(pg_env: PgServer) -> None:
    roles = pg.RoleProvider()
    for name in ("dbowner", "dbowner2"):
        roles.create(
            {"conn": pg_env.conn, "name": P + name, "login": False, "inherit": True, "password": None}
        )
    p = pg.DatabaseProvider()
    props = {"conn": pg_env.conn, "name": P + "db", "owner": P + "dbowner", "public_access": []}
    created = p.create(props)
    outs = no_diff(p, created.id, props)
    assert outs["public_access"] == []
    assert sql(pg_env, f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{P}db'") == [
        (P + "dbowner",)
    ]

    # drift: PUBLIC may connect again, and the owner changed
    sql(pg_env, f"GRANT CONNECT ON DATABASE {P}db TO PUBLIC")
    sql(pg_env, f"ALTER DATABASE {P}db OWNER TO {P}dbowner2")
    drifted = p.read(created.id, props).outs
    assert drifted is not None
    assert drifted["public_access"] == ["CONNECT"] and drifted["owner"] == P + "dbowner2"
    assert set(p.changed(drifted, props)) == {"owner", "public_access"}
    p.update(created.id, drifted, props)
    no_diff(p, created.id, props)

    # update: the declared owner changes
    new = dict(props, owner=P + "dbowner2")
    p.update(created.id, props, new)
    no_diff(p, created.id, new)

    p.delete(created.id, new)
    assert p.read(created.id, new).id is None
    p.delete(created.id, new)
    for name in ("dbowner", "dbowner2"):
        roles.delete(P + name, {"conn": pg_env.conn})


@pytest.fixture
def scratch_db(pg_env: PgServer) -> Any:
    """A database owned by an owner role, with a writer/reader role, removed afterwards."""
    roles = pg.RoleProvider()
    names = {k: f"{P}s_{k}" for k in ("owner", "writer", "reader", "group")}
    for k, name in names.items():
        roles.create(
            {"conn": pg_env.conn, "name": name, "login": k != "group", "inherit": True, "password": PW[k]}
        )
    db = pg.DatabaseProvider()
    db.create({"conn": pg_env.conn, "name": P + "s_db", "owner": names["owner"]})
    yield dict(names, db=P + "s_db")
    sql(pg_env, f"DROP DATABASE {P}s_db WITH (FORCE)")  # it holds the tests' tables: the provider refuses
    for name in names.values():
        roles.delete(name, {"conn": pg_env.conn})


def test_schema_lifecycle_and_drift(pg_env: PgServer, scratch_db: dict[str, str]) -> None:
    p = pg.SchemaProvider()
    props = {
        "conn": pg_env.conn,
        "database": scratch_db["db"],
        "name": "telraam_counts",
        "owner": scratch_db["owner"],
        "force_destroy": False,
    }
    created = p.create(props)
    assert created.id == f"{scratch_db['db']}/telraam_counts"
    no_diff(p, created.id, props)

    sql(pg_env, f"ALTER SCHEMA telraam_counts OWNER TO {scratch_db['writer']}", db=scratch_db["db"])
    drifted = p.read(created.id, props).outs
    assert drifted is not None and p.changed(drifted, props) == ["owner"]
    p.update(created.id, drifted, props)
    no_diff(p, created.id, props)

    # a schema with data is not dropped unless force_destroy
    sql(pg_env, "CREATE TABLE telraam_counts.t (n int)", db=scratch_db["db"])
    with pytest.raises(RuntimeError, match=r"holds 1 object\(s\) \(table t\): not dropped"):
        p.delete(created.id, props)
    p.delete(created.id, dict(props, force_destroy=True))
    assert p.read(created.id, props).id is None


def test_grant_on_tables_with_default_privileges_and_drift(
    pg_env: PgServer, scratch_db: dict[str, str]
) -> None:
    p = pg.GrantProvider()
    db, owner, reader = scratch_db["db"], scratch_db["owner"], scratch_db["reader"]
    sql(pg_env, f"GRANT CONNECT ON DATABASE {db} TO {reader}")
    sql(
        pg_env,
        f"SET ROLE {owner}; CREATE TABLE public.before (n int); INSERT INTO public.before VALUES (1)",
        db=db,
    )
    props = {
        "conn": pg_env.conn,
        "role": reader,
        "object_type": "tables",
        "database": db,
        "schema": "public",
        "owner": owner,
        "privileges": ["SELECT"],
    }
    created = p.create(props)
    assert created.id == f"{reader}@{db}/public:tables"
    no_diff(p, created.id, props)

    # existing and future tables of the owner are readable
    sql(
        pg_env,
        f"SET ROLE {owner}; CREATE TABLE public.after (n int); INSERT INTO public.after VALUES (2)",
        db=db,
    )
    assert sql(
        pg_env,
        "SELECT n FROM public.before UNION ALL SELECT n FROM public.after ORDER BY 1",
        db=db,
        user=reader,
        password=PW["reader"],
    ) == [(1,), (2,)]

    # drift: SELECT revoked on one table behind the provider's back
    sql(pg_env, f"REVOKE SELECT ON public.after FROM {reader}", db=db)
    drifted = p.read(created.id, props).outs
    assert drifted is not None and drifted["privileges"] == []
    assert drifted["extra_privileges"] == ["(default privileges): SELECT", "public.before: SELECT"]
    assert p.changed(drifted, props) == ["privileges", "extra_privileges"]
    p.update(created.id, drifted, props)
    no_diff(p, created.id, props)
    assert sql(pg_env, "SELECT n FROM public.after", db=db, user=reader, password=PW["reader"]) == [(2,)]

    # update: the reader may also insert; then back to read-only (the extra privilege is revoked)
    more = dict(props, privileges=["INSERT", "SELECT"])
    p.update(created.id, props, more)
    no_diff(p, created.id, more)
    p.update(created.id, more, props)
    no_diff(p, created.id, props)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        sql(pg_env, "INSERT INTO public.after VALUES (3)", db=db, user=reader, password=PW["reader"])

    p.delete(created.id, props)
    after = p.read(created.id, props).outs
    assert after is not None and after["privileges"] == []
    assert sql(
        pg_env, f"SELECT count(*) FROM pg_default_acl WHERE defaclrole = '{owner}'::regrole", db=db
    ) == [(0,)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        sql(pg_env, "SELECT n FROM public.before", db=db, user=reader, password=PW["reader"])


def test_grant_on_database_and_schema(pg_env: PgServer, scratch_db: dict[str, str]) -> None:
    p = pg.GrantProvider()
    db, writer = scratch_db["db"], scratch_db["writer"]
    connect = {
        "conn": pg_env.conn,
        "role": writer,
        "object_type": "database",
        "database": db,
        "schema": None,
        "owner": None,
        "privileges": ["CONNECT", "TEMPORARY"],
    }
    usage = dict(connect, object_type="schema", schema="public", privileges=["USAGE"])
    for props in (connect, usage):
        created = p.create(props)
        no_diff(p, created.id, props)
    assert sql(pg_env, "SELECT current_database()", db=db, user=writer, password=PW["writer"]) == [(db,)]

    sql(pg_env, f"REVOKE TEMPORARY ON DATABASE {db} FROM {writer}")
    rid = p.grant_id(connect)
    drifted = p.read(rid, connect).outs
    assert drifted is not None and drifted["privileges"] == ["CONNECT"]
    p.update(rid, drifted, connect)
    no_diff(p, rid, connect)

    for props in (usage, connect):
        p.delete(p.grant_id(props), props)
    with pytest.raises(psycopg.OperationalError):
        sql(pg_env, "SELECT 1", db=db, user=writer, password=PW["writer"])


def test_membership_lifecycle_and_drift(pg_env: PgServer, scratch_db: dict[str, str]) -> None:
    p = pg.MembershipProvider()
    props = {"conn": pg_env.conn, "role": scratch_db["group"], "member": scratch_db["reader"]}
    created = p.create(props)
    no_diff(p, created.id, props)
    sql(pg_env, f"REVOKE {scratch_db['group']} FROM {scratch_db['reader']}")
    assert p.read(created.id, props).id is None  # gone: refresh drops it, the next up re-creates it
    p.create(props)
    no_diff(p, created.id, props)
    assert p.diff(created.id, props, dict(props, member=scratch_db["writer"])).replaces == ["member"]
    p.delete(created.id, props)
    assert p.read(created.id, props).id is None
    p.delete(created.id, props)


def test_password_provider() -> None:
    p = pg.PasswordProvider()
    a = p.create({"length": 24})
    b = p.create({"length": 24})
    assert a.outs is not None and b.outs is not None
    assert len(a.outs["result"]) == 24 and a.outs["result"] != b.outs["result"]
    assert p.read(str(a.id), a.outs).outs == a.outs
    assert p.diff(str(a.id), a.outs, {"length": 24, "keepers": None}).changes is False
    assert p.diff(str(a.id), a.outs, {"length": 30, "keepers": None}).replaces == ["length"]


def test_table_lifecycle_and_drift(pg_env: PgServer, scratch_db: dict[str, str]) -> None:
    """The load log the exporter reads: created as the schema owner (so its default privileges apply),
    columns read back as PostgreSQL spells them, hand edits repaired, rows protect it from deletion."""
    db, owner, reader = scratch_db["db"], scratch_db["owner"], scratch_db["reader"]
    sql(
        pg_env,
        f"CREATE SCHEMA platform AUTHORIZATION {owner}; GRANT USAGE ON SCHEMA platform TO {reader}",
        db=db,
    )
    sql(pg_env, f"GRANT CONNECT ON DATABASE {db} TO {reader}")
    grant = {
        "conn": pg_env.conn,
        "role": reader,
        "object_type": "tables",
        "database": db,
        "schema": "platform",
        "owner": owner,
        "privileges": ["SELECT"],
    }
    pg.GrantProvider().create(grant)  # before the table: only the default privileges can cover it
    p = pg.TableProvider()
    props = {
        "conn": pg_env.conn,
        "database": db,
        "schema": "platform",
        "name": "dataset_loads",
        "owner": owner,
        "columns": [
            ["dataset", "text", True],
            ["loaded_at", "timestamp with time zone", True],
            ["rows", "bigint", False],
        ],
        "force_destroy": False,
    }
    created = p.create(props)
    assert created.id == f"{db}/platform.dataset_loads"
    no_diff(p, created.id, props)
    sql(
        pg_env,
        f"SET ROLE {owner}; INSERT INTO platform.dataset_loads VALUES ('telraam-counts', now(), 3)",
        db=db,
    )
    assert sql(
        pg_env, "SELECT dataset, rows FROM platform.dataset_loads", db=db, user=reader, password=PW["reader"]
    ) == [("telraam-counts", 3)]
    with pytest.raises(psycopg.errors.NotNullViolation):
        sql(pg_env, "INSERT INTO platform.dataset_loads (dataset) VALUES ('x')", db=db)

    # drift: a column dropped, one added, a type changed, NOT NULL lifted and the owner changed by hand
    sql(
        pg_env,
        "ALTER TABLE platform.dataset_loads DROP COLUMN rows, ADD COLUMN note text, "
        "ALTER COLUMN loaded_at TYPE timestamp, ALTER COLUMN dataset DROP NOT NULL; "
        f"ALTER TABLE platform.dataset_loads OWNER TO {scratch_db['writer']}",
        db=db,
    )
    drifted = p.read(created.id, props).outs
    assert drifted is not None and set(p.changed(drifted, props)) == {"columns", "owner"}
    assert ["loaded_at", "timestamp without time zone", True] in drifted["columns"]
    assert drifted["undeclared_columns"] == ["note"]  # reported, not a diff: it is never dropped
    updated = p.update(created.id, drifted, props).outs
    assert updated is not None and updated["undeclared_columns"] == ["note"]
    no_diff(p, created.id, props)
    assert sql(pg_env, "SELECT dataset, note FROM platform.dataset_loads", db=db) == [
        ("telraam-counts", None)
    ]

    # renaming is refused; a table with rows is kept unless force_destroy
    with pytest.raises(pg.ReplaceRefused):
        p.diff(created.id, props, dict(props, name="loads"))
    with pytest.raises(RuntimeError, match="holds rows"):
        p.delete(created.id, props)
    p.delete(created.id, dict(props, force_destroy=True))
    assert p.read(created.id, props).id is None
    p.delete(created.id, props)  # idempotent
    pg.GrantProvider().delete(pg.GrantProvider.grant_id(grant), grant)
    sql(pg_env, "DROP SCHEMA platform", db=db)
