"""The CI definitions: valid against the published schemas, lint-clean (shellcheck, zizmor), doing what
issue 7 asks, and giving no job that runs a pull request's code a token that can write (issue 15).

The schemas are the ones check-jsonschema bundles (`vendor.github-workflows`, `vendor.gitlab-ci`), so
this runs offline. Shell scripts go through shellcheck, the github-script steps through node.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.workflow.guides import REPO, guides, parse
from tests.workflow.pipelines import (
    GITLAB_CI,
    WORKFLOWS,
    Invocation,
    command_problems,
    github_run,
    github_script_blocks,
    github_scripts,
    github_steps,
    gitlab,
    gitlab_jobs,
    gitlab_run,
    gitlab_scripts,
    invocations,
    workflow,
)

BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{name} is not installed in the tooling venv (requirements.lock)"
    return str(path)


def check_jsonschema(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("check-jsonschema"), *args], capture_output=True, text=True, timeout=300, cwd=REPO
    )


# --- schemas and lint ---------------------------------------------------------------------------


def test_every_workflow_file_is_valid_against_the_published_schema() -> None:
    assert {p.name for p in WORKFLOWS} >= {
        "pull-request.yml",
        "main.yml",
        "nightly-drift.yml",
        "policy-report.yml",
    }
    proc = check_jsonschema("--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_gitlab_ci_is_valid_against_the_published_schema() -> None:
    proc = check_jsonschema(
        "--builtin-schema", "vendor.gitlab-ci", "--data-transform", "gitlab-ci", str(GITLAB_CI)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("schema", "source", "breakage"),
    [
        ("vendor.github-workflows", "main.yml", ("    timeout-minutes: 60\n", "    timeout-minutes: soon\n")),
        ("vendor.github-workflows", "pull-request.yml", ("  pull_request:\n", "  pull_requests:\n")),
        ("vendor.gitlab-ci", ".gitlab-ci.yml", ("  interruptible: false\n", "  interruptible: nope\n")),
        ("vendor.gitlab-ci", ".gitlab-ci.yml", ("  resource_group: netbox\n", "  resource_groups: netbox\n")),
    ],
)
def test_the_schemas_catch_a_broken_file(
    schema: str, source: str, breakage: tuple[str, str], tmp_path: Path
) -> None:
    """The validation is not vacuous: a typo in a key or a wrong type fails."""
    path = GITLAB_CI if source == ".gitlab-ci.yml" else REPO / ".github" / "workflows" / source
    text = path.read_text(encoding="utf-8")
    assert breakage[0] in text
    broken = tmp_path / source
    broken.write_text(text.replace(breakage[0], breakage[1], 1), encoding="utf-8")
    extra = ["--data-transform", "gitlab-ci"] if schema == "vendor.gitlab-ci" else []
    proc = check_jsonschema("--builtin-schema", schema, *extra, str(broken))
    assert proc.returncode == 1, proc.stdout + proc.stderr


def test_yamllint_passes_on_every_yaml_file_of_the_repository() -> None:
    proc = subprocess.run(
        [tool("yamllint"), "--strict", "-f", "parsable", "."],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _shellcheck(scripts: list[tuple[str, str]], tmp_path: Path) -> list[str]:
    problems = []
    for i, (where, text) in enumerate(scripts):
        path = tmp_path / f"script{i}.sh"
        body = re.sub(r"\$\{\{.*?\}\}", "GITHUB_EXPRESSION", text, flags=re.S)
        path.write_text(f"#!/bin/bash\nset -eo pipefail\n{body}\n", encoding="utf-8")
        proc = subprocess.run(
            [tool("shellcheck"), "-s", "bash", "-S", "style", "-f", "gcc", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if proc.returncode != 0:
            problems.append(f"{where}:\n{proc.stdout}")
    return problems


def test_shellcheck_github_run_steps(tmp_path: Path) -> None:
    scripts = [(s.where, s.text) for s in github_scripts()]
    assert len(scripts) > 15
    assert not _shellcheck(scripts, tmp_path), "\n".join(_shellcheck(scripts, tmp_path))


def test_shellcheck_gitlab_scripts(tmp_path: Path) -> None:
    scripts = [(s.where, s.text) for s in gitlab_scripts()]
    assert len(scripts) > 8
    problems = _shellcheck(scripts, tmp_path)
    assert not problems, "\n".join(problems)


def test_no_expression_is_interpolated_into_a_shell_script() -> None:
    """Values reach scripts through env (script injection hardening), never as `${{ }}` in `run`."""
    for script in github_scripts():
        assert "${{" not in script.text, script.where


SHA_PIN = re.compile(r"(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40})")


def _uses_lines() -> list[tuple[str, int, str]]:
    """(file, line number, line) of every `uses:` in the workflows, as written."""
    found = []
    for path in WORKFLOWS:
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(r"^\s*(- )?uses:", line):
                found.append((path.name, no, line))
    return found


def test_every_action_is_pinned_to_a_commit_sha_with_its_version() -> None:
    """`uses: owner/repo@<40 hex> # vX.Y.Z`: a tag can be moved, a commit cannot. One SHA per action."""
    shas: dict[str, set[tuple[str, str]]] = {}
    for name, no, line in _uses_lines():
        ref = line.split("uses:", 1)[1].strip()
        if ref.startswith(("$/", "./")):
            assert ref.startswith("$/"), f"{name}:{no}: a local workflow is named as $/... ({ref})"
            continue
        m = re.fullmatch(SHA_PIN.pattern + r" # (?P<version>v\d+\.\d+\.\d+)", ref)
        assert m, f"{name}:{no}: {ref} is not pinned as owner/repo@<40-hex commit> # vX.Y.Z"
        shas.setdefault(m["action"].split("/")[0] + "/" + m["action"].split("/")[1], set()).add(
            (m["sha"], m["version"])
        )
    assert len(shas) >= 8
    for action, pins in shas.items():
        assert len(pins) == 1, f"{action} is pinned to different commits: {sorted(pins)}"


def test_every_checkout_drops_its_credentials() -> None:
    checkouts = 0
    for path in WORKFLOWS:
        for job_id, job in workflow(path.name)["jobs"].items():
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("actions/checkout@"):
                    checkouts += 1
                    assert step.get("with", {}).get("persist-credentials") is False, f"{path.name}: {job_id}"
    assert checkouts >= 10


def zizmor(*inputs: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", *inputs],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_zizmor_reports_nothing_on_the_workflows() -> None:
    proc = zizmor(".github/workflows/")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("source", "breakage", "audit"),
    [
        (
            "main.yml",
            ("actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2", "actions/checkout@v4"),
            "unpinned-uses",
        ),
        (
            "nightly-drift.yml",
            ("        with:\n          persist-credentials: false\n", ""),
            "artipacked",
        ),
        (
            "pull-request.yml",
            (
                "        run: zizmor --offline .github/workflows/\n",
                '        run: echo "${{ github.head_ref }}"\n',
            ),
            "template-injection",
        ),
    ],
)
def test_zizmor_catches_a_weakened_workflow(
    source: str, breakage: tuple[str, str], audit: str, tmp_path: Path
) -> None:
    """The lint is not vacuous: an unpinned action, a checkout keeping its token, an injection fail."""
    text = (REPO / ".github" / "workflows" / source).read_text(encoding="utf-8")
    assert breakage[0] in text
    broken = tmp_path / ".github" / "workflows" / source
    broken.parent.mkdir(parents=True)
    broken.write_text(text.replace(breakage[0], breakage[1], 1), encoding="utf-8")
    proc = zizmor(str(broken))
    assert proc.returncode != 0 and f"[{audit}]" in proc.stdout, proc.stdout + proc.stderr


# --- secrets ------------------------------------------------------------------------------------

GITHUB_SECRETS = {
    "NETBOX_URL",
    "NETBOX_READ_TOKEN",
    "NETBOX_WRITE_TOKEN",
    "NETBOX_BRANCH_TOKEN",
    "PULUMI_BACKEND_URL",
    "PULUMI_CONFIG_PASSPHRASE",
    "ZWVL_PG_ADMIN_PASSWORD",
    "ZWVL_RT_PASSWORD",
    "ZWVL_RT_TOKEN",
    "ZWVL_RT_EXPORTER_TOKEN",
    "ZWVL_RT_RELAY_TOKEN",
}


def test_tokens_come_only_from_ci_secrets() -> None:
    for path in WORKFLOWS:
        text = path.read_text(encoding="utf-8")
        used = set(re.findall(r"secrets\.([A-Z_]+)", text))
        # policy-report.yml is called: NETBOX_TOKEN is its own secret input (callers pass the read token)
        allowed = GITHUB_SECRETS | ({"NETBOX_TOKEN"} if path.name == "policy-report.yml" else set())
        assert used <= allowed, f"{path.name}: {used - allowed}"
        for m in re.finditer(
            r"^[ \t]*(NETBOX_TOKEN|NETBOX_URL|NETBOX_API|PULUMI_CONFIG_PASSPHRASE"
            r"|ZWVL_\w*(?:PASSWORD|TOKEN)):"
            r"[ \t]*(\S.*)$",
            text,
            re.M,
        ):
            assert re.fullmatch(r"\$\{\{ secrets\.[A-Z_]+ \}\}", m.group(2)), f"{path.name}: {m.group(0)}"
    data = gitlab()
    for name, job in [("variables", {"variables": data.get("variables", {})}), *gitlab_jobs().items()]:
        for key, value in (job.get("variables") or {}).items():
            if any(w in key for w in ("TOKEN", "PASSPHRASE", "PASSWORD")) or key == "NETBOX_URL":
                pytest.fail(f".gitlab-ci.yml: {name} defines {key}: secrets are masked CI/CD variables")
            if key == "NETBOX_API":
                assert value == "$NETBOX_URL"


def test_the_policy_check_finds_no_secret_in_the_ci_files() -> None:
    from zwvl.policy.secrets import Scanner

    with Scanner() as scanner:
        for path in [
            *WORKFLOWS,
            GITLAB_CI,
            REPO / ".gitlab" / "ci" / "gitlab_api.py",
            *sorted((REPO / "docs").glob("*.md")),
        ]:
            rel = str(path.relative_to(REPO))
            hits = scanner.scan_text(rel, path.read_text(encoding="utf-8"))
            assert not hits, [f"{h.file}:{h.line}: looks like a {h.kind}" for h in hits]


# --- which job gets which token (issue 15) --------------------------------------------------------

# secrets that can change something: NetBox, the servers
WRITE_SECRETS = (
    "NETBOX_WRITE_TOKEN",
    "NETBOX_BRANCH_TOKEN",
    "ZWVL_PG_ADMIN_PASSWORD",
    "ZWVL_RT_PASSWORD",
    "ZWVL_RT_TOKEN",
    "ZWVL_RT_RELAY_TOKEN",
)
# only for the platform's jobs (the exporter's RT token is read-only, but still the platform's)
PLATFORM_SECRETS = (
    "ZWVL_PG_ADMIN_PASSWORD",
    "ZWVL_RT_PASSWORD",
    "ZWVL_RT_TOKEN",
    "ZWVL_RT_RELAY_TOKEN",
    "ZWVL_RT_EXPORTER_TOKEN",
)
PR_EVENTS = {"pull_request", "pull_request_target", "workflow_run", "issue_comment", "merge_group"}


def _job_text(job: dict[str, Any]) -> str:
    return yaml.safe_dump(job, sort_keys=True)


def _called(job: dict[str, Any]) -> dict[str, Any] | None:
    uses = str(job.get("uses", ""))
    return workflow(uses.rsplit("/", 1)[1]) if uses.startswith("$/.github/workflows/") else None


def test_no_pull_request_job_can_get_a_write_token() -> None:
    """A pull request runs its own workflow file: the write secrets must not even be named there, and
    none of its jobs deploys to an environment (the only way to reach them)."""
    pr_workflows = [p.name for p in WORKFLOWS if PR_EVENTS & set(workflow(p.name)["on"])]
    assert pr_workflows == ["pull-request.yml"]
    assert set(workflow("pull-request.yml")["on"]) == {"pull_request"}  # never pull_request_target
    for name in pr_workflows:
        for job_id, job in workflow(name)["jobs"].items():
            text = _job_text(job)
            for secret in WRITE_SECRETS:
                assert secret not in text, f"{name}: {job_id} names {secret}"
            assert "environment" not in job, f"{name}: {job_id} deploys to an environment"
            assert job.get("secrets") != "inherit", f"{name}: {job_id}"
            called = _called(job)
            if called is not None:
                for secret in WRITE_SECRETS:
                    assert secret not in _job_text(called), f"{job['uses']} names {secret}"
            for step in job.get("steps", []):
                token = step.get("env", {}).get("NETBOX_TOKEN")
                if token is not None:
                    assert token == "${{ secrets.NETBOX_READ_TOKEN }}", f"{name}: {job_id}: {token}"


def test_only_the_apply_job_gets_the_netbox_write_token_through_its_environment() -> None:
    holders = {
        (p.name, job_id): job
        for p in WORKFLOWS
        for job_id, job in workflow(p.name)["jobs"].items()
        if "NETBOX_WRITE_TOKEN" in _job_text(job)
    }
    assert list(holders) == [("main.yml", "apply")]
    assert workflow("main.yml")["on"] == {"push": {"branches": ["main"]}}
    job = holders[("main.yml", "apply")]
    assert job["environment"] == "netbox-production"
    (step,) = [s for s in job["steps"] if "NETBOX_WRITE_TOKEN" in _job_text(s)]
    assert step["env"]["NETBOX_TOKEN"] == "${{ secrets.NETBOX_WRITE_TOKEN }}"
    assert "zwvl apply plan/plan.json" in step["run"] and 'if [ -z "$NETBOX_TOKEN" ]' in step["run"]
    # everything else reads with the read-only token, even right after the apply
    drift = next(s for s in job["steps"] if "zwvl drift" in s.get("run", ""))
    assert drift["env"]["NETBOX_TOKEN"] == "${{ secrets.NETBOX_READ_TOKEN }}"
    # the servers' passwords: only jobs of main that deploy to the platform environment
    for p in WORKFLOWS:
        for job_id, job in workflow(p.name)["jobs"].items():
            if any(s in _job_text(job) for s in PLATFORM_SECRETS):
                assert (p.name, job.get("environment")) == ("main.yml", "platform-production"), job_id


def test_pull_request_jobs_that_run_its_code_cannot_write() -> None:
    wf = workflow("pull-request.yml")
    writes = {}
    for job_id, job in wf["jobs"].items():
        perms = job.get("permissions", wf["permissions"])
        granted = {k for k, v in perms.items() if v == "write"}
        if granted:
            writes[job_id] = granted
    # check: the test report and code scanning; plan-comment: the comment. Nothing else writes.
    assert writes == {"check": {"checks", "security-events"}, "plan-comment": {"pull-requests"}}
    assert wf["jobs"]["plan"]["permissions"] == {"contents": "read"}
    comment = wf["jobs"]["plan-comment"]
    assert comment["needs"] == "plan"
    uses = [str(s.get("uses", "")).split("@")[0] for s in comment["steps"]]
    assert uses == ["actions/download-artifact", "actions/github-script"]
    assert not any("run" in s for s in comment["steps"]), "the comment job runs no shell, no checkout"
    assert "require(" not in comment["steps"][1]["with"]["script"].replace("require('fs')", "")


def _mr_jobs() -> dict[str, dict[str, Any]]:
    return {
        name: job
        for name, job in gitlab_jobs().items()
        if any("merge_request_event" in str(r.get("if", "")) for r in job.get("rules", []))
    }


def test_gitlab_merge_request_jobs_get_only_the_read_token() -> None:
    data = gitlab()
    before = "\n".join(data["default"]["before_script"])
    assert 'export NETBOX_TOKEN="${NETBOX_READ_TOKEN:-}"' in before
    mr = _mr_jobs()
    assert {"lint", "test", "policy-check", "netbox-plan", "pulumi-preview", "policy-report"} <= set(mr)
    for name in mr:
        script = gitlab_run(name)
        for word in ("NETBOX_WRITE_TOKEN", "GITLAB_API_TOKEN", "gitlab_api.py", *WRITE_SECRETS):
            assert word not in script, f"{name} runs with {word}"
    # the write token: netbox-apply only, on a push to the default branch
    users = [n for n in gitlab_jobs() if "NETBOX_WRITE_TOKEN" in gitlab_run(n)]
    assert users == ["netbox-apply"]
    apply = gitlab_jobs()["netbox-apply"]
    assert [r["if"] for r in apply["rules"]] == [
        '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH'
    ]
    run = gitlab_run("netbox-apply")
    assert 'NETBOX_TOKEN="$NETBOX_WRITE_TOKEN" zwvl apply plan/plan.json' in run
    assert run.index('if [ -z "${NETBOX_WRITE_TOKEN:-}" ]') < run.index("zwvl apply")
    # the GitLab API token: only jobs of default-branch pipelines (push or schedule)
    api_users = sorted(n for n in gitlab_jobs() if "gitlab_api.py" in gitlab_run(n))
    assert api_users == ["netbox-apply", "netbox-branches", "nightly-drift", "plan-notes"]
    for name in api_users:
        for rule in gitlab_jobs()[name]["rules"]:
            assert "merge_request_event" not in rule["if"]
            assert '"push"' in rule["if"] or '"schedule"' in rule["if"], (name, rule)
    notes = gitlab_jobs()["plan-notes"]
    (rule,) = notes["rules"]
    for needle in ('"schedule"', '$ZWVL_SCHEDULE == "plan-notes"', "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"):
        assert needle in rule["if"]
    assert notes["before_script"] == [], "plan-notes installs nothing: the standard library only"
    header = GITLAB_CI.read_text(encoding="utf-8").split("\nworkflow:", 1)[0]
    for var in ("NETBOX_WRITE_TOKEN", "GITLAB_API_TOKEN"):
        assert re.search(rf"#\s+{var}\s+masked and PROTECTED", header), var
    assert re.search(r"#\s+NETBOX_READ_TOKEN\s+masked, NOT protected", header)


@pytest.mark.parametrize(
    ("env", "rc"),
    [
        ({"CI_PIPELINE_SOURCE": "merge_request_event"}, 0),
        ({"CI_PIPELINE_SOURCE": "merge_request_event", "NETBOX_WRITE_TOKEN": "x"}, 1),
        ({"CI_PIPELINE_SOURCE": "merge_request_event", "GITLAB_API_TOKEN": "x"}, 1),
        ({"CI_PIPELINE_SOURCE": "push", "NETBOX_WRITE_TOKEN": "x", "GITLAB_API_TOKEN": "x"}, 0),
    ],
)
def test_gitlab_stops_when_a_write_token_reaches_a_merge_request(env: dict[str, str], rc: int) -> None:
    """A misconfigured (unprotected) variable is caught: the default before_script's tripwire."""
    (tripwire,) = [s for s in gitlab()["default"]["before_script"] if "printenv" in s]
    proc = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", tripwire],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == rc, proc.stdout + proc.stderr
    if rc:
        assert "reached a merge request pipeline: make it a protected CI/CD variable" in proc.stdout


