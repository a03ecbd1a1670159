"""NetBox branches (the netboxlabs-netbox-branching plugin): one per pull request.

A branch is a PostgreSQL schema; a request works in it when it carries ``X-NetBox-Branch: <schema_id>``.
Provisioning, sync and merge are NetBox background jobs (an RQ worker must run), so every step here
polls with a bounded wait and says what it waited for when it gives up.

- :func:`ensure_branch` creates the branch (or syncs it when main changed since its last sync) and
  waits until it is ready; :func:`branch_client` is a client whose every request goes to it.
- :func:`merge_branch` syncs first when main moved; conflicts (an object changed both in the branch
  and by hand on main) raise :class:`BranchConflictError` naming the objects, and nothing is merged.
- :func:`delete_branch` removes a branch that was never merged (a closed pull request).

Custom fields and their choice sets are not branched by the plugin (writes to them go to main), so a
branch apply refuses plans that change kinds the plugin does not branch: see :func:`unbranchable`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from zwvl.netbox.client import AmbiguousWrite, NetboxClient, NetboxError, NetboxRequestError
from zwvl.netbox.plan import Plan

BRANCH_HEADER = "X-NetBox-Branch"
API = "plugins/branching/branches/"
DEFAULT_WAIT = 600.0
"""Seconds to wait for a branch job (provision, sync, merge); the 1x region provisions in seconds."""
POLL = 0.5
_NAME_MAX = 100  # Branch.name max_length in the plugin
_NAME_BAD = re.compile(r"[^a-z0-9._-]+")


class BranchError(NetboxError):
    """A branch could not be found, created, synced, merged or deleted."""


class BranchNotFound(BranchError):
    """No branch of that name."""


@dataclass
class Conflict:
    """An object changed in the branch and, differently, on main since the branch last synced."""

    object_type: str
    name: str
    object_id: int | None
    fields: list[str]

    def describe(self) -> str:
        shown = f" (fields: {', '.join(self.fields)})" if self.fields else ""
        return f"{self.object_type} {self.name}{shown}"


class BranchConflictError(BranchError):
    def __init__(self, branch: str, action: str, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        listed = "; ".join(c.describe() for c in conflicts[:20])
        more = f" and {len(conflicts) - 20} more" if len(conflicts) > 20 else ""
        super().__init__(
            f"branch {branch}: {len(conflicts)} conflict(s) with changes made on main, {action} refused: "
            f"{listed}{more}; resolve them (re-apply the inventory to main or the branch) and try again"
        )


@dataclass
class Branch:
    id: int
    name: str
    schema_id: str
    status: str
    last_sync: str | None
    created: str | None
    ui_url: str
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


def normalise_name(name: str) -> str:
    """A branch name from a pull request or a ref: lower case, [a-z0-9._-], at most 100 characters.

    ``123`` and ``#123`` become ``pr-123``; ``Feature/Foo Bar`` becomes ``feature-foo-bar``."""
    text = name.strip().lower()
    if re.fullmatch(r"#?\d+", text):
        return f"pr-{text.lstrip('#')}"
    text = _NAME_BAD.sub("-", text).strip("-._")[:_NAME_MAX].strip("-._")
    if not text:
        raise BranchError(f"{name!r} is not usable as a branch name (use letters, digits, '.', '_', '-')")
    return text


def pr_branch(number: int | str) -> str:
    """The branch of pull (merge) request ``number``: ``pr-<number>``."""
    text = str(number).strip().lstrip("#!")
    if not text.isdigit():
        raise BranchError(f"{number!r} is not a pull request number")
    return f"pr-{int(text)}"


def _status(raw: dict[str, Any]) -> str:
    st = raw.get("status")
    return str(st.get("value") if isinstance(st, dict) else st)


def _branch(client: NetboxClient, raw: dict[str, Any]) -> Branch:
    return Branch(
        id=int(raw["id"]),
        name=str(raw["name"]),
        schema_id=str(raw.get("schema_id") or ""),
        status=_status(raw),
        last_sync=raw.get("last_sync"),
        created=raw.get("created"),
        ui_url=f"{client.url}/plugins/branching/branches/{int(raw['id'])}/",
        raw=raw,
    )


def find_branch(client: NetboxClient, name: str) -> Branch | None:
    try:
        body = client.request("GET", API, params={"name": name, "limit": 2})
    except NetboxRequestError as exc:
        if exc.status == 404:
            raise BranchError(
                f"NetBox at {client.url} has no branching API (HTTP 404 on /api/{API}): install and "
                "enable the netboxlabs-netbox-branching plugin"
            ) from exc
        raise
    rows = [r for r in (body or {}).get("results", []) if r.get("name") == name]
    return _branch(client, rows[0]) if rows else None


