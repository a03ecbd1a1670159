"""The two Pulumi programs' resource graphs, run under pulumi.runtime.set_mocks (no CLI, no services).

Expected values are computed from the inventory directly (not from zwvl.platform.plan), so the
tests check the programs against the domain model rather than against themselves.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.platform.harness import REPO, Recorder, decode_provider, run_program
from zwvl.inventory import Inventory
from zwvl.platform.hosts import HostError, netbox_address
from zwvl.platform.providers import postgres as pg
from zwvl.platform.providers import rt


@pytest.fixture(scope="module")
def dp(inventory: Inventory) -> Recorder:
    rec = Recorder()
    run_program("data-platform", rec, {"pgHost": "localhost", "namePrefix": "dp_"})
    return rec


@pytest.fixture(scope="module")
def hd(inventory: Inventory) -> Recorder:
    rec = Recorder()
    run_program("helpdesk", rec, {"rtHost": "localhost", "rtScheme": "http", "rtPort": "8080"})
    return rec


def slug(s: str) -> str:
    return s.replace("-", "_")


# --- data platform ---------------------------------------------------------------------------


def test_data_platform_counts(dp: Recorder, inventory: Inventory) -> None:
    partners, datasets = len(inventory.partners), len(inventory.datasets)
    members = sum(len(d.partners) for d in inventory.datasets.values())
    open_sets = sum(d.open_data for d in inventory.datasets.values())
    counts = Counter(r.provider_class for r in dp.resources.values())
    assert counts == {
        "DatabaseProvider": partners + 1,  # one per partner + the shared one
        # owner/writer/reader, platform owner, open data, monitoring, read roles
        "RoleProvider": 3 * partners + 1 + 1 + 1 + datasets,
        "PasswordProvider": 3 * partners + 2,  # every login role
        "SchemaProvider": datasets + 1,  # + platform (the load log)
        "TableProvider": 1,
        "GrantProvider": 7 * partners + 3 * datasets + 3,
        "MembershipProvider": members + open_sets,
    }


def test_data_platform_load_log_for_the_exporter(dp: Recorder) -> None:
    """The table the exporter's dataset freshness source reads, and the role it reads it as."""
    from zwvl.exporter.datasets import DEFAULT_QUERY

    table = dp.resources["dataset-loads"].inputs
    assert (table["database"], table["schema"], table["name"]) == ("dp_shared", "platform", "dataset_loads")
    assert "platform.dataset_loads" in DEFAULT_QUERY
    assert table["owner"] == "dp_platform_owner"
    assert table["columns"] == [
        ["dataset", "text", True],
        ["loaded_at", "timestamp with time zone", True],
        ["rows", "bigint", False],
    ]
    grants = {
        (g.inputs["object_type"], g.inputs.get("schema"), tuple(g.inputs["privileges"]))
        for g in dp.of("GrantProvider")
        if g.inputs["role"] == "dp_monitoring"
    }
    assert grants == {
        ("database", None, ("CONNECT",)),
        ("schema", "platform", ("USAGE",)),
        ("tables", "platform", ("SELECT",)),
    }
    assert "dataset-loads" in dp.resources["monitoring-tables"].dependencies
    assert dp.resources["monitoring"].secret_outputs == ["password"]


def test_data_platform_names(dp: Recorder, inventory: Inventory) -> None:
    dbs = {r.inputs["name"] for r in dp.of("DatabaseProvider")}
    assert dbs == {f"dp_{slug(p)}" for p in inventory.partners} | {"dp_shared"}
    roles = {r.inputs["name"] for r in dp.of("RoleProvider")}
    for p in inventory.partners:
        assert {f"dp_{slug(p)}_owner", f"dp_{slug(p)}_writer", f"dp_{slug(p)}_reader"} <= roles
    assert {f"dp_ds_{slug(d)}_read" for d in inventory.datasets} <= roles
    schemas = {(r.inputs["database"], r.inputs["name"]) for r in dp.of("SchemaProvider")}
    assert schemas == {("dp_shared", slug(d)) for d in inventory.datasets} | {("dp_shared", "platform")}
    assert all(r.inputs["owner"] == "dp_platform_owner" for r in dp.of("SchemaProvider"))
    assert dp.resources["kortrijk"].inputs["owner"] == "dp_kortrijk_owner"
    # the host comes from the stack (here pinned), never from the code
    assert {r.inputs["conn"]["host"] for r in dp.of("RoleProvider")} == {"localhost"}


