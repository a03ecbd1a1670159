"""Real services for the platform tests, started and stopped by the fixtures (by PID, no systemd).

- PostgreSQL 15: a private cluster (`initdb` in a temporary directory, a free port on 127.0.0.1,
  superuser `zwvl_plat_admin`), so Debian's 15/main and the NetBox databases are never touched. It
  serves TLS only over TCP, with a certificate from its own region CA (tests/support/postgres.py),
  and holds the provisioning role the Ansible role creates (`zwvl_provisioner`, with the attributes
  read from ansible/roles/postgresql/tasks/main.yml: no superuser), which the providers and the
  Pulumi program connect as; the tests' own checks connect as the superuser.
- Request Tracker 5.0.3 (Debian's request-tracker5 + rt5-db-sqlite + rt5-standalone): `rt-server`
  on a free 127.0.0.1 port with a SQLite database in a temporary directory. The config is isolated
  with RT_SITE_CONFIG/RT_SITE_CONFIG_DIR; the SLA part is rendered from the Ansible role's own
  template with the domain model's variables, so the test RT runs the config the role deploys
  (tests may add SLA levels of their own, e.g. tests/monitoring's few-second level for a breach).
  Also used by the monitoring tests (tests/monitoring/conftest.py) for the exporter's helpdesk source.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
import psycopg
import requests
import yaml
from psycopg import sql

from tests.support.postgres import PgCluster, start_cluster
from zwvl.inventory import Inventory
from zwvl.platform.plan import request_tracker_vars
from zwvl.procs import free_port, stop_group

REPO = Path(__file__).resolve().parents[2]
RT_SERVER = Path("/usr/share/request-tracker5/libexec/rt-server")
RT_SETUP = Path("/usr/sbin/rt-setup-database-5")
RT_PASSWD = Path("/usr/sbin/rt-passwd-5")
SITE_TEMPLATE = REPO / "ansible/roles/request_tracker/templates/50-zwvl-site.pm.j2"
SLA_TEMPLATE = REPO / "ansible/roles/request_tracker/templates/60-zwvl-sla.pm.j2"
PG_SUPERUSER = "zwvl_plat_admin"


class ServiceError(RuntimeError):
    pass


def _missing(*paths: Path) -> list[str]:
    return [str(p) for p in paths if not p.exists()]


# --- PostgreSQL ------------------------------------------------------------------------------


PG_ROLE_TASKS = REPO / "ansible/roles/postgresql/tasks/main.yml"
PROVISIONER = "zwvl_provisioner"


def provisioner_attributes() -> str:
    """The provisioning role's attributes as the Ansible role creates it (`role_attr_flags`)."""
    tasks = yaml.safe_load(PG_ROLE_TASKS.read_text())
    for task in tasks:
        user = task.get("community.postgresql.postgresql_user") or {}
        if user.get("name") == "{{ postgresql_provisioner_role }}":
            return " ".join(str(user["role_attr_flags"]).split(","))
    raise ServiceError(f"no task creating the provisioning role in {PG_ROLE_TASKS}")


@dataclass
class PgServer(PgCluster):
    """The cluster and its provisioning role: `conn` (what the providers get) names the provisioner;
    `dsn()` is the superuser's, for the tests' own checks."""

    provisioner: str = PROVISIONER
    provisioner_password: str = ""

    @property
    def conn(self) -> dict[str, object]:
        return dict(super().conn, user=self.provisioner)


def start_postgres() -> PgServer:
    """A throw-away cluster (tests/support/postgres.py): scram-sha-256 over TLS (verify-full),
    superuser zwvl_plat_admin, and the provisioning role zwvl_provisioner as the Ansible role makes it."""
    cluster = start_cluster(
        prefix="zwvl-plat-pg-",
        superuser=PG_SUPERUSER,
        password=secrets.token_urlsafe(18),
        locale="C.UTF-8",
        settings={"shared_buffers": "32MB", "max_connections": "60"},
        error=ServiceError,
    )
    server = PgServer(**vars(cluster), provisioner_password=secrets.token_urlsafe(18))
    try:
        with psycopg.connect(server.dsn(), autocommit=True) as c:
            c.execute(
                sql.SQL("CREATE ROLE {} " + provisioner_attributes() + " PASSWORD {}").format(
                    sql.Identifier(server.provisioner), sql.Literal(server.provisioner_password)
                )
            )
    except Exception:
        server.stop()
        raise
    return server


def stop_postgres(server: PgServer) -> None:
    server.stop()


# --- Request Tracker -------------------------------------------------------------------------