def test_the_readme_says_how_to_make_the_read_only_token() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Pipelines and tokens", 1)[1].split("\n## ", 1)[0]
    for needle in (
        "write_enabled=False",
        '"Write enabled"',
        "netbox-production",
        "platform-production",
        "NETBOX_READ_TOKEN",
        "NETBOX_WRITE_TOKEN",
        "protected",
        "plan-notes",
        "zizmor --offline .github/workflows/",
    ):
        assert needle in section, needle


# --- what the pipelines do ----------------------------------------------------------------------


def test_pull_request_pipeline() -> None:
    wf = workflow("pull-request.yml")
    assert set(wf["on"]) == {"pull_request"}
    assert wf["permissions"] == {"contents": "read"}
    lint = github_run("pull-request.yml", "lint")
    for needle in (
        "ruff check .",
        "ruff format --check .",
        "mypy",
        "yamllint --strict .",
        "ansible-lint --offline --profile production",
        "check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml",
        "check-jsonschema --builtin-schema vendor.gitlab-ci",
        "zizmor --offline .github/workflows/",
        "zwvl codeowners --check",
    ):
        assert needle in lint, needle
        assert needle.split(" .github")[0] in gitlab_run("lint"), needle
    # ansible-lint runs where ansible/.ansible-lint and ansible.cfg apply
    lint_step = next(
        s for s in github_steps("pull-request.yml", "lint") if "ansible-lint" in s.get("run", "")
    )
    assert lint_step["working-directory"] == "ansible"
    assert "cd ansible && ansible-lint --offline --profile production" in gitlab_run("lint")
    check = github_run("pull-request.yml", "check")
    assert "zwvl validate" in check
    assert "--format junit" in check and "--format sarif" in check
    uses = {s.get("uses", "").split("@")[0] for s in github_steps("pull-request.yml", "check")}
    assert {"github/codeql-action/upload-sarif", "dorny/test-reporter"} <= uses
    assert wf["jobs"]["check"]["permissions"]["security-events"] == "write"
    plan = github_run("pull-request.yml", "plan")
    assert "zwvl plan --format markdown --out plan/plan.json" in plan
    assert "git rev-parse HEAD:inventory > plan/inventory-tree" in plan
    upload = next(
        s for s in github_steps("pull-request.yml", "plan") if "upload-artifact" in s.get("uses", "")
    )
    assert upload["with"]["name"] == "netbox-plan"
    assert wf["jobs"]["plan"]["permissions"] == {"contents": "read"}
    assert wf["jobs"]["plan-comment"]["permissions"] == {"pull-requests": "write"}
    preview = github_run("pull-request.yml", "pulumi-preview")
    assert "command -v pulumi" in preview and "pulumi preview" in preview
    assert wf["jobs"]["policy-report"]["uses"] == "$/.github/workflows/policy-report.yml"