def test_data_platform_dependencies(dp: Recorder) -> None:
    r = dp.resources
    assert "kortrijk-owner" in r["kortrijk"].dependencies
    assert "kortrijk-owner-password" in r["kortrijk-owner"].dependencies
    assert {"kortrijk-reader", "kortrijk", "kortrijk-owner"} <= r["kortrijk-reader-tables"].dependencies
    assert {"shared", "platform-owner"} <= r["ds-anpr-cameras"].dependencies
    assert {"kortrijk-reader", "ds-anpr-cameras-read"} <= r["kortrijk-reader-in-ds-anpr-cameras"].dependencies
    assert {"open-data", "ds-telraam-counts-read"} <= r["open-data-in-ds-telraam-counts"].dependencies


def test_data_platform_grants_per_partner(dp: Recorder, inventory: Inventory) -> None:
    members: dict[str, set[str]] = {}
    for m in dp.of("MembershipProvider"):
        members.setdefault(m.inputs["member"], set()).add(m.inputs["role"])
    for p in inventory.partners:
        takes_part = {f"dp_ds_{slug(d.slug)}_read" for d in inventory.datasets.values() if p in d.partners}
        assert members.get(f"dp_{slug(p)}_reader", set()) == takes_part, p
        assert f"dp_{slug(p)}_writer" not in members and f"dp_{slug(p)}_owner" not in members
        grants = {
            (g.inputs["role"], g.inputs["object_type"]): g.inputs["privileges"]
            for g in dp.of("GrantProvider")
            if g.inputs["database"] == f"dp_{slug(p)}"
        }
        assert grants == {
            (f"dp_{slug(p)}_writer", "database"): ["CONNECT", "TEMPORARY"],
            (f"dp_{slug(p)}_writer", "schema"): ["USAGE"],
            (f"dp_{slug(p)}_writer", "tables"): ["DELETE", "INSERT", "SELECT", "UPDATE"],
            (f"dp_{slug(p)}_writer", "sequences"): ["SELECT", "UPDATE", "USAGE"],
            (f"dp_{slug(p)}_reader", "database"): ["CONNECT"],
            (f"dp_{slug(p)}_reader", "schema"): ["USAGE"],
            (f"dp_{slug(p)}_reader", "tables"): ["SELECT"],
        }, p
    open_data = members["dp_open_data"]
    assert open_data == {f"dp_ds_{slug(d.slug)}_read" for d in inventory.datasets.values() if d.open_data}
    assert all(
        inventory.datasets[d].classification == "public"
        for d in inventory.datasets
        if f"dp_ds_{slug(d)}_read" in open_data
    )
    # dataset read roles: read-only on their schema, nothing else
    for d in inventory.datasets:
        read_grants = {
            (g.inputs["object_type"], tuple(g.inputs["privileges"]))
            for g in dp.of("GrantProvider")
            if g.inputs["role"] == f"dp_ds_{slug(d)}_read"
        }
        assert read_grants == {("database", ("CONNECT",)), ("schema", ("USAGE",)), ("tables", ("SELECT",))}


def test_data_platform_secrets(dp: Recorder) -> None:
    for role in dp.of("RoleProvider"):
        assert role.secret_outputs == ["password"]
        if role.inputs["login"]:
            assert role.inputs["password"].startswith("mock-password-")
        else:
            assert role.inputs.get("password") is None
    assert all(p.secret_outputs == ["result"] for p in dp.of("PasswordProvider"))


def test_name_prefix_from_stack_config() -> None:
    rec = Recorder()
    run_program("data-platform", rec, {"pgHost": "localhost", "namePrefix": "zwvl_plat_x_"})
    assert {r.inputs["name"] for r in rec.of("DatabaseProvider")} >= {
        "zwvl_plat_x_kortrijk",
        "zwvl_plat_x_shared",
    }


# --- helpdesk --------------------------------------------------------------------------------


