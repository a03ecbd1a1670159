"""Destroying data needs intent: against a real PostgreSQL 15, a rename (or a `namePrefix` change) is
refused rather than replaced, a database holding tables or a schema holding objects is not dropped,
an undeclared column is never dropped, and a privilege added by hand on one table shows as a diff."""

from __future__ import annotations

import pytest

from tests.platform.services import PgServer
from tests.platform.test_pg_providers import P, sql
from zwvl.platform.providers import postgres as pg

pytestmark = pytest.mark.integration


def test_name_prefix_change_is_refused_and_nothing_is_dropped(pg_env: PgServer) -> None:
    roles, dbs, schemas, tables = (
        pg.RoleProvider(),
        pg.DatabaseProvider(),
        pg.SchemaProvider(),
        pg.TableProvider(),
    )
    role = {"conn": pg_env.conn, "name": P + "pr_owner", "login": False, "inherit": True, "password": None}
    roles.create(role)
    db = {"conn": pg_env.conn, "name": P + "pr_db", "owner": P + "pr_owner", "public_access": []}
    dbs.create(db)
    schema = {"conn": pg_env.conn, "database": P + "pr_db", "name": "counts", "owner": P + "pr_owner"}
    schema["force_destroy"] = False
    schemas.create(schema)
    table = dict(schema, schema="counts", name="obs", columns=[["n", "integer", False]])
    tables.create(table)
    sql(pg_env, "INSERT INTO counts.obs VALUES (1)", db=P + "pr_db")
    try:
        renamed = P.replace("_t_", "_x_")  # what a namePrefix change does to every name
        for provider, props, keys in (
            (roles, role, ("name",)),
            (dbs, db, ("name",)),
            (schemas, schema, ("database",)),
            (tables, table, ("database",)),
        ):
            new = dict(props, **{k: str(props[k]).replace(P, renamed) for k in keys})
            with pytest.raises(pg.ReplaceRefused, match=f"{renamed}pr_") as err:
                provider.diff("id", props, new)
            assert "pulumi state" in str(err.value) and P + "pr_" in str(err.value)
        # a schema or table renamed within its database: refused too
        with pytest.raises(pg.ReplaceRefused, match="'counts' -> 'counts2'"):
            schemas.diff("id", schema, dict(schema, name="counts2"))
        # other changes are still updates, not refusals
        assert dbs.diff("id", db, dict(db, owner="postgres")).replaces == []
        assert sql(pg_env, "SELECT n FROM counts.obs", db=P + "pr_db") == [(1,)]
    finally:
        sql(pg_env, f"DROP DATABASE IF EXISTS {P}pr_db WITH (FORCE)")
        roles.delete(P + "pr_owner", role)


def test_table_update_never_drops_an_undeclared_column(pg_env: PgServer) -> None:
    """A column added by hand, and one no longer declared, keep their data through an update."""
    roles, tables = pg.RoleProvider(), pg.TableProvider()
    role = {"conn": pg_env.conn, "name": P + "uc_owner", "login": False, "inherit": True, "password": None}
    roles.create(role)
    pg.DatabaseProvider().create({"conn": pg_env.conn, "name": P + "uc_db", "owner": P + "uc_owner"})
    props = {
        "conn": pg_env.conn,
        "database": P + "uc_db",
        "schema": "public",
        "name": "obs",
        "owner": P + "uc_owner",
        "columns": [["n", "integer", True], ["old", "text", False]],
        "force_destroy": False,
    }
    try:
        rid = str(tables.create(props).id)
        sql(pg_env, "ALTER TABLE obs ADD COLUMN by_hand text", db=P + "uc_db")
        sql(pg_env, "INSERT INTO obs VALUES (1, 'kept', 'mine')", db=P + "uc_db")
        read = tables.read(rid, props).outs
        assert read is not None and read["undeclared_columns"] == ["by_hand"]
        assert not tables.diff(rid, read, props).changes  # reported, never repaired away
        # `old` no longer declared, a new column declared: added, and nothing dropped
        new = dict(props, columns=[["n", "integer", True], ["extra", "bigint", False]])
        assert tables.diff(rid, read, new).changes
        outs = tables.update(rid, read, new).outs
        assert outs is not None and outs["undeclared_columns"] == ["old", "by_hand"]
        assert sql(pg_env, "SELECT n, old, by_hand, extra FROM obs", db=P + "uc_db") == [
            (1, "kept", "mine", None)
        ]
        after = tables.read(rid, new).outs
        assert after is not None and not tables.diff(rid, after, new).changes
        assert after["undeclared_columns"] == ["old", "by_hand"]
    finally:
        sql(pg_env, f"DROP DATABASE IF EXISTS {P}uc_db WITH (FORCE)")
        roles.delete(P + "uc_owner", role)


