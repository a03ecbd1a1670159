"""`zwvl alert-relay`: Alertmanager's webhook receiver that keeps one helpdesk ticket per alert group."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from zwvl.cli.common import env_option, inventory_option, load_or_exit


@click.command("alert-relay")
@click.option(
    "--listen",
    default="127.0.0.1:9096",
    show_default=True,
    help="HOST:PORT to receive Alertmanager's webhooks on (the generated alertmanager.yml's relay).",
)
@inventory_option
@env_option(
    "--rt-url",
    "RT_URL",
    "Request Tracker base URL (https); the auth token comes from RT_TOKEN (the role's zwvl-alert-relay "
    "account), the CA its certificate is verified against from ZWVL_CA_FILE (else the system's)",
)
@click.option(
    "--default-partner",
    default=None,
    help="Queue for ticketed alerts without a known partner label [default: the helpdesk service's partner].",
)
@click.option(
    "--requestor",
    default="alertmanager@zwvl.invalid",
    show_default=True,
    help="Requestor address of the tickets the relay opens.",
)
def relay_command(
    listen: str, inventory_dir: Path, rt_url: str | None, default_partner: str | None, requestor: str
) -> None:
    """Turn alert groups into tickets in the affected partner's Request Tracker queue.

    Receivers: /partner/<slug> (that partner's queue), /tickets (the partner label's queue, else the
    default partner's); /pager and /chat are acknowledged and not ticketed. One ticket per alert group
    and queue, with the ITIL category `incident` and the SLA level of the alert's severity (critical:
    priority 1, warning: 2, info: 3); changes to the group are comments; the ticket is resolved when the
    group resolves. A notification delivered twice changes nothing.
    """
    from zwvl.exporter.server import parse_listen
    from zwvl.platform.providers.rt.client import RtClient
    from zwvl.relay.desk import AlertDesk
    from zwvl.relay.server import RelayServer, serve_in_thread

    token = os.environ.get("RT_TOKEN", "")
    if not rt_url or not token:
        raise click.UsageError("set RT_URL (or --rt-url) and RT_TOKEN: the relay uses an RT auth token")
    inv = load_or_exit(inventory_dir)
    if default_partner is None:
        helpdesk = inv.services.get("helpdesk")
        default_partner = helpdesk.partner if helpdesk is not None else ""
    try:
        host, port = parse_listen(listen)
        client = RtClient(rt_url, token=token, ca_file=os.environ.get("ZWVL_CA_FILE") or None)
        desk = AlertDesk(client, inv, default_partner, requestor)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = RelayServer((host, port), desk)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    serve_in_thread(server)
    click.echo(f"zwvl alert-relay serving {server.url}", err=True)
    stop.wait()
    server.shutdown()
    server.server_close()
