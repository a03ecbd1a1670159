"""The embedded local NetBox: PostgreSQL and Redis from Debian, NetBox and its branching plugin from PyPI,
gunicorn on 127.0.0.1 and NetBox's background worker (`netbox rqworker`).

Development and test tooling (installed with the `dev` extra), not part of the product.

Everything heavy lives in a cache folder outside the work tree (default ``~/.cache/zwvl``, or
``$ZWVL_CACHE_DIR``)::

    <cache>/
      redis/                             redis.conf, redis.pid, redis.log of the redis-server we start
      locks/                             flock files (venv and template builds, one per instance)
      venvs/netbox-<key>/                NetBox and netboxlabs-netbox-branching (requirements.txt pins
                                         both; <key> e.g. 4.7.3-branching-1.2.2), gunicorn, `.zwvl-ready`
      templates/netbox-<key>.dump        pg_dump -Fc of the migrated template database
      templates/netbox-<key>.migrations.json  migrations applied in the template (cheap "is migrated" check)
      templates/netbox-<key>-build/      NETBOX_ROOT used only to migrate the template
      instances/<name>/                  NETBOX_ROOT of an instance: conf/configuration.py, secrets.json,
                                         credentials.json (0600), instance.json, gunicorn.pid/.log,
                                         rqworker.pid/.log

The password of the `zwvl_netbox` PostgreSQL role (LOGIN CREATEDB) is kept in
``~/.config/zwvl/postgres.json`` (0600; see :func:`pg_credentials_file`).

One module per seam: :mod:`.apt` (Debian packages), :mod:`.postgres`, :mod:`.redis`, :mod:`.venv`,
:mod:`.config` (a NetBox root folder), :mod:`.template`, :mod:`.gunicorn` and :mod:`.instance`
(start/stop, up/down/status). This package exposes what callers use.

PostgreSQL databases: ``zwvl_netbox_tpl_<key>`` (migrated once, marked IS_TEMPLATE, connections
disallowed), ``zwvl_netbox_<name>`` per instance, cloned with ``CREATE DATABASE ... TEMPLATE``.
"""

from devtools.netbox.apt import ensure_system_packages, missing_system_packages, netbox_system_packages
from devtools.netbox.common import (
    ADMIN_USER,
    BRANCHING_VERSION,
    HOST,
    NETBOX_VERSION,
    PG_HOST,
    PG_PORT,
    PG_ROLE,
    REDIS_HOST,
    REDIS_PORT,
    Layout,
    LocalNetboxError,
    instance_db_name,
    layout,
    pg_credentials_file,
    template_db_name,
)
from devtools.netbox.config import SETTINGS_ENV, extra_settings, netbox_env
from devtools.netbox.instance import (
    Check,
    DownResult,
    Instance,
    Status,
    down,
    start_instance,
    status,
    stop_instance,
    up,
)
from devtools.netbox.postgres import (
    clone_database,
    database_exists,
    drop_database,
    ensure_postgres,
    ensure_role,
    list_databases,
    postgres_ready,
)
from devtools.netbox.redis import ensure_redis, redis_ping
from devtools.netbox.template import ensure_services, ensure_template
from devtools.netbox.venv import ensure_venv, find_base_python
from zwvl.netbox.settings import DEFAULT_PORT
from zwvl.procs import free_port, pid_alive

__all__ = [
    "ADMIN_USER",
    "BRANCHING_VERSION",
    "DEFAULT_PORT",
    "HOST",
    "NETBOX_VERSION",
    "PG_HOST",
    "PG_PORT",
    "PG_ROLE",
    "REDIS_HOST",
    "REDIS_PORT",
    "SETTINGS_ENV",
    "Check",
    "DownResult",
    "Instance",
    "Layout",
    "LocalNetboxError",
    "Status",
    "clone_database",
    "database_exists",
    "down",
    "drop_database",
    "ensure_postgres",
    "ensure_redis",
    "ensure_role",
    "ensure_services",
    "ensure_system_packages",
    "ensure_template",
    "ensure_venv",
    "extra_settings",
    "find_base_python",
    "free_port",
    "instance_db_name",
    "layout",
    "list_databases",
    "missing_system_packages",
    "netbox_env",
    "netbox_system_packages",
    "pg_credentials_file",
    "pid_alive",
    "postgres_ready",
    "redis_ping",
    "start_instance",
    "status",
    "stop_instance",
    "template_db_name",
    "up",
]
