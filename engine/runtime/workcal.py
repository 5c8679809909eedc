"""Working-day arithmetic on a calendar that is data: China's statutory holidays and adjusted working weekends (调休).

A `WorkCalendar` holds the years it covers and, within them, the days that differ from Monday–Friday (a holiday on a
weekday, a worked weekend day). The platform keeps it in the database (engine.runtime.caltable), seeded from
chinese-calendar and edited by administrators, because the State Council publishes each year's holidays only in
the November before: a year nobody has entered is not known, and counting it as Monday–Friday would silently turn
the Spring Festival into working days. So a day outside the covered years raises `CalendarGap` naming the year;
callers that must not fail (a case is accepted whatever the calendar says) ask for a `Deadline`, which then says it
is provisional (counted Monday–Friday past the covered range) so the case is flagged, never silently wrong.
"""
from __future__ import annotations

import calendar as _months
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from ..clock import zone
from ..messages import Message
from ..model.durations import Duration, DurationError, parse_limit

CST = timezone(timedelta(hours=8))  # China Standard Time, for callers that name Beijing time explicitly


class CalendarGap(Exception):
    """A day of a year the working-day calendar does not cover."""

    def __init__(self, year: int):
        self.year = year
        self.message = Message(f"{year} 年的工作日历尚未维护（法定节假日未录入），无法计算工作日",
                               f"the working-day calendar does not cover {year}: enter its holidays "
                               f"(onewindow calendar set/import) before counting working days in it")
        super().__init__(self.message.en)


@dataclass
class WorkCalendar:
    """Covered years and, within them, the days that are not as Monday–Friday would have them."""

    years: set[int] = field(default_factory=set)
    exceptions: dict[date, tuple[bool, str]] = field(default_factory=dict)  # day -> (working?, note)

    def covers(self, day: date) -> bool:
        return day.year in self.years

    def is_workday(self, day: date) -> bool:
        if day.year not in self.years:
            raise CalendarGap(day.year)
        exc = self.exceptions.get(day)
        return exc[0] if exc is not None else day.weekday() < 5

    def _workday(self, day: date, gaps: list[int]) -> bool:
        """As is_workday, but past the covered years count Monday–Friday and note the year in `gaps`."""
        if day.year not in self.years:
            if day.year not in gaps:
                gaps.append(day.year)
            return day.weekday() < 5
        exc = self.exceptions.get(day)
        return exc[0] if exc is not None else day.weekday() < 5

    def covered_range(self) -> tuple[date, date] | None:
        """First and last day of the longest run of covered years ending at the latest covered one."""
        if not self.years:
            return None
        last = max(self.years)
        first = last
        while first - 1 in self.years:
            first -= 1
        return date(first, 1, 1), date(last, 12, 31)

    # ---------------------------------------------------------------- counting
    def nth_workday_after(self, day: date, n: int, gaps: list[int] | None = None) -> date:
        """The nth working day after `day` (n=0: `day` itself). Strict (CalendarGap) unless `gaps` collects years."""
        check = self.is_workday if gaps is None else (lambda d: self._workday(d, gaps))
        remaining = n
        while remaining > 0:
            day += timedelta(days=1)
            if check(day):
                remaining -= 1
        return day

    def workdays_between(self, start: datetime, end: datetime, gaps: list[int] | None = None) -> int:
        """Working days from the day after `start` to the day of `end` (hall's zone): the working days a case used
        when accepted at `start` and finished at `end` (the acceptance day itself is not counted, as in a limit)."""
        hall = zone()
        a, b = start.astimezone(hall).date(), end.astimezone(hall).date()
        check = self.is_workday if gaps is None else (lambda d: self._workday(d, gaps))
        n, day = 0, a
        while day < b:
            day += timedelta(days=1)
            if check(day):
                n += 1
        return n

    def add_workdays(self, start: datetime, days: int, gaps: list[int] | None = None) -> datetime:
        """The moment `days` working days after `start`: the end of that day in the hall's zone (engine.clock,
        Beijing time by default), so a due date shown to people reads 23:59 of the right day."""
        hall = zone()
        day = self.nth_workday_after(start.astimezone(hall).date(), days, gaps)
        return _end_of(day, hall)

    def add_natural_days(self, start: datetime, days: int, gaps: list[int] | None = None) -> datetime:
        """`days` calendar days after `start`, to the end of that day; a limit whose last day is not a working day
        ends with the next working day (期间届满的最后一日是法定休假日的，以休假日结束的次日为期间的最后一日)."""
        hall = zone()
        day = start.astimezone(hall).date() + timedelta(days=days)
        check = self.is_workday if gaps is None else (lambda d: self._workday(d, gaps))
        while not check(day):
            day += timedelta(days=1)
        return _end_of(day, hall)

    def deadline(self, start: datetime, limit: Duration, natural: bool = False) -> "Deadline":
        """When a limit counted from `start` runs out; provisional (with the uncovered years) past the calendar.
        Months and years are calendar months; then days in the limit's calendar; then clock time."""
        gaps: list[int] = []
        at = start.astimezone(zone())
        if limit.years or limit.months:
            at = _add_months(at, limit.years * 12 + limit.months)
        if natural or (limit.has_date_part and not limit.working_days()):
            if limit.has_date_part:
                at = self.add_natural_days(at, limit.natural_days() if natural else 0, gaps)
        elif limit.working_days():
            at = self.add_workdays(at, limit.working_days(), gaps)
        at = at + timedelta(hours=limit.hours, minutes=limit.minutes, seconds=limit.seconds)
        return Deadline(at.astimezone(timezone.utc), tuple(gaps))