def get_branch(client: NetboxClient, name: str) -> Branch:
    found = find_branch(client, name)
    if found is None:
        raise BranchNotFound(f"NetBox at {client.url} has no branch {name!r}")
    return found


def _refresh(client: NetboxClient, branch: Branch) -> Branch:
    return _branch(client, client.request("GET", f"{API}{branch.id}/"))


def branch_client(client: NetboxClient, branch: Branch) -> NetboxClient:
    """A client whose every request reads and writes ``branch`` (the plugin's header)."""
    return client.with_headers({BRANCH_HEADER: branch.schema_id})


# Statuses the plugin passes through on its way back to "ready" (BranchStatusChoices.TRANSITIONAL + new).
_BUSY = {"new", "provisioning", "syncing", "migrating", "merging", "reverting"}


def wait_for(
    client: NetboxClient,
    branch: Branch,
    want: set[str],
    timeout: float,
    doing: str,
) -> Branch:
    """Poll the branch until its status is in ``want``; a failed branch or the timeout raise."""
    deadline = time.monotonic() + timeout
    current = branch
    while True:
        current = _refresh(client, current)
        if current.status in want:
            return current
        if current.status not in _BUSY:
            raise BranchError(
                f"branch {current.name} is {current.status!r} while {doing} (see {current.ui_url})"
            )
        if time.monotonic() >= deadline:
            raise BranchError(
                f"branch {current.name} is still {current.status!r} after {timeout:.0f}s {doing}: is "
                "NetBox's background worker (`netbox rqworker`) running? See " + current.ui_url
            )
        time.sleep(POLL)


def _wait_job(client: NetboxClient, job: dict[str, Any], timeout: float, doing: str) -> dict[str, Any]:
    """Poll a NetBox background job until it finishes; errored/failed jobs raise with NetBox's error."""
    job_id = job.get("id")
    if job_id is None:
        raise BranchError(f"NetBox did not answer with a job while {doing}")
    deadline = time.monotonic() + timeout
    while True:
        current = client.request("GET", f"core/jobs/{int(job_id)}/")
        status = _status(current)
        if status == "completed":
            return dict(current)
        if status in ("errored", "failed"):
            raise BranchError(f"NetBox job {job_id} {status} while {doing}: {current.get('error') or '?'}")
        if time.monotonic() >= deadline:
            raise BranchError(
                f"NetBox job {job_id} still {status!r} after {timeout:.0f}s {doing}: is NetBox's background "
                "worker (`netbox rqworker`) running?"
            )
        time.sleep(POLL)


def _conflicts(body: Any) -> list[Conflict]:
    out = []
    for c in (body or {}).get("conflicts", []) if isinstance(body, dict) else []:
        out.append(
            Conflict(
                object_type=str(c.get("object_type") or "?"),
                name=str(c.get("object_repr") or c.get("object_id")),
                object_id=c.get("object_id"),
                fields=sorted(str(f) for f in (c.get("conflicts") or [])),
            )
        )
    return sorted(out, key=lambda c: (c.object_type, c.name))


def conflicts(client: NetboxClient, branch: Branch) -> list[Conflict]:
    """Objects changed both in the branch and on main since its last sync (the plugin's ChangeDiffs)."""
    rows = client.list("plugins/branching/changes", params={"branch_id": branch.id})
    return _conflicts({"conflicts": [r for r in rows if r.get("conflicts")]})


def _action(client: NetboxClient, branch: Branch, action: str, timeout: float) -> None:
    try:
        job = client.request("POST", f"{API}{branch.id}/{action}/", json={"commit": True})
    except NetboxRequestError as exc:
        if exc.status == 409:
            raise BranchConflictError(branch.name, action, _conflicts(exc.body)) from exc
        raise
    except AmbiguousWrite as exc:
        # no usable answer: the branch's status says whether NetBox started the job anyway
        now = _refresh(client, branch)
        if action == "merge" and now.status in ("merging", "merged"):
            return  # the caller waits for "merged"
        raise BranchError(
            f"NetBox did not start the {action} of branch {branch.name} ({exc}); the branch is "
            f"{now.status!r}, nothing was {action.rstrip('e')}ed: see NetBox's log, then try again"
        ) from exc
    _wait_job(client, job, timeout, f"{action}ing branch {branch.name}")


