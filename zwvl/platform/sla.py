"""The uniform SLA set: business-hours arithmetic (as RT's Business::Hours does it) and the name guard.

RT 5.0.3's REST2 accepts an unknown SLA name silently and the ticket then loses its due dates, so
every SLA name is checked here before it reaches RT (`check_sla_name`).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from zwvl.model import Helpdesk, SlaLevel

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class UnknownSlaError(ValueError):
    """An SLA name that is not in the region's uniform SLA set."""


def check_sla_name(helpdesk: Helpdesk, name: str) -> SlaLevel:
    """The SLA level called `name`; raises UnknownSlaError (naming the valid ones) otherwise."""
    for level in helpdesk.sla:
        if level.name == name:
            return level
    valid = ", ".join(level.name for level in helpdesk.sla)
    raise UnknownSlaError(f"unknown SLA {name!r}; the uniform SLA set is: {valid}")


def _hm(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def business_windows(helpdesk: Helpdesk, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
    """Opening and closing time (aware, in the helpdesk's time zone) of `day`, or None when closed."""
    if _WEEKDAYS[day.weekday()] not in helpdesk.business_hours.days:
        return None
    tz = ZoneInfo(helpdesk.timezone)
    start = dt.datetime.combine(day, _hm(helpdesk.business_hours.start), tz)
    end = dt.datetime.combine(day, _hm(helpdesk.business_hours.end), tz)
    return start, end


def add_business_minutes(helpdesk: Helpdesk, start: dt.datetime, minutes: int) -> dt.datetime:
    """`start` plus `minutes` of business time, the way Business::Hours->add_seconds counts it.

    Business hours are half-open [opening, closing): a deadline that would fall exactly on closing
    time rolls over to the next opening, as in RT. A start outside business hours counts from the
    next opening.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    tz = ZoneInfo(helpdesk.timezone)
    remaining = dt.timedelta(minutes=minutes)
    cursor = start.astimezone(tz)
    day = cursor.date()
    for _ in range(400):
        window = business_windows(helpdesk, day)
        if window is not None:
            opening, closing = window
            begin = max(cursor, opening)
            if begin < closing:
                available = closing - begin
                if remaining < available:
                    return begin + remaining
                remaining -= available
        day += dt.timedelta(days=1)
    raise ValueError("no business hours found within 400 days")


def due_dates(helpdesk: Helpdesk, level_name: str, created: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """(acknowledge, resolve) deadlines of a ticket created at `created` under SLA `level_name`."""
    level = check_sla_name(helpdesk, level_name)
    if level.business_hours:
        return (
            add_business_minutes(helpdesk, created, level.acknowledge_minutes),
            add_business_minutes(helpdesk, created, level.resolve_minutes),
        )
    return (
        created + dt.timedelta(minutes=level.acknowledge_minutes),
        created + dt.timedelta(minutes=level.resolve_minutes),
    )
