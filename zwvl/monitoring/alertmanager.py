"""Alertmanager's configuration (`zwvl monitoring alertmanager-config`) generated from the source of truth.

The alert routes per partner come from the partners of the domain model; the inhibitions name the
alerts of monitoring/prometheus/rules/ (see `zwvl.monitoring.names`). Output is deterministic, so
the checked-in file can be compared (``--check``).
"""

from __future__ import annotations

from typing import Any

from zwvl.inventory import Inventory
from zwvl.monitoring.scrape import generated_yaml

RELAY = "http://127.0.0.1:9096"  # the notification relay beside Alertmanager (pager, chat, tickets)


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
            {  # a site cut off: its own link-down and redundancy alerts are the same incident
                "source_matchers": ['alertname="FibreSiteIsolated"'],
                "target_matchers": ['alertname=~"FibreLinkDown|FibreRedundancyLost"'],
                "equal": ["site"],
            },
            {  # ... and so are the link-down alerts seen from the far end of its links
                "source_matchers": ['alertname="FibreSiteIsolated"'],
                "target_matchers": ['alertname="FibreLinkDown"'],
                "equal": ["peer_site"],
            },
            {  # the exporter down: its sources' failures follow from it
                "source_matchers": ['alertname="ZwvlExporterDown"'],
                "target_matchers": ['alertname="ZwvlExporterSourceFailing"'],
                "equal": ["instance"],
            },
        ],
        "receivers": [
            _webhook("oncall-pager", "pager"),
            _webhook("oncall-chat", "chat"),
            _webhook("oncall-tickets", "tickets"),
            *(_webhook(f"partner-{slug}", f"partner/{slug}") for slug in partners),
        ],
    }
    return generated_yaml("alertmanager-config", "the domain model's partners", doc)
