"""One case per kind of problem the loader reports: each names its file, line, column and object.

The broader behaviour (one run reports everything, no follow-up errors, did-you-mean) is in
test_loader.py; here every message the loader can give is produced once from a realistic edit.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Region, find
from zwvl.inventory import InventoryError, load_inventory
from zwvl.yamlsrc import YamlError, load_text

CORE = "inventory/backbone/core.yaml"
KORTRIJK_DEVICES = "inventory/partners/kortrijk/devices.yaml"
MENEN_NETWORK = "inventory/partners/menen/network.yaml"
MENEN_PARTNER = "inventory/partners/menen/partner.yaml"
POOL = "inventory/helpdesk/pool.yaml"
STANDARDS = "inventory/standards.yaml"
LEIEDAL_DEVICES = "inventory/partners/leiedal/devices.yaml"
SERVICES = "inventory/platform/services.yaml"


def _server(region: Region, **change: Any) -> None:
    def edit(d: dict[str, Any]) -> None:
        dev = find(d["devices"], name="lei-rdc-srv02")
        dev.update(change.pop("device", {}))
        dev["primary_ip4"] = dict(dev["primary_ip4"], **change)

    region.edit(LEIEDAL_DEVICES, edit)


def _helpdesk_url(url: str) -> Callable[[Region], None]:
    return lambda r: r.edit(SERVICES, lambda d: find(d["services"], slug="helpdesk").update(url=url))


def _first_circuit(region: Region, change: Callable[[dict[str, Any]], None]) -> None:
    region.edit(
        CORE, lambda d: change(d["circuits"][0])
    )  # ZWVL-FO-0057: lei-rdc-rtr01 eth0 - kor-th-rtr01 eth6


def _copy_device_type(region: Region) -> None:
    src = region.root / "inventory/device-types/Juniper/EX2300-24T.yaml"
    text = src.read_text().replace("slug: juniper-ex2300-24t", "slug: juniper-ex2300-24t-copy")
    region.write("inventory/device-types/Juniper/EX2300-24T-copy.yaml", text)


def _second_region(region: Region) -> None:
    region.write("inventory/extra/region.yaml", (region.root / "inventory/region.yaml").read_text())


# (id, edit, file the problem is reported in, text of the problem after "file:line:col: ")
CASES: list[tuple[str, Callable[[Region], None], str, str]] = [
    (
        "section-not-a-list",
        lambda r: r.write("inventory/extra/a.yaml", "vlans:\n  partner: menen\n"),
        "inventory/extra/a.yaml",
        "section 'vlans' must be a list",
    ),
    (
        "section-not-a-mapping",
        lambda r: r.write("inventory/extra/a.yaml", "helpdesk:\n  - timezone\n"),
        "inventory/extra/a.yaml",
        "section 'helpdesk' must be a mapping",
    ),
    (
        "single-section-missing",
        lambda r: (r.root / "inventory/region.yaml").unlink(),
        "inventory",
        "no 'region' section found in any file",
    ),
    (  # files load in path order: extra/ comes before region.yaml
        "single-section-twice",
        _second_region,
        "inventory/region.yaml",
        "'region' is defined more than once (first at inventory/extra/region.yaml:",
    ),
    (
        "duplicate-partner-code",
        lambda r: r.edit(MENEN_PARTNER, lambda d: d["partner"].update(code="kor")),
        MENEN_PARTNER,
        "partner 'menen': duplicate partner code 'kor' (first defined at inventory/partners/kortrijk/",
    ),
    (
        "duplicate-device-type-model",
        _copy_device_type,
        "inventory/device-types/Juniper/EX2300-24T.yaml",  # the copy sorts first
        "duplicate device type model 'Juniper/EX2300-24T' (first defined at "
        "inventory/device-types/Juniper/EX2300-24T-copy.yaml:",
    ),
    (
        "duplicate-contact-role",
        lambda r: r.edit(MENEN_PARTNER, lambda d: d["contacts"].append(dict(d["contacts"][0], name="Other"))),
        MENEN_PARTNER,
        "duplicate contact role 'menen/it-coordinator'",
    ),
    (
        "duplicate-vlan-id",
        lambda r: r.edit(
            MENEN_NETWORK, lambda d: d["vlans"].append({"partner": "menen", "vid": 10, "name": "x"})
        ),
        MENEN_NETWORK,
        "duplicate VLAN id 'menen/10'",
    ),
    (
        "duplicate-vlan-name",
        lambda r: r.edit(
            MENEN_NETWORK, lambda d: d["vlans"].append({"partner": "menen", "vid": 11, "name": "admin"})
        ),
        MENEN_NETWORK,
        "duplicate VLAN name 'menen/admin'",
    ),
    (
        "unknown-headcount-role",
        lambda r: r.edit(MENEN_PARTNER, lambda d: d["partner"]["helpdesk"]["headcount"].update(helpdsk=1)),
        MENEN_PARTNER,
        "partner 'menen': unknown helpdesk role 'helpdsk' (did you mean 'helpdesk'?)",
    ),
    (
        "unknown-group-role",
        lambda r: r.edit(POOL, lambda d: d["helpdesk"]["groups"][0].update(role="helpdesks")),
        POOL,
        "unknown helpdesk role 'helpdesks' (did you mean 'helpdesk'?)",
    ),
    (
        "unknown-default-sla",
        lambda r: r.edit(POOL, lambda d: d["helpdesk"].update(default_sla="P3-norml")),
        POOL,
        "unknown SLA level 'P3-norml' (did you mean 'P3-normal'?)",
    ),
    (
        "unknown-vlan-of-prefix",
        lambda r: r.edit(MENEN_NETWORK, lambda d: d["prefixes"][1].update(vlan=77)),
        MENEN_NETWORK,
        "prefix '10.1.112.0/24': unknown VLAN 77 of partner 'menen'",
    ),
    (
        "circuit-same-address",
        lambda r: _first_circuit(r, lambda c: c["z"].update(address=c["a"]["address"])),
        CORE,
        "circuit 'ZWVL-FO-0057': both ends have the same address",
    ),
    (
        "circuit-device-at-other-site",
        lambda r: _first_circuit(r, lambda c: c["z"].update(device="kor-lib-rtr01")),
        CORE,
        "device 'kor-lib-rtr01' is at site 'kortrijk-library', not 'kortrijk-town-hall'",
    ),
    (
        "circuit-no-such-interface",
        lambda r: _first_circuit(r, lambda c: c["z"].update(interface="eth66")),
        CORE,
        "device 'kor-th-rtr01' (zwvl-whitebox-core-16) has no interface 'eth66' (did you mean",
    ),
    (
        "circuit-interface-reused",
        lambda r: r.edit(CORE, lambda d: d["circuits"][1]["a"].update(interface="eth6")),
        CORE,
        "kor-th-rtr01 eth6 is already used by circuit ZWVL-FO-0057",
    ),
    (
        "circuit-prefix-outside-pool",
        lambda r: _first_circuit(
            r,
            lambda c: c.update(
                prefix="100.100.0.0/31",
                a=dict(c["a"], address="100.100.0.0/31"),
                z=dict(c["z"], address="100.100.0.1/31"),
            ),
        ),
        CORE,
        "circuit 'ZWVL-FO-0057': prefix 100.100.0.0/31 is outside the point-to-point pool 100.64.0.0/12",
    ),
    (
        "duplicate-loopback",
        lambda r: r.edit(
            KORTRIJK_DEVICES,
            lambda d: find(d["devices"], name="kor-lib-rtr01").update(loopback="100.126.0.20/32"),
        ),
        KORTRIJK_DEVICES,
        "device 'kor-lib-rtr01': loopback 100.126.0.20 is already used by kor-th-rtr01",
    ),
    (
        "server-interface-unknown",
        lambda r: _server(r, interface="eth9"),
        LEIEDAL_DEVICES,
        "device 'lei-rdc-srv02': dell-poweredge-r650 has no interface 'eth9'",
    ),
    (
        "server-address-in-no-prefix",
        lambda r: _server(r, address="10.9.9.9/24"),
        LEIEDAL_DEVICES,
        "device 'lei-rdc-srv02': 10.9.9.9/24 is in no prefix of partner 'leiedal'",
    ),
    (
        "server-address-twice",
        lambda r: _server(r, address="10.1.230.11/24"),
        LEIEDAL_DEVICES,
        "device 'lei-rdc-srv02': 10.1.230.11 is already used by lei-rdc-srv01",
    ),
    (
        "server-with-a-loopback",
        lambda r: _server(r, device={"loopback": "100.126.0.250/32"}),
        LEIEDAL_DEVICES,
        "device 'lei-rdc-srv02': a device with a loopback has that as its primary address",
    ),
    (
        "service-on-devices-without-ports",
        lambda r: r.edit(SERVICES, lambda d: find(d["services"], slug="helpdesk").pop("ports")),
        SERVICES,
        "service 'helpdesk': a service on devices needs its ports",
    ),
    (
        "service-url-not-https",
        _helpdesk_url("http://helpdesk.zwvl.be/"),
        SERVICES,
        "service 'helpdesk': url: Value error, must start with https:// (the address users reach over TLS), "
        "not 'http'",
    ),
    (
        "service-url-bad-port",
        _helpdesk_url("https://helpdesk.zwvl.be:70000/"),
        SERVICES,
        "service 'helpdesk': url: Value error, port must be a number from 1 to 65535",
    ),
    (
        "service-url-bad-host",
        _helpdesk_url("https://Helpdesk_zwvl/"),
        SERVICES,
        "service 'helpdesk': url: Value error, host 'Helpdesk_zwvl' is not a lower-case DNS name with a dot",
    ),
    (
        "service-url-credentials",
        _helpdesk_url("https://" + "rt:x" + "@helpdesk.zwvl.be/"),  # assembled: no credential in this file
        SERVICES,
        "service 'helpdesk': url: Value error, must not hold a user, password, query or fragment",
    ),
    (
        "pool-outside-supernet",
        lambda r: r.edit(STANDARDS, lambda d: d["standards"]["addressing"].update(supernet="100.64.0.0/11")),
        STANDARDS,
        "100.126.0.0/15 is outside the supernet 100.64.0.0/11",
    ),
    (
        "supernet-outside-the-plan",
        lambda r: r.edit(STANDARDS, lambda d: d["standards"]["addressing"].update(supernet="10.0.0.0/8")),
        STANDARDS,
        "10.0.0.0/8 is outside 100.64.0.0/10 (RFC 6598 shared address space)",
    ),
]


@pytest.mark.parametrize(("edit", "where", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_problem_kind(region: Region, edit: Callable[[Region], None], where: str, message: str) -> None:
    edit(region)
    with pytest.raises(InventoryError) as exc:
        region.load()
    shown = [str(p) for p in exc.value.problems]
    hits = [p for p in shown if p.startswith(f"{where}:") and message in p.split(": ", 1)[1]]
    assert len(hits) == 1, shown
    if where != "inventory":  # a problem about a file points into it
        line = int(hits[0].split(":")[1])
        assert 1 <= line <= len((region.root / where).read_text().splitlines()), hits


def test_inventory_folder_not_found(tmp_path: Path) -> None:
    with pytest.raises(InventoryError) as exc:
        load_inventory(tmp_path / "nowhere")
    assert [p.message for p in exc.value.problems] == ["inventory folder not found"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: !foo bar\n",
            "x.yaml:1:4: cannot read value 'bar': could not determine a constructor for the tag '!foo'",
        ),
        ("a: !!int abc\n", "x.yaml:1:4: cannot read value 'abc' as !!int: invalid literal"),
        (
            "a:\n  b: !!timestamp 2026-13-45\n",
            "x.yaml:2:6: cannot read value '2026-13-45' as !!timestamp: month",
        ),
        ("a: !!bool maybe\n", "x.yaml:1:4: cannot read value 'maybe': not a boolean"),
        (
            "base: &b {x: 1}\nother:\n  <<: *b\n",
            "x.yaml:3:3: merge keys (<<) are not supported in the inventory",
        ),
        ("? [a, b]\n: 1\n", "x.yaml:1:3: a mapping key must be a plain value"),
        ("sites: []\n\x00\n", "x.yaml:1:1: file is binary (contains NUL bytes), expected YAML"),
    ],
    ids=["unknown-tag", "bad-int", "bad-timestamp", "bad-bool", "merge-key", "complex-key", "nul-byte"],
)
def test_yaml_value_problems(text: str, expected: str) -> None:
    with pytest.raises(YamlError) as exc:
        load_text(text, "x.yaml")
    assert str(exc.value).startswith(expected), str(exc.value)


def test_nul_byte_in_a_utf8_file_of_the_inventory(region: Region) -> None:
    region.write("inventory/partners/kortrijk/blob.yaml", b"sites: []\n\x00\n")
    with pytest.raises(InventoryError) as exc:
        region.load()
    assert [str(p) for p in exc.value.problems] == [
        "inventory/partners/kortrijk/blob.yaml:1:1: file is binary (contains NUL bytes), expected YAML"
    ]


def test_a_valid_copy_loads(region: Region) -> None:
    """The cases above start from a valid copy: the failures are the edits', not the fixture's."""
    assert len(region.load().partners) == 15


def test_a_missing_helpdesk_is_one_problem(region: Region) -> None:
    """Without the pool, the partners' headcounts are not each reported as unknown roles."""
    shutil.rmtree(region.root / "inventory" / "helpdesk")
    with pytest.raises(InventoryError) as exc:
        region.load()
    assert [str(p) for p in exc.value.problems] == ["inventory:0:0: no 'helpdesk' section found in any file"]
