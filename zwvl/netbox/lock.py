"""The apply lock, held in NetBox itself so that two pipelines (on any machines) never apply at once.

The lock is a tag with the unique slug ``zwvl-apply-lock``: creating it is atomic (NetBox refuses a
second tag with the same slug). It is a **lease**: its description (JSON) records the holder, a
random nonce unique to this apply, when it was taken, when the lease expires and the commit.

- Times are NetBox's clock (estimated from the ``Date`` headers), so runners with skewed clocks
  agree on when a lease has expired.
- A running apply renews the lease from a background thread every ``lease / 5`` (a PATCH of the
  tag by id). It stops writing (``client.write_guard`` raises :class:`LockLost` before the next write
  request) when the tag is gone (broken or taken over: a take-over always deletes and re-creates, so
  the old id never comes back) or when no renewal succeeded for ``0.8 * lease`` -- well before anyone
  else may take the lease over (after ``lease`` plus a grace of a few seconds).
- A lease that has expired (a killed apply) is taken over by the next apply: delete by id, then
  create; the unique slug decides between two appliers racing for it, and deleting by id never
  removes a lease that was taken meanwhile. ``--break-lock`` also breaks a live lease only with
  ``--force``.
- A POST of the lock that fails ambiguously (timeout, lost connection, 5xx) is settled by reading
  the tag back: the nonce says whether this apply holds it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from zwvl.netbox.client import AmbiguousWrite, NetboxClient, NetboxError, NetboxRequestError
from zwvl.netbox.kinds import LOCK_TAG

DEFAULT_LEASE = 300.0
"""Seconds a lease lasts unless renewed (``--lock-lease``, ``ZWVL_LOCK_LEASE``)."""
MIN_LEASE = 2.0
GRACE = 3.0
"""Seconds past a lease's expiry before another apply takes it over (clock estimates are to ~1 s)."""
STALE_AFTER = dt.timedelta(minutes=30)
"""Expiry of a lock that records none (written by an older zwvl, or by hand)."""
ENDPOINT = "extras/tags"


class LockHeld(NetboxError):
    """Another apply holds the lock."""


class LockLost(NetboxError):
    """This apply no longer holds the lock (taken over, broken, or its lease ran out)."""


