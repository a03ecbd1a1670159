"""plan / apply / drift: the reconciler's entry points (the CLI in ``zwvl.cli.reconcile`` is thin).

apply, in order: read NetBox once and plan; with nothing to change stop there (no write at all, not
even the lock); check conflicts and the delete guard; take the lock held in NetBox; read again and
re-plan if anything changed meanwhile (a saved plan is refused instead); write; release the lock.

A saved plan (``apply PLAN``) is a review artefact, never an authority: apply plans again from the
inventory it is given and NetBox's current state and writes that plan, only if it equals the saved
one operation for operation and field for field. The delete guard reads NetBox, not the file.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zwvl.inventory import Inventory, load_inventory
from zwvl.netbox.apps import DesiredState, desired_state
from zwvl.netbox.client import NetboxClient, NetboxError
from zwvl.netbox.executor import ApplyReport, Executor
from zwvl.netbox.kinds import BY_NAME, CF_HASH, CF_SOURCE, LEGACY_TAG, OWNER, TAG
from zwvl.netbox.lock import DEFAULT_LEASE, ApplyLock, Holder
from zwvl.netbox.plan import (
    Change,
    Plan,
    diff_fields,
    make_plan,
    plan_to_json,
    state_hash,
    with_bookkeeping,
)
from zwvl.netbox.settings import resolve_netbox
from zwvl.netbox.state import State, changes_since, read_state
from zwvl.procs import Progress

DEFAULT_MAX_DELETE_SHARE = 0.20


class StalePlanError(NetboxError):
    """A saved plan no longer matches NetBox."""


class PlanMismatchError(StalePlanError):
    """A saved plan is not what the inventory plans against NetBox now (edited, or another inventory)."""


class DeleteGuardError(NetboxError):
    """The plan deletes more than the allowed share of the managed objects."""


class ConflictError(NetboxError):
    """Unmanaged objects stand where managed ones should be created."""


def _noop(_: str) -> None:
    return None


def connect(
    url: str | None = None,
    token: str | None = None,
    *,
    message: str | None = None,
    retries: int | None = None,
    backoff: float | None = None,
) -> NetboxClient:
    """A client for NETBOX_URL/NETBOX_TOKEN or the local instance (explicit arguments win)."""
    if url is None or token is None:
        env_url, env_token = resolve_netbox()
        url = url or env_url
        token = token or env_token
    kw: dict[str, Any] = {}
    if retries is not None:
        kw["retries"] = retries
    elif os.environ.get("ZWVL_NETBOX_RETRIES"):
        kw["retries"] = int(os.environ["ZWVL_NETBOX_RETRIES"])
    if backoff is not None:
        kw["backoff"] = backoff
    return NetboxClient(url, token, changelog_message=message, **kw)


def git_commit(path: Path) -> tuple[str | None, bool]:
    """(commit, dirty) of the repository holding ``path``; CI variables win when set."""
    for var in ("ZWVL_COMMIT", "GITHUB_SHA", "CI_COMMIT_SHA"):
        if os.environ.get(var):
            return os.environ[var], False
    try:
        head = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if head.returncode != 0:
            return None, False
        status = subprocess.run(
            ["git", "-C", str(path), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return head.stdout.strip(), bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None, False


def changelog_message(commit: str | None, dirty: bool = False) -> str:
    if not commit:
        return "zwvl apply (inventory outside git)"
    return f"zwvl apply of commit {commit[:12]}" + (" with uncommitted changes" if dirty else "")


def load_desired(inventory_dir: Path) -> tuple[Inventory, DesiredState]:
    """Load and map; raises InventoryError or MappingError."""
    inv = load_inventory(inventory_dir)
    return inv, desired_state(inv)


# ---------------------------------------------------------------------------------------------- plan


def plan(
    client: NetboxClient, desired: DesiredState, *, adopt: bool = False, commit: str | None = None
) -> Plan:
    state = read_state(client)
    p = make_plan(desired, state, adopt=adopt)
    p.commit = commit
    return p


# --------------------------------------------------------------------------------------------- apply


@dataclass
class ApplyOutcome:
    plan: Plan
    report: ApplyReport | None
    replanned: bool = False
    broken_lock: Holder | None = None
    took_over: bool = False
    requests: int = 0
    writes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "summary": self.plan.counts(),
            "report": self.report.as_dict() if self.report else None,
            "replanned": self.replanned,
            "requests": self.requests,
            "write_requests": self.writes,
        }


def _unchanged_but_lock(client: NetboxClient, state: State, lock: ApplyLock) -> bool:
    """True when the change log shows nothing since ``state`` was read but the lock itself (and the
    stale lock it replaced): then the state need not be read again under the lock (one request
    instead of a full read). Writes that are not change-logged would go unseen; NetBox logs every
    write made through its API and UI."""
    if state.change_mark is None or lock.id is None:
        return False
    since = changes_since(client, state.change_mark)
    if since is None:
        return False
    allowed = {("extras.tag", lock.id)}
    if lock.broken is not None:
        allowed.add(("extras.tag", lock.broken.id))
    return all((c.get("changed_object_type"), c.get("changed_object_id")) in allowed for c in since)


def check_guard(p: Plan, max_delete_share: float, allow_mass_delete: bool) -> None:
    deletes = p.delete_count()
    if deletes and not allow_mass_delete and p.delete_share() > max_delete_share:
        cascaded = f", {len(p.cascades)} of them by cascade," if p.cascades else ""
        raise DeleteGuardError(
            f"refusing to delete {deletes} objects{cascaded} against {p.managed_count} managed ones "
            f"({p.delete_share():.0%} > {max_delete_share:.0%}); check the inventory, "
            "or pass --allow-mass-delete"
        )


def check_cascades(p: Plan) -> None:
    if p.cascades and not p.adopt:
        shown = ", ".join(f"{c.kind} {' '.join(c.key)} (with {c.via})" for c in p.cascades[:5])
        more = f" and {len(p.cascades) - 5} more" if len(p.cascades) > 5 else ""
        raise ConflictError(
            f"the deletes would take {len(p.cascades)} unmanaged object(s) with them ({shown}{more}); "
            "move or delete them by hand, or pass --adopt to let them go with their parent"
        )


def _op_docs(p: Plan) -> list[str]:
    return sorted(json.dumps(op, sort_keys=True, default=str) for op in plan_to_json(p)["ops"])


def check_same(saved: Plan, fresh: Plan) -> None:
    """Refuse unless ``fresh`` (planned here and now) does exactly what ``saved`` says."""
    want, have = _op_docs(saved), _op_docs(fresh)
    extra = [json.loads(o) for o in sorted(set(want) - set(have))]
    missing = [json.loads(o) for o in sorted(set(have) - set(want))]
    if want == have and saved.cascades == fresh.cascades:
        return

    def title(o: dict[str, Any]) -> str:
        return f"{o['action']} {o['kind']} {' '.join(o['key'])}"

    parts = []
    if extra:
        parts.append("only in the saved plan: " + ", ".join(title(o) for o in extra[:5]))
    if missing:
        parts.append("only in the plan made now: " + ", ".join(title(o) for o in missing[:5]))
    if not extra and not missing:
        parts.append("repeated operations" if want != have else "the cascaded deletes differ")
    raise PlanMismatchError(
        "the saved plan is not what this inventory plans against NetBox now ("
        + "; ".join(parts)
        + "): it was edited, or made from another inventory or with other options; make a new plan"
    )


def check_conflicts(p: Plan) -> None:
    if p.conflicts:
        shown = ", ".join(f"{c.kind} {' '.join(c.key)}" for c in p.conflicts[:5])
        more = f" and {len(p.conflicts) - 5} more" if len(p.conflicts) > 5 else ""
        raise ConflictError(
            f"{len(p.conflicts)} object(s) in NetBox that zwvl does not own (no tag {TAG!r}, or for the "
            f"tag, custom fields and choice sets no owner {OWNER!r}) have the natural key of managed ones "
            f"({shown}{more}); remove or rename them, or pass --adopt to take them over (the upgrade from "
            f"a zwvl that tagged {LEGACY_TAG!r}: review `zwvl plan --adopt`, then `zwvl apply --adopt`)"
        )


def apply(
    client: NetboxClient,
    desired: DesiredState | None = None,
    *,
    saved: Plan | None = None,
    adopt: bool = False,
    allow_mass_delete: bool = False,
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE,
    break_lock: bool = False,
    force: bool = False,
    lease: float = DEFAULT_LEASE,
    concurrency: int = 2,
    commit: str | None = None,
    progress: Progress | None = None,
    take_lock: bool = True,
    check: Callable[[Plan], None] | None = None,
) -> ApplyOutcome:
    """``take_lock=False`` for a NetBox branch: the lock lives on main, and a branch has one writer
    (its pull request's pipeline); main's applies and drift are not held up by branch applies.
    ``check`` is called with the plan before anything is written (it raises to refuse)."""
    say = progress or _noop
    req0, writes0 = client.stats.requests, client.stats.writes
    if desired is None:
        raise ValueError("apply needs the desired state (a saved plan is only compared with it)")
    if saved is not None:
        if saved.url.rstrip("/") != client.url:
            raise StalePlanError(f"the plan was made for {saved.url}, not {client.url}")
        if not saved.ops:  # nothing was reviewed, nothing to apply: no read, no write
            return ApplyOutcome(plan=saved, report=None, requests=client.stats.requests - req0)
    state = read_state(client)
    if saved is not None and state.fingerprint != saved.fingerprint:
        raise StalePlanError(
            "NetBox changed since the plan was made (what was reviewed is not what would be applied); "
            "make a new plan"
        )
    p = make_plan(desired, state, adopt=adopt)
    p.commit = commit
    if saved is not None:
        check_same(saved, p)
    outcome = ApplyOutcome(plan=p, report=None)
    check_conflicts(p)
    if check is not None:
        check(p)
    if not p.ops:
        outcome.requests = client.stats.requests - req0
        return outcome
    check_cascades(p)
    check_guard(p, max_delete_share, allow_mass_delete)
    if not take_lock:
        outcome.report = Executor(client, state, concurrency=concurrency, progress=say).execute(p.ops)
        outcome.requests = client.stats.requests - req0
        outcome.writes = client.stats.writes - writes0
        return outcome
    lock = ApplyLock(client, p.commit, lease=lease)
    lock.acquire(break_lock=break_lock, force=force)  # renewed until released; see lock.py
    outcome.broken_lock, outcome.took_over = lock.broken, lock.took_over
    try:
        fresh = state if _unchanged_but_lock(client, state, lock) else read_state(client)
        if fresh.fingerprint != state.fingerprint:
            if saved is not None:
                raise StalePlanError("NetBox changed while the lock was being taken; make a new plan")
            say("NetBox changed since it was read: planning again under the lock.")
            p = make_plan(desired, fresh, adopt=adopt)
            p.commit = commit
            outcome.plan, outcome.replanned = p, True
            check_conflicts(p)
            check_cascades(p)
            check_guard(p, max_delete_share, allow_mass_delete)
        ex = Executor(client, fresh, concurrency=concurrency, progress=say)
        outcome.report = ex.execute(p.ops)
    finally:
        lock.release()
    outcome.requests = client.stats.requests - req0
    outcome.writes = client.stats.writes - writes0
    return outcome


# --------------------------------------------------------------------------------------------- drift


@dataclass
class DriftItem:
    kind: str
    key: tuple[str, ...]
    id: int
    source: str | None
    changes: list[Change] = field(default_factory=list)
    note: str = ""

    @property
    def title(self) -> str:
        return f"{self.kind} {' '.join(self.key)}"


def find_drift(desired: DesiredState, state: State) -> list[DriftItem]:
    """Managed objects whose fields no longer hash to what zwvl last wrote: changed by hand in NetBox.

    The diff is against the inventory (what apply would restore). Objects that differ from the
    inventory only because the inventory changed are not drift (their hash still matches).
    """
    out: list[DriftItem] = []
    for name, recs in state.records.items():
        spec = BY_NAME[name]
        if not spec.taggable:
            continue
        for rec in recs:
            if not rec.managed:
                continue
            current = state_hash(name, rec.fields)
            if rec.hash == current:
                continue
            d = desired.objects.get(name, {}).get(rec.key)
            changes: list[Change] = []
            if d is not None:
                want = with_bookkeeping(d)
                want.pop("cf." + CF_HASH, None)
                changes = [Change(c.field, c.new, c.old) for c in diff_fields(want, rec)]
                # old = what the inventory says, new = what NetBox has now
            note = "no hash recorded (tagged by hand?)" if rec.hash is None else ""
            if d is None:
                note = note or "not in the inventory any more"
            out.append(
                DriftItem(name, rec.key, rec.id, rec.source or (d.source if d else None), changes, note)
            )
    out.sort(key=lambda i: (i.kind, i.key))
    return out


def drift(client: NetboxClient, desired: DesiredState) -> tuple[list[DriftItem], State]:
    state = read_state(client)
    state.require_owners()
    return find_drift(desired, state), state


__all__ = [
    "CF_SOURCE",
    "ConflictError",
    "DeleteGuardError",
    "PlanMismatchError",
    "StalePlanError",
    "apply",
    "connect",
    "drift",
    "find_drift",
    "git_commit",
    "load_desired",
    "plan",
]
