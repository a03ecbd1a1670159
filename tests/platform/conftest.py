"""Fixtures: the region's inventory, a private PostgreSQL cluster and an RT 5 server (real, no skipping)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.platform import services
from zwvl.inventory import Inventory, load_inventory

REPO = Path(__file__).resolve().parents[2]


def _progress(config: pytest.Config, message: str) -> None:
    capman = config.pluginmanager.getplugin("capturemanager")
    ctx = capman.global_and_fixture_disabled() if capman is not None else contextlib.nullcontext()
    with ctx:
        sys.stderr.write(f"[platform] {message}\n")
        sys.stderr.flush()


@pytest.fixture(scope="session")
def inventory() -> Inventory:
    return load_inventory(REPO / "inventory")


@pytest.fixture(scope="session")
def postgres(pytestconfig: pytest.Config) -> Iterator[services.PgServer]:
    _progress(pytestconfig, "starting a private PostgreSQL 15 cluster")
    server = services.start_postgres()
    try:
        yield server
    finally:
        services.stop_postgres(server)


@pytest.fixture(scope="session")
def rt_server(pytestconfig: pytest.Config, inventory: Inventory) -> Iterator[services.RtServer]:
    _progress(pytestconfig, "starting Request Tracker 5 (rt-server, SQLite) behind nginx (HTTPS)")
    server = services.start_rt(inventory)
    try:
        yield server
    finally:
        services.stop_rt(server)


@pytest.fixture(scope="session")
def wheelhouse(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """zwvl and its locked dependencies as wheels, built once for every nspawn lab that installs them."""
    from tests.platform.ansible_lab import build_wheelhouse

    _progress(pytestconfig, "building the wheelhouse of zwvl (pip wheel)")
    return build_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))


@pytest.fixture
def pg_env(postgres: services.PgServer, monkeypatch: pytest.MonkeyPatch) -> services.PgServer:
    """The provisioning role's password for the providers, the way a user without a stack secret
    passes it."""
    monkeypatch.setenv("ZWVL_PG_ADMIN_PASSWORD", postgres.provisioner_password)
    return postgres


@pytest.fixture
def rt_env(rt_server: services.RtServer, monkeypatch: pytest.MonkeyPatch) -> services.RtServer:
    """The token and CA for the providers, the way a user without stack settings passes them."""
    monkeypatch.setenv("ZWVL_RT_TOKEN", rt_server.token)
    monkeypatch.setenv("ZWVL_CA_FILE", str(rt_server.ca_file))
    return rt_server