def test_merge_to_main_applies_the_reviewed_plan_one_at_a_time() -> None:
    wf = workflow("main.yml")
    assert wf["on"] == {"push": {"branches": ["main"]}}
    assert wf["concurrency"] == {"group": "netbox-apply", "cancel-in-progress": False}
    steps = github_steps("main.yml", "apply")
    download = next(s for s in steps if "download-artifact" in s.get("uses", ""))
    assert download["with"]["name"] == "netbox-plan"
    assert "steps.reviewed.outputs.run-id" in download["with"]["run-id"]
    apply = github_run("main.yml", "apply")
    order = [
        apply.index(s)
        for s in (
            "git rev-parse HEAD:inventory",
            'zwvl netbox branch show "$branch"',
            'zwvl netbox branch merge "$branch"',
            "zwvl apply plan/plan.json",
            "zwvl plan --format markdown",
            "zwvl drift",
        )
    ]
    assert order == sorted(order)
    # the pull request's branch is merged; only without one (exit 3) is the reviewed plan applied
    assert '"$rc" -eq 3 ]; then\n  zwvl apply plan/plan.json' in apply
    # the only plan on main is the check after the merge or apply: read token, no change allowed
    assert apply.count("zwvl plan") == 1 and "--out" not in apply.split("zwvl plan", 1)[1].split("\n")[0]
    check = next(s for s in steps if "zwvl plan" in s.get("run", ""))
    assert check["env"]["NETBOX_TOKEN"] == "${{ secrets.NETBOX_READ_TOKEN }}"
    assert 'if [ "$rc" -eq 2 ]' in check["run"] and 'exit "$rc"' in check["run"]
    jobs = wf["jobs"]
    assert jobs["ansible"]["needs"] == "apply"
    assert jobs["pulumi-up"]["needs"] == "ansible"
    assert "ansible-playbook fibre.yml" in github_run("main.yml", "ansible")
    assert "pulumi up" in github_run("main.yml", "pulumi-up")
    assert jobs["policy-report"]["with"]["netbox"] is True


