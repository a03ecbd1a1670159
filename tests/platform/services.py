"""Real services for the platform tests, started and stopped by the fixtures (by PID, no systemd).

- PostgreSQL 15: a private cluster (`initdb` in a temporary directory, a free port on 127.0.0.1,
  superuser `zwvl_plat_admin`), so Debian's 15/main and the NetBox databases are never touched. It
  serves TLS only over TCP, with a certificate from its own region CA (tests/support/postgres.py),
  and holds the provisioning role the Ansible role creates (`zwvl_provisioner`, with the attributes
  read from ansible/roles/postgresql/tasks/main.yml: no superuser), which the providers and the
  Pulumi program connect as; the tests' own checks connect as the superuser.
- Request Tracker 5.0.3 (Debian's request-tracker5 + rt5-db-sqlite + rt5-standalone): `rt-server`
  on a free 127.0.0.1 port with a SQLite database in a temporary directory, behind a real nginx (a
  process: `nginx -p PREFIX -c CONF -g 'daemon off;'`) serving HTTPS on a free port with a server
  certificate from a region CA (devtools.region_ca) made for this server, and plain HTTP on another
  free port that only redirects. The config is isolated with RT_SITE_CONFIG/RT_SITE_CONFIG_DIR; the
  site part, the SLA part and nginx's site are rendered from the Ansible role's own templates, and the
  API accounts and their tokens are made by the role's own scripts (`files/ensure-api-users.pl`,
  `files/zwvl-rt-token`), so the test RT runs what the role deploys (tests may add SLA levels of their
  own, e.g. tests/monitoring's few-second level for a breach). Also used by the monitoring tests
  (tests/monitoring/conftest.py) for the exporter's helpdesk source.
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

from devtools.region_ca import ensure_ca
from tests.support.postgres import PgCluster, start_cluster
from zwvl.inventory import Inventory
from zwvl.platform.plan import request_tracker_vars
from zwvl.platform.providers.rt.client import RtClient
from zwvl.procs import free_port, stop_group

REPO = Path(__file__).resolve().parents[2]
RT_SERVER = Path("/usr/share/request-tracker5/libexec/rt-server")
RT_SETUP = Path("/usr/sbin/rt-setup-database-5")
RT_PASSWD = Path("/usr/sbin/rt-passwd-5")
NGINX = Path("/usr/sbin/nginx")
ROLE = REPO / "ansible/roles/request_tracker"
SITE_TEMPLATE = ROLE / "templates/etc/request-tracker5/RT_SiteConfig.d/50-zwvl-site.pm.j2"
SLA_TEMPLATE = ROLE / "templates/etc/request-tracker5/RT_SiteConfig.d/60-zwvl-sla.pm.j2"
NGINX_TEMPLATE = ROLE / "templates/etc/nginx/sites-available/zwvl-helpdesk.conf.j2"
ENSURE_API_USERS = ROLE / "files/ensure-api-users.pl"
RT_TOKEN = ROLE / "files/zwvl-rt-token"
RT_LIB = RT_SERVER.parents[1] / "lib"
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
    """RT behind nginx: `url` is the https URL (RT's $WebBaseURL), `http_url` nginx's plain-HTTP port
    (redirects only), `ca_file` the CA its certificate is verified against, `token` an auth token of
    the SuperUser API account `zwvl-pulumi` (what Pulumi uses); `user`/`password` are RT's root, for
    what only a person at the web UI does."""

    url: str
    http_url: str
    ca_file: Path
    token: str
    user: str
    password: str
    root: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    nginx: subprocess.Popen[bytes] | None = None

    def client(self, token: str | None = None) -> RtClient:
        """A client with an auth token (default: zwvl-pulumi's), verifying against the CA."""
        return RtClient(self.url, token=token or self.token, ca_file=str(self.ca_file))

    def login(self, user: str, password: str) -> RtClient:
        """A client that logs in with a user's password, as a person does, verifying against the CA."""
        return RtClient(self.url, user, password, ca_file=str(self.ca_file))

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
        """A new auth token for a user, made with the role's `zwvl-rt-token` (printed once)."""
        return make_token(self.env, user, description)

    def ensure_api_users(self, users: Sequence[Mapping[str, object]]) -> list[str]:
        """The role's `ensure-api-users.pl` (apply): the accounts with exactly their global rights."""
        return ensure_api_users(self.env, users)

    def log(self) -> str:
        out = []
        for name in ("rt-server.log", "nginx/error.log"):
            path = self.root / name
            if path.exists():
                out.append(f"{name}: " + path.read_text(errors="replace")[-3000:])
        return "\n".join(out)


def role_api_users() -> list[dict[str, object]]:
    """The role's default API accounts (`request_tracker_api_users`)."""
    users = yaml.safe_load((ROLE / "defaults/main.yml").read_text())["request_tracker_api_users"]
    assert isinstance(users, list)
    return users


def ensure_api_users(env: Mapping[str, str], users: Sequence[Mapping[str, object]]) -> list[str]:
    import json

    proc = subprocess.run(
        ["perl", f"-I{RT_LIB}", str(ENSURE_API_USERS), "apply"],
        env=dict(env, ZWVL_RT_API_USERS=json.dumps(list(users))),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise ServiceError(f"ensure-api-users.pl: {proc.stderr[-800:]}")
    return proc.stdout.splitlines()


def make_token(env: Mapping[str, str], user: str, description: str) -> str:
    proc = subprocess.run(
        ["perl", str(RT_TOKEN), user, description],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise ServiceError(f"zwvl-rt-token {user}: {proc.stderr[-500:]}")
    return proc.stdout.strip()


def render_sla_config(inv: Inventory, extra_levels: Sequence[Mapping[str, object]] = ()) -> str:
    """The role's SLA config for the domain model; `extra_levels` (the role's level variables: name,
    priority, unit, business_hours, acknowledge_minutes, resolve_minutes, timezone) are appended."""
    variables = request_tracker_vars(inv)
    levels = variables["request_tracker_sla_levels"]
    assert isinstance(levels, list)
    variables["request_tracker_sla_levels"] = [*levels, *extra_levels]
    env = jinja2.Environment(trim_blocks=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.from_string(SLA_TEMPLATE.read_text()).render(**variables)


def _render(template: Path, variables: Mapping[str, object]) -> str:
    env = jinja2.Environment(trim_blocks=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.from_string(template.read_text()).render(**variables)


MANAGED = "rendered by tests/platform/services.py from the request_tracker role"


def render_site_config(url: str, referrer_whitelist: Sequence[str] = ()) -> str:
    """The role's `50-zwvl-site.pm` for an RT answering at the https `url` (behind nginx)."""
    parts = urlsplit(url)
    variables = {
        "ansible_managed": MANAGED,
        "request_tracker_name": "zwvl-test",
        "request_tracker_organization": "zwvl-test",
        "request_tracker_web_domain": parts.hostname,
        "request_tracker_https_port": parts.port or 443,
        "request_tracker_web_base_url": url,
        "request_tracker_referrer_whitelist": list(referrer_whitelist),
    }
    return _render(SITE_TEMPLATE, variables)


def render_nginx_config(
    prefix: Path, url: str, http_port: int, backend_port: int, cert: Path, key: Path
) -> str:
    """nginx's main configuration for a process in `prefix`, including the role's own site
    (`zwvl-helpdesk.conf`, rendered into `prefix`) for an RT answering at the https `url`."""
    parts = urlsplit(url)
    site = _render(
        NGINX_TEMPLATE,
        {
            "ansible_managed": MANAGED,
            "request_tracker_address": parts.hostname,
            "request_tracker_http_port": http_port,
            "request_tracker_https_port": parts.port,
            "request_tracker_web_base_url": url,
            "request_tracker_tls_certificate_path": str(cert),
            "request_tracker_tls_key_path": str(key),
            "request_tracker_port": backend_port,
        },
    )
    (prefix / "zwvl-helpdesk.conf").write_text(site)
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / 'tmp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 128; }}
http {{
    access_log {prefix / "access.log"};
{temp}
    include {prefix / "zwvl-helpdesk.conf"};
}}
"""


def start_nginx(prefix: Path, conf: Path) -> subprocess.Popen[bytes]:
    """nginx as a process of its own (stopped by PID with stop_group), logging into `prefix`."""
    log = open(prefix / "nginx.out", "wb")  # noqa: SIM115 (kept open for the server's lifetime)
    return subprocess.Popen(
        [
            str(NGINX),
            "-p",
            str(prefix),
            "-c",
            str(conf),
            "-e",
            str(prefix / "error.log"),
            "-g",
            "daemon off;",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_rt(
    inv: Inventory, extra_sla_levels: Sequence[Mapping[str, object]] = (), address: str = "127.0.0.1"
) -> RtServer:
    """RT and nginx serving it over TLS on ``address`` (a host address a lab machine reaches, else the
    loopback), with a certificate for that address from the server's own region CA."""
    missing = _missing(RT_SERVER, RT_SETUP, NGINX)
    if missing:
        raise ServiceError(
            f"Request Tracker 5 or nginx missing ({', '.join(missing)}): run scripts/install-system-deps "
            "(request-tracker5, rt5-db-sqlite, rt5-standalone, nginx-light)"
        )
    root = Path(tempfile.mkdtemp(prefix="zwvl-plat-rt-"))
    root.chmod(0o711)  # nginx's workers (nobody when run as root) reach their temp folders
    backend_port, https_port, http_port = free_port(), free_port(), free_port()
    url = f"https://{address}:{https_port}"
    http_url = f"http://{address}:{http_port}"
    password = secrets.token_urlsafe(18)
    for d in ("site.d", "mason", "session", "nginx/tmp"):
        (root / d).mkdir(parents=True)
    (root / "nginx").chmod(0o755)
    (root / "nginx/tmp").chmod(0o1777)
    # the region CA for this server, and nginx's certificate (with the chain) from it
    ca = ensure_ca(root / "ca")
    issued = ca.issue("rt-test", ips=[address], out_dir=root / "tls")
    # the role's own site settings (names, https base URL, CSRF protection), then what only the test needs
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
    # as the role does: the API accounts with their rights, and Pulumi's token made the admin's way
    ensure_api_users(env, role_api_users())
    token = make_token(env, "zwvl-pulumi", "zwvl tests (Pulumi)")
    log = open(root / "rt-server.log", "wb")  # noqa: SIM115 (kept open for the server's lifetime)
    proc = subprocess.Popen(
        [
            str(RT_SERVER),
            "--server",
            "Starlet",
            "--max-workers",
            "2",
            "--listen",
            f"127.0.0.1:{backend_port}",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=root,
    )
    server = RtServer(url, http_url, ca.cert, token, "root", password, root, env, proc)
    conf = root / "nginx" / "nginx.conf"
    conf.write_text(
        render_nginx_config(root / "nginx", url, http_port, backend_port, issued.chain, issued.key)
    )
    server.nginx = start_nginx(root / "nginx", conf)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        for what, p in (("rt-server", proc), ("nginx", server.nginx)):
            if p.poll() is not None:
                stop_rt(server, remove=False)
                raise ServiceError(f"{what} exited: {server.log()}")
        try:
            resp = requests.get(
                f"{url}/REST/2.0/queues/all",
                headers={"Authorization": f"token {token}"},
                verify=str(ca.cert),
                timeout=10,
            )
            if resp.status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(1)
    stop_rt(server)
    raise ServiceError(f"RT behind nginx did not answer within 180 s: {server.log()}")


def stop_rt(server: RtServer, remove: bool = True) -> None:
    for proc in (server.nginx, server.proc):
        if proc is not None and proc.poll() is None:
            stop_group(proc, 20)
    if remove:
        shutil.rmtree(server.root, ignore_errors=True)
