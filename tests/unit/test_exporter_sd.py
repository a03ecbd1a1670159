"""The exporter's HTTP service discovery and NetBox view: answers, refresh and failures. The answers
from a real NetBox are tested with Prometheus in tests/monitoring/test_stack.py."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from prometheus_client import CollectorRegistry

from zwvl.backbone import Backbone
from zwvl.exporter.base import SourceError
from zwvl.exporter.model import ModelCache
from zwvl.exporter.netbox_view import NetboxView, View
from zwvl.exporter.server import make_app
from zwvl.monitoring.scrape import Target
from zwvl.netbox.client import NetboxClient
from zwvl.procs import free_port

REPO = Path(__file__).resolve().parents[2]


def get(app: Any, path: str) -> tuple[str, Any]:
    environ: dict[str, Any] = {"PATH_INFO": path, "wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    status: list[str] = []
    body = b"".join(app(environ, lambda s, headers: status.append(s)))
    return status[0], body


class Reads(NetboxView):
    """A view whose reads are given: what NetBox answers is tested against a real one elsewhere."""

    def __init__(self, answers: list[View | Exception]) -> None:
        super().__init__(lambda: NetboxClient("http://127.0.0.1:1", "x"), ModelCache(REPO / "inventory"))
        self.answers = answers

    def _read(self) -> View:
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def view(*targets: Target) -> View:
    return View(tuple(targets), Backbone())


def test_without_netbox_only_metrics_are_served() -> None:
    app = make_app(CollectorRegistry(), None)
    status, body = get(app, "/sd/frr")
    assert status.startswith("404") and "--from-netbox" in json.loads(body)["error"]
    assert get(app, "/metrics")[0].startswith("200")


def test_an_unreachable_netbox_answers_503_and_the_source_fails() -> None:
    port = free_port()  # nothing listens there
    nb = NetboxView(
        lambda: NetboxClient(f"http://127.0.0.1:{port}", "x", retries=1), ModelCache(REPO / "inventory")
    )
    with pytest.raises(SourceError, match="not read yet"):
        nb.get()
    assert nb.read_once() is False
    with pytest.raises(SourceError, match="reading NetBox"):
        nb.get()
    status, body = get(make_app(CollectorRegistry(), nb), "/sd/frr")
    assert status.startswith("503") and "reading NetBox" in json.loads(body)["error"]


def test_targets_are_grouped_by_job_and_kept_when_a_read_fails() -> None:
    kor = Target("frr", "100.126.0.3:9342", (("device", "kor-th-rtr01"), ("partner", "kortrijk")))
    srv = Target("node", "10.1.230.11:9100", (("device", "lei-rdc-srv01"),))
    nb = Reads([view(kor, srv), RuntimeError("NetBox restarting"), view(srv)])
    app = make_app(CollectorRegistry(), nb)

    assert nb.read_once() is True
    status, body = get(app, "/sd/frr")
    assert status.startswith("200")
    assert json.loads(body) == [
        {"targets": ["100.126.0.3:9342"], "labels": {"device": "kor-th-rtr01", "partner": "kortrijk"}}
    ]
    assert json.loads(get(app, "/sd")[1]) == ["frr", "node"]
    assert json.loads(get(app, "/sd/snmp")[1]) == []

    assert nb.read_once() is False  # NetBox restarting: the last good view stays
    assert json.loads(get(app, "/sd/frr")[1])[0]["targets"] == ["100.126.0.3:9342"]

    assert nb.read_once() is True  # the router is gone from NetBox
    assert json.loads(get(app, "/sd/frr")[1]) == []


def test_the_background_reader_reads_again_and_stops() -> None:
    kor = Target("frr", "100.126.0.3:9342", (("device", "kor-th-rtr01"),))
    nb = Reads([view(kor)] + [view()] * 50)
    nb.refresh = 0.05
    nb.start()  # the first read before it returns
    try:
        assert nb.http_sd("frr") == [{"targets": ["100.126.0.3:9342"], "labels": {"device": "kor-th-rtr01"}}]
        deadline = time.monotonic() + 10
        while nb.http_sd("frr") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert nb.http_sd("frr") == []
    finally:
        nb.stop()
    left = len(nb.answers)
    time.sleep(0.2)
    assert len(nb.answers) == left  # no read after stop
