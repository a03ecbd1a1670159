"""Brussels business-hours arithmetic, the SLA-name guard and the SLA config rendered for RT."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.platform.services import render_sla_config
from zwvl.inventory import Inventory
from zwvl.platform.plan import request_tracker_vars
from zwvl.platform.sla import UnknownSlaError, add_business_minutes, check_sla_name, due_dates

BXL = ZoneInfo("Europe/Brussels")


def at(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BXL)


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        (at(2026, 11, 30, 9, 0), 60, at(2026, 11, 30, 10, 0)),  # Monday inside hours
        (at(2026, 11, 28, 13, 0), 240, at(2026, 11, 30, 12, 30)),  # Saturday: counts from Monday 08:30
        (at(2026, 11, 30, 7, 0), 30, at(2026, 11, 30, 9, 0)),  # before opening
        (at(2026, 11, 30, 16, 30), 60, at(2026, 12, 1, 9, 0)),  # over the evening
        (at(2026, 11, 30, 8, 30), 510, at(2026, 12, 1, 8, 30)),  # a full day lands on the next opening (RT)
        (at(2026, 12, 4, 16, 0), 120, at(2026, 12, 7, 9, 30)),  # Friday to Monday
        (at(2026, 11, 30, 8, 30), 2550, at(2026, 12, 7, 8, 30)),  # five business days
        (at(2026, 3, 27, 16, 0), 120, at(2026, 3, 30, 9, 30)),  # over the switch to summer time
    ],
)
def test_add_business_minutes(
    inventory: Inventory, start: dt.datetime, minutes: int, due: dt.datetime
) -> None:
    assert inventory.helpdesk is not None
    assert add_business_minutes(inventory.helpdesk, start, minutes) == due


def test_due_dates_business_and_real_time(inventory: Inventory) -> None:
    assert inventory.helpdesk is not None
    created = at(2026, 11, 28, 13, 0)  # a Saturday
    assert due_dates(inventory.helpdesk, "P3-normal", created) == (
        at(2026, 11, 30, 12, 30),
        at(2026, 12, 7, 8, 30),
    )
    assert due_dates(inventory.helpdesk, "P1-critical", created) == (
        at(2026, 11, 28, 13, 30),
        at(2026, 11, 28, 17, 0),
    )


def test_unknown_sla_rejected(inventory: Inventory) -> None:
    assert inventory.helpdesk is not None
    assert check_sla_name(inventory.helpdesk, "P2-high").priority == 2
    with pytest.raises(UnknownSlaError, match="P1-critical, P2-high, P3-normal, P4-low"):
        check_sla_name(inventory.helpdesk, "P2-High")


def test_rendered_rt_sla_config(inventory: Inventory) -> None:
    text = render_sla_config(inventory)
    assert "Default => 'P3-normal'" in text and "AssumeOutsideActor => 1" in text
    assert "Set($Timezone, 'Europe/Brussels');" in text
    assert "'P1-critical' => {" in text and "Response => { RealMinutes => 30 }" in text
    assert (
        "Response => { BusinessMinutes => 240 }" in text and "Resolve => { BusinessMinutes => 2550 }" in text
    )
    assert "1 => { Name => 'Monday', Start => '08:30', End => '17:00' }" in text
    assert "6 =>" not in text and "0 =>" not in text  # closed at the weekend
    levels = request_tracker_vars(inventory)["request_tracker_sla_levels"]
    assert isinstance(levels, list) and [lvl["name"] for lvl in levels] == [
        "P1-critical",
        "P2-high",
        "P3-normal",
        "P4-low",
    ]