def test_helpdesk_counts_and_names(hd: Recorder, inventory: Inventory) -> None:
    assert inventory.helpdesk is not None
    queue_partners = [p for p in inventory.partners.values() if p.helpdesk]
    headcount = sum(sum(p.helpdesk.headcount.values()) for p in queue_partners if p.helpdesk)
    counts = Counter(r.provider_class for r in hd.resources.values())
    assert counts == {
        "QueueProvider": len(queue_partners),
        "QueueRightsProvider": len(queue_partners),
        "GroupProvider": len(inventory.helpdesk.groups),
        "GroupMembersProvider": len(inventory.helpdesk.groups),
        "UserProvider": headcount,
        "CustomFieldProvider": 1,
        "CustomFieldQueuesProvider": 1,
    }
    queues = {r.inputs["name"]: r.inputs for r in hd.of("QueueProvider")}
    assert set(queues) == {p.helpdesk.queue for p in queue_partners if p.helpdesk}
    for q in queues.values():
        assert q["default_sla"] == inventory.helpdesk.default_sla and q["sla_disabled"] is False
        assert q["url"] == "http://localhost:8080"
    assert {r.inputs["name"] for r in hd.of("GroupProvider")} == {g.slug for g in inventory.helpdesk.groups}
    cf = hd.of("CustomFieldProvider")[0].inputs
    assert cf["values"] == ["incident", "service-request", "change", "problem"]
    assert (cf["type"], cf["max_values"], cf["lookup_type"]) == ("Select", 1, "RT::Queue-RT::Ticket")


def test_helpdesk_members_follow_headcount(hd: Recorder, inventory: Inventory) -> None:
    assert inventory.helpdesk is not None
    group_ids = {r.id: r.inputs["name"] for r in hd.of("GroupProvider")}
    role_of = {g.slug: g.role for g in inventory.helpdesk.groups}
    for m in hd.of("GroupMembersProvider"):
        role = role_of[group_ids[m.inputs["group_id"]]]
        want = sorted(
            f"{p.slug}-{role}-{i}"
            for p in inventory.partners.values()
            if p.helpdesk
            for i in range(1, p.helpdesk.headcount.get(role, 0) + 1)
        )
        assert m.inputs["members"] == want
        assert {f"user-{u}" for u in want} <= m.dependencies


def test_helpdesk_rights_on_every_queue(hd: Recorder, inventory: Inventory) -> None:
    assert inventory.helpdesk is not None
    group_ids = {r.id: r.inputs["name"] for r in hd.of("GroupProvider")}
    queue_ids = {r.id for r in hd.of("QueueProvider")}
    rights = hd.of("QueueRightsProvider")
    assert {r.inputs["queue_id"] for r in rights} == queue_ids
    for r in rights:
        by_group = {group_ids[g]: set(v) for g, v in r.inputs["rights"].items()}
        assert set(by_group) == {g.slug for g in inventory.helpdesk.groups}
        assert {"OwnTicket", "TakeTicket", "ReplyToTicket", "ShowTicket"} <= by_group["pool-helpdesk"]
        assert "OwnTicket" not in by_group["pool-dpo"] and "ShowTicket" in by_group["pool-dpo"]
        assert not any(
            right.startswith(("Admin", "Modify", "Delete"))
            and right not in ("ModifyTicket", "ModifyCustomField")
            for v in by_group.values()
            for right in v
        )
        assert {f"group-{g.slug}" for g in inventory.helpdesk.groups} <= r.dependencies
    applied = hd.of("CustomFieldQueuesProvider")[0]
    assert set(applied.inputs["queue_ids"]) == queue_ids
    assert "cf-itil-category" in applied.dependencies


def test_helpdesk_host_must_come_from_netbox_or_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NETBOX_URL", raising=False)
    monkeypatch.delenv("NETBOX_TOKEN", raising=False)
    with pytest.raises(HostError, match="NETBOX_URL"):
        run_program("helpdesk", Recorder(), {"rtScheme": "http"})