def _iso(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


@dataclass
class Holder:
    id: int
    holder: str
    since: str
    commit: str | None
    nonce: str | None = None
    expires: float | None = None
    """NetBox time (POSIX seconds) at which the lease ends."""

    def age(self) -> dt.timedelta | None:
        since = _parse(self.since)
        return None if since is None else dt.datetime.now(dt.UTC) - dt.datetime.fromtimestamp(since, dt.UTC)

    def expired(self, now: float) -> bool:
        return self.expires is not None and now > self.expires + GRACE

    def describe(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        age = self.age()
        when = f"since {self.since}" + (
            f" ({int(age.total_seconds() // 60)} min ago)" if age is not None else ""
        )
        if self.expires is None:
            lease = ""
        elif self.expired(now):
            lease = f", lease expired at {_iso(self.expires)}"
        else:
            lease = f", lease until {_iso(self.expires)} ({max(0, int(self.expires - now))} s left)"
        return f"held by {self.holder} {when}{lease}"


def whoami() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"


def current(client: NetboxClient) -> Holder | None:
    items = client.list(
        ENDPOINT, params={"slug": LOCK_TAG}, fields=["id", "slug", "description", "created", "last_updated"]
    )
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
    since = str(info.get("since", item.get("created", "?")))
    expires = _parse(info.get("expires"))
    if expires is None:  # an older zwvl or a hand-made tag: the old "stale" age
        start = _parse(since) or _parse(item.get("last_updated")) or _parse(item.get("created"))
        expires = None if start is None else start + STALE_AFTER.total_seconds()
    nonce = info.get("nonce")
    return Holder(
        id=int(item["id"]),
        holder=str(info.get("holder", "unknown holder")),
        since=since,
        commit=info.get("commit"),
        nonce=str(nonce) if nonce else None,
        expires=expires,
    )


def _is_taken(exc: NetboxRequestError) -> bool:
    """A 400 because the slug (or name) exists already, not for another reason."""
    body = exc.body
    return exc.status == 400 and isinstance(body, dict) and bool({"slug", "name"} & set(body))


class ApplyLock:
    def __init__(
        self, client: NetboxClient, commit: str | None = None, *, lease: float = DEFAULT_LEASE
    ) -> None:
        self.client = client
        self.commit = commit
        self.lease = max(MIN_LEASE, float(lease))
        self.nonce = secrets.token_hex(8)
        self.holder = whoami()
        self.since = ""
        self.id: int | None = None
        self.broken: Holder | None = None
        """The lock this apply broke or took over, if any."""
        self.took_over = False
        """True when ``broken`` was an expired lease (taken over without --break-lock --force)."""
        self.lost: str | None = None
        self._valid_until = 0.0  # time.monotonic() until which this apply may rely on the lease
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._mutex = threading.Lock()

    # ------------------------------------------------------------------------------------ helpers

    @property
    def renew_every(self) -> float:
        return self.lease / 5

    @property
    def margin(self) -> float:
        """Writes stop this long before the lease would run out without a renewal."""
        return self.lease / 5

    def _timeout(self) -> float:
        return max(2.0, min(self.client.timeout, self.lease / 5))

    def _description(self) -> str:
        expires = _iso(self.client.server_now() + self.lease)
        info: dict[str, Any] = {
            "holder": self.holder,
            "nonce": self.nonce,
            "since": self.since,
            "expires": expires,
            "lease": int(self.lease) if self.lease == int(self.lease) else self.lease,
            "commit": (self.commit or "")[:12] or None,
        }
        text = json.dumps(info, separators=(",", ":"))
        if len(text) > 200:  # NetBox's limit: shorten the holder, never cut the JSON
            info["holder"] = self.holder[: max(8, len(self.holder) - (len(text) - 200))]
            text = json.dumps(info, separators=(",", ":"))[:200]
        return text

    def _took(self, obj_id: int, sent: float) -> None:
        self.id = obj_id
        self._valid_until = sent + self.lease

    # ------------------------------------------------------------------------------------ acquire

    def acquire(self, break_lock: bool = False, force: bool = False, *, renew: bool = True) -> None:
        """Take the lock (an expired lease is taken over); start renewing it unless ``renew`` is False.

        Raises :class:`LockHeld` when another apply holds a live lease (``break_lock`` and ``force``
        break it anyway)."""
        self.since = _iso(self.client.server_now())
        for _attempt in range(6):
            body = {"name": LOCK_TAG, "slug": LOCK_TAG, "color": "f44336", "description": self._description()}
            sent = time.monotonic()
            try:
                created = self.client.request(
                    "POST",
                    ENDPOINT + "/",
                    json=self._message(body),
                    objects=1,
                    guarded=False,
                    timeout=self._timeout(),
                )
                self._took(int(created["id"]), sent)
                break
            except AmbiguousWrite:
                held = current(self.client)  # did NetBox commit our POST?
                if held is None:
                    continue
            except NetboxRequestError as exc:
                if not _is_taken(exc):
                    raise
                held = current(self.client)
                if held is None:
                    continue  # released in between: try again
            if held.nonce == self.nonce:  # ours after all (an ambiguous POST that committed)
                self._took(held.id, sent)
                break
            now = self.client.server_now()
            if held.expired(now):
                self._delete(held.id)
                self.broken, self.took_over = held, True
                continue
            if break_lock and force:
                self._delete(held.id)
                self.broken, self.took_over = held, False
                break_lock = False
                continue
            if break_lock:
                raise LockHeld(
                    f"the NetBox apply lock is {held.describe(now)}: its lease is live, so that apply may "
                    "still be running. --break-lock breaks only an expired lease; add --force if you "
                    "know that apply is gone"
                )
            raise LockHeld(
                f"another apply is running: the NetBox lock is {held.describe(now)}; the next apply "
                "after the lease expires takes it over (or, if that apply is gone, run again with "
                "--break-lock --force)"
            )
        else:
            raise LockHeld("could not take the NetBox apply lock (it keeps being re-created)")
        self.client.write_guard = self.check
        if renew:
            self._thread = threading.Thread(target=self._renew_loop, name="zwvl-lock-renewal", daemon=True)
            self._thread.start()

    def _message(self, body: dict[str, Any]) -> dict[str, Any]:
        """The body with the apply's change-log message (the lock's writes are named like the rest)."""
        return self.client._with_message([body])[0]

    def _delete(self, obj_id: int) -> None:
        try:
            self.client.request(
                "DELETE",
                f"{ENDPOINT}/{obj_id}/",
                json=self._message({}) or None,
                guarded=False,
                timeout=self._timeout(),
            )
        except NetboxRequestError as exc:
            if exc.status != 404:  # gone already: someone else broke it, or its holder released it
                raise

    # -------------------------------------------------------------------------------------- lease

    def check(self) -> None:
        """Raise :class:`LockLost` unless this apply may still write (``client.write_guard``)."""
        with self._mutex:
            if self.lost is None and time.monotonic() > self._valid_until - self.margin:
                self.lost = (
                    f"its lease of {self.lease:g} s could not be renewed in time (NetBox unreachable, or "
                    "this process was stalled)"
                )
            lost = self.lost
        if lost is not None:
            raise LockLost(f"this apply lost the NetBox apply lock: {lost}; it stopped writing")

    def renew(self) -> None:
        """Extend the lease once; raises :class:`LockLost` when the lock is no longer ours."""
        if self.id is None:
            raise LockLost("this apply does not hold the lock")
        self.check()
        sent = time.monotonic()
        try:
            self.client.request(
                "PATCH",
                f"{ENDPOINT}/{self.id}/",
                json=self._message({"description": self._description()}),
                objects=1,
                guarded=False,
                timeout=self._timeout(),
            )
        except NetboxRequestError as exc:
            if exc.status != 404:
                raise
            with self._mutex:
                self.lost = "the lock tag was deleted (broken or taken over by another apply)"
            self.check()
        with self._mutex:
            if self.lost is None:
                self._valid_until = max(self._valid_until, sent + self.lease)

    def _renew_loop(self) -> None:
        wait = self.renew_every
        while not self._stop.wait(wait):
            try:
                self.renew()
                wait = self.renew_every
            except LockLost:
                return
            except NetboxError:
                wait = min(self.renew_every, max(0.5, self.lease / 20))  # try again soon

    # ------------------------------------------------------------------------------------ release

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._timeout() * 5)
            self._thread = None
        if self.client.write_guard == self.check:
            self.client.write_guard = None
        if self.id is None:
            return
        try:
            self._delete(self.id)  # by id: a lease taken over meanwhile has another id and stays
        finally:
            self.id = None
