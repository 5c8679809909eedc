"""The working-day calendar as data: the years it covers and the days that differ from Monday–Friday.

Seeded from chinese-calendar the first time it is read empty (and by the migration), then kept by administrators
(`onewindow calendar set/cover/import/show/due`): each year's holidays are published late in the year before, so
the next year is entered here when it is known. Every process keeps the calendar in memory and reads the table
again when it has changed (checked at most every RELOAD_SECONDS), so an edit reaches the web nodes and workers
without a restart.
"""
from __future__ import annotations

import re
import threading
import time
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Boolean, Date, DateTime, Integer, String, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, utcnow
from ..errors import Invalid
from ..messages import Message
from .workcal import CalendarGap, WorkCalendar, seed_calendar

RELOAD_SECONDS = 30.0


class CalendarDay(Base):
    """A day that is not as Monday–Friday would have it: a holiday on a weekday, a worked weekend day (调休)."""

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(40), default="")  # chinese-calendar, an import file, or a user
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CalendarYear(Base):
    """A year whose holidays have been entered: only such years are counted in working days."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(40), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def seed_rows(cal: WorkCalendar | None = None, source: str = "chinese-calendar") -> tuple[list[dict], list[dict]]:
    cal = cal or seed_calendar()
    now = utcnow()
    years = [{"year": y, "source": source, "updated_at": now} for y in sorted(cal.years)]
    days = [{"day": d, "workday": w, "note": note, "source": source, "updated_at": now}
            for d, (w, note) in sorted(cal.exceptions.items())]
    return years, days


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_days(text: str) -> tuple[date, date]:
    """`2027-02-06` or `2027-02-06..2027-02-12`."""
    first, _, last = str(text).strip().partition("..")
    try:
        a = date.fromisoformat(first.strip()) if _DAY.match(first.strip()) else None
        b = date.fromisoformat(last.strip()) if last and _DAY.match(last.strip()) else (a if not last else None)
    except ValueError:
        a = b = None
    if a is None or b is None:
        raise Invalid(Message(f"日期应为 YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD：{text}",
                              f"days must be YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD: {text}"),
                      {"days": Message("日期格式不正确", "wrong date format")})
    if b < a:
        raise Invalid(Message("结束日期早于开始日期", "the range ends before it starts"),
                      {"days": Message("结束日期早于开始日期", "the range ends before it starts")})
    if (b - a).days > 366:
        raise Invalid(Message("一次最多设置一年", "at most one year at a time"), {"days": Message("范围过大", "too long")})
    return a, b


KINDS = {"holiday": False, "休息": False, "节假日": False, "workday": True, "上班": True, "工作日": True}


def parse_import(text: str) -> tuple[set[int], list[tuple[date, bool, str]]]:
    """An import file: one line per day or range, `DAYS,KIND[,NOTE]` (KIND holiday|workday); `# year 2027` (or any
    day of a year listed) covers that year. Lines starting with # are comments. Every problem is reported at once."""
    years: set[int] = set()
    entries: list[tuple[date, bool, str]] = []
    problems: dict[str, Message] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        m = re.match(r"^#\s*year\s+(\d{4})\s*$", line, re.I)
        if m:
            years.add(int(m.group(1)))
            continue
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in re.split(r"[,\t]", line)]
        if len(parts) < 2 or parts[1] not in KINDS:
            problems[f"line {n}"] = Message(f"第 {n} 行应为 日期,holiday|workday[,说明]",
                                            f"line {n}: expected DAYS,holiday|workday[,note]")
            continue
        try:
            a, b = parse_days(parts[0])
        except Invalid:
            problems[f"line {n}"] = Message(f"第 {n} 行日期格式不正确", f"line {n}: wrong date")
            continue
        day = a
        while day <= b:
            entries.append((day, KINDS[parts[1]], parts[2] if len(parts) > 2 else ""))
            years.add(day.year)
            day += timedelta(days=1)
    if problems:
        raise Invalid(Message("日历文件有误", "the calendar file has errors"), problems)
    if not years:
        raise Invalid(Message("日历文件没有任何日期", "the calendar file names no day"),
                      {"file": Message("文件为空", "empty")})
    return years, entries


