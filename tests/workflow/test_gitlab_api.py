"""The GitLab helper of .gitlab-ci.yml against a fake GitLab API on 127.0.0.1."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.workflow.guides import REPO

HELPER = REPO / ".gitlab" / "ci" / "gitlab_api.py"
PROJECT = "/api/v4/projects/zwvl%2Fmain"
BOT = 77  # the user of the project access token


class FakeGitLab:
    """Just enough of GitLab's REST API v4, with 1-item pages to exercise pagination."""

    def __init__(self) -> None:
        self.notes: list[dict[str, Any]] = []
        self.open_mrs: list[dict[str, Any]] = []
        self.files: dict[tuple[int, str], bytes] = {}  # (job id, artifact path): single artifact files
        self.issues: list[dict[str, Any]] = []
        self.commit_mrs: list[dict[str, Any]] = []
        self.mr_pipelines: list[dict[str, Any]] = []
        self.pipeline_jobs: dict[int, list[dict[str, Any]]] = {}
        self.artifacts: dict[int, bytes] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.token_seen: set[str] = set()

    def handle(self, method: str, url: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        parsed = urlparse(url)
        path, query = parsed.path, parse_qs(parsed.query)
        self.requests.append((method, path, body))
        if method == "GET" and path == "/api/v4/user":
            return 200, {"id": BOT, "username": "project_1_bot"}, {}
        if not path.startswith(PROJECT):
            return 404, {"message": "404 Project Not Found"}, {}
        path = path[len(PROJECT) :]
        if method == "GET" and re.fullmatch(r"/merge_requests/\d+/notes", path):
            return self.page(self.notes, query)
        if method == "GET" and path == "/merge_requests":
            assert query["state"] == ["opened"] and query["target_branch"] == ["main"]
            return self.page(self.open_mrs, query)
        if method == "POST" and re.fullmatch(r"/merge_requests/\d+/notes", path):
            note = {"id": 100 + len(self.notes), "body": body["body"], "system": False, "author": {"id": BOT}}
            self.notes.append(note)
            return 201, note, {}
        if m := re.fullmatch(r"/merge_requests/\d+/notes/(\d+)", path):
            note = next(n for n in self.notes if n["id"] == int(m.group(1)))
            note["body"] = body["body"]
            return 200, note, {}
        if method == "GET" and re.fullmatch(r"/repository/commits/\w+/merge_requests", path):
            return 200, self.commit_mrs, {}
        if method == "GET" and re.fullmatch(r"/merge_requests/\d+/pipelines", path):
            return self.page(self.mr_pipelines, query)
        if m := re.fullmatch(r"/pipelines/(\d+)/jobs", path):
            assert query.get("scope[]") == ["success"]
            return self.page(self.pipeline_jobs.get(int(m.group(1)), []), query)
        if m := re.fullmatch(r"/jobs/(\d+)/artifacts/(.+)", path):
            found = self.files.get((int(m.group(1)), m.group(2)))
            return (200, found, {}) if found is not None else (404, {"message": "404 Not found"}, {})
        if m := re.fullmatch(r"/jobs/(\d+)/artifacts", path):
            return 200, self.artifacts[int(m.group(1))], {}
        if method == "GET" and path == "/issues":
            assert query["labels"] == ["netbox-drift"] and query["state"] == ["opened"]
            return self.page([i for i in self.issues if i["state"] == "opened"], query)
        if method == "POST" and path == "/issues":
            issue = {"iid": 1 + len(self.issues), "state": "opened", "notes": [], **body}
            self.issues.append(issue)
            return 201, issue, {}
        if m := re.fullmatch(r"/issues/(\d+)/notes", path):
            next(i for i in self.issues if i["iid"] == int(m.group(1)))["notes"].append(body["body"])
            return 201, {"id": 1}, {}
        if m := re.fullmatch(r"/issues/(\d+)", path):
            issue = next(i for i in self.issues if i["iid"] == int(m.group(1)))
            if body.get("state_event") == "close":
                issue["state"] = "closed"
            issue.update({k: v for k, v in body.items() if k != "state_event"})
            return 200, issue, {}
        return 404, {"message": f"no route {method} {path}"}, {}

    @staticmethod
    def page(items: list[Any], query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        page = int(query.get("page", ["1"])[0])
        headers = {"X-Next-Page": str(page + 1) if page < len(items) else ""}
        return 200, items[page - 1 : page], headers


@pytest.fixture
def gitlab() -> Iterator[tuple[FakeGitLab, str]]:
    fake = FakeGitLab()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            fake.token_seen.add(self.headers.get("PRIVATE-TOKEN", ""))
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, payload, headers = fake.handle(self.command, self.path, body)
            raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}/api/v4"
    finally:
        server.shutdown()
        server.server_close()


def helper(api: str, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": "/usr/bin:/bin",
        "CI_API_V4_URL": api,
        "CI_PROJECT_ID": "zwvl/main",
        "GITLAB_API_TOKEN": "test-token-value",  # a fake for the fake server
        "CI_PIPELINE_URL": "https://gitlab.example/zwvl/main/-/pipelines/1",
        "CI_COMMIT_SHORT_SHA": "abc1234",
    }
    return subprocess.run(
        [sys.executable, str(HELPER), *args],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_plan_notes_are_created_once_then_updated(gitlab: tuple[FakeGitLab, str], tmp_path: Path) -> None:
    """The plan-notes schedule (default branch) posts each open MR's newest plan.md as its ONE note."""
    fake, api = gitlab
    fake.open_mrs = [{"iid": 12, "sha": "c0ffee00aa"}]
    fake.mr_pipelines = [{"id": 41, "sha": "c0ffee00aa"}, {"id": 40, "sha": "0ld0000000"}]
    fake.pipeline_jobs = {
        41: [{"id": 9, "name": "lint"}, {"id": 8, "name": "netbox-plan", "web_url": "https://gl/jobs/8"}],
        40: [{"id": 5, "name": "netbox-plan"}],
    }
    fake.files[(8, "plan/plan.md")] = b"| create | site avelgem-sports-centre |\n"
    fake.files[(5, "plan/plan.md")] = b"old plan\n"
    # a person quoted the marker, and a system note mentions it: neither is ours
    fake.notes.append(
        {"id": 1, "body": "I copied <!-- zwvl-plan --> here", "system": False, "author": {"id": 3}}
    )
    fake.notes.append(
        {"id": 2, "body": "<!-- zwvl-plan --> by the system", "system": True, "author": {"id": BOT}}
    )
    env = {"CI_DEFAULT_BRANCH": "main"}
    proc = helper(api, tmp_path, "plan-notes", **env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "!12: created note 102"
    ours = fake.notes[-1]["body"]
    assert ours.startswith("<!-- zwvl-plan -->\n| create | site avelgem-sports-centre |\n")
    assert "Plan of c0ffee00 ([job](https://gl/jobs/8))" in ours and "no successful plan yet" not in ours
    # nothing changed: no edit, nobody notified
    proc = helper(api, tmp_path, "plan-notes", **env)
    assert proc.stdout.strip() == "!12: note 102 is current", proc.stderr
    # a push whose pipeline has not planned yet: the note says so
    fake.open_mrs = [{"iid": 12, "sha": "dead0000bb"}]
    proc = helper(api, tmp_path, "plan-notes", **env)
    assert proc.stdout.strip() == "!12: updated note 102", proc.stderr
    assert "The newest commit dead0000 has no successful plan yet." in fake.notes[-1]["body"]
    fake.open_mrs = [{"iid": 12, "sha": "c0ffee00aa"}]
    fake.files[(8, "plan/plan.md")] = b"No changes.\n"
    proc = helper(api, tmp_path, "plan-notes", **env)
    assert proc.stdout.strip() == "!12: updated note 102", proc.stderr
    assert len(fake.notes) == 3 and "No changes." in fake.notes[-1]["body"]
    assert fake.notes[0]["body"] == "I copied <!-- zwvl-plan --> here"
    # the MR's plan is read, never run: only GET requests for artifacts, no job is triggered
    assert {m for m, path, _b in fake.requests if "/jobs/" in path} == {"GET"}
    assert fake.token_seen == {"test-token-value"}


def test_plan_notes_skip_a_merge_request_without_a_plan(
    gitlab: tuple[FakeGitLab, str], tmp_path: Path
) -> None:
    fake, api = gitlab
    fake.open_mrs = [{"iid": 4, "sha": "aaaa"}]
    fake.mr_pipelines = [{"id": 50, "sha": "aaaa"}]
    fake.pipeline_jobs = {50: [{"id": 9, "name": "lint"}]}
    proc = helper(api, tmp_path, "plan-notes", CI_DEFAULT_BRANCH="main")
    assert proc.returncode == 0 and proc.stdout.strip() == "!4: no successful netbox-plan job yet"
    assert fake.notes == []
    fake.open_mrs = []
    proc = helper(api, tmp_path, "plan-notes", CI_DEFAULT_BRANCH="main")
    assert proc.stdout.strip() == "no open merge request into main"


def _artifact(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


def test_reviewed_plan_of_the_merged_request(gitlab: tuple[FakeGitLab, str], tmp_path: Path) -> None:
    fake, api = gitlab
    fake.commit_mrs = [
        {"iid": 3, "state": "opened", "target_branch": "main"},
        {"iid": 12, "state": "merged", "target_branch": "main"},
    ]
    fake.mr_pipelines = [{"id": 40}, {"id": 41}, {"id": 39}]
    fake.pipeline_jobs = {
        41: [{"id": 9, "name": "lint"}],  # the newest pipeline has no successful plan
        40: [{"id": 7, "name": "netbox-plan", "web_url": "https://gitlab.example/jobs/7"}],
        39: [{"id": 5, "name": "netbox-plan"}],
    }
    fake.artifacts[7] = _artifact({"plan/plan.json": "{}", "plan/inventory-tree": "abc\n", "reports/x": "no"})
    env = {"CI_COMMIT_SHA": "feedface", "CI_DEFAULT_BRANCH": "main"}
    proc = helper(api, tmp_path, "reviewed-plan", "plan", **env)
    assert proc.returncode == 0, proc.stderr
    assert "merge request !12: plan of job https://gitlab.example/jobs/7" in proc.stdout
    assert sorted(p.name for p in (tmp_path / "plan").iterdir()) == [
        "inventory-tree",
        "merge-request",
        "plan.json",
    ]
    assert (tmp_path / "plan" / "merge-request").read_text() == "12\n"

    fake.artifacts[7] = _artifact({"plan/../../escape": "x"})
    proc = helper(api, tmp_path, "reviewed-plan", "other", **env)
    assert proc.returncode == 1 and "refusing artifact member" in proc.stderr
    assert not (tmp_path.parent / "escape").exists()

    fake.commit_mrs = [{"iid": 3, "state": "opened", "target_branch": "main"}]
    proc = helper(api, tmp_path, "reviewed-plan", "plan", **env)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "gitlab_api: feedface did not come through a merged merge request: no reviewed plan to apply"
    )


def test_drift_issue_lifecycle(gitlab: tuple[FakeGitLab, str], tmp_path: Path) -> None:
    fake, api = gitlab
    (tmp_path / "drift.md").write_text("| device | field |\n")
    (tmp_path / "plan.md").write_text("No changes.\n")
    args = ("drift.md", "plan.md")
    assert helper(api, tmp_path, "drift-issue", "0", "0", *args).stdout.strip() == "no drift, no open issue"
    assert helper(api, tmp_path, "drift-issue", "2", "0", *args).stdout.strip() == "opened #1"
    (issue,) = fake.issues
    assert issue["labels"] == "netbox-drift" and issue["description"].startswith("<!-- zwvl-drift -->")
    assert helper(api, tmp_path, "drift-issue", "2", "0", *args).stdout.strip() == "updated #1"
    assert issue["notes"] == []  # same drift: nobody notified again
    (tmp_path / "plan.md").write_text("| update | circuit ZWVL-FO-0033 |\n")
    assert helper(api, tmp_path, "drift-issue", "0", "2", *args).stdout.strip() == "updated #1"
    assert len(issue["notes"]) == 1 and "ZWVL-FO-0033" in issue["description"]
    assert helper(api, tmp_path, "drift-issue", "0", "0", *args).stdout.strip() == "closed #1"
    assert issue["state"] == "closed" and "again: closing" in issue["notes"][-1]
    assert len(fake.issues) == 1


def test_errors_are_one_clear_line(gitlab: tuple[FakeGitLab, str], tmp_path: Path) -> None:
    _fake, api = gitlab
    main = {"CI_DEFAULT_BRANCH": "main"}
    proc = helper(api, tmp_path, "plan-notes", CI_PROJECT_ID="other/project", **main)
    assert proc.returncode == 1
    assert proc.stderr.startswith("gitlab_api: GET /merge_requests?") and "HTTP 404" in proc.stderr
    proc = helper(api, tmp_path, "plan-notes", GITLAB_API_TOKEN="", **main)
    assert proc.returncode == 1 and proc.stderr.strip() == "gitlab_api: GITLAB_API_TOKEN is not set"
    proc = helper(api, tmp_path, "plan-notes")
    assert proc.returncode == 1 and proc.stderr.strip() == "gitlab_api: CI_DEFAULT_BRANCH is not set"
    proc = helper("http://127.0.0.1:9/api/v4", tmp_path, "plan-notes", **main)
    assert proc.returncode == 1 and proc.stderr.startswith("gitlab_api: GET http://127.0.0.1:9/api/v4/user")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert helper(api, tmp_path, "frobnicate").returncode == 2
    assert helper(api, tmp_path, "note", "plan.md").returncode == 2  # gone: MR pipelines post nothing