def test_jobs_install_the_tooling_into_the_venv_pulumi_and_the_playbooks_use() -> None:
    # pulumi/*/Pulumi.yaml name ../../.venv; the platform playbooks default to .venv/bin/python
    for project in sorted((REPO / "pulumi").glob("*/Pulumi.yaml")):
        assert yaml.safe_load(project.read_text())["runtime"]["options"]["virtualenv"] == "../../.venv"
    for path in WORKFLOWS:
        for name, job in workflow(path.name)["jobs"].items():
            run = "\n".join(s.get("run", "") for s in job.get("steps", []))
            if "pip install" in run:
                assert "python -m venv .venv" in run and '.venv/bin" >> "$GITHUB_PATH"' in run, name
    before = "\n".join(gitlab()["default"]["before_script"])
    assert "python -m venv .venv" in before and ".venv/bin:$PATH" in before
    # pulumi up logs in to PostgreSQL with the password the playbook sets, to RT with an auth token
    env = next(s for s in github_steps("main.yml", "pulumi-up") if "pulumi up" in s.get("run", ""))["env"]
    assert {"ZWVL_PG_ADMIN_PASSWORD", "ZWVL_RT_TOKEN", "ZWVL_CA_FILE"} <= set(env)
    assert not {"ZWVL_RT_PASSWORD", "ZWVL_RT_USER"} & set(env)
    apply = next(s for s in github_steps("main.yml", "apply") if "zwvl apply" in s.get("run", ""))
    assert "ZWVL_APPLY_STATE" in apply["env"], "the exporter's last-apply metric needs the state file"


