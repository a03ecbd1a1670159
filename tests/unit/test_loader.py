"""Every kind of loader and validation error is reported as file:line:col naming the object."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO, Region, find
from zwvl.inventory import InventoryError, load_inventory
from zwvl.yamlsrc import YamlError, load_text

LINE = re.compile(r"^[^:]+:\d+:\d+: .+")


def problems(region: Region) -> list[str]:
    with pytest.raises(InventoryError) as exc:
        region.load()
    out = [str(p) for p in exc.value.problems]
    assert all(LINE.match(p) for p in out), out
    return out


def test_repository_inventory_is_valid() -> None:
    inv = load_inventory("inventory")
    assert len(inv.partners) == 15
    assert sum(1 for p in inv.partners.values() if p.type == "municipality") == 13
    assert sum(1 for s in inv.sites.values() if s.kind == "local-datacenter") == 24
    assert sum(1 for s in inv.sites.values() if s.kind == "regional-datacenter") == 1
    assert inv.region is not None and inv.region.inhabitants == 314810
    kortrijk = inv.partners["kortrijk"]
    assert (kortrijk.digital_satisfaction_pct, kortrijk.it_challenges_2022, kortrijk.it_projects_2022) == (
        80,
        13,
        34,
    )
    assert sorted(p.slug for p in inv.partners.values() if p.ebox) == [
        "deerlijk",
        "harelbeke",
        "kortrijk",
        "kuurne",
        "wevelgem",
    ]
    # every municipality: town hall plus at least two other public buildings
    for p in inv.partners.values():
        if p.type == "municipality":
            kinds = [s.kind for s in inv.sites_of(p.slug) if s.public_building]
            assert "town-hall" in kinds and len(kinds) >= 3, p.slug


def test_yaml_syntax_error(region: Region) -> None:
    region.write("inventory/partners/kortrijk/sites.yaml", "sites:\n  - slug: x\n    name: [unclosed\n")
    out = problems(region)
    assert any("inventory/partners/kortrijk/sites.yaml:" in p and "YAML syntax error" in p for p in out)


def test_empty_file(region: Region) -> None:
    region.write("inventory/partners/kortrijk/extra.yaml", "")
    assert any(
        p.startswith("inventory/partners/kortrijk/extra.yaml:1:1: file is empty") for p in problems(region)
    )


def test_binary_file(region: Region) -> None:
    region.write("inventory/partners/kortrijk/blob.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    out = problems(region)
    assert any("blob.yaml:1:1:" in p and ("binary" in p or "not UTF-8" in p) for p in out)


def test_duplicate_key(region: Region) -> None:
    region.write(
        "inventory/partners/kortrijk/extra.yaml",
        "vlans:\n  - partner: kortrijk\n    vid: 300\n    vid: 301\n    name: extra\n",
    )
    out = problems(region)
    assert "inventory/partners/kortrijk/extra.yaml:4:5: duplicate key 'vid' (first defined at line 3)" in out


def test_schema_errors_name_object_and_field(region: Region) -> None:
    def bad(d):  # noqa: ANN001, ANN202
        site = find(d["sites"], slug="kortrijk-library")
        site["lat"] = "north"
        site["colour"] = "blue"
        del site["address"]

    region.edit("inventory/partners/kortrijk/sites.yaml", bad)
    out = "\n".join(problems(region))
    assert "site 'kortrijk-library': lat: Input should be a valid number" in out
    assert "site 'kortrijk-library': colour: unknown field" in out
    assert "site 'kortrijk-library': address: missing required field" in out


def test_duplicate_slug(region: Region) -> None:
    region.edit(
        "inventory/partners/kortrijk/sites.yaml",
        lambda d: d["sites"].append(dict(find(d["sites"], slug="kortrijk-library"))),
    )
    out = problems(region)
    assert any(
        "site 'kortrijk-library': duplicate site slug 'kortrijk-library' (first defined at" in p for p in out
    )


def test_unknown_reference_with_did_you_mean(region: Region) -> None:
    region.edit(
        "inventory/partners/kortrijk/devices.yaml",
        lambda d: find(d["devices"], name="kor-lib-rtr01").update(site="kortrijk-libary"),
    )
    out = problems(region)
    assert any(
        "devices.yaml:" in p
        and "device 'kor-lib-rtr01': unknown site 'kortrijk-libary' " "(did you mean 'kortrijk-library'?)"
        in p
        for p in out
    ), out


def test_overlapping_prefixes(region: Region) -> None:
    region.edit(
        "inventory/partners/menen/network.yaml",
        lambda d: d["prefixes"].extend(
            [
                {"partner": "menen", "prefix": "10.1.64.0/25", "role": "stolen"},
                {"partner": "menen", "prefix": "10.1.65.0/24", "role": "copy"},
            ]
        ),
    )
    out = problems(region)
    assert any("prefix '10.1.64.0/25': 10.1.64.0/25 overlaps 10.1.64.0/24" in p for p in out), out
    assert any(
        "duplicate prefix '10.1.65.0/24' (first defined at inventory/partners/kortrijk/network.yaml" in p
        for p in out
    ), out


def test_address_outside_prefix(region: Region) -> None:
    def bad(d):  # noqa: ANN001, ANN202
        d["circuits"][0]["a"]["address"] = "100.64.200.1/31"

    region.edit("inventory/backbone/core.yaml", bad)
    out = problems(region)
    assert any("backbone/core.yaml" in p and "is outside the circuit prefix" in p for p in out), out


def test_circuit_same_site_at_both_ends(region: Region) -> None:
    def bad(d):  # noqa: ANN001, ANN202
        d["circuits"][0]["z"] = dict(d["circuits"][0]["a"], address=d["circuits"][0]["z"]["address"])

    region.edit("inventory/backbone/core.yaml", bad)
    assert any("both ends are at the same site" in p for p in problems(region))


def test_unknown_section_and_non_mapping(region: Region) -> None:
    region.write("inventory/extra/a.yaml", "site:\n  - slug: x\n")
    region.write("inventory/extra/b.yaml", "- just\n- a list\n")
    out = problems(region)
    assert "inventory/extra/a.yaml:1:1: unknown section 'site' (did you mean 'sites'?)" in out
    assert "inventory/extra/b.yaml:1:1: expected a YAML mapping at the top" in out


def test_all_problems_in_one_run(region: Region) -> None:
    region.write("inventory/partners/kortrijk/extra.yaml", "")
    region.edit(
        "inventory/partners/kortrijk/devices.yaml",
        lambda d: find(d["devices"], name="kor-lib-rtr01").update(site="nowhere"),
    )
    region.edit("inventory/partners/menen/sites.yaml", lambda d: d["sites"][0].update(lat=400))
    out = problems(region)
    assert len({p.split(":")[0] for p in out}) >= 3


def _line_of(region: Region, rel: str, text: str) -> int:
    lines = (region.root / rel).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def test_one_bad_field_is_one_problem_without_follow_up_errors(region: Region) -> None:
    """A typo in one device drops only that device, and nothing calls it unknown elsewhere."""
    from click.testing import CliRunner

    from zwvl.cli import main

    rel = "inventory/partners/avelgem/devices.yaml"
    region.edit(rel, lambda d: find(d["devices"], name="ave-th-rtr01").update(role="routr"))
    line = _line_of(region, rel, "role: routr")
    out = problems(region)
    assert out == [
        f"{rel}:{line}:3: device 'ave-th-rtr01': role: "
        "Input should be 'router', 'switch', 'server' or 'firewall'"
    ]
    result = CliRunner().invoke(main, ["validate", "--inventory", str(region.inventory)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [*out, "1 problem(s) found; nothing was written."]


def test_invalid_definitions_are_not_reported_as_unknown_references(region: Region) -> None:
    """Invalid partner, site, provider, helpdesk and region: one problem each, no follow-ups."""
    region.edit("inventory/partners/avelgem/partner.yaml", lambda d: d["partner"].update(type="town"))
    region.edit(
        "inventory/partners/kortrijk/sites.yaml",
        lambda d: find(d["sites"], slug="kortrijk-library").update(lat=400),
    )
    region.edit("inventory/backbone/providers.yaml", lambda d: d["providers"][0].update(name=["x"]))
    region.edit("inventory/helpdesk/pool.yaml", lambda d: d["helpdesk"].update(colour="red"))
    region.edit("inventory/region.yaml", lambda d: d["region"].update(inhabitants="many"))
    out = problems(region)
    assert len(out) == 5, out
    assert not [p for p in out if "unknown" in p and "unknown field" not in p], out
    assert not [p for p in out if "section found" in p], out
    for what in (
        "partner 'avelgem': type:",
        "site 'kortrijk-library': lat:",
        "provider 'regional-fibre-operator': name:",
        "helpdesk: colour: unknown field",
        "region 'zuid-west-vlaanderen': inhabitants:",
    ):
        assert any(what in p for p in out), (what, out)
    # the valid objects of the same files were kept: the other sites' devices resolve
    region.edit(
        "inventory/partners/kortrijk/devices.yaml",
        lambda d: find(d["devices"], name="kor-th-rtr01").update(site="kortrijk-town-hal"),
    )
    assert any(
        "device 'kor-th-rtr01': unknown site 'kortrijk-town-hal' (did you mean 'kortrijk-town-hall'?)" in p
        for p in problems(region)
    )


def test_duplicate_names_name_both_places(region: Region) -> None:
    """NetBox wants unique names for sites, tenants, providers and devices, not only unique slugs."""
    sites = "inventory/partners/kortrijk/sites.yaml"
    region.edit(
        sites, lambda d: find(d["sites"], slug="kortrijk-library").update(name="Gemeentehuis Kortrijk")
    )
    region.edit("inventory/partners/menen/partner.yaml", lambda d: d["partner"].update(name="Kortrijk"))
    region.edit(
        "inventory/backbone/providers.yaml",
        lambda d: d["providers"].append({"slug": "other-operator", "name": "Regionale glasvezeloperator"}),
    )
    devices = "inventory/partners/menen/devices.yaml"
    region.edit(devices, lambda d: d["devices"][1].update(name="kor-th-rtr01"))
    region.edit(devices, lambda d: d["devices"][2].update(name="KOR-LIB-RTR01"))
    out = problems(region)
    first_site = _line_of(region, sites, "name: Gemeentehuis Kortrijk")
    dup_site = _line_of(region, sites, "slug: kortrijk-library") + 1
    assert (
        f"{sites}:{dup_site}:3: site 'kortrijk-library': duplicate site name 'Gemeentehuis Kortrijk' "
        f"(first defined at {sites}:{first_site}:3)"
    ) in out, out
    partner = "inventory/partners/menen/partner.yaml"
    assert any(
        p.startswith(f"{partner}:")
        and "partner 'menen': duplicate partner name 'Kortrijk' "
        "(first defined at inventory/partners/kortrijk/partner.yaml:"
        in p
        for p in out
    ), out
    assert any(
        "provider 'other-operator': duplicate provider name 'Regionale glasvezeloperator' "
        "(first defined at inventory/backbone/providers.yaml:" in p
        for p in out
    ), out
    assert any(
        p.startswith(f"{devices}:")
        and "duplicate device name 'kor-th-rtr01' "
        "(first defined at inventory/partners/kortrijk/devices.yaml:"
        in p
        for p in out
    ), out
    # NetBox compares names ignoring case
    assert any(
        p.startswith(f"{devices}:")
        and "duplicate device name 'KOR-LIB-RTR01' "
        "(first defined at inventory/partners/kortrijk/devices.yaml:"
        in p
        and p.endswith("(as 'kor-lib-rtr01'))")
        for p in out
    ), out


def test_loopback_outside_pool(region: Region) -> None:
    region.edit(
        "inventory/partners/kortrijk/devices.yaml",
        lambda d: find(d["devices"], name="kor-th-rtr01").update(loopback="10.9.9.9/32"),
    )
    assert any("outside the loopback pool" in p for p in problems(region))


def _field_line(region: Region, rel: str, item: str, field: str) -> int:
    """Line of ``field`` inside the list item that starts with ``item``."""
    lines = (region.root / rel).read_text().splitlines()
    start = next(i for i, line in enumerate(lines, 1) if line.startswith(item))
    return next(i for i, line in enumerate(lines[start:], start + 1) if line.strip().startswith(field))


def test_unknown_location_names_the_device_with_did_you_mean(region: Region) -> None:
    rel = "inventory/partners/leiedal/devices.yaml"

    def misplace(d: dict[str, Any]) -> None:
        find(d["devices"], name="lei-rdc-sw02").update(location="hal-b")
        find(d["devices"], name="lei-dc1-sw01").update(location="hall-a")  # a room of another site
        find(d["devices"], name="lei-hq-rtr01").update(location="server-room")  # a site without rooms

    region.edit(rel, misplace)
    out = problems(region)
    at = {n: _field_line(region, rel, f"- name: {n}", "location:") for n in ("lei-rdc-sw02", "lei-dc1-sw01")}
    hq = _field_line(region, rel, "- name: lei-hq-rtr01", "location:")
    assert sorted(out) == sorted(
        [
            f"{rel}:{at['lei-rdc-sw02']}:3: device 'lei-rdc-sw02': unknown location 'hal-b' "
            "at site 'regional-datacenter' (did you mean 'hall-b'?)",
            f"{rel}:{at['lei-dc1-sw01']}:3: device 'lei-dc1-sw01': unknown location 'hall-a' "
            "at site 'leiedal-dc1'",
            f"{rel}:{hq}:3: device 'lei-hq-rtr01': unknown location 'server-room' at site 'leiedal-office'",
        ]
    ), out


def test_location_slugs_and_names_are_unique_within_a_site(region: Region) -> None:
    rel = "inventory/partners/leiedal/sites.yaml"

    def twice(d: dict[str, Any]) -> None:
        rooms = find(d["sites"], slug="regional-datacenter")["locations"]
        rooms.append({"slug": "hall-a", "name": "Zaal C"})
        rooms.append({"slug": "hall-d", "name": "Zaal B"})

    region.edit(rel, twice)
    out = problems(region)
    first_slug = _line_of(region, rel, "slug: hall-a")
    first_name = _line_of(region, rel, "name: Zaal B")
    dup_slug = _field_line(region, rel, "  - slug: hall-b", "- slug: hall-a")
    dup_name = _line_of(region, rel, "slug: hall-d") + 1
    assert out == [
        f"{rel}:{dup_slug}:5: site 'regional-datacenter': duplicate location slug 'hall-a' "
        f"(first defined at {rel}:{first_slug}:5)",
        f"{rel}:{dup_name}:5: site 'regional-datacenter': duplicate location name 'Zaal B' "
        f"(first defined at {rel}:{first_name}:5)",
    ], out
    # the same room slug at two sites is fine (every local datacenter has its server-room)
    inv = load_inventory(REPO / "inventory")
    assert sum(1 for s in inv.sites.values() for loc in s.locations if loc.slug == "server-room") == 24


# --- property-based: malformed YAML never crashes the loader ----------------------------------

yaml_chars = st.sampled_from(list("abc:-[]{}'\"\n\t #&*!|>%@`,?\\0123") + ["\x00", "\udcff"[:0] or "é"])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(yaml_chars, max_size=80))
def test_malformed_yaml_gives_a_clear_error(text: str) -> None:
    try:
        load_text(text, "fuzz.yaml")
    except YamlError as exc:
        assert str(exc).startswith("fuzz.yaml:")
        assert exc.problem.line >= 1


@settings(
    max_examples=120,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    deadline=None,
)
@given(st.binary(max_size=60) | st.text(yaml_chars, max_size=60))
def test_malformed_file_in_inventory_never_tracebacks(region: Region, blob: bytes | str) -> None:
    path = region.write("inventory/partners/kortrijk/fuzz.yaml", blob)
    try:
        region.load()
    except InventoryError as exc:
        shown = [str(p) for p in exc.problems]
        assert shown and all(LINE.match(p) for p in shown), shown
        assert any(p.startswith("inventory/partners/kortrijk/fuzz.yaml:") for p in shown), shown
    finally:
        path.unlink()