@pytest.fixture
def fake_netbox() -> Iterator[str]:
    """A minimal NetBox API answering device look-ups (what the programs ask NetBox)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body: dict[str, Any] = {"results": []}
            if self.path.startswith("/api/dcim/devices/") and "name=lei-rdc-srv01" in self.path:
                assert self.headers["Authorization"] == "Token test-token"
                body = {"results": [{"name": "lei-rdc-srv01", "primary_ip4": {"address": "127.0.0.42/24"}}]}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_data_platform_host_from_netbox(fake_netbox: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETBOX_URL", fake_netbox)
    monkeypatch.setenv("NETBOX_TOKEN", "test-token")
    assert netbox_address("lei-rdc-srv01") == "127.0.0.42"
    with pytest.raises(HostError, match="no primary IPv4"):
        netbox_address("lei-rdc-srv02")
    rec = Recorder()
    run_program("data-platform", rec, {"namePrefix": "dp_"})
    assert {r.inputs["conn"]["host"] for r in rec.of("DatabaseProvider")} == {"127.0.0.42"}


# --- providers in the state ------------------------------------------------------------------

# What `pulumi up` wrote into the state before the providers became a package (dill, protocol 4):
# a RoleProvider and a QueueProvider pickled by their old module path.
OLD_STATE_PROVIDERS = {
    "zwvl.platform.pg.RoleProvider": "gASVOQAAAAAAAACMEHp3dmwucGxhdGZvcm0ucGeUjAxSb2xlUHJvdmlkZXKU"
    "k5QpgZR9lIwIc2V0dGluZ3OUfZRzYi4=",
    "zwvl.platform.rt.QueueProvider": "gASVOgAAAAAAAACMEHp3dmwucGxhdGZvcm0ucnSUjA1RdWV1ZVByb3ZpZGVy"
    "lJOUKYGUfZSMCHNldHRpbmdzlH2Uc2Iu",
}


@pytest.mark.parametrize("old", sorted(OLD_STATE_PROVIDERS))
def test_providers_pickled_under_their_old_module_still_load(old: str) -> None:
    """refresh, destroy and the delete half of a replacement load the provider from the old state."""
    provider = decode_provider({"__provider": OLD_STATE_PROVIDERS[old]})
    new = {"RoleProvider": pg.RoleProvider, "QueueProvider": rt.QueueProvider}[old.rsplit(".", 1)[1]]
    assert type(provider) is new
    assert provider.settings == {}


def test_every_provider_keeps_its_old_name() -> None:
    from zwvl.platform import pg as old_pg
    from zwvl.platform import rt as old_rt

    kinds = {
        old_pg: (pg, ["Role", "Database", "Schema", "Table", "Grant", "Membership", "Password"]),
        old_rt: (
            rt,
            ["Queue", "User", "Group", "GroupMembers", "CustomField", "CustomFieldQueues", "QueueRights"],
        ),
    }
    for old, (package, names) in kinds.items():
        for name in names:
            assert getattr(old, f"{name}Provider") is getattr(package, name).provider_type


def test_providers_are_pickled_under_their_module_in_the_package(dp: Recorder, hd: Recorder) -> None:
    for rec in (dp, hd):
        for r in rec.resources.values():
            if r.provider_class:
                assert r.provider_module.startswith(
                    ("zwvl.platform.providers.postgres.", "zwvl.platform.providers.rt.")
                )


# --- the real CLI, where it exists -----------------------------------------------------------


@pytest.mark.parametrize("project", ["data-platform", "helpdesk"])
def test_pulumi_cli_preview(project: str, tmp_path: Path) -> None:
    cli = shutil.which("pulumi")
    if cli is None:
        pytest.skip("the pulumi CLI is not installed (it cannot be downloaded here); this is the only reason")
    env = {
        "PULUMI_BACKEND_URL": f"file://{tmp_path}",
        "PULUMI_CONFIG_PASSPHRASE": "test",
        "PULUMI_SKIP_UPDATE_CHECK": "1",
        "PATH": str(Path(cli).parent) + ":/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    cwd = REPO / "pulumi" / project
    subprocess.run([cli, "stack", "init", "dev"], cwd=cwd, env=env, check=True, timeout=300)
    pin = {"data-platform": ["zwvl:pgHost", "localhost"], "helpdesk": ["zwvl:rtHost", "localhost"]}[project]
    subprocess.run([cli, "config", "set", *pin], cwd=cwd, env=env, check=True, timeout=300)
    proc = subprocess.run(
        [cli, "preview", "--non-interactive"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "to create" in proc.stdout
