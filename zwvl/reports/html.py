"""The auditors' report: one self-contained HTML page (no external assets), with a map of the region."""

from __future__ import annotations

import math
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from zwvl import __version__
from zwvl.policy.runner import CheckResult
from zwvl.reports.json_report import to_dict
from zwvl.reports.problems import problems

_W, _H, _PAD = 760, 560, 30


def site_map(result: CheckResult) -> dict[str, Any]:
    """Sites and fibre links projected to SVG coordinates (equirectangular, scaled for latitude)."""
    topo = result.topology
    inv = topo.inv
    sites = [s for s in inv.sites.values() if s.status != "decommissioned"]
    if not sites:
        return {"width": _W, "height": _H, "sites": [], "links": []}
    lat0 = sum(s.lat for s in sites) / len(sites)
    kx = math.cos(math.radians(lat0))
    xs = [s.lon * kx for s in sites]
    ys = [s.lat for s in sites]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    scale = min(_W, _H) - 2 * _PAD

    def proj(lat: float, lon: float) -> tuple[float, float]:
        x = _PAD + (lon * kx - min(xs)) / span * scale * (_W / min(_W, _H))
        y = _H - _PAD - (lat - min(ys)) / span * scale
        return round(x, 1), round(y, 1)

    spof_sites = topo.spof_sites
    spof_circuits = set()
    for s in sites:
        if s.kind == "town-hall" and topo.redundant_hub(s.slug) is None:
            spof_circuits.update(topo.single_points_of_failure(s.slug)[1])
    pos = {s.slug: proj(s.lat, s.lon) for s in sites}
    links = []
    for c in sorted(inv.circuits.values(), key=lambda c: c.cid):
        if c.a.site in pos and c.z.site in pos:
            (x1, y1), (x2, y2) = pos[c.a.site], pos[c.z.site]
            links.append(
                {
                    "cid": c.cid,
                    "x1": x1,
                    "y1": y1,
                    "x2": x2,
                    "y2": y2,
                    "status": topo.status(c),
                    "spof": c.cid in spof_circuits,
                }
            )
    points = []
    for s in sorted(sites, key=lambda s: s.slug):
        x, y = pos[s.slug]
        points.append(
            {
                "slug": s.slug,
                "name": s.name,
                "kind": s.kind,
                "x": x,
                "y": y,
                "spof": s.slug in spof_sites,
                "connected": topo.reachable(s.slug),
            }
        )
    return {"width": _W, "height": _H, "sites": points, "links": links}


def to_html(result: CheckResult) -> str:
    env = Environment(
        loader=PackageLoader("zwvl", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    tpl = env.get_template("report.html.j2")
    return tpl.render(
        report=to_dict(result), problems=problems(result), map=site_map(result), version=__version__
    )