@dataclass(frozen=True)
class Deadline:
    at: datetime
    gaps: tuple[int, ...] = ()  # years counted Monday–Friday because the calendar does not cover them

    @property
    def provisional(self) -> bool:
        return bool(self.gaps)


def _end_of(day: date, tz) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=tz).astimezone(timezone.utc)


def _add_months(at: datetime, months: int) -> datetime:
    idx = at.month - 1 + months
    year, month = at.year + idx // 12, idx % 12 + 1
    day = min(at.day, _months.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)


# ---------------------------------------------------------------- the seed
def seed_calendar() -> WorkCalendar:
    """The years chinese-calendar knows, as a WorkCalendar (what the table is seeded from)."""
    import chinese_calendar
    from chinese_calendar import constants

    years = {d.year for d in constants.holidays} | {d.year for d in constants.workdays}
    exceptions: dict[date, tuple[bool, str]] = {}
    for day, name in constants.holidays.items():
        if day.weekday() < 5:
            exceptions[day] = (False, _holiday_zh(name))
    for day, name in constants.workdays.items():
        if day.weekday() >= 5:
            exceptions[day] = (True, f"{_holiday_zh(name)}调休上班")
    del chinese_calendar
    return WorkCalendar(years=set(range(min(years), max(years) + 1)), exceptions=exceptions)


def _holiday_zh(english: str) -> str:
    from chinese_calendar.constants import Holiday

    for h in Holiday:
        if h.value == english:
            return h.chinese
    return english


_SEED: WorkCalendar | None = None


def default_calendar() -> WorkCalendar:
    """The seed calendar, for code that runs without a database (pure functions, `onewindow check`)."""
    global _SEED
    if _SEED is None:
        _SEED = seed_calendar()
    return _SEED


# ---------------------------------------------------------------- the functions older callers use
def is_workday(day: date, cal: WorkCalendar | None = None) -> bool:
    return (cal or default_calendar()).is_workday(day)


def add_workdays(start: datetime, days: int, cal: WorkCalendar | None = None) -> datetime:
    return (cal or default_calendar()).add_workdays(start, days)


def due_from(expr: str | None, start: datetime, cal: WorkCalendar | None = None,
             natural: bool = False) -> datetime | None:
    """A task's due declaration from `start`: `P3D` is 3 WORKING days (or calendar days with `natural`), `PT4H`
    clock hours, a date-time itself. None for no declaration or one `onewindow check` refuses; past the calendar
    the date is provisional (Monday–Friday), see `deadline_from`."""
    found = deadline_from(expr, start, cal, natural)
    return found.at if found is not None else None


def deadline_from(expr: str | None, start: datetime, cal: WorkCalendar | None = None,
                  natural: bool = False) -> Deadline | None:
    if not expr:
        return None
    try:
        limit = parse_limit(expr)
    except DurationError:
        return None
    if isinstance(limit, datetime):
        at = limit if limit.tzinfo else limit.replace(tzinfo=zone())
        return Deadline(at.astimezone(timezone.utc))
    return (cal or default_calendar()).deadline(start, limit, natural)
