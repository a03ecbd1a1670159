"""`zwvl exporter`: serve the Prometheus metrics."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from zwvl.cli.common import env_option, inventory_option, policies_option, range_option


@click.command("exporter")
@click.option("--listen", default="127.0.0.1:9479", show_default=True, help="HOST:PORT to serve /metrics on.")
@inventory_option
@policies_option("Policy catalogue folder [default: policies/ beside the inventory].")
@env_option(
    "--frr",
    "ZWVL_EXPORTER_FRR",
    "Read the backbone from FRR: lab[:NAME] (the zwvl lab), netns[:TEMPLATE] (vtysh -N), sockets:DIR "
    "(vtysh --vty_socket DIR/<device>) or command:ARGV with {device}",
)
@click.option("--frr-timeout", type=click.FloatRange(0.1, 60), default=5.0, show_default=True)
@env_option(
    "--drift",
    "ZWVL_EXPORTER_DRIFT",
    "NetBox drift: auto (run `zwvl drift` in the background when NetBox and the reconciler are "
    "there), off, file:PATH (a JSON drift report) or command:ARGV",
    default="auto",
    show_default=True,
)
@click.option("--drift-interval", type=click.FloatRange(10, 86400), default=300.0, show_default=True)
@env_option(
    "--apply-state",
    "ZWVL_APPLY_STATE",
    "State file the reconciler writes after each successful apply",
    type=click.Path(dir_okay=False, path_type=Path),
)
@env_option(
    "--rt-url",
    "RT_URL",
    "Request Tracker base URL (https) for helpdesk metrics; auth token from RT_TOKEN, TLS verified "
    "against ZWVL_CA_FILE (else the system's CAs)",
)
@click.option("--rt-category-field", default="ITIL category", show_default=True)
@click.option("--rt-min-interval", type=click.FloatRange(0, 3600), default=30.0, show_default=True)
@env_option(
    "--datasets-dsn",
    "ZWVL_DATASETS_DSN",
    "libpq connection string of the data platform for dataset freshness (over TCP the server is verified: "
    "sslmode verify-full, sslrootcert $ZWVL_CA_FILE unless the string names them)",
)
@click.option("--datasets-query", default=None, help="SQL returning (dataset, last load time) rows.")
@click.option(
    "--from-netbox",
    is_flag=True,
    envvar="ZWVL_EXPORTER_FROM_NETBOX",
    help="Read NetBox (NETBOX_URL/NETBOX_TOKEN, else the local instance): serve the scrape targets as "
    "Prometheus HTTP service discovery at /sd/<job> (/sd lists the jobs) and export "
    "zwvl_backbone_adjacency_expected for every lit, cabled circuit end [env ZWVL_EXPORTER_FROM_NETBOX].",
)
@range_option(
    "--netbox-refresh",
    5,
    3600,
    60.0,
    "Seconds a read of NetBox is used before NetBox is read again (a failed read keeps the last).",
)
@click.option("--once", is_flag=True, help="Print one scrape to standard output and exit.")
def exporter_command(
    listen: str,
    inventory_dir: Path,
    policies_dir: Path | None,
    frr: str | None,
    frr_timeout: float,
    drift: str,
    drift_interval: float,
    apply_state: Path | None,
    rt_url: str | None,
    rt_category_field: str,
    rt_min_interval: float,
    datasets_dsn: str | None,
    datasets_query: str | None,
    from_netbox: bool,
    netbox_refresh: float,
    once: bool,
) -> None:
    """Serve Prometheus metrics (prefix zwvl_) built fresh on every scrape.

    Always: inventory, policy results, programme indicators, fibre coverage, dataset declarations
    and the exporter's own health. Optional sources: NetBox drift and last apply, backbone state
    from FRR, helpdesk from Request Tracker, dataset freshness from PostgreSQL, and with --from-netbox
    the expected OSPF adjacencies and the scrape targets (HTTP service discovery) from NetBox.
    """
    from zwvl.exporter.server import ExporterConfig, parse_listen, render_once, serve
    from zwvl.netbox.settings import NetboxSettingsError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = ExporterConfig(
        inventory_dir=inventory_dir,
        policies_dir=policies_dir,
        frr=frr,
        frr_timeout=frr_timeout,
        drift="off" if once and drift == "auto" else drift,
        drift_interval=drift_interval,
        apply_state=apply_state,
        rt_url=rt_url,
        rt_category_field=rt_category_field,
        rt_min_interval=rt_min_interval,
        datasets_dsn=datasets_dsn,
        datasets_query=datasets_query,
        from_netbox=from_netbox,
        netbox_refresh=netbox_refresh,
    )
    try:
        parse_listen(listen)
        if once:
            sys.stdout.write(render_once(cfg).decode())
            return
        serve(cfg, listen, ready=lambda url: click.echo(f"zwvl exporter serving {url}", err=True))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    except NetboxSettingsError as exc:
        raise click.UsageError(f"--from-netbox: {exc}") from exc
