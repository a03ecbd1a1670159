"""Pulumi dynamic providers for PostgreSQL (psycopg 3): roles, databases, schemas, tables, grants,
memberships, and generated passwords. One resource a module: its provider and its resource.

Every provider really creates, reads back, diffs, updates and deletes, so `pulumi refresh` finds a
change made behind Pulumi's back (a revoked grant, a changed owner, a dropped role).

Connection: the non-secret part (`host`, `port`, `user`, `sslmode`, `sslrootcert`: the CA file, else
`$ZWVL_CA_FILE`) is an input of every resource; the admin password is the stack secret
`zwvl:pgAdminPassword`, else `$ZWVL_PG_ADMIN_PASSWORD`, else libpq's own (`PGPASSWORD`, `~/.pgpass`).
It is never written to the state. The role connected as need not be a superuser: see `base`.
"""

from zwvl.platform.providers.dynamic import ReplaceRefused
from zwvl.platform.providers.postgres.base import ADVISORY_LOCK, ENV_CA_FILE, Conn, PgArgs, PgProvider
from zwvl.platform.providers.postgres.database import Database, DatabaseArgs, DatabaseProvider
from zwvl.platform.providers.postgres.grant import PRIVILEGES, Grant, GrantArgs, GrantProvider
from zwvl.platform.providers.postgres.membership import Membership, MembershipArgs, MembershipProvider
from zwvl.platform.providers.postgres.password import Password, PasswordArgs, PasswordProvider
from zwvl.platform.providers.postgres.role import Role, RoleArgs, RoleProvider
from zwvl.platform.providers.postgres.schema import Schema, SchemaArgs, SchemaProvider
from zwvl.platform.providers.postgres.table import Table, TableArgs, TableProvider

__all__ = [
    "ADVISORY_LOCK",
    "PRIVILEGES",
    "ENV_CA_FILE",
    "Conn",
    "Database",
    "DatabaseArgs",
    "DatabaseProvider",
    "Grant",
    "GrantArgs",
    "GrantProvider",
    "Membership",
    "MembershipArgs",
    "MembershipProvider",
    "Password",
    "PasswordArgs",
    "PasswordProvider",
    "PgArgs",
    "PgProvider",
    "ReplaceRefused",
    "Role",
    "RoleArgs",
    "RoleProvider",
    "Schema",
    "SchemaArgs",
    "SchemaProvider",
    "Table",
    "TableArgs",
    "TableProvider",
]