def test_nightly_drift_opens_or_updates_one_issue() -> None:
    wf = workflow("nightly-drift.yml")
    assert wf["on"]["schedule"][0]["cron"]
    assert wf["jobs"]["drift"]["permissions"]["issues"] == "write"
    run = github_run("nightly-drift.yml", "drift")
    assert "zwvl drift --format markdown" in run and "zwvl plan --format markdown" in run
    (script,) = [s for w, s, _env in github_script_blocks() if w == "nightly-drift.yml: drift"]
    assert "<!-- zwvl-drift -->" in script and "netbox-drift" in script


def test_policy_report_is_named_by_date_and_commit() -> None:
    wf = workflow("policy-report.yml")
    assert "workflow_call" in wf["on"]
    run = github_run("policy-report.yml", "report")
    assert "name=policy-report-$(date -u +%F)-${COMMIT}" in run
    assert "for fmt in html json" in run
    upload = next(
        s for s in github_steps("policy-report.yml", "report") if "upload-artifact" in s.get("uses", "")
    )
    assert upload["with"]["name"] == "${{ steps.name.outputs.name }}"
    for caller in ("pull-request.yml", "main.yml", "nightly-drift.yml"):
        assert workflow(caller)["jobs"]["policy-report"]["uses"] == "$/.github/workflows/policy-report.yml"
    job = gitlab_jobs()["policy-report-main"]
    assert (
        "$CI_COMMIT_SHA" in job["artifacts"]["name"] and "$CI_PIPELINE_CREATED_AT" in job["artifacts"]["name"]
    )
    assert 'name="policy-report-$(date -u +%F)-$CI_COMMIT_SHA"' in gitlab_run("policy-report-main")


def test_gitlab_pipeline_mirrors_github() -> None:
    jobs = gitlab_jobs()
    assert {
        "lint",
        "policy-check",
        "netbox-plan",
        "pulumi-preview",
        "netbox-apply",
        "ansible",
        "pulumi-up",
        "nightly-drift",
        "plan-notes",
        "policy-report",
        "policy-report-main",
    } <= set(jobs)
    assert jobs["netbox-apply"]["resource_group"] == "netbox"
    assert jobs["nightly-drift"]["resource_group"] == "netbox"
    assert jobs["netbox-apply"]["interruptible"] is False
    assert jobs["policy-check"]["artifacts"]["reports"]["junit"] == "reports/zwvl-check.xml"
    apply = gitlab_run("netbox-apply")
    order = [
        apply.index(s)
        for s in (
            "reviewed-plan plan",
            "git rev-parse HEAD:inventory",
            "zwvl apply plan/plan.json",
            "zwvl drift",
        )
    ]
    assert order == sorted(order)
    assert "gitlab_api.py plan-notes" in gitlab_run("plan-notes")
    assert "gitlab_api.py" not in gitlab_run("netbox-plan")
    assert jobs["netbox-plan"]["artifacts"]["expose_as"] == "NetBox plan"
    assert "gitlab_api.py drift-issue" in gitlab_run("nightly-drift")
    assert jobs["pulumi-up"]["needs"] == ["ansible"] and jobs["ansible"]["needs"] == ["netbox-apply"]
    # the same zwvl commands on both platforms
    gh = {(i.command, i.options) for s in github_scripts() for i in invocations(s.where, s.text)}
    gl = {(i.command, i.options) for s in gitlab_scripts() for i in invocations(s.where, s.text)}
    assert gh == gl, f"only on GitHub: {gh - gl}; only on GitLab: {gl - gh}"
    assert playbook_runs(gitlab_run("ansible")) == playbook_runs(github_run("main.yml", "ansible"))


def _all_invocations() -> list[Invocation]:
    found = [i for s in [*github_scripts(), *gitlab_scripts()] for i in invocations(s.where, s.text)]
    for guide in guides():
        for block in parse(guide):
            if block.kind == "run":
                found.extend(invocations(block.where, block.text))
    return found


def test_every_zwvl_command_in_ci_and_the_guides_exists() -> None:
    found = _all_invocations()
    assert {i.command[0] for i in found} >= {"validate", "check", "codeowners", "plan", "apply", "drift"}
    problems = [p for i in found for p in command_problems(i)]
    assert not problems, "\n".join(problems)


