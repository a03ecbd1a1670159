"""Alertmanager's configuration (`zwvl monitoring alertmanager-config`) generated from the source of truth.

The alert routes per partner come from the partners of the domain model; the inhibitions name the
alerts of monitoring/prometheus/rules/ (see `zwvl.monitoring.names`). Output is deterministic, so
the checked-in file can be compared (``--check``).
"""

from __future__ import annotations

from typing import Any

from zwvl.inventory import Inventory
from zwvl.monitoring.names import AlertName
from zwvl.monitoring.scrape import generated_yaml

RELAY = "http://127.0.0.1:9096"  # `zwvl alert-relay` beside Alertmanager: partner queues and tickets


def _alertname(names: list[AlertName]) -> str:
    """A matcher for one alert or several (a regular expression of alternatives)."""
    return f'alertname="{names[0]}"' if len(names) == 1 else f'alertname=~"{"|".join(names)}"'


def _inhibit(source: AlertName, targets: list[AlertName], equal: str) -> dict[str, Any]:
    """While `source` fires, the `targets` alerts with the same `equal` label are silenced."""
    return {
        "source_matchers": [_alertname([source])],
        "target_matchers": [_alertname(targets)],
        "equal": [equal],
    }


def _webhook(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "webhook_configs": [{"url": f"{RELAY}/{path}", "send_resolved": True}]}


def alertmanager_config(inv: Inventory) -> str:
    partners = sorted(inv.partners)
    routes: list[dict[str, Any]] = [
        {
            "receiver": "oncall-pager",
            "matchers": ['severity="critical"'],
            "group_wait": "10s",
            "repeat_interval": "1h",
            "continue": True,
        }
    ]
    for slug in partners:
        routes.append({"receiver": f"partner-{slug}", "matchers": [f'partner="{slug}"'], "continue": True})
    routes += [
        {"receiver": "oncall-chat", "matchers": ['severity="warning"']},
        {"receiver": "oncall-tickets", "matchers": ['severity="info"']},
    ]
    doc: dict[str, Any] = {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": "oncall-chat",
            "group_by": ["alertname", "partner", "site"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": routes,
        },
        "inhibit_rules": [
            # a site cut off: its own link-down and redundancy alerts are the same incident
            _inhibit(
                AlertName.FIBRE_SITE_ISOLATED,
                [AlertName.FIBRE_LINK_DOWN, AlertName.FIBRE_REDUNDANCY_LOST],
                "site",
            ),
            # ... and so are the link-down alerts seen from the far end of its links
            _inhibit(AlertName.FIBRE_SITE_ISOLATED, [AlertName.FIBRE_LINK_DOWN], "peer_site"),
            # the exporter down: its sources' failures follow from it
            _inhibit(AlertName.EXPORTER_DOWN, [AlertName.EXPORTER_SOURCE_FAILING], "instance"),
        ],
        "receivers": [
            _webhook("oncall-pager", "pager"),
            _webhook("oncall-chat", "chat"),
            _webhook("oncall-tickets", "tickets"),
            *(_webhook(f"partner-{slug}", f"partner/{slug}") for slug in partners),
        ],
    }
    return generated_yaml("alertmanager-config", "the domain model's partners", doc)
