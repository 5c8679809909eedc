"""Working-day arithmetic with China's statutory holidays and adjusted working weekends (调休)."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import chinese_calendar

from ..clock import zone

CST = timezone(timedelta(hours=8))  # China Standard Time, for callers that name Beijing time explicitly


def is_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # years the package does not know yet: plain weekdays
        return day.weekday() < 5


def add_workdays(start: datetime, days: int) -> datetime:
    """The moment `days` working days after `start`: the end of that day in the hall's zone (engine.clock,
    Beijing time by default), so a due date shown to people reads 23:59 of the right day."""
    hall = zone()
    day = start.astimezone(hall).date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_workday(day):
            remaining -= 1
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=hall).astimezone(timezone.utc)


_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")


def due_from(expr: str | None, start: datetime) -> datetime | None:
    """Interpret a task's due declaration: `P3D` means 3 WORKING days; `PT4H` plain hours."""
    if not expr:
        return None
    m = _DURATION.match(expr.strip().strip("\"'"))
    if not m:
        try:
            return datetime.fromisoformat(expr.strip())
        except ValueError:
            return None
    days, hours, minutes = (int(g) if g else 0 for g in m.groups())
    out = add_workdays(start, days) if days else start
    return out + timedelta(hours=hours, minutes=minutes)
