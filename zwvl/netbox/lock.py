"""The apply lock, held in NetBox itself so that two pipelines (on any machines) never apply at once.

The lock is a tag with the unique slug ``zwvl-apply-lock``: creating it is atomic (NetBox refuses a
second tag with the same slug), and its description records the holder and the time it was taken.
A lock left by a killed apply stays until it is broken explicitly (``--break-lock``); it is called
stale once it is older than ``STALE_AFTER``.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import socket
from dataclasses import dataclass
from typing import Any

from zwvl.netbox.client import NetboxClient, NetboxError, NetboxRequestError
from zwvl.netbox.kinds import LOCK_TAG

STALE_AFTER = dt.timedelta(minutes=30)
ENDPOINT = "extras/tags"


class LockHeld(NetboxError):
    """Another apply holds the lock."""


@dataclass
class Holder:
    id: int
    holder: str
    since: str
    commit: str | None

    def age(self) -> dt.timedelta | None:
        try:
            since = dt.datetime.fromisoformat(self.since.replace("Z", "+00:00"))
        except ValueError:
            return None
        return dt.datetime.now(dt.UTC) - since

    def describe(self) -> str:
        age = self.age()
        when = f"since {self.since}" + (
            f" ({int(age.total_seconds() // 60)} min ago)" if age is not None else ""
        )
        stale = " - stale" if age is not None and age > STALE_AFTER else ""
        return f"held by {self.holder} {when}{stale}"


def whoami() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"


def current(client: NetboxClient) -> Holder | None:
    items = client.list(ENDPOINT, params={"slug": LOCK_TAG}, fields=["id", "slug", "description", "created"])
    for item in items:
        if item.get("slug") == LOCK_TAG:
            return _holder(item)
    return None


def _holder(item: dict[str, Any]) -> Holder:
    try:
        info = json.loads(item.get("description") or "{}")
    except ValueError:
        info = {}
    if not isinstance(info, dict):
        info = {}
    return Holder(
        id=int(item["id"]),
        holder=str(info.get("holder", "unknown holder")),
        since=str(info.get("since", item.get("created", "?"))),
        commit=info.get("commit"),
    )


class ApplyLock:
    def __init__(self, client: NetboxClient, commit: str | None = None) -> None:
        self.client = client
        self.commit = commit
        self.id: int | None = None
        self.broken: Holder | None = None

    def acquire(self, break_lock: bool = False) -> None:
        info = {
            "holder": whoami(),
            "since": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": (self.commit or "")[:12] or None,
        }
        body = {
            "name": LOCK_TAG,
            "slug": LOCK_TAG,
            "color": "f44336",
            "description": json.dumps(info, separators=(",", ":"))[:200],
        }
        for _attempt in range(2):
            try:
                created = self.client.create_one(ENDPOINT, body)
                self.id = int(created["id"])
                return
            except NetboxRequestError as exc:
                if exc.status != 400:
                    raise
                held = current(self.client)
                if held is None:
                    continue  # released in between: try once more
                if not break_lock:
                    raise LockHeld(
                        f"another apply is running: the NetBox lock is {held.describe()}; if that apply is "
                        "gone, run again with --break-lock"
                    ) from exc
                self.client.delete_one(ENDPOINT, held.id)
                self.broken = held
                break_lock = False
        raise LockHeld("could not take the NetBox apply lock (it keeps being re-created)")

    def release(self) -> None:
        if self.id is None:
            return
        try:
            self.client.delete_one(ENDPOINT, self.id)
        except NetboxRequestError as exc:
            if exc.status != 404:
                raise
        self.id = None
