"""pre-commit runs the same fast checks as CI's lint job, offline, from the tooling venv."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.workflow.guides import REPO, checkout
from tests.workflow.pipelines import github_run, gitlab_run

CONFIG = REPO / ".pre-commit-config.yaml"
BIN = Path(sys.executable).parent


def hooks() -> list[dict[str, Any]]:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    return [h for repo in config["repos"] for h in repo["hooks"]]


def pre_commit(cwd: Path, *args: str, home: Path, skip: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "NETBOX_"))}
    env.update(PRE_COMMIT_HOME=str(home), SKIP=skip, NO_COLOR="1")
    return subprocess.run(
        [str(BIN / "pre-commit"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_config_is_valid(tmp_path: Path) -> None:
    proc = pre_commit(REPO, "validate-config", str(CONFIG), home=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hooks_are_local_and_use_the_tooling_venv() -> None:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert [r["repo"] for r in config["repos"]] == ["local"], "nothing is downloaded"
    for hook in hooks():
        assert hook["language"] == "system"
        exe = shlex.split(hook["entry"])[0]
        assert exe.startswith(".venv/bin/"), hook["id"]
        assert (REPO / exe).exists() or (BIN / Path(exe).name).exists(), f"{exe} is not installed"


def test_every_hook_is_a_check_ci_runs_too() -> None:
    github = github_run("pull-request.yml", "lint") + github_run("pull-request.yml", "check")
    gitlab = gitlab_run("lint") + gitlab_run("policy-check")
    ids = set()
    for hook in hooks():
        ids.add(hook["id"])
        words = [w for w in shlex.split(hook["entry"]) if w != "--force-exclude"]
        command = " ".join([Path(words[0]).name, *words[1:]])
        assert command in github, f"pre-commit hook {hook['id']} ({command}) is not in the GitHub lint job"
        assert command in gitlab, f"pre-commit hook {hook['id']} ({command}) is not in the GitLab lint job"
    assert {"ruff", "mypy", "yamllint", "zwvl-validate", "zwvl-codeowners", "zizmor"} <= ids


def hook_repo(dest: Path) -> Path:
    """A git copy of the repository with what the hooks read, and `.venv` pointing at this venv."""
    root = checkout(dest)
    extra = [".pre-commit-config.yaml", ".yamllint", ".gitlab-ci.yml"]
    extra += [p.relative_to(REPO).as_posix() for p in sorted((REPO / ".github" / "workflows").glob("*.yml"))]
    for rel in extra:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes((REPO / rel).read_bytes())
    (root / ".venv").symlink_to(BIN.parent)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, capture_output=True, timeout=60)
    return root


def test_hooks_pass_on_the_repository(tmp_path: Path) -> None:
    """ruff and mypy also run in scripts/run-tests; the others run here on every file they watch."""
    root = hook_repo(tmp_path / "repo")
    proc = pre_commit(root, "run", "--all-files", home=tmp_path / "home", skip="ruff,mypy")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in (
        "yamllint",
        "zwvl validate",
        "zwvl codeowners --check",
        "GitHub workflows",
        "zizmor",
        ".gitlab-ci.yml",
    ):
        assert any(line.startswith(name) and line.endswith("Passed") for line in proc.stdout.splitlines()), (
            name,
            proc.stdout,
        )


@pytest.mark.parametrize(
    ("change", "hook"),
    [
        (
            ("inventory/partners/menen/partner.yaml", "team: '@zwvl/menen'", "team: '@zwvl/menen-ict'"),
            "zwvl-codeowners",
        ),
        (("inventory/partners/menen/sites.yaml", "kind: library", "kind: castle"), "zwvl-validate"),
        ((".github/workflows/main.yml", "timeout-minutes: 60", "timeout-minutes: soon"), "github-workflows"),
        (
            (
                ".github/workflows/main.yml",
                "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2",
                "actions/checkout@v4",
            ),
            "zizmor",
        ),
        ((".gitlab-ci.yml", "  interruptible: false", "  interruptible: nope"), "gitlab-ci"),
        (
            ("inventory/region.yaml", "  timezone: Europe/Brussels", "  timezone:  Europe/Brussels  "),
            "yamllint",
        ),
    ],
)
def test_a_bad_commit_is_stopped(change: tuple[str, str, str], hook: str, tmp_path: Path) -> None:
    root = hook_repo(tmp_path / "repo")
    rel, old, new = change
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    proc = pre_commit(root, "run", hook, "--files", rel, home=tmp_path / "home")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Failed" in proc.stdout
