"""Every task guide in docs/ is run step by step against a copy of the repository (see guides.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.workflow.guides import DOCS, REPO, Block, Directive, GuideError, GuideRun, checkout, guides, parse

GUIDES = guides()
EXPECTED = {
    "add-building.md",
    "join-helpdesk-pool.md",
    "register-dataset.md",
    "waivers.md",
    "on-call.md",
}


def test_the_guides_the_issue_asks_for_exist() -> None:
    assert {p.name for p in GUIDES} >= EXPECTED


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_guide_runs_offline(guide: Path, tmp_path: Path) -> None:
    """Each offline step does what the guide says; steps that need NetBox are left to the NetBox test."""
    blocks = parse(guide)
    run = GuideRun(checkout(tmp_path))
    run.run(blocks)
    assert run.ran > 0, f"{guide.name} has no command that a test runs"


LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("doc", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_relative_links_resolve(doc: Path) -> None:
    for no, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
        for m in LINK.finditer(line):
            target = m.group("target")
            if re.match(r"^[a-z]+:", target):
                continue
            assert (doc.parent / target).exists(), f"{doc.name}:{no}: broken link {target}"


def test_index_lists_every_guide() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    for guide in GUIDES:
        assert f"({guide.name})" in index, f"docs/README.md does not link {guide.name}"


def test_directives_are_checked(tmp_path: Path) -> None:
    """The harness itself: an unexercised snippet, a wrong exit code and wrong output all fail."""
    bad = tmp_path / "bad.md"
    bad.write_text("Text\n\n```yaml\na: 1\n```\n")
    with pytest.raises(GuideError, match="needs a test directive"):
        parse(bad)
    (tmp_path / "x.yaml").write_text("a: [1]\nb: {c: 1}\n")
    run = GuideRun(tmp_path)
    run.run(
        [
            Block("t.md", 1, "yaml", "a: [2]\nb: {d: 2}\n", Directive(merge="x.yaml")),
            Block("t.md", 2, "sh", "cat x.yaml\n", Directive()),
            Block("t.md", 3, "text", "a:\n- 1\n- 2\nb:\n  c: 1\n  d: 2\n", Directive(output=True)),
        ]
    )
    with pytest.raises(GuideError, match="exited 3, the guide says 0"):
        run.run([Block("t.md", 4, "sh", "exit 3\n", Directive())])
    with pytest.raises(GuideError, match="does not match"):
        run.run(
            [
                Block("t.md", 5, "sh", "echo one\n", Directive()),
                Block("t.md", 6, "text", "two\n", Directive(output=True)),
            ]
        )
    run.run([Block("t.md", 7, "sh", "zwvl plan\n", Directive(netbox=True))])
    assert run.pending_netbox == 1


def test_on_call_guide_lists_every_alert_with_its_runbook() -> None:
    """A new alert or a moved runbook must show up in the on-call guide."""
    guide = (DOCS / "on-call.md").read_text(encoding="utf-8")
    rules_dir = REPO / "monitoring" / "prometheus" / "rules"
    alerts = []
    for path in sorted(rules_dir.glob("*.yml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8")).get("groups", []):
            alerts += [r for r in group.get("rules", []) if "alert" in r]
    assert alerts, f"no alert rules under {rules_dir}"
    for rule in alerts:
        runbook = rule["annotations"]["runbook_url"].split("/blob/main/", 1)[1]
        row = f"| {rule['alert']} | {rule['labels']['severity']} | [{Path(runbook).name}](../{runbook}) |"
        assert row in guide, f"docs/on-call.md lacks the row {row}"
