"""The status vocabularies, inventory -> NetBox and back: the import reads what the mapping writes."""

from __future__ import annotations

from typing import get_args

import pytest

from zwvl.model import Status
from zwvl.netbox import vocab

PAIRS = [
    (vocab.SITE_STATUS, vocab.SITE_STATUS_BACK),
    (vocab.DEVICE_STATUS, vocab.DEVICE_STATUS_BACK),
    (vocab.CIRCUIT_STATUS, vocab.CIRCUIT_STATUS_BACK),
    (vocab.PREFIX_STATUS, vocab.PREFIX_STATUS_BACK),
]


@pytest.mark.parametrize(("forward", "back"), PAIRS)
def test_every_status_comes_back_as_it_went(forward: dict[str, str], back: dict[str, str]) -> None:
    assert set(forward) == set(get_args(Status))
    assert {status: back[forward[status]] for status in forward} == {s: s for s in forward}
    assert set(back.values()) <= set(get_args(Status))


def test_a_container_prefix_is_imported_active() -> None:
    assert vocab.PREFIX_STATUS_BACK[vocab.PREFIX_CONTAINER] == "active"
    assert vocab.IP_STATUS is vocab.PREFIX_STATUS