class StoredCalendar:
    """The calendar table of one database, cached in this process."""

    def __init__(self, session_factory):
        self.sessions = session_factory
        self._cal: WorkCalendar | None = None
        self._stamp = None
        self._checked = 0.0
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- reading
    def get(self, session=None) -> WorkCalendar:
        """The calendar; re-read when the table changed (checked at most every RELOAD_SECONDS). Inside an action
        pass its session: the table is then read on the action's own connection (a second connection would wait
        for the action's write lock on SQLite)."""
        now = time.monotonic()
        if self._cal is not None and now - self._checked < RELOAD_SECONDS:
            return self._cal
        with self._lock:
            if session is not None:
                self._refresh(session)
            else:
                with _Tx(self.sessions, readonly=True) as s:
                    empty = self._refresh(s, seed=False)
                if empty:
                    with _Tx(self.sessions) as s:
                        self._refresh(s, seed=True)
            self._checked = time.monotonic()
            return self._cal

    def _refresh(self, s, seed: bool = True) -> bool:
        """Re-read the table if it changed; seed an empty one when `seed` (else say it is empty)."""
        stamp = self._stamp_of(s)
        if stamp[0] == 0:
            if not seed:
                self._cal = WorkCalendar()
                return True
            self._seed(s)
            stamp = self._stamp_of(s)
        if self._cal is None or stamp != self._stamp:
            self._cal, self._stamp = self._load(s), stamp
        return False

    def invalidate(self) -> None:
        self._checked = 0.0
        self._stamp = None

    def _session(self):
        return _Tx(self.sessions)

    @staticmethod
    def _stamp_of(s) -> tuple:
        years = s.execute(select(func.count(), func.max(CalendarYear.updated_at))).one()
        days = s.execute(select(func.count(), func.max(CalendarDay.updated_at))).one()
        return (years[0], str(years[1]), days[0], str(days[1]))

    @staticmethod
    def _load(s) -> WorkCalendar:
        years = set(s.scalars(select(CalendarYear.year)).all())
        rows = s.execute(select(CalendarDay.day, CalendarDay.workday, CalendarDay.note)).all()
        return WorkCalendar(years=years, exceptions={d: (bool(w), n or "") for d, w, n in rows})

    def _seed(self, s) -> None:
        years, days = seed_rows()
        try:
            with s.begin_nested():
                s.execute(CalendarYear.__table__.insert(), years)
                s.execute(CalendarDay.__table__.insert(), days)
        except IntegrityError:  # another process seeded it meanwhile
            pass

    # ---------------------------------------------------------------- what administrators do
    def set_days(self, first: date, last: date, workday: bool, note: str = "", by: str = "") -> int:
        """Make every day from `first` to `last` a working day or a day off (rows only where that differs from
        Monday–Friday). Returns the number of days set."""
        now = utcnow()
        with self._session() as s:
            self._ensure(s)
            day, n = first, 0
            while day <= last:
                s.execute(delete(CalendarDay).where(CalendarDay.day == day))
                if workday != (day.weekday() < 5):
                    s.add(CalendarDay(day=day, workday=workday, note=note, source=f"user:{by}" if by else "user",
                                      updated_at=now))
                day += timedelta(days=1)
                n += 1
            self._touch(s, now)
        self.invalidate()
        return n

    def cover(self, year: int, by: str = "", source: str | None = None) -> None:
        """Declare a year complete: the days set in it, Monday–Friday otherwise."""
        with self._session() as s:
            self._ensure(s)
            row = s.get(CalendarYear, year)
            if row is None:
                s.add(CalendarYear(year=year, source=source or (f"user:{by}" if by else "user"), updated_at=utcnow()))
            else:
                row.updated_at = utcnow()
        self.invalidate()

    def import_text(self, text: str, by: str = "", source: str = "import") -> tuple[set[int], int]:
        """Replace the years a file lists with what it says (see parse_import); returns (years, days set)."""
        years, entries = parse_import(text)
        now = utcnow()
        with self._session() as s:
            self._ensure(s)
            for y in years:
                s.execute(delete(CalendarDay).where(CalendarDay.day >= date(y, 1, 1), CalendarDay.day <= date(y, 12, 31)))
                s.execute(delete(CalendarYear).where(CalendarYear.year == y))
                s.add(CalendarYear(year=y, source=source, updated_at=now))
            s.flush()
            written = {}
            for day, workday, note in entries:
                if workday != (day.weekday() < 5):
                    written[day] = CalendarDay(day=day, workday=workday, note=note, source=source, updated_at=now)
            s.add_all(written.values())
        self.invalidate()
        return years, len(entries)

    def _ensure(self, s) -> None:
        if self._stamp_of(s)[0] == 0:
            self._seed(s)

    @staticmethod
    def _touch(s, now) -> None:
        """Mark the calendar changed even when only rows were deleted (the stamp reads the latest year row)."""
        row = s.scalar(select(CalendarYear).order_by(CalendarYear.year.desc()).limit(1))
        if row is not None:
            row.updated_at = now

    def show(self, year: int) -> dict:
        """A year as administrators review it: covered?, its exceptions, its number of working days."""
        cal = self.fresh()
        days = sorted((d, w, n) for d, (w, n) in cal.exceptions.items() if d.year == year)
        out = {"year": year, "covered": year in cal.years, "days": [
            {"day": d.isoformat(), "workday": w, "note": n, "weekday": d.weekday()} for d, w, n in days]}
        if year in cal.years:
            d, total = date(year, 1, 1), 0
            while d.year == year:
                total += cal.is_workday(d)
                d += timedelta(days=1)
            out["workdays"] = total
        out["range"] = [x.isoformat() for x in cal.covered_range()] if cal.covered_range() else None
        return out

    def fresh(self) -> WorkCalendar:
        self.invalidate()
        return self.get()

    def due(self, day: date, n: int) -> date:
        """The nth working day after `day`; CalendarGap when that runs into a year not covered."""
        return self.fresh().nth_workday_after(day, n)


