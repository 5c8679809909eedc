"""Time limits count WORKING days: China's statutory holidays and the adjusted working weekends (调休)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from engine.runtime.workcal import CST, add_workdays, due_from, is_workday


def test_holidays_and_adjusted_weekends():
    assert not is_workday(date(2026, 10, 1))  # National Day
    assert is_workday(date(2026, 10, 10))     # a Saturday worked in exchange (调休)
    assert is_workday(date(2026, 9, 30)) and not is_workday(date(2026, 9, 26))  # plain weekday / weekend


def test_three_working_days_across_national_day():
    start = datetime(2026, 9, 30, 10, 0, tzinfo=CST)  # Wednesday before the holiday
    due = add_workdays(start, 3).astimezone(CST)
    # Oct 1-7 are holidays: the three working days are Oct 8 (Thu), Oct 9 (Fri), Oct 10 (the adjusted Saturday)
    assert due.date() == date(2026, 10, 10) and (due.hour, due.minute) == (23, 59)


def test_due_declarations():
    start = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # Friday 10:00 in Beijing
    assert due_from("P1D", start).astimezone(CST).date() == date(2026, 11, 23)  # the next working day is Monday
    assert due_from("PT4H", start) == start + timedelta(hours=4)                # clock hours stay clock hours
    assert due_from(None, start) is None and due_from("not a duration", start) is None