@dataclass
class RtServer:
    url: str
    user: str
    password: str
    root: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    def set_password(self, user: str, password: str) -> None:
        """Set an RT user's password out of band with RT's own rt-passwd (REST2 cannot)."""
        proc = subprocess.run(
            [str(RT_PASSWD), user],
            input=password + "\n",
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if "Successfully changed" not in proc.stdout:  # exits 1 without a terminal even on success
            raise ServiceError(f"rt-passwd {user}: {proc.stdout[-500:]} {proc.stderr[-500:]}")

    def create_token(self, user: str, description: str) -> str:
        """An RT::Authen::Token auth token for a user, made out of band with RT's own API (the token
        page of the web interface is a modal form); the token string is only known at creation."""
        script = (
            "use strict; use RT; RT::LoadConfig(); RT::Init();"
            "my $u = RT::CurrentUser->new(RT->SystemUser); $u->Load($ARGV[0]) or die 'no user';"
            "my $t = RT::AuthToken->new($u);"
            "my ($id, $msg, $auth) = $t->Create(Owner => $u->id, Description => $ARGV[1]);"
            "die $msg unless $id; print $auth;"
        )
        lib = RT_SERVER.parents[1] / "lib"
        proc = subprocess.run(
            ["perl", f"-I{lib}", "-e", script, user, description],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0 or not proc.stdout.strip():
            raise ServiceError(f"RT token for {user}: {proc.stderr[-500:]}")
        return proc.stdout.strip()

    def log(self) -> str:
        path = self.root / "rt-server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def render_sla_config(inv: Inventory, extra_levels: Sequence[Mapping[str, object]] = ()) -> str:
    """The role's SLA config for the domain model; `extra_levels` (the role's level variables: name,
    priority, unit, business_hours, acknowledge_minutes, resolve_minutes, timezone) are appended."""
    variables = request_tracker_vars(inv)
    levels = variables["request_tracker_sla_levels"]
    assert isinstance(levels, list)
    variables["request_tracker_sla_levels"] = [*levels, *extra_levels]
    env = jinja2.Environment(trim_blocks=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.from_string(SLA_TEMPLATE.read_text()).render(**variables)


def render_site_config(url: str, referrer_whitelist: Sequence[str] = ()) -> str:
    """The role's `50-zwvl-site.pm` for an RT answering at `url`."""
    parts = urlsplit(url)
    variables = {
        "ansible_managed": "rendered by tests/platform/services.py from the request_tracker role",
        "request_tracker_name": "zwvl-test",
        "request_tracker_organization": "zwvl-test",
        "request_tracker_web_domain": parts.hostname,
        "request_tracker_port": parts.port,
        "request_tracker_web_base_url": url,
        "request_tracker_referrer_whitelist": list(referrer_whitelist),
    }
    env = jinja2.Environment(trim_blocks=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.from_string(SITE_TEMPLATE.read_text()).render(**variables)


def start_rt(inv: Inventory, extra_sla_levels: Sequence[Mapping[str, object]] = ()) -> RtServer:
    missing = _missing(RT_SERVER, RT_SETUP)
    if missing:
        raise ServiceError(
            f"Request Tracker 5 missing ({', '.join(missing)}): run scripts/install-system-deps "
            "(request-tracker5, rt5-db-sqlite, rt5-standalone)"
        )
    root = Path(tempfile.mkdtemp(prefix="zwvl-plat-rt-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    password = secrets.token_urlsafe(18)
    for d in ("site.d", "mason", "session"):
        (root / d).mkdir()
    # the role's own site settings (names, base URL, CSRF protection), then what only the test needs
    (root / "site.d" / "50-zwvl-site.pm").write_text(render_site_config(url))
    (root / "RT_SiteConfig.pm").write_text(
        "\n".join(
            [
                "Set($DatabaseType, 'SQLite');",
                f"Set($DatabaseName, '{root / 'rt.sqlite'}');",
                "Set($LogToSTDERR, 'warning');",
                "Set($LogToSyslog, undef);",
                f"$RT::MasonDataDir = '{root / 'mason'}';",
                f"$RT::MasonSessionDir = '{root / 'session'}';",
                "1;",
                "",
            ]
        )
    )
    (root / "site.d" / "60-zwvl-sla.pm").write_text(render_sla_config(inv, extra_sla_levels))
    env = dict(
        os.environ, RT_SITE_CONFIG=str(root / "RT_SiteConfig.pm"), RT_SITE_CONFIG_DIR=str(root / "site.d")
    )
    pwfile = root / "rootpw"
    pwfile.write_text(password)
    setup = subprocess.run(
        [str(RT_SETUP), "--action", "init", "--skip-create", "--root-password-file", str(pwfile)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    pwfile.unlink()
    if setup.returncode != 0:
        raise ServiceError(f"rt-setup-database failed: {setup.stdout[-1500:]}{setup.stderr[-1500:]}")
    log = open(root / "rt-server.log", "wb")  # noqa: SIM115 (kept open for the server's lifetime)
    proc = subprocess.Popen(
        [str(RT_SERVER), "--server", "Starlet", "--max-workers", "2", "--listen", f"127.0.0.1:{port}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=root,
    )
    server = RtServer(url, "root", password, root, env, proc)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceError(f"rt-server exited: {server.log()}")
        try:
            resp = requests.get(f"{url}/REST/2.0/queues/all", auth=("root", password), timeout=10)
            if resp.status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(1)
    stop_rt(server)
    raise ServiceError(f"rt-server did not answer within 180 s: {server.log()}")


def stop_rt(server: RtServer) -> None:
    if server.proc is not None:
        stop_group(server.proc, 20)
    shutil.rmtree(server.root, ignore_errors=True)
