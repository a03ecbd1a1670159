"""Read the CI definitions as data: GitHub workflows, the GitLab pipeline, their shell scripts and
the `zwvl` commands they (and the guides) run."""

from __future__ import annotations

import copy
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import yaml

from tests.workflow.guides import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
GITLAB_CI = REPO / ".gitlab-ci.yml"
GH_EXPR = re.compile(r"\$\{\{.*?\}\}", re.S)


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def workflow(name: str) -> dict[str, Any]:
    raw: dict[Any, Any] = load(REPO / ".github" / "workflows" / name)
    # PyYAML reads the bare key `on` as True (YAML 1.1); GitHub reads it as "on"
    return {("on" if k is True else str(k)): v for k, v in raw.items()}


@dataclass(frozen=True)
class Script:
    """One shell script a CI job runs, with where it comes from."""

    where: str
    text: str


def github_scripts() -> Iterator[Script]:
    for path in WORKFLOWS:
        wf = workflow(path.name)
        for job_id, job in wf.get("jobs", {}).items():
            for i, step in enumerate(job.get("steps", [])):
                if "run" in step:
                    name = step.get("name", f"step {i}")
                    yield Script(f"{path.name}: {job_id}: {name}", step["run"])


def github_steps(name: str, job: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = workflow(name)["jobs"][job]["steps"]
    return steps


def github_run(name: str, job: str) -> str:
    """Every shell line of a job, in order."""
    return "\n".join(s["run"] for s in github_steps(name, job) if "run" in s)


def github_script_blocks() -> Iterator[tuple[str, str, dict[str, str]]]:
    """(where, JavaScript, env) of every actions/github-script step."""
    for path in WORKFLOWS:
        wf = workflow(path.name)
        for job_id, job in wf.get("jobs", {}).items():
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("actions/github-script@"):
                    yield f"{path.name}: {job_id}", step["with"]["script"], step.get("env", {})


def _flatten(items: Any) -> list[str]:
    if isinstance(items, str):
        return [items]
    out: list[str] = []
    for item in items or []:
        out.extend(_flatten(item))
    return out


def _merge(base: Any, extra: Any) -> Any:
    if isinstance(base, dict) and isinstance(extra, dict):
        out = dict(base)
        for k, v in extra.items():
            out[k] = _merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(extra)


def gitlab() -> dict[str, Any]:
    data: dict[str, Any] = load(GITLAB_CI)
    return data


GITLAB_KEYWORDS = {"workflow", "stages", "default", "variables", "include", "image", "services", "cache"}


def gitlab_jobs() -> dict[str, dict[str, Any]]:
    """Every visible job with `extends` resolved (deep merge, as GitLab does)."""
    data = gitlab()

    def resolve(name: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
        if name in seen:
            raise ValueError(f"extends cycle {seen}")
        job = data[name]
        parents = job.get("extends", [])
        merged: dict[str, Any] = {}
        for parent in [parents] if isinstance(parents, str) else parents:
            merged = _merge(merged, resolve(parent, (*seen, name)))
        merged = _merge(merged, {k: v for k, v in job.items() if k != "extends"})
        return merged

    return {
        name: resolve(name)
        for name, job in data.items()
        if not name.startswith(".") and name not in GITLAB_KEYWORDS and isinstance(job, dict)
    }


def gitlab_scripts() -> Iterator[Script]:
    data = gitlab()
    default_before = data.get("default", {}).get("before_script", [])
    for name, job in gitlab_jobs().items():
        lines = _flatten(job.get("before_script", default_before)) + _flatten(job.get("script", []))
        yield Script(f".gitlab-ci.yml: {name}", "\n".join(lines))


def gitlab_run(job: str) -> str:
    return "\n".join(_flatten(gitlab_jobs()[job].get("script", [])))


# --- the zwvl commands a script runs ------------------------------------------------------------

_SPLIT = re.compile(r"\|\||&&|[|;&<>()]|\n")


@dataclass(frozen=True)
class Invocation:
    where: str
    command: tuple[str, ...]  # ("check",) or ("netbox", "up")
    options: tuple[str, ...]  # long and short options as written, without values

    def __str__(self) -> str:
        return f"zwvl {' '.join(self.command)} {' '.join(self.options)}".strip()


def invocations(where: str, script: str) -> Iterator[Invocation]:
    """Every `zwvl ...` command in a shell script (options only; values are not interpreted)."""
    from zwvl.cli import main

    text = GH_EXPR.sub("X", script).replace("\\\n", " ")
    for segment in _SPLIT.split(text):
        try:
            words = shlex.split(segment, comments=True)
        except ValueError:
            words = segment.split()
        for i, word in enumerate(words):
            if word.rsplit("/", 1)[-1] != "zwvl" or i + 1 >= len(words):
                continue
            rest = words[i + 1 :]
            command: list[str] = []
            group: click.Command | None = main
            while rest and isinstance(group, click.Group) and not rest[0].startswith("-"):
                command.append(rest[0])
                group = group.commands.get(rest[0])
                rest = rest[1:]
            options = tuple(w.split("=", 1)[0] for w in rest if w.startswith("-") and w != "-")
            yield Invocation(where, tuple(command), options)
            break


def command_problems(inv: Invocation) -> list[str]:
    """Why an invocation would not run: unknown command or option."""
    from zwvl.cli import main

    cmd: click.Command | None = main
    for name in inv.command:
        if not isinstance(cmd, click.Group) or name not in cmd.commands:
            return [f"{inv.where}: {inv}: no such command"]
        cmd = cmd.commands[name]
    assert cmd is not None
    known = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)} | {"--help", "-h"}
    return [f"{inv.where}: {inv}: no option {o}" for o in inv.options if o not in known]
