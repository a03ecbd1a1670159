"""Assemble the exporter's sources from options and serve /metrics over HTTP."""

from __future__ import annotations

import ipaddress
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from prometheus_client import generate_latest, start_http_server

from zwvl.exporter.backbone import BackboneSource, access_from_spec
from zwvl.exporter.base import Source
from zwvl.exporter.collector import ZwvlCollector, git_revision, registry_for
from zwvl.exporter.model import ModelCache, ModelSource
from zwvl.exporter.netbox_state import (
    DriftCommand,
    DriftReport,
    NetboxStateSource,
    read_apply_state,
    read_drift_file,
)

log = logging.getLogger("zwvl.exporter")


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
    background: list[DriftCommand] = field(default_factory=list)


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


def build_sources(cfg: ExporterConfig) -> tuple[ModelCache, list[Source]]:
    cache = ModelCache(cfg.inventory_dir, cfg.policies_dir)
    sources: list[Source] = [ModelSource(cache)]
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
    return cache, sources


def make_collector(cfg: ExporterConfig) -> ZwvlCollector:
    cache, sources = build_sources(cfg)
    return ZwvlCollector(sources, revision=git_revision(cache.repo_root))


def render_once(cfg: ExporterConfig) -> bytes:
    return generate_latest(registry_for(make_collector(cfg)))


def serve(cfg: ExporterConfig, listen: str, ready: Callable[[str], None] | None = None) -> None:
    """Serve /metrics until SIGTERM or SIGINT."""
    host, port = parse_listen(listen)
    collector = make_collector(cfg)
    server, thread = start_http_server(port, addr=host, registry=registry_for(collector))
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