def main_moved(client: NetboxClient, branch: Branch) -> bool:
    """Whether main has change-log entries since the branch last synced (or was created), other than
    the plugin's own records of branches (creating or syncing a branch is logged on main)."""
    since = branch.last_sync or branch.created
    if not since:
        return True
    # time_after (NetBox's filter; an unknown one such as time__gt would be silently ignored)
    params = {"time_after": since, "limit": 50, "fields": "id,changed_object_type"}
    body = client.request("GET", "core/object-changes/", params=params) or {}
    rows = body.get("results") or []
    if int(body.get("count") or 0) > len(rows):
        return True
    return any(not str(r.get("changed_object_type", "")).startswith("netbox_branching.") for r in rows)


def sync_branch(
    client: NetboxClient, branch: Branch, timeout: float = DEFAULT_WAIT, *, force: bool = False
) -> tuple[Branch, bool]:
    """Bring main's changes into the branch when main moved (or ``force``). Returns (branch, synced)."""
    if not force and not main_moved(client, branch):
        return branch, False
    _action(client, branch, "sync", timeout)
    return wait_for(client, branch, {"ready"}, timeout, "syncing"), True


def ensure_branch(
    client: NetboxClient,
    name: str,
    *,
    description: str = "",
    timeout: float = DEFAULT_WAIT,
    say: Callable[[str], None] = lambda _m: None,
) -> Branch:
    """The ready branch ``name``: created and provisioned when absent, synced when main moved."""
    branch = find_branch(client, name)
    if branch is None:
        say(f"Creating NetBox branch {name} ...")
        raw = client.request("POST", API, json={"name": name, "description": description[:200]})
        branch = _branch(client, raw)
        return wait_for(client, branch, {"ready"}, timeout, "provisioning")
    if branch.status in ("merged", "archived"):
        raise BranchError(
            f"branch {name} was already {branch.status} ({branch.ui_url}): a new change needs a new branch"
        )
    branch = wait_for(client, branch, {"ready"}, timeout, "waiting for it to be ready")
    branch, synced = sync_branch(client, branch, timeout)
    if synced:
        say(f"Synced branch {name} with main.")
    return branch


@dataclass
class MergeResult:
    branch: Branch
    synced: bool
    merged: bool
    """False when the branch holds no change (nothing to merge) or was merged before."""
    changes: int


def merge_branch(
    client: NetboxClient,
    name: str,
    *,
    timeout: float = DEFAULT_WAIT,
    say: Callable[[str], None] = lambda _m: None,
) -> MergeResult:
    """Merge ``name`` into main: sync first when main moved; conflicts raise and nothing is merged."""
    branch = get_branch(client, name)
    if branch.status in ("merged", "archived"):
        return MergeResult(branch, synced=False, merged=False, changes=0)
    branch = wait_for(client, branch, {"ready"}, timeout, "waiting for it to be ready")
    found = conflicts(client, branch)
    if found:
        raise BranchConflictError(name, "merge", found)
    branch, synced = sync_branch(client, branch, timeout)
    if synced:
        say(f"Synced branch {name} with main first (main had moved).")
    pending = branch_client(client, branch).request("GET", "core/object-changes/", params={"limit": 1})
    changes = int((pending or {}).get("count") or 0)
    if changes == 0:
        return MergeResult(branch, synced=synced, merged=False, changes=0)
    say(f"Merging branch {name} ({changes} change-log entries) into main ...")
    _action(client, branch, "merge", timeout)
    branch = wait_for(client, branch, {"merged"}, timeout, "merging")
    return MergeResult(branch, synced=synced, merged=True, changes=changes)


def delete_branch(client: NetboxClient, name: str, *, allow_merged: bool = False) -> Branch:
    """Delete an unmerged branch (its schema is dropped). A merged one only with ``allow_merged``."""
    branch = get_branch(client, name)
    if branch.status in _BUSY - {"new"}:
        raise BranchError(f"branch {name} is {branch.status!r}: wait for its job to finish ({branch.ui_url})")
    if branch.status in ("merged", "archived") and not allow_merged:
        raise BranchError(
            f"branch {name} is {branch.status}: its changes are on main; keeping it as history "
            "(pass --merged to delete it anyway)"
        )
    client.request("DELETE", f"{API}{branch.id}/")
    return branch


def branchable_kinds(client: NetboxClient) -> set[str]:
    """``app_label.model`` of every model the plugin branches (asked of NetBox)."""
    body = client.request("GET", "plugins/branching/branchable-models/")
    rows = body if isinstance(body, list) else (body or {}).get("results", [])
    return {f"{r['app_label']}.{r['model']}" for r in rows}


def unbranchable(plan: Plan, branchable: set[str]) -> list[str]:
    """Operations of ``plan`` on kinds the plugin does not branch: in a branch they would write main."""
    return [f"{op.action} {op.kind} {' '.join(op.key)}" for op in plan.ops if op.kind not in branchable]
