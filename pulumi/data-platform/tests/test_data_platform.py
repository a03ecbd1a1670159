"""The data platform's resource graph, the program run under pulumi.runtime.set_mocks (no CLI, no
services).

Expected values are computed from the inventory directly (not from zwvl.platform.plan), so the
tests check the program against the domain model rather than against itself.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from devtools.pulumi_mocks import (
    Recorder,
    assert_children_keep_their_urns,
    assert_providers_pickled_under_the_package,
    cli_preview,
    run_program,
)
from zwvl.inventory import Inventory

PROJECT = Path(__file__).resolve().parents[1]
MAIN = PROJECT / "__main__.py"


def run(config: dict[str, str]) -> Recorder:
    rec = Recorder()
    run_program(MAIN, rec, config, project="zwvl-data-platform")
    return rec


@pytest.fixture(scope="module")
def dp(inventory: Inventory) -> Recorder:
    return run({"pgHost": "localhost", "namePrefix": "dp_", "pgSslRootCert": "/etc/zwvl/region-ca.pem"})


def slug(s: str) -> str:
    return s.replace("-", "_")


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


def test_every_connection_verifies_the_server(dp: Recorder) -> None:
    """TLS with the certificate verified against the region CA, by default (verify-full)."""
    conns = [r.inputs["conn"] for r in dp.resources.values() if "conn" in r.inputs]
    assert conns
    assert {(c["sslmode"], c["sslrootcert"]) for c in conns} == {("verify-full", "/etc/zwvl/region-ca.pem")}


@pytest.mark.parametrize("sslmode", ["disable", "allow", "prefer", "require"])
def test_a_mode_that_does_not_verify_is_refused(sslmode: str) -> None:
    with pytest.raises(Exception, match="does not verify the server's certificate"):
        run({"pgHost": "localhost", "namePrefix": "dp_", "pgSslmode": sslmode})


def test_partner_databases_are_protected(dp: Recorder, inventory: Inventory) -> None:
    """Destroying a partner's data needs intent: Pulumi refuses to delete a protected resource."""
    protected = {r.name for r in dp.resources.values() if r.protect}
    assert protected == set(inventory.partners)
    assert all(dp.resources[p].provider_class == "DatabaseProvider" for p in protected)


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
    rec = run({"pgHost": "localhost", "namePrefix": "zwvl_plat_x_"})
    assert {r.inputs["name"] for r in rec.of("DatabaseProvider")} >= {
        "zwvl_plat_x_kortrijk",
        "zwvl_plat_x_shared",
    }


# --- components ------------------------------------------------------------------------------


def test_components_per_partner_and_per_dataset(dp: Recorder, inventory: Inventory) -> None:
    kinds = {name: c.typ for name, c in dp.components.items()}
    assert kinds == {
        "data-platform": "zwvl:dataplatform:Platform",
        **{f"partner-{p}": "zwvl:dataplatform:PartnerDatabase" for p in inventory.partners},
        **{f"dataset-{d}": "zwvl:dataplatform:SharedDataset" for d in inventory.datasets},
    }
    assert all(c.parent == "" for c in dp.components.values())
    owned = {name: {r.name for r in dp.children(name)} for name in dp.components}
    for p in inventory.partners:
        assert owned[f"partner-{p}"] == {
            p,
            *(
                f"{p}-{role}{suffix}"
                for role in ("owner", "writer", "reader")
                for suffix in ("", "-password")
            ),
            *(f"{p}-writer-{k}" for k in ("connect", "usage", "tables", "sequences")),
            *(f"{p}-reader-{k}" for k in ("connect", "usage", "tables")),
            *(f"{p}-reader-in-ds-{d.slug}" for d in inventory.datasets.values() if p in d.partners),
        }, p
    for d in inventory.datasets.values():
        want = {
            f"ds-{d.slug}",
            f"ds-{d.slug}-read",
            *(f"ds-{d.slug}-read-{k}" for k in ("connect", "usage", "tables")),
        }
        if d.open_data:
            want.add(f"open-data-in-ds-{d.slug}")
        assert owned[f"dataset-{d.slug}"] == want, d.slug
    assert owned["data-platform"] == {
        "platform-owner",
        "shared",
        "open-data",
        "open-data-password",
        "platform",
        "dataset-loads",
        "monitoring",
        "monitoring-password",
        "monitoring-connect",
        "monitoring-usage",
        "monitoring-tables",
    }


def test_every_resource_keeps_its_urn_from_before_the_components(dp: Recorder) -> None:
    assert_children_keep_their_urns(dp)


def test_providers_are_pickled_under_their_module_in_the_package(dp: Recorder) -> None:
    assert_providers_pickled_under_the_package(dp)


# --- the real CLI, where it exists -----------------------------------------------------------


def test_pulumi_cli_preview(tmp_path: Path) -> None:
    if shutil.which("pulumi") is None:
        pytest.skip("the pulumi CLI is not installed (it cannot be downloaded here); this is the only reason")
    cli_preview(PROJECT, tmp_path, {"zwvl:pgHost": "localhost"})