def test_invocation_parser() -> None:
    (inv,) = invocations("x", 'rc=0; zwvl check "$LIVE" --format=junit --output "r/$N.xml" || rc=$?')
    assert inv.command == ("check",) and inv.options == ("--format", "--output")
    (inv,) = invocations("x", ".venv/bin/zwvl netbox up --port 8001 | tee log")
    assert inv.command == ("netbox", "up") and inv.options == ("--port",)
    assert command_problems(Invocation("x", ("check",), ("--nope",))) == [
        "x: zwvl check --nope: no option --nope"
    ]
    assert command_problems(Invocation("x", ("frobnicate",), ())) == ["x: zwvl frobnicate: no such command"]


# --- github-script steps, run under node with a mocked GitHub API ---------------------------------

NODE_HARNESS = r"""
const fs = require('fs');
const [scriptFile, scenarioFile] = process.argv.slice(2);
const scenario = JSON.parse(fs.readFileSync(scenarioFile, 'utf8'));
const calls = [];
const outputs = {};
let failed = null;
const call = (name) => async (params) => {
  calls.push({ name, params });
  const byState = params && params.state ? scenario.responses[`${name}:${params.state}`] : undefined;
  const r = byState !== undefined ? byState : scenario.responses[name];
  return { data: r === undefined ? { id: 4242, number: 77 } : r };
};
const github = {
  paginate: async (fn, params) => (await fn(params)).data,
  rest: {
    issues: {
      listComments: call('issues.listComments'), updateComment: call('issues.updateComment'),
      createComment: call('issues.createComment'), listForRepo: call('issues.listForRepo'),
      update: call('issues.update'), create: call('issues.create'),
    },
    repos: { listPullRequestsAssociatedWithCommit: call('repos.listPullRequestsAssociatedWithCommit') },
    pulls: { list: call('pulls.list') },
    actions: {
      listWorkflowRuns: call('actions.listWorkflowRuns'),
      listWorkflowRunArtifacts: call('actions.listWorkflowRunArtifacts'),
    },
  },
};
const core = {
  info: () => {}, setOutput: (k, v) => { outputs[k] = v; }, setFailed: (m) => { failed = m; },
};
const context = Object.assign({
  repo: { owner: 'zwvl', repo: 'main' }, serverUrl: 'https://github.com', runId: 99,
  sha: 'abcdef0123456789', payload: {},
}, scenario.context);
const body = fs.readFileSync(scriptFile, 'utf8');
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction('github', 'context', 'core', 'require', body)(github, context, core, require)
  .then(() => console.log(JSON.stringify({ calls, outputs, failed })))
  .catch((e) => { console.error(e); process.exit(3); });
"""


def _script(where: str) -> tuple[str, dict[str, str]]:
    (found,) = [(s, env) for w, s, env in github_script_blocks() if w == where]
    return found


