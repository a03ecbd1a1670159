"""The flock shared by the local NetBox, the lab and the platform image build."""

from __future__ import annotations

from pathlib import Path

import pytest

from zwvl.filelock import file_lock


class Busy(RuntimeError):
    pass


def test_second_holder_waits_then_gets_the_timeout_error(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "x.lock"
    waited: list[str] = []
    # flock is per open file: a second open of the same file conflicts, as another process would
    with (
        file_lock(path, 5, Busy("outer")),
        pytest.raises(Busy, match="inner"),
        file_lock(path, 0.3, Busy("inner"), lambda: waited.append("w"), 0.05),
    ):
        pass  # pragma: no cover - never entered
    assert waited == ["w"]  # told once, not once per poll
    with file_lock(path, 0.3, Busy("after")):  # released by the outer holder
        pass


def test_released_when_the_body_raises(tmp_path: Path) -> None:
    path = tmp_path / "y.lock"
    with pytest.raises(ValueError), file_lock(path, 1, Busy("first")):
        raise ValueError("boom")
    with file_lock(path, 0.2, Busy("second")):
        pass
