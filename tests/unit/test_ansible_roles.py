"""The Ansible roles' contract (ansible/roles/*): each documents its inputs in meta/argument_specs.yml
and README.md, and takes secrets and the names other roles share from the playbook, never from the
controller's environment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ANSIBLE = Path(__file__).resolve().parents[2] / "ansible"
ROLES = sorted(p.name for p in (ANSIBLE / "roles").iterdir() if (p / "tasks" / "main.yml").is_file())
TYPES = {"str", "list", "dict", "bool", "int", "float", "path", "raw"}
# environment reads: lookup/query of env (the controller's) and ansible_env (a role takes neither)
ENV_READ = re.compile(r"""(lookup|query)\(\s*['"](ansible\.builtin\.)?env['"]|ansible_env\b""")


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _options(role: str) -> dict[str, dict[str, Any]]:
    spec = _yaml(ANSIBLE / "roles" / role / "meta" / "argument_specs.yml")
    main = spec["argument_specs"]["main"]
    assert main.get("short_description") and main.get("description"), role
    return dict(main["options"])


def test_the_roles_are_found() -> None:
    assert {
        "frr_ospf",
        "postgresql",
        "prometheus_exporters",
        "request_tracker",
        "prometheus_server",
        "prometheus_alertmanager",
        "prometheus_blackbox_exporter",
        "prometheus_frr_exporter",
        "zwvl_exporter",
    } <= set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_argument_specs_document_every_default(role: str) -> None:
    options = _options(role)
    defaults = _yaml(ANSIBLE / "roles" / role / "defaults" / "main.yml")
    for name, value in defaults.items():
        assert name in options, f"{role}: {name} (defaults/main.yml) is not in meta/argument_specs.yml"
        assert options[name].get("default") == value, f"{role}: {name}: not the default in defaults/"
        assert not options[name].get("required"), f"{role}: {name} has a default, so it is not required"
    for name, option in options.items():
        assert name.startswith(f"{role}_"), f"{role}: {name} is not prefixed with the role's name"
        assert option.get("type") in TYPES and option.get("description"), f"{role}: {name}"
        assert name in defaults or option.get("required"), f"{role}: {name}: no default, not required"


@pytest.mark.parametrize("role", ROLES)
def test_secrets_are_required_and_never_logged(role: str) -> None:
    for name, option in _options(role).items():
        if re.search(r"password|token|secret", name):
            assert option.get("required") and option.get("no_log"), f"{role}: {name}"
            assert "default" not in option, f"{role}: {name} must not have a default"


@pytest.mark.parametrize("role", ROLES)
def test_roles_read_no_environment(role: str) -> None:
    for sub in ("defaults", "vars", "tasks", "handlers", "templates", "meta"):
        for path in sorted(p for p in (ANSIBLE / "roles" / role / sub).rglob("*") if p.is_file()):
            assert not ENV_READ.search(path.read_text(encoding="utf-8")), path


@pytest.mark.parametrize("role", ROLES)
def test_readme_lists_every_variable(role: str) -> None:
    readme = (ANSIBLE / "roles" / role / "README.md").read_text(encoding="utf-8")
    for heading in ("## Requirements", "## Role variables", "## Example playbook", "## Idempotence"):
        assert heading in readme, f"{role}/README.md: {heading}"
    for name in _options(role):
        assert f"`{name}`" in readme, f"{role}/README.md does not describe {name}"


def test_playbooks_still_read_the_secrets_from_the_environment() -> None:
    """CI and the tests set these variables; the playbooks (not the roles) read them."""
    secrets = (("data-platform.yml", "ZWVL_PG_ADMIN_PASSWORD"), ("helpdesk.yml", "ZWVL_RT_PASSWORD"))
    for playbook, variable in secrets:
        text = (ANSIBLE / playbook).read_text(encoding="utf-8")
        assert f"lookup('ansible.builtin.env', '{variable}')" in text, playbook


def test_rt_root_password_is_set_before_rt_server_starts() -> None:
    """Debian's package leaves root with a well-known password: the role sets it (on the database,
    through RT's API) before rt-server serves anything, and the TLS proxy is what listens outside."""
    tasks = _yaml(ANSIBLE / "roles" / "request_tracker" / "tasks" / "main.yml")
    names = [t["name"] for t in tasks]
    password = next(i for i, n in enumerate(names) if n.startswith("Set the password of RT's root user"))
    start = next(
        i
        for i, t in enumerate(tasks)
        if (t.get("ansible.builtin.systemd_service") or {}).get("name") == "rt-server"
    )
    assert names[0].startswith("Check that the playbook passed RT's root password") and password < start
    service = (
        ANSIBLE / "roles/request_tracker/templates/etc/systemd/system/rt-server.service.j2"
    ).read_text()
    assert "--listen 127.0.0.1:" in service