def run_github_script(
    where: str, tmp_path: Path, responses: dict[str, Any], context: dict[str, Any], env: dict[str, str]
) -> dict[str, Any]:
    import json

    node = shutil.which("node")
    assert node, "node runs the github-script steps in this test (Debian: nodejs)"
    script, _ = _script(where)
    (tmp_path / "script.js").write_text(script)
    (tmp_path / "scenario.json").write_text(json.dumps({"responses": responses, "context": context}))
    (tmp_path / "harness.js").write_text(NODE_HARNESS)
    proc = subprocess.run(
        [node, str(tmp_path / "harness.js"), str(tmp_path / "script.js"), str(tmp_path / "scenario.json")],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


PR_CONTEXT = {"payload": {"pull_request": {"number": 12, "head": {"sha": "0123456789abcdef"}}}}


def test_plan_comment_is_created_once_then_updated(tmp_path: Path) -> None:
    (tmp_path / "plan.md").write_text(
        "| action | object |\n|---|---|\n| create | site avelgem-sports-centre |\n"
    )
    env = {"PLAN_FILE": "plan.md"}
    human = {"id": 1, "user": {"type": "User"}, "body": "I copied <!-- zwvl-plan --> here"}
    r = run_github_script(
        "pull-request.yml: plan-comment", tmp_path, {"issues.listComments": [human]}, PR_CONTEXT, env
    )
    (create,) = [c for c in r["calls"] if c["name"] == "issues.createComment"]
    assert create["params"]["issue_number"] == 12
    body = create["params"]["body"]
    assert body.startswith("<!-- zwvl-plan -->\n| action | object |")
    assert "Plan of 0123456" in body
    assert "create | site avelgem-sports-centre" in body
    ours = {"id": 7, "user": {"type": "Bot"}, "body": body}
    r = run_github_script(
        "pull-request.yml: plan-comment", tmp_path, {"issues.listComments": [human, ours]}, PR_CONTEXT, env
    )
    names = [c["name"] for c in r["calls"]]
    assert "issues.createComment" not in names
    (update,) = [c for c in r["calls"] if c["name"] == "issues.updateComment"]
    assert update["params"]["comment_id"] == 7


def test_plan_comment_stays_under_githubs_limit(tmp_path: Path) -> None:
    (tmp_path / "plan.md").write_text("x" * 200_000)
    r = run_github_script(
        "pull-request.yml: plan-comment",
        tmp_path,
        {"issues.listComments": []},
        PR_CONTEXT,
        {"PLAN_FILE": "plan.md"},
    )
    (create,) = [c for c in r["calls"] if c["name"] == "issues.createComment"]
    assert len(create["params"]["body"]) < 65536
    assert "cut here" in create["params"]["body"]


def _drift(
    tmp_path: Path, drift_rc: str, open_issues: list[dict[str, Any]], drift: str = "| device | field |\n"
) -> dict[str, Any]:
    (tmp_path / "drift.md").write_text(drift)
    (tmp_path / "plan.md").write_text("No changes.\n")
    return run_github_script(
        "nightly-drift.yml: drift",
        tmp_path,
        {"issues.listForRepo": open_issues},
        {},
        {"DRIFT_RC": drift_rc, "PLAN_RC": "0"},
    )


def test_drift_issue_lifecycle(tmp_path: Path) -> None:
    r = _drift(tmp_path, "2", [])
    (create,) = [c for c in r["calls"] if c["name"] == "issues.create"]
    assert create["params"]["labels"] == ["netbox-drift"]
    body = create["params"]["body"]
    assert body.startswith("<!-- zwvl-drift -->") and "| device | field |" in body
    issue = {"number": 5, "body": body}
    other = {"number": 9, "body": "<!-- zwvl-drift -->", "pull_request": {}}
    # same drift the next night: the body is refreshed, nobody is notified again
    r = _drift(tmp_path, "2", [issue, other])
    names = [c["name"] for c in r["calls"]]
    assert (
        names.count("issues.update") == 1
        and "issues.create" not in names
        and "issues.createComment" not in names
    )
    # different drift: updated and one comment
    r = _drift(tmp_path, "2", [issue], drift="| circuit | status |\n")
    assert [c["params"]["issue_number"] for c in r["calls"] if c["name"] == "issues.createComment"] == [5]
    # no drift: closed
    r = _drift(tmp_path, "0", [issue])
    (close,) = [c for c in r["calls"] if c["name"] == "issues.update"]
    assert close["params"] == {
        "owner": "zwvl",
        "repo": "main",
        "issue_number": 5,
        "state": "closed",
        "state_reason": "completed",
    }
    # no drift, no issue: nothing written
    r = _drift(tmp_path, "0", [])
    assert [c["name"] for c in r["calls"]] == ["issues.listForRepo"]


def test_reviewed_plan_is_found_or_the_apply_stops(tmp_path: Path) -> None:
    pr = {"number": 12, "merged_at": "2026-11-28T10:00:00Z", "base": {"ref": "main"}, "head": {"sha": "feed"}}
    runs = [
        {"id": 1, "run_number": 1, "run_attempt": 1, "html_url": "u1"},
        {"id": 2, "run_number": 2, "run_attempt": 1, "html_url": "u2"},
    ]
    artifacts = {"total_count": 1, "artifacts": [{"name": "netbox-plan", "expired": False}]}
    r = run_github_script(
        "main.yml: apply",
        tmp_path,
        {
            "repos.listPullRequestsAssociatedWithCommit": [pr],
            "actions.listWorkflowRuns": runs,
            "actions.listWorkflowRunArtifacts": artifacts,
        },
        {},
        {},
    )
    assert r["failed"] is None
    assert r["outputs"] == {"run-id": "2", "pr": "12"}  # the newest run
    listed = next(c for c in r["calls"] if c["name"] == "actions.listWorkflowRuns")
    assert listed["params"]["head_sha"] == "feed" and listed["params"]["workflow_id"] == "pull-request.yml"
    r = run_github_script(
        "main.yml: apply", tmp_path, {"repos.listPullRequestsAssociatedWithCommit": []}, {}, {}
    )
    assert "no reviewed plan" in r["failed"] and r["outputs"] == {}
    expired = {"total_count": 1, "artifacts": [{"name": "netbox-plan", "expired": True}]}
    r = run_github_script(
        "main.yml: apply",
        tmp_path,
        {
            "repos.listPullRequestsAssociatedWithCommit": [pr],
            "actions.listWorkflowRuns": runs,
            "actions.listWorkflowRunArtifacts": expired,
        },
        {},
        {},
    )
    assert "has no plan artifact" in r["failed"]


def test_every_github_script_step_has_a_behaviour_test() -> None:
    covered = {
        "pull-request.yml: plan-comment",
        "nightly-drift.yml: drift",
        "main.yml: apply",
        "pr-branches.yml: list",
        "pr-branches.yml: comment",
    }
    assert {w for w, _s, _e in github_script_blocks()} == covered


def _is_playbook(path: Path) -> bool:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return isinstance(data, list) and all(
        isinstance(play, dict) and ("hosts" in play or any(k.endswith("import_playbook") for k in play))
        for play in data
    )


def playbook_runs(script: str) -> list[tuple[str, str]]:
    """(inventory or "", playbook) of every ansible-playbook line, in order."""
    runs = []
    for line in script.splitlines():
        words = line.split()
        if words[:1] == ["ansible-playbook"]:
            inventory = words[words.index("-i") + 1] if "-i" in words else ""
            runs.append((inventory, words[-1]))
    return runs


def test_the_pipelines_run_every_ansible_playbook() -> None:
    """A playbook added under ansible/ must also run after the merge (main.yml and .gitlab-ci.yml)."""
    runs = playbook_runs(github_run("main.yml", "ansible"))
    for inventory, playbook in runs:
        assert (REPO / "ansible" / playbook).is_file(), f"ansible/{playbook} does not exist"
        assert (
            not inventory or (REPO / "ansible" / inventory).is_file()
        ), f"ansible/{inventory} does not exist"
    playbooks = sorted(p.name for p in (REPO / "ansible").glob("*.yml") if _is_playbook(p))
    # a playbook only other playbooks import (service-groups.yml) runs with them
    imported = {
        str(play[k])
        for p in (REPO / "ansible").glob("*.yml")
        if _is_playbook(p)
        for play in yaml.safe_load(p.read_text(encoding="utf-8"))
        for k in play
        if k.endswith("import_playbook")
    }
    missing = sorted(set(playbooks) - imported - {p for _i, p in runs})
    assert not missing, f"run {missing} in the ansible jobs of .github/workflows/main.yml and .gitlab-ci.yml"


# --- NetBox branches of pull requests (issue 14) -------------------------------------------------


def test_pull_request_branches_run_mains_code_and_read_only_the_inventory_of_the_pull_request() -> None:
    wf = workflow("pr-branches.yml")
    assert set(wf["on"]) == {"schedule", "workflow_dispatch"}  # main's code: no pull request event
    assert wf["permissions"] == {"contents": "read"}
    assert wf["concurrency"] == {"group": "netbox-branches", "cancel-in-progress": False}
    jobs = wf["jobs"]
    # the branch token: the apply and delete jobs only, through the environment netbox-branches
    holders = sorted(
        (p.name, job_id)
        for p in WORKFLOWS
        for job_id, job in workflow(p.name)["jobs"].items()
        if "NETBOX_BRANCH_TOKEN" in _job_text(job)
    )
    assert holders == [("pr-branches.yml", "apply"), ("pr-branches.yml", "delete")]
    for job_id in ("apply", "delete"):
        assert jobs[job_id]["environment"] == "netbox-branches"
        assert jobs[job_id]["permissions"] == {"contents": "read"}
        run = github_run("pr-branches.yml", job_id)
        assert run.index('if [ -z "$NETBOX_TOKEN" ]') < run.index("zwvl ")
    checkouts = [s for s in github_steps("pr-branches.yml", "apply") if "checkout" in s.get("uses", "")]
    assert [c["with"].get("path") for c in checkouts] == [None, "pr"]  # main's code, then the PR's data
    assert checkouts[1]["with"]["sparse-checkout"] == "inventory"
    assert checkouts[1]["with"]["ref"] == "${{ matrix.pr.sha }}"
    apply = github_run("pr-branches.yml", "apply")
    assert 'zwvl plan --inventory pr/inventory --branch "$branch" --format markdown > out/plan.md' in apply
    assert 'zwvl apply --inventory pr/inventory --branch "$branch"' in apply
    assert "pr/" not in apply.replace("pr/inventory", ""), "nothing of the pull request but its inventory"
    assert 'zwvl netbox branch delete "$(zwvl netbox branch name "$PR_NUMBER")" --missing-ok' in github_run(
        "pr-branches.yml", "delete"
    )
    comment = jobs["comment"]
    assert comment["permissions"] == {"pull-requests": "write"}
    uses = [str(s.get("uses", "")).split("@")[0] for s in comment["steps"]]
    assert uses == ["actions/download-artifact", "actions/github-script"]
    assert not any("run" in s for s in comment["steps"]), "the comment job runs no shell, no checkout"


def test_branch_list_leaves_out_forks_and_merged_pull_requests(tmp_path: Path) -> None:
    import datetime as dt
    import json

    now = dt.datetime.now(dt.UTC)
    mine = {"full_name": "zwvl/main"}
    responses = {
        "pulls.list:open": [
            {"number": 5, "head": {"sha": "aaa", "repo": mine}},
            {"number": 6, "head": {"sha": "bbb", "repo": {"full_name": "someone/fork"}}},
        ],
        "pulls.list:closed": [
            {"number": 3, "merged_at": None, "closed_at": now.isoformat()},
            {"number": 2, "merged_at": now.isoformat(), "closed_at": now.isoformat()},
            {"number": 1, "merged_at": None, "closed_at": (now - dt.timedelta(days=9)).isoformat()},
        ],
    }
    r = run_github_script("pr-branches.yml: list", tmp_path, responses, {}, {})
    assert json.loads(r["outputs"]["open"]) == [{"number": 5, "sha": "aaa"}]
    assert json.loads(r["outputs"]["closed"]) == [{"number": 3}]


def test_branch_comment_is_created_once_then_updated(tmp_path: Path) -> None:
    (tmp_path / "plan.md").write_text("NetBox branch [pr-12](https://netbox/plugins/branching/branches/4/)")
    (tmp_path / "pr").write_text("12\n")
    (tmp_path / "sha").write_text("0123456789abcdef\n")
    env = {"PLAN_FILE": "plan.md", "PR_FILE": "pr", "SHA_FILE": "sha"}
    plan_comment = {"id": 1, "user": {"type": "Bot"}, "body": "<!-- zwvl-plan -->\nplan"}
    r = run_github_script(
        "pr-branches.yml: comment", tmp_path, {"issues.listComments": [plan_comment]}, {}, env
    )
    (create,) = [c for c in r["calls"] if c["name"] == "issues.createComment"]
    assert create["params"]["issue_number"] == 12
    body = create["params"]["body"]
    assert body.startswith("<!-- zwvl-branch -->\nNetBox branch [pr-12](https://netbox/plugins/branching/")
    assert "0123456 applied into its NetBox branch" in body
    ours = {"id": 8, "user": {"type": "Bot"}, "body": body}
    r = run_github_script(
        "pr-branches.yml: comment", tmp_path, {"issues.listComments": [plan_comment, ours]}, {}, env
    )
    assert "issues.createComment" not in [c["name"] for c in r["calls"]]
    (update,) = [c for c in r["calls"] if c["name"] == "issues.updateComment"]
    assert update["params"]["comment_id"] == 8


def test_gitlab_applies_merge_requests_into_branches_from_the_default_branch_only() -> None:
    jobs = gitlab_jobs()
    users = sorted(n for n in jobs if "NETBOX_BRANCH_TOKEN" in gitlab_run(n))
    assert users == ["netbox-branches"]
    (rule,) = jobs["netbox-branches"]["rules"]
    for needle in ('"schedule"', '$ZWVL_SCHEDULE == "plan-notes"', "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"):
        assert needle in rule["if"]
    run = gitlab_run("netbox-branches")
    assert run.index('if [ -z "${NETBOX_BRANCH_TOKEN:-}" ]') < run.index("zwvl ")
    assert 'git archive "$sha" inventory | tar -x -C "mr/$iid"' in run
    assert 'zwvl apply --inventory "mr/$iid/inventory" --branch "$branch"' in run
    assert "--missing-ok" in run and "merge-requests closed" in run
    notes = jobs["plan-notes"]
    assert notes["needs"] == [{"job": "netbox-branches", "artifacts": True, "optional": True}]
    apply = gitlab_run("netbox-apply")
    order = [
        apply.index(s)
        for s in (
            'zwvl netbox branch merge "$branch"',
            "zwvl apply plan/plan.json",
            "zwvl plan",
            "zwvl drift",
        )
    ]
    assert order == sorted(order)
    header = GITLAB_CI.read_text(encoding="utf-8").split("\nworkflow:", 1)[0]
    assert re.search(r"#\s+NETBOX_BRANCH_TOKEN\s+masked and PROTECTED", header)
    before = "\n".join(gitlab()["default"]["before_script"])
    assert "NETBOX_BRANCH_TOKEN" in before  # the tripwire for merge request pipelines
