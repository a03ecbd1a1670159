#!/usr/bin/env python3
"""The GitLab API calls .gitlab-ci.yml needs, with the standard library only.

    gitlab_api.py plan-notes           post or update the ONE plan note of every open merge request
                                       from its newest successful `netbox-plan` job (as text), with
                                       branches/<iid>.md (its NetBox branch) when netbox-branches left it
    gitlab_api.py merge-requests opened|closed
                                       "iid sha" of every open merge request into the default branch
                                       from this project, or the iid of those closed without merging
                                       in the last two days (their NetBox branches are deleted)
    gitlab_api.py reviewed-plan DEST   download the plan reviewed in the merge request of this commit
    gitlab_api.py drift-issue DRIFT_RC PLAN_RC DRIFT_MD PLAN_MD
                                       open, update or close the ONE drift issue

Environment: CI_API_V4_URL, CI_PROJECT_ID, GITLAB_API_TOKEN (a project access token with the `api`
scope, stored as a masked and PROTECTED CI/CD variable), and per command CI_COMMIT_SHA,
CI_DEFAULT_BRANCH, CI_PIPELINE_URL. Every command runs in a pipeline of the protected default
branch (the apply, the nightly schedule, the plan-notes schedule), never in a merge request's
pipeline: GitLab gives protected variables only to protected refs, and a merge request can change
everything its own pipeline runs. What a merge request's job produced (plan.md) is read here as
text and posted, never run. The GitHub workflows do the same with actions/github-script.
"""

from __future__ import annotations

import io
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

PLAN_MARKER = "<!-- zwvl-plan -->"
DRIFT_MARKER = "<!-- zwvl-drift -->"
DRIFT_LABEL = "netbox-drift"
PLAN_JOB = "netbox-plan"
LIMIT = 200_000  # characters per report in a note or an issue (GitLab allows 1,000,000)


class GitLabError(RuntimeError):
    pass


def env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise GitLabError(f"{name} is not set")
    return value


