"""The programme indicators the source promises, computed from the model (and live evidence)."""

from __future__ import annotations

from typing import Any

from zwvl.policy.findings import Context
from zwvl.policy.topology import Topology


def fibre_coverage(ctx: Context) -> dict[str, tuple[int, int]]:
    """Per partner: public buildings with an in-service fibre path / all public buildings."""
    live = Topology(ctx.inv, status_override=ctx.circuit_status, design=False)
    out: dict[str, tuple[int, int]] = {}
    for site in ctx.inv.sites.values():
        if not site.public_building or site.status == "decommissioned":
            continue
        done, total = out.get(site.partner, (0, 0))
        out[site.partner] = (done + (1 if live.reachable(site.slug) else 0), total + 1)
    return dict(sorted(out.items()))


def indicators(ctx: Context) -> list[dict[str, Any]]:
    inv = ctx.inv
    targets = inv.region.targets if inv.region else None
    magda = sorted(p.slug for p in inv.partners.values() if p.magda_document_service == "in-use")
    ebox = sorted(p.slug for p in inv.partners.values() if p.ebox)
    cov = fibre_coverage(ctx)
    connected = sum(d for d, _ in cov.values())
    buildings = sum(t for _, t in cov.values())
    platform = sorted({p for ds in inv.datasets.values() for p in ds.partners})
    mobility = sorted({p for ds in inv.datasets.values() if ds.domain == "mobility" for p in ds.partners})
    pool = sorted(p.slug for p in inv.partners.values() if p.helpdesk is not None)
    headcount = sum(sum(p.helpdesk.headcount.values()) for p in inv.partners.values() if p.helpdesk)
    local_dc = sum(1 for s in inv.sites.values() if s.kind == "local-datacenter" and s.status == "active")
    return [
        {
            "id": "magda-document-service",
            "title": "Partners using the MAGDA document service",
            "value": len(magda),
            "target": targets.magda_document_service_partners if targets else None,
            "unit": "partners",
            "detail": magda,
        },
        {
            "id": "ebox-senders",
            "title": "Partners delivering documents to the eBox",
            "value": len(ebox),
            "target": None,
            "unit": "partners",
            "detail": ebox,
        },
        {
            "id": "fibre-coverage",
            "title": "Public buildings on in-service fibre",
            "value": connected,
            "target": buildings,
            "unit": "buildings",
            "ratio": round(connected / buildings, 4) if buildings else None,
            "detail": {k: {"connected": d, "total": t} for k, (d, t) in cov.items()},
        },
        {
            "id": "data-platform-partners",
            "title": "Partners taking part in the shared data platform",
            "value": len(platform),
            "target": len(inv.partners),
            "unit": "partners",
            "detail": platform,
        },
        {
            "id": "mobility-platform-partners",
            "title": "Partners sharing mobility data (target: at least three)",
            "value": len(mobility),
            "target": targets.data_platform_min_partners if targets else None,
            "unit": "partners",
            "detail": mobility,
        },
        {
            "id": "helpdesk-pool-partners",
            "title": "Partners in the pooled helpdesk",
            "value": len(pool),
            "target": len(inv.partners),
            "unit": "partners",
            "detail": pool,
        },
        {
            "id": "helpdesk-pool-headcount",
            "title": "People in the regional pool",
            "value": headcount,
            "target": None,
            "unit": "people",
            "detail": None,
        },
        {
            "id": "local-datacenters",
            "title": "Local datacenters still in service (aim: one regional)",
            "value": local_dc,
            "target": targets.regional_datacenters_target if targets else None,
            "unit": "datacenters",
            "detail": None,
        },
    ]
