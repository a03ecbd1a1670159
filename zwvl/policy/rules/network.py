"""I1 (fibre for every public building, two disjoint paths) and I5 (standard hardware, naming)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from zwvl.model import DATACENTER_KINDS
from zwvl.policy.findings import Context, Finding
from zwvl.policy.registry import rule


def _live_note(ctx: Context, circuits: list[str]) -> dict[str, str]:
    """Circuits whose live status differs from the inventory, as evidence."""
    notes = {}
    for cid in circuits:
        live = ctx.circuit_status.get(cid)
        planned = ctx.inv.circuits[cid].status if cid in ctx.inv.circuits else None
        if live is not None and live != planned:
            notes[cid] = f"inventory says {planned}, {ctx.live_source or 'NetBox'} says {live}"
    return notes


def _downgraded(ctx: Context) -> dict[str, str]:
    return _live_note(ctx, sorted(ctx.circuit_status))


@rule("I1-building-on-backbone")
def building_on_backbone(ctx: Context) -> Iterator[Finding]:
    topo = ctx.topology
    if not topo.hubs:
        yield ctx.finding(
            "I1-building-on-backbone",
            "region:regional-datacenter",
            False,
            "no regional datacenter site in the inventory",
            regional_datacenters=[],
        )
        return
    live = _downgraded(ctx)
    for site in ctx.inv.sites.values():
        if site.status == "decommissioned" or not (site.public_building or site.kind in DATACENTER_KINDS):
            continue
        if site.kind == "regional-datacenter":
            continue
        path = topo.path_to_hub(site.slug)
        if path:
            # on the backbone; name what it hangs on, if anything (the lab's fibre cut tests read
            # exactly this evidence)
            spof_sites, spof_circuits = topo.single_points_of_failure(site.slug)
            parts = [f"site {s}" for s in spof_sites] + [f"circuit {c}" for c in spof_circuits]
            yield ctx.finding(
                "I1-building-on-backbone",
                site,
                True,
                f"fibre path to {path[-1]} over {len(path) - 1} link(s)"
                + (f"; single points of failure: {', '.join(parts)}" if parts else ""),
                path=path,
                single_points_of_failure={"sites": spof_sites, "circuits": spof_circuits},
            )
        else:
            yield ctx.finding(
                "I1-building-on-backbone",
                site,
                False,
                "no fibre path to the regional datacenter",
                path=[],
                live_circuits=live,
            )


@rule("I1-two-disjoint-paths")
def two_disjoint_paths(ctx: Context) -> Iterator[Finding]:
    topo = ctx.topology
    live = _downgraded(ctx)
    for site in ctx.inv.sites.values():
        partner = ctx.inv.partners.get(site.partner)
        if site.kind != "town-hall" or partner is None or partner.type != "municipality":
            continue
        hub = topo.redundant_hub(site.slug)
        if hub is not None:
            yield ctx.finding(
                "I1-two-disjoint-paths",
                site,
                True,
                f"two disjoint fibre paths to {hub}",
                paths=topo.disjoint_paths(site.slug, hub),
            )
            continue
        spof_sites, spof_circuits = topo.single_points_of_failure(site.slug)
        path = topo.path_to_hub(site.slug)
        if not path:
            msg = "no fibre path at all to the regional datacenter"
        else:
            parts = [f"site {s}" for s in spof_sites] + [f"circuit {c}" for c in spof_circuits]
            msg = "only one path to the regional datacenter; single points of failure: " + ", ".join(parts)
        yield ctx.finding(
            "I1-two-disjoint-paths",
            site,
            False,
            msg,
            path=path,
            single_points_of_failure={"sites": spof_sites, "circuits": spof_circuits},
            live_circuits=live,
        )


@rule("I5-approved-device-types")
def approved_device_types(ctx: Context) -> Iterator[Finding]:
    approved = set(ctx.inv.standards.approved_device_types) if ctx.inv.standards else set()
    for dev in ctx.inv.devices.values():
        ok = dev.device_type in approved
        yield ctx.finding(
            "I5-approved-device-types",
            dev,
            ok,
            f"device type {dev.device_type} is {'in' if ok else 'not in'} the approved catalogue",
            device_type=dev.device_type,
        )


@rule("I5-naming-convention")
def naming_convention(ctx: Context) -> Iterator[Finding]:
    if ctx.inv.standards is None:
        return
    pattern = re.compile(ctx.inv.standards.naming.device)
    for dev in ctx.inv.devices.values():
        ok = bool(pattern.fullmatch(dev.name))
        partner = ctx.inv.partners.get(ctx.inv.sites[dev.site].partner) if dev.site in ctx.inv.sites else None
        prefix_ok = partner is None or dev.name.startswith(partner.code + "-")
        good = ok and prefix_ok
        why = "matches" if ok else f"does not match {pattern.pattern}"
        if ok and not prefix_ok:
            why = f"should start with the partner code {partner.code}-" if partner else why
        yield ctx.finding(
            "I5-naming-convention",
            dev,
            good,
            f"name {dev.name} {why}",
            name=dev.name,
            pattern=pattern.pattern,
            matches_pattern=ok,
            partner_code=partner.code if partner else None,
        )
    # sites: the naming standard's pattern, and the partner's slug first so that a site's owner
    # shows in every list; the regional datacenter serves every partner and carries no prefix
    site_pattern = re.compile(ctx.inv.standards.naming.site)
    for site in ctx.inv.sites.values():
        ok = bool(site_pattern.fullmatch(site.slug))
        shared = site.kind == "regional-datacenter"
        prefix_ok = shared or site.slug.startswith(site.partner + "-")
        why = "matches" if ok else f"does not match {site_pattern.pattern}"
        if ok and not prefix_ok:
            why = f"should start with the partner slug {site.partner}-"
        yield ctx.finding(
            "I5-naming-convention",
            site,
            ok and prefix_ok,
            f"site slug {site.slug} {why}",
            slug=site.slug,
            pattern=site_pattern.pattern,
            matches_pattern=ok,
            partner=site.partner,
        )
