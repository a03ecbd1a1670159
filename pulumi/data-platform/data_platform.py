"""The shared data platform (PostgreSQL), declared from the domain model.

`data_platform` groups the resources in components (`data_platform_components`): the platform-wide
part, one `SharedDataset` per dataset, one `PartnerDatabase` per partner. `main` reads the stack
config, finds the host in NetBox and exports what the partners and the monitoring exporter need.
"""

from __future__ import annotations

import os
from pathlib import Path

from data_platform_components import DataPlatform, PartnerDatabase, Platform, SharedDataset

import pulumi
from zwvl.inventory import Inventory
from zwvl.platform.hosts import service_address
from zwvl.platform.plan import data_platform_plan
from zwvl.platform.providers import postgres as pg
from zwvl.platform.stack import stack_inventory
from zwvl.repo import repo_root

HERE = Path(__file__).resolve().parent


def data_platform(inv: Inventory, conn: pg.Conn, prefix: str = "dp_") -> DataPlatform:
    """Per partner a database with owner/writer/reader login roles; the shared datasets as schemas in
    one shared database, readable by exactly the partners taking part; an open-data login role that
    reads the open datasets only; in the shared database the loaders' log `platform.dataset_loads`,
    readable by the monitoring login role the exporter uses (and nothing else). Passwords are
    generated and kept as Pulumi secrets."""
    plan = data_platform_plan(inv, prefix)
    out = DataPlatform()
    platform = Platform("data-platform", plan, conn, out)
    for ds in plan.datasets:
        SharedDataset(f"dataset-{ds.dataset}", ds, platform)
    for p in plan.partners:
        PartnerDatabase(f"partner-{p.partner}", p, plan.datasets_of(p.partner), platform)
    return out


# libpq modes that verify the server's certificate; anything weaker is refused
VERIFYING_SSLMODES = ("verify-full", "verify-ca")


def tls_settings(config: pulumi.Config) -> tuple[str, str]:
    """(sslmode, CA file): `zwvl:pgSslmode` (default verify-full; a mode that does not verify the
    certificate is refused) and `zwvl:pgSslRootCert`, else $ZWVL_CA_FILE (the region CA); with
    neither, "" and libpq looks for its own default (~/.postgresql/root.crt) or fails the handshake."""
    sslmode = config.get("pgSslmode") or "verify-full"
    if sslmode not in VERIFYING_SSLMODES:
        raise ValueError(
            f"zwvl:pgSslmode {sslmode!r} does not verify the server's certificate: use verify-full "
            "(the default) with the region CA in zwvl:pgSslRootCert or $ZWVL_CA_FILE"
        )
    return sslmode, config.get("pgSslRootCert") or os.environ.get(pg.ENV_CA_FILE, "")


def main() -> None:
    """The program (`__main__.py`): the stack config in, the resources declared, the outputs out."""
    config = pulumi.Config("zwvl")
    inv = stack_inventory(config, repo_root(start=HERE))
    sslmode, cafile = tls_settings(config)
    conn: pg.Conn = {
        "host": service_address(inv, "data-platform", config.get("pgHost")),
        "port": config.get_int("pgPort") or 5432,
        "user": config.get("pgAdminUser") or "postgres",
        "sslmode": sslmode,
    }
    if cafile:
        conn["sslrootcert"] = cafile
    dp = data_platform(inv, conn, config.get("namePrefix") or "dp_")
    pulumi.export("host", conn["host"])
    pulumi.export("databases", {k: d.name for k, d in dp.databases.items()})
    pulumi.export("login_roles", {k: r.name for k, r in dp.roles.items() if k in dp.passwords})
    # what the monitoring exporter's --datasets-dsn names (password: passwords["monitoring"])
    pulumi.export("datasets_database", dp.databases["shared"].name)
    pulumi.export("passwords", pulumi.Output.secret({k: p.result for k, p in dp.passwords.items()}))