class _Tx:
    """A session in one transaction (committed on success) — what the calendar's reads and edits run in;
    `readonly` takes no write lock on SQLite (see engine.db)."""

    def __init__(self, factory, readonly: bool = False):
        self.factory, self.readonly = factory, readonly

    def __enter__(self):
        bind = self.factory.kw["bind"]
        self.s = self.factory(bind=bind.execution_options(readonly=True)) if self.readonly else self.factory()
        self.s.begin()
        return self.s

    def __exit__(self, exc_type, *_):
        try:
            if exc_type is None:
                self.s.commit()
            else:
                self.s.rollback()
        finally:
            self.s.close()
        return False


def coverage_warning(cal: WorkCalendar, today: date, longest_days: int) -> Message | None:
    """A warning when `today` plus the longest statutory limit (working days) runs past the covered years."""
    try:
        end = cal.nth_workday_after(today, longest_days)
    except CalendarGap as gap:
        return Message(f"工作日历只维护到 {max(cal.years) if cal.years else '—'} 年：今天起最长法定时限 {longest_days} 个工作日"
                       f"将进入未维护的 {gap.year} 年，请录入该年节假日（onewindow calendar import/set）",
                       f"the working-day calendar ends with {max(cal.years) if cal.years else '-'}: today plus the "
                       f"longest statutory limit ({longest_days} working days) runs into {gap.year}, which is not "
                       "covered; enter its holidays (onewindow calendar import/set)")
    del end
    return None


__all__ = ["CalendarDay", "CalendarYear", "StoredCalendar", "CalendarGap", "coverage_warning", "parse_days",
           "parse_import", "seed_rows", "timezone"]
