"""CODEOWNERS is generated from the inventory and must be up to date; ownership stays meaningful."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, Region
from zwvl.codeowners import ARCHITECTS, TEAM, generate

ZWVL = [sys.executable, "-m", "zwvl"]
LOCATION = re.compile(r"^inventory/[^:]+:\d+:\d+: .+", re.M)


def codeowners(region: Region, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ZWVL, "codeowners", *args], cwd=region.root, capture_output=True, text=True, timeout=120
    )


def test_committed_codeowners_is_up_to_date() -> None:
    """Fails when the inventory changed without `zwvl codeowners` being run and committed."""
    expected = generate(REPO / "inventory", REPO).render()
    committed = (REPO / "CODEOWNERS").read_text(encoding="utf-8")
    assert committed == expected, "CODEOWNERS is out of date: run `zwvl codeowners` and commit the result"


def test_each_partner_folder_is_owned_by_its_team_and_the_rest_by_the_architects() -> None:
    result = generate(REPO / "inventory", REPO)
    assert not result.problems
    from zwvl.inventory import load_inventory

    inv = load_inventory(REPO / "inventory")
    for slug, partner in inv.partners.items():
        assert result.owners_of(f"inventory/partners/{slug}/sites.yaml") == (partner.team,)
        assert result.owners_of(f"inventory/partners/{slug}/new-file.yaml") == (partner.team,)
    for shared in (
        "inventory/standards.yaml",
        "inventory/backbone/core.yaml",
        "inventory/platform/datasets.yaml",
        "inventory/helpdesk/pool.yaml",
        "policies/waivers.yaml",
        ".github/workflows/main.yml",
        ".gitlab-ci.yml",
        "CODEOWNERS",
        "zwvl/cli.py",
    ):
        assert result.owners_of(shared) == (ARCHITECTS,), shared
    # a partner's folder pattern must not catch a partner whose slug extends it
    assert result.owners_of("inventory/partners/kortrijk-extra/x.yaml") == (ARCHITECTS,)


def test_file_syntax_for_github_and_gitlab() -> None:
    lines = [
        ln for ln in (REPO / "CODEOWNERS").read_text(encoding="utf-8").splitlines() if ln and ln[0] != "#"
    ]
    assert lines[0] == f"* {ARCHITECTS}", "the catch-all must come first: the last match wins"
    for ln in lines:
        pattern, *owners = ln.split()
        assert owners and all(TEAM.match(o) for o in owners), ln
        assert pattern == "*" or (pattern.startswith("/inventory/partners/") and pattern.endswith("/")), ln
    assert len(lines) == len(set(lines))


def test_check_passes_on_the_repository() -> None:
    proc = subprocess.run(
        [*ZWVL, "codeowners", "--check"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "up to date" in proc.stdout


def test_new_partner_makes_check_fail_until_regenerated(region: Region) -> None:
    shutil.copy2(REPO / "CODEOWNERS", region.root / "CODEOWNERS")
    assert codeowners(region, "--check").returncode == 0
    region.write(
        "inventory/partners/cawzwvl/partner.yaml",
        "partner:\n  slug: cawzwvl\n  name: CAW Zuid-West-Vlaanderen\n  code: caw\n"
        "  type: intermunicipal\n  team: '@zwvl/caw'\n  helpdesk:\n    queue: CAW\n",
    )
    proc = codeowners(region, "--check")
    assert proc.returncode == 1
    assert "+/inventory/partners/cawzwvl/ @zwvl/caw" in proc.stderr
    assert "out of date: run `zwvl codeowners`" in proc.stderr
    assert (region.root / "CODEOWNERS").read_text() == (
        REPO / "CODEOWNERS"
    ).read_text()  # --check writes nothing
    proc = codeowners(region)
    assert proc.returncode == 0 and "written" in proc.stdout
    assert codeowners(region, "--check").returncode == 0
    assert "/inventory/partners/cawzwvl/ @zwvl/caw\n" in (region.root / "CODEOWNERS").read_text()


def test_team_change_and_missing_file(region: Region) -> None:
    assert codeowners(region, "--check").returncode == 1  # no CODEOWNERS in the copy yet
    assert codeowners(region).returncode == 0
    region.edit(
        "inventory/partners/menen/partner.yaml", lambda d: d["partner"].update(team="@zwvl/menen-ict")
    )
    proc = codeowners(region, "--check")
    assert proc.returncode == 1
    assert "-/inventory/partners/menen/ @zwvl/menen\n" in proc.stderr
    assert "+/inventory/partners/menen/ @zwvl/menen-ict\n" in proc.stderr


def test_invalid_team_is_refused_with_its_location(region: Region) -> None:
    region.edit("inventory/partners/menen/partner.yaml", lambda d: d["partner"].update(team="menen"))
    proc = codeowners(region)
    assert proc.returncode == 2
    assert "inventory/partners/menen/partner.yaml:" in proc.stderr
    assert "team 'menen' is not a team like @org/team" in proc.stderr
    assert LOCATION.search(proc.stderr)
    assert not (region.root / "CODEOWNERS").exists()


def test_another_partners_object_in_a_partner_folder_is_refused(region: Region) -> None:
    """Menen's team must not be able to approve a site of Wervik by putting it in Menen's folder."""

    def move(data: dict[str, Any]) -> None:
        data["sites"][0]["partner"] = "wervik"

    region.edit("inventory/partners/menen/sites.yaml", move)
    region.write(
        "inventory/partners/menen/standards-extra.yaml",
        "providers:\n- slug: other-operator\n  name: Another fibre operator\n",
    )
    proc = codeowners(region)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (
        "site 'menen-town-hall': belongs to partner 'wervik' but is defined in the folder of partner 'menen'"
        in (proc.stderr)
    )
    assert "device 'men-th-rtr01': is at a site of partner 'wervik'" in proc.stderr
    assert "provider 'other-operator': is shared (reviewed by the regional architects)" in proc.stderr
    assert all(LOCATION.match(ln) for ln in proc.stderr.splitlines()[:-1]), proc.stderr


def test_partner_folder_must_be_named_by_its_slug(region: Region) -> None:
    (region.inventory / "partners" / "menen").rename(region.inventory / "partners" / "menen-old")
    proc = codeowners(region)
    assert proc.returncode == 2
    assert "partner 'menen': is defined in partners/menen-old/; name that folder menen" in proc.stderr


def test_invalid_inventory_writes_nothing(region: Region) -> None:
    region.edit("inventory/partners/menen/sites.yaml", lambda d: d["sites"][0].update(kind="castle"))
    proc = codeowners(region)
    assert proc.returncode == 2
    assert "problem(s) in the inventory" in proc.stderr
    assert not (region.root / "CODEOWNERS").exists()


@pytest.mark.parametrize("team", ["@zwvl/kortrijk", "@zwvl/sub.group/team_1", "@org/a-b"])
def test_team_pattern_accepts(team: str) -> None:
    assert TEAM.match(team)


@pytest.mark.parametrize(
    "team", ["zwvl/kortrijk", "@kortrijk", "@zwvl/", "@zwvl/kort rijk", "user@example.org"]
)
def test_team_pattern_refuses(team: str) -> None:
    assert not TEAM.match(team)


def test_output_option_writes_elsewhere(region: Region, tmp_path: Path) -> None:
    target = tmp_path / "out" / "CODEOWNERS"
    proc = codeowners(region, "--output", str(target))
    assert proc.returncode == 0, proc.stderr
    assert target.read_text() == generate(region.inventory, region.root).render()
