"""Exclusive locks between zwvl processes on this machine (flock on a file), waited for a bounded time."""

from __future__ import annotations

import errno
import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def file_lock(
    path: Path,
    timeout: float,
    timed_out: Exception,
    waiting: Callable[[], None] | None = None,
    poll: float = 0.2,
) -> Iterator[None]:
    """Hold an exclusive flock on ``path``; raise ``timed_out`` after ``timeout`` seconds of waiting.

    ``waiting`` is called once when another process holds the lock, so a long wait is explained.
    The kernel drops the lock when the holder dies, so a killed process never leaves it stale.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if time.monotonic() > deadline:
                raise timed_out
            if waiting is not None and not told:
                waiting()
                told = True
            time.sleep(poll)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
