"""Assemble the exporter's sources from options and serve /metrics (and, with NetBox, Prometheus HTTP
service discovery at /sd/<job>) over HTTP."""

from __future__ import annotations

import ipaddress
import json
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from types import FrameType
from typing import Any, Protocol
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, generate_latest, make_wsgi_app

from zwvl.exporter.backbone import BackboneSource, access_from_spec
from zwvl.exporter.base import Source, SourceError
from zwvl.exporter.collector import ZwvlCollector, git_revision, registry_for
from zwvl.exporter.model import ModelCache, ModelSource
from zwvl.exporter.netbox_state import (
    DriftCommand,
    DriftReport,
    NetboxStateSource,
    read_apply_state,
    read_drift_file,
)
from zwvl.exporter.netbox_view import ExpectedBackboneSource, NetboxView

log = logging.getLogger("zwvl.exporter")


class Background(Protocol):
    """A reader running beside the server (drift, NetBox's view)."""

    def stop(self) -> None: ...


@dataclass
class ExporterConfig:
    inventory_dir: Path = Path("inventory")
    policies_dir: Path | None = None
    frr: str | None = None  # netns[:TEMPLATE] | sockets:DIR | command:ARGV
    frr_timeout: float = 5.0
    drift: str = "auto"  # auto | off | file:PATH | command:ARGV
    drift_interval: float = 300.0
    apply_state: Path | None = None
    rt_url: str | None = None
    rt_category_field: str = "ITIL category"
    rt_min_interval: float = 30.0
    datasets_dsn: str | None = None
    datasets_query: str | None = None
    from_netbox: bool = False
    netbox_refresh: float = 60.0
    background: list[Background] = field(default_factory=list)  # stopped when serving ends


def parse_listen(listen: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--listen wants HOST:PORT, got {listen!r}")
    host = host.strip("[]") or "127.0.0.1"
    if host != "localhost":
        ipaddress.ip_address(host)  # an address, not a name to resolve
    return host, int(port)


def _netbox_configured() -> bool:
    try:
        from zwvl.netbox.settings import NetboxSettingsError, resolve_netbox
    except ImportError:
        return False
    try:
        resolve_netbox()
    except NetboxSettingsError:
        return False
    return True


def drift_reader(cfg: ExporterConfig) -> Callable[[], DriftReport] | None:
    spec = cfg.drift
    if spec == "off":
        return None
    if spec.startswith("file:"):
        path = Path(spec[5:])
        return lambda: read_drift_file(path)
    cmd: DriftCommand | None = None
    if spec.startswith("command:"):
        cmd = DriftCommand.from_string(spec[8:], cfg.drift_interval)
    elif spec == "auto":
        if not _netbox_configured():
            log.info("drift: no NetBox configured; not reported")
            return None
        cmd = DriftCommand.default(cfg.inventory_dir, cfg.drift_interval)
    else:
        raise ValueError(f"unknown drift source {spec!r}: use auto, off, file:PATH or command:ARGV")
    cmd.start()
    cfg.background.append(cmd)
    return cmd.latest


def build_sources(cfg: ExporterConfig) -> tuple[ModelCache, list[Source], NetboxView | None]:
    cache = ModelCache(cfg.inventory_dir, cfg.policies_dir)
    sources: list[Source] = [ModelSource(cache)]
    view = None
    if cfg.from_netbox:
        from zwvl.netbox.reader import client_from_env

        netbox = client_from_env()  # NETBOX_URL/NETBOX_TOKEN, else the local instance; fails early
        view = NetboxView(lambda: netbox, cache, cfg.netbox_refresh)
        view.start()
        cfg.background.append(view)
        sources.append(ExpectedBackboneSource(view))
    drift = drift_reader(cfg)
    apply_path = cfg.apply_state
    apply_reader = (lambda: read_apply_state(apply_path)) if apply_path is not None else None
    if drift is not None or apply_reader is not None:
        sources.append(NetboxStateSource(drift, apply_reader))
    if cfg.frr:
        sources.append(BackboneSource(cache, access_from_spec(cfg.frr), cfg.frr_timeout))
    if cfg.rt_url:
        from zwvl.exporter.helpdesk import HelpdeskSource, RtRest2Client

        client = RtRest2Client.from_env(cfg.rt_url)
        sources.append(HelpdeskSource(cache, client, cfg.rt_category_field, cfg.rt_min_interval))
    if cfg.datasets_dsn:
        from zwvl.exporter.datasets import DEFAULT_QUERY, DatasetFreshnessSource

        sources.append(DatasetFreshnessSource(cache, cfg.datasets_dsn, cfg.datasets_query or DEFAULT_QUERY))
    return cache, sources, view


def make_collector(cfg: ExporterConfig) -> tuple[ZwvlCollector, NetboxView | None]:
    cache, sources, view = build_sources(cfg)
    return ZwvlCollector(sources, revision=git_revision(cache.repo_root)), view


def render_once(cfg: ExporterConfig) -> bytes:
    try:
        return generate_latest(registry_for(make_collector(cfg)[0]))
    finally:
        for bg in cfg.background:
            bg.stop()


_Start = Callable[[str, list[tuple[str, str]]], Any]


def make_app(
    registry: CollectorRegistry, view: NetboxView | None
) -> Callable[[dict[str, Any], _Start], Iterable[bytes]]:
    """/metrics from the registry; /sd/<job> (Prometheus HTTP SD) and /sd (the jobs) from NetBox."""
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start: _Start) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if not (path == "/sd" or path.startswith("/sd/")):
            return list(metrics(environ, start))
        if view is None:
            return _answer(start, "404 Not Found", {"error": "service discovery needs --from-netbox"})
        try:
            body: object = view.jobs() if path == "/sd" else view.http_sd(path.removeprefix("/sd/"))
        except SourceError as exc:  # no good read of NetBox yet: Prometheus keeps its targets
            return _answer(start, "503 Service Unavailable", {"error": str(exc)})
        return _answer(start, "200 OK", body)

    return app


def _answer(start: _Start, status: str, body: object) -> list[bytes]:
    data = json.dumps(body).encode()
    start(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        pass  # a line per scrape and SD refresh would drown the log


def serve(cfg: ExporterConfig, listen: str, ready: Callable[[str], None] | None = None) -> None:
    """Serve /metrics until SIGTERM or SIGINT."""
    host, port = parse_listen(listen)
    collector, view = make_collector(cfg)
    server = make_server(
        host,
        port,
        make_app(registry_for(collector), view),
        server_class=_Server6 if ":" in host else _Server,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, name="zwvl-http", daemon=True)
    thread.start()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    if ready is not None:
        ready(f"http://{host}:{server.server_port}/metrics")
    try:
        while not stop.wait(1.0):
            pass
    finally:
        for bg in cfg.background:
            bg.stop()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