class GitLab:
    def __init__(self) -> None:
        project = urllib.parse.quote(env("CI_PROJECT_ID"), safe="")
        self.api = env("CI_API_V4_URL").rstrip("/")
        self.base = f"{self.api}/projects/{project}"
        self.token = env("GITLAB_API_TOKEN")

    def request(self, method: str, path: str, data: dict[str, Any] | None = None) -> tuple[bytes, Any]:
        body = json.dumps(data).encode() if data is not None else None
        url = path if path.startswith(self.api) else f"{self.base}{path}"
        req = urllib.request.Request(url, data=body, method=method)
        req.add_header("PRIVATE-TOKEN", self.token)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.read(), resp.headers
        except urllib.error.HTTPError as exc:
            raise GitLabError(f"{method} {path}: HTTP {exc.code} {exc.read()[:300]!r}") from exc
        except (urllib.error.URLError, TimeoutError) as exc:
            raise GitLabError(f"{method} {path}: {exc}") from exc

    def json(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        raw, _headers = self.request(method, path, data)
        return json.loads(raw) if raw else None

    def pages(self, path: str) -> list[Any]:
        """Every item of a paginated list (GitLab's X-Next-Page header)."""
        out: list[Any] = []
        page = "1"
        sep = "&" if "?" in path else "?"
        while page:
            raw, headers = self.request("GET", f"{path}{sep}per_page=100&page={page}")
            out.extend(json.loads(raw))
            page = headers.get("X-Next-Page", "") or ""
        return out


def cut(text: str, url: str) -> str:
    text = text.strip()
    return text if len(text) <= LIMIT else f"{text[:LIMIT]}\n\n… cut here: see [the pipeline]({url})."


def me(gl: GitLab) -> int:
    """The id of the token's own user (a project access token has a bot user)."""
    user = gl.json("GET", f"{gl.api}/user")
    return int(user["id"])


def note(gl: GitLab, iid: int, plan: str, footer: str, author: int, url: str) -> str:
    """Create or update the merge request's one plan note (its marker, written by this token)."""
    body = "\n".join([PLAN_MARKER, cut(plan, url), "", footer])
    notes = gl.pages(f"/merge_requests/{iid}/notes?sort=asc&order_by=created_at")
    mine = next(
        (
            n
            for n in notes
            if PLAN_MARKER in (n.get("body") or "")
            and not n.get("system")
            and (n.get("author") or {}).get("id") == author
        ),
        None,
    )
    if mine is None:
        created = gl.json("POST", f"/merge_requests/{iid}/notes", {"body": body})
        return f"!{iid}: created note {created['id']}"
    if mine.get("body") == body:
        return f"!{iid}: note {mine['id']} is current"
    gl.json("PUT", f"/merge_requests/{iid}/notes/{mine['id']}", {"body": body})
    return f"!{iid}: updated note {mine['id']}"


PIPELINES_LOOKED_AT = 5  # per merge request and run: the newest ones are the ones that matter


def newest_plan(gl: GitLab, iid: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(pipeline, job) of the newest successful `netbox-plan` job of the merge request, if any."""
    pipelines = sorted(gl.pages(f"/merge_requests/{iid}/pipelines"), key=lambda p: -int(p["id"]))
    for pipeline in pipelines[:PIPELINES_LOOKED_AT]:
        jobs = gl.pages(f"/pipelines/{pipeline['id']}/jobs?scope[]=success")
        job = next((j for j in jobs if j.get("name") == PLAN_JOB), None)
        if job is not None:
            return pipeline, job
    return None


def plan_notes(gl: GitLab) -> str:
    """The one plan note of every open merge request into the default branch, from its newest plan.

    Runs on the default branch only (GITLAB_API_TOKEN is protected). The merge request's artifact
    `plan/plan.md` is data: it is cut to size and posted, nothing of it is executed.
    """
    branch = env("CI_DEFAULT_BRANCH")
    author = me(gl)
    query = urllib.parse.urlencode({"state": "opened", "target_branch": branch})
    done = []
    for mr in gl.pages(f"/merge_requests?{query}"):
        iid = int(mr["iid"])
        found = newest_plan(gl, iid)
        if found is None:
            done.append(f"!{iid}: no successful {PLAN_JOB} job yet")
            continue
        pipeline, job = found
        raw, _headers = gl.request("GET", f"/jobs/{job['id']}/artifacts/plan/plan.md")
        sha = str(pipeline.get("sha", ""))
        url = str(job.get("web_url", ""))
        footer = (
            f"<sub>Plan of {sha[:8]} ([job]({url})), updated by the `plan-notes` schedule of "
            f"{branch}. After the merge the apply plans again from {branch} and NetBox and writes "
            "only if that plan equals this one.</sub>"
        )
        head = str(mr.get("sha") or "")
        if head and head != sha:
            footer = f"**The newest commit {head[:8]} has no successful plan yet.**\n\n{footer}"
        text = raw.decode("utf-8", errors="replace")
        branch_md = Path("branches") / f"{iid}.md"  # the netbox-branches job's artifact, as text
        if branch_md.is_file():
            text = branch_md.read_text(encoding="utf-8", errors="replace") + "\n\n" + text
        done.append(note(gl, iid, text, footer, author, url))
    return "\n".join(done) or f"no open merge request into {branch}"


CLOSED_WINDOW = 2 * 24 * 3600  # seconds: the schedule runs every ten minutes


def merge_requests(gl: GitLab, state: str) -> str:
    """Open merge requests ("iid sha" lines) or those closed unmerged lately ("iid" lines)."""
    import datetime as dt

    branch = env("CI_DEFAULT_BRANCH")
    project = int(env("CI_PROJECT_ID")) if env("CI_PROJECT_ID").isdigit() else None
    query = {"state": state, "target_branch": branch}
    if state == "closed":
        since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=CLOSED_WINDOW)
        query["updated_after"] = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = []
    for mr in gl.pages(f"/merge_requests?{urllib.parse.urlencode(query)}"):
        if project is not None and mr.get("source_project_id") != project:
            continue  # a fork's merge request: left out, as its pipeline gets no secrets either
        lines.append(f"{mr['iid']} {mr['sha']}" if state == "opened" else str(mr["iid"]))
    return "\n".join(lines)


def reviewed_plan(gl: GitLab, dest: Path) -> str:
    """Download the newest successful `netbox-plan` artifact of the merged request of CI_COMMIT_SHA."""
    sha = env("CI_COMMIT_SHA")
    branch = env("CI_DEFAULT_BRANCH")
    mrs = gl.json("GET", f"/repository/commits/{sha}/merge_requests")
    merged = [m for m in mrs if m.get("state") == "merged" and m.get("target_branch") == branch]
    if not merged:
        raise GitLabError(f"{sha} did not come through a merged merge request: no reviewed plan to apply")
    mr = merged[0]
    pipelines = sorted(gl.pages(f"/merge_requests/{mr['iid']}/pipelines"), key=lambda p: -int(p["id"]))
    for pipeline in pipelines:
        jobs = gl.pages(f"/pipelines/{pipeline['id']}/jobs?scope[]=success")
        job = next((j for j in jobs if j.get("name") == PLAN_JOB), None)
        if job is None:
            continue
        raw, _headers = gl.request("GET", f"/jobs/{job['id']}/artifacts")
        dest.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            for member in zf.namelist():
                if not member.startswith("plan/") or member.endswith("/"):
                    continue
                target = dest / Path(member).relative_to("plan")
                if ".." in target.relative_to(dest).parts:
                    raise GitLabError(f"refusing artifact member {member!r}")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(member))
        (dest / "merge-request").write_text(f"{mr['iid']}\n", encoding="utf-8")
        return f"merge request !{mr['iid']}: plan of job {job.get('web_url', job['id'])}"
    raise GitLabError(f"merge request !{mr['iid']} has no successful {PLAN_JOB} job: re-run its pipeline")


def drift_issue(gl: GitLab, drift_rc: str, plan_rc: str, drift_md: Path, plan_md: Path) -> str:
    """Open, update or close the one issue labelled netbox-drift (found by its marker)."""
    url = os.environ.get("CI_PIPELINE_URL", "")
    sha = os.environ.get("CI_COMMIT_SHORT_SHA", "")
    drifted = "2" in (drift_rc, plan_rc)
    issues = gl.pages(f"/issues?state=opened&labels={DRIFT_LABEL}")
    existing = min(
        (i for i in issues if DRIFT_MARKER in (i.get("description") or "")),
        key=lambda i: int(i["iid"]),
        default=None,
    )
    if not drifted:
        if existing is None:
            return "no drift, no open issue"
        iid = existing["iid"]
        closing = f"NetBox matches main ({sha}) again: closing. [Pipeline]({url})"
        gl.json("POST", f"/issues/{iid}/notes", {"body": closing})
        gl.json("PUT", f"/issues/{iid}", {"state_event": "close"})
        return f"closed #{iid}"
    findings = "\n".join(
        [
            "## Changed by hand in NetBox (`zwvl drift`)",
            "",
            cut(drift_md.read_text(encoding="utf-8"), url),
            "",
            "## What main would still change (`zwvl plan`)",
            "",
            cut(plan_md.read_text(encoding="utf-8"), url),
        ]
    )
    description = "\n".join(
        [
            DRIFT_MARKER,
            f"NetBox differs from main ({sha}). Either put the change into the inventory through a merge",
            "request, or let the next apply undo it (see docs/on-call.md).",
            "",
            findings,
            "",
            f"<sub>Last checked by [nightly drift]({url}).</sub>",
        ]
    )
    if existing is None:
        issue = {"title": "NetBox differs from main", "description": description, "labels": DRIFT_LABEL}
        created = gl.json("POST", "/issues", issue)
        return f"opened #{created['iid']}"
    iid = existing["iid"]
    changed = findings not in (existing.get("description") or "")
    gl.json("PUT", f"/issues/{iid}", {"description": description})
    if changed:
        gl.json(
            "POST",
            f"/issues/{iid}/notes",
            {"body": f"The drift changed ({sha}); the description shows it now. [Pipeline]({url})"},
        )
    return f"updated #{iid}"


def main(argv: list[str]) -> int:
    try:
        gl = GitLab()
        match argv:
            case ["plan-notes"]:
                print(plan_notes(gl))
            case ["merge-requests", ("opened" | "closed") as state]:
                print(merge_requests(gl, state))
            case ["reviewed-plan", dest]:
                print(reviewed_plan(gl, Path(dest)))
            case ["drift-issue", drift_rc, plan_rc, drift_md, plan_md]:
                print(drift_issue(gl, drift_rc, plan_rc, Path(drift_md), Path(plan_md)))
            case _:
                print(__doc__, file=sys.stderr)
                return 2
    except (GitLabError, OSError) as exc:
        print(f"gitlab_api: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