def test_privilege_granted_by_hand_on_one_table_shows_as_a_diff(pg_env: PgServer) -> None:
    roles, grants = pg.RoleProvider(), pg.GrantProvider()
    names = {k: f"{P}hg_{k}" for k in ("owner", "reader")}
    for name in names.values():
        roles.create({"conn": pg_env.conn, "name": name, "login": False, "inherit": True, "password": None})
    db = P + "hg_db"
    pg.DatabaseProvider().create({"conn": pg_env.conn, "name": db, "owner": names["owner"]})
    props = {
        "conn": pg_env.conn,
        "role": names["reader"],
        "object_type": "tables",
        "database": db,
        "schema": "public",
        "owner": names["owner"],
        "privileges": ["SELECT"],
        "extra_privileges": [],
    }
    try:
        sql(pg_env, f"SET ROLE {names['owner']}; CREATE TABLE a (n int); CREATE TABLE b (n int)", db=db)
        rid = str(grants.create(props).id)
        read = grants.read(rid, props).outs
        assert read is not None and not grants.diff(rid, read, props).changes

        sql(pg_env, f"GRANT INSERT, DELETE ON public.b TO {names['reader']}", db=db)  # by hand, one table
        drifted = grants.read(rid, props).outs
        assert drifted is not None and drifted["privileges"] == ["SELECT"]
        assert drifted["extra_privileges"] == ["public.b: DELETE", "public.b: INSERT"]
        diff = grants.diff(rid, drifted, props)
        assert diff.changes and grants.changed(drifted, props) == ["extra_privileges"] and not diff.replaces

        grants.update(rid, drifted, props)  # the update revokes it
        repaired = grants.read(rid, props).outs
        assert repaired is not None and not grants.diff(rid, repaired, props).changes
        assert sql(
            pg_env, f"SELECT has_table_privilege('{names['reader']}', 'public.b', 'INSERT')", db=db
        ) == [(False,)]
        # a state written before extra_privileges existed shows no diff
        old_state = {k: v for k, v in repaired.items() if k != "extra_privileges"}
        assert not grants.diff(rid, old_state, props).changes
    finally:
        sql(pg_env, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        for name in names.values():
            roles.delete(name, {"conn": pg_env.conn})


def test_dropping_a_database_with_a_table_is_refused(pg_env: PgServer) -> None:
    dbs = pg.DatabaseProvider()
    owner = P + "dd_owner"
    sql(pg_env, f"CREATE ROLE {owner}")
    props = {"conn": pg_env.conn, "name": P + "dd_db", "owner": owner, "public_access": []}
    dbs.create(props)
    try:
        sql(pg_env, f"SET ROLE {owner}; CREATE SCHEMA loads; CREATE TABLE loads.obs (n int)", db=P + "dd_db")
        with pytest.raises(
            RuntimeError, match=rf"database {P}dd_db holds 1 table\(s\) \(loads.obs\): not dropped"
        ):
            dbs.delete(P + "dd_db", props)
        assert dbs.read(P + "dd_db", props).id == P + "dd_db"
        assert sql(pg_env, "SELECT count(*) FROM loads.obs", db=P + "dd_db") == [(0,)]
        sql(pg_env, "DROP SCHEMA loads CASCADE", db=P + "dd_db")  # the intent: its tables dropped first
        dbs.delete(P + "dd_db", props)
        assert dbs.read(P + "dd_db", props).id is None
        dbs.delete(P + "dd_db", props)  # idempotent
    finally:
        sql(pg_env, f"DROP DATABASE IF EXISTS {P}dd_db WITH (FORCE)")
        sql(pg_env, f"DROP ROLE {owner}")


def test_dropping_a_non_empty_schema_is_refused(pg_env: PgServer) -> None:
    dbs, schemas = pg.DatabaseProvider(), pg.SchemaProvider()
    db, owner = P + "ds_db", P + "ds_owner"
    sql(pg_env, f"CREATE ROLE {owner}")
    dbs.create({"conn": pg_env.conn, "name": db, "owner": owner})
    props = {
        "conn": pg_env.conn,
        "database": db,
        "name": "counts",
        "owner": owner,
        "force_destroy": False,
    }
    rid = str(schemas.create(props).id)
    try:
        sql(
            pg_env,
            f"SET ROLE {owner}; CREATE TABLE counts.full (n int); INSERT INTO counts.full VALUES (1); "
            "CREATE TABLE counts.empty (n int); CREATE VIEW counts.v AS SELECT 1 AS one",
            db=db,
        )
        with pytest.raises(RuntimeError) as err:
            schemas.delete(rid, props)
        assert "schema counts in database " + db in str(err.value)
        assert "table empty, table full (holds rows), view v" in str(err.value)
        assert sql(pg_env, "SELECT n FROM counts.full", db=db) == [(1,)]
        sql(pg_env, "DROP VIEW counts.v; DROP TABLE counts.full, counts.empty", db=db)
        sql(
            pg_env,
            f"SET ROLE {owner}; CREATE FUNCTION counts.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
            db=db,
        )
        with pytest.raises(RuntimeError, match=r"\(function f\): not dropped"):
            schemas.delete(rid, props)
        schemas.delete(rid, dict(props, force_destroy=True))  # the intent
        assert schemas.read(rid, props).id is None
    finally:
        sql(pg_env, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        sql(pg_env, f"DROP ROLE {owner}")


def test_an_unknown_name_in_preview_is_an_update_not_a_refusal() -> None:
    """In a preview a name may not be known yet (its database is being updated): the real diff during
    `up` refuses if it changed; the preview shows an update, never a replacement."""
    from zwvl.platform.providers.dynamic import UNKNOWN

    schema = {"conn": {}, "database": P + "db", "name": "counts", "owner": "o", "force_destroy": False}
    diff = pg.SchemaProvider().diff("id", schema, dict(schema, database=UNKNOWN))
    assert diff.changes and diff.replaces == [] and not diff.delete_before_replace
