"""Finished days of supervision figures, rolled up once so a dashboard over months stays fast.

Why days keyed by when things happened: what is created and accepted on a day is known that day, and what is
closed on a day (done, on time, working days used, visits) is known when it closes; neither changes once the day is
over. So each finished day (in the hall's zone) is computed once from the clock rows, by whichever process asks
first, and never again; today is always computed live. Figures for a period then read a few thousand day rows plus
today's cases, whatever the size of the history. (The platform's clock only moves forward.)
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, case, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from ..clock import zone
from .tables import CaseClock, CaseDay, RolledDay, StepDay, TaskClock

CASE_FIELDS = ("created", "accepted", "refused", "immediate", "deferred", "commitment", "closed", "on_time", "timed",
               "used_sum", "used_n", "promised_sum", "statutory_sum", "limits_n", "one_visit", "visits_sum",
               "zero_visit")
STEP_FIELDS = ("done", "seconds", "late")
LOCK_KEY = 13_013  # the advisory lock of the roll-up on PostgreSQL


def bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """From the start of `first` to the end of `last`, hall's zone, as UTC instants."""
    hall = zone()
    return (datetime.combine(first, time(), hall).astimezone(timezone.utc),
            datetime.combine(last + timedelta(days=1), time(), hall).astimezone(timezone.utc))


def seconds_between(dialect: str, a, b):
    if dialect == "postgresql":
        return func.extract("epoch", b - a)
    return (func.julianday(b) - func.julianday(a)) * 86400.0


def case_rows(s, lo: datetime, hi: datetime, department: str = "") -> dict[tuple, dict]:
    """(process, department, channel) -> counters of the cases created, and of those closed, in [lo, hi)."""
    c = CaseClock
    one = lambda cond: func.sum(case((cond, 1), else_=0))  # noqa: E731
    out: dict[tuple, dict] = {}
    keys = (c.process_id, c.department, c.channel)
    where = [c.department == department] if department else []
    for row in s.execute(select(*keys, func.count(), one(c.accepted_at.is_not(None)), one(c.status == "refused"),
                                one(and_(c.accepted_at.is_not(None), c.handling == "即办件")),
                                one(c.deferred.is_(True)), one(c.commitment.is_(True)))
                         .where(c.created_at >= lo, c.created_at < hi, *where).group_by(*keys)).all():
        out[tuple(row[:3])] = dict(zip(CASE_FIELDS[:6], (int(x or 0) for x in row[3:])))
    done = c.status == "done"
    for row in s.execute(select(*keys, func.count(), one(c.on_time.is_(True)), one(c.on_time.is_not(None)),
                                func.sum(c.used_workdays), func.count(c.used_workdays), func.sum(c.promised_days),
                                func.sum(c.statutory_days), func.count(c.promised_days), one(c.visits <= 1),
                                func.sum(c.visits), one(c.visits == 0))
                         .where(done, c.closed_at >= lo, c.closed_at < hi, *where).group_by(*keys)).all():
        entry = out.setdefault(tuple(row[:3]), dict.fromkeys(CASE_FIELDS[:6], 0))
        entry.update(zip(CASE_FIELDS[6:], (int(x or 0) for x in row[3:])))
    for entry in out.values():
        for k in CASE_FIELDS:
            entry.setdefault(k, 0)
    return out


def step_rows(s, lo: datetime, hi: datetime, department: str = "") -> dict[tuple, dict]:
    """(process, element, department) -> {name, done, seconds, late} of the tasks closed in [lo, hi)."""
    t = TaskClock
    dialect = s.get_bind().dialect.name
    keys = (t.process_id, t.element_id, t.department)
    where = [t.department == department] if department else []
    out = {}
    for row in s.execute(select(*keys, func.max(t.name), func.count(),
                                func.sum(seconds_between(dialect, t.created_at, t.closed_at)),
                                func.sum(case((and_(t.due_at.is_not(None), t.closed_at > t.due_at), 1), else_=0)))
                         .where(t.closed_at >= lo, t.closed_at < hi, *where).group_by(*keys)).all():
        out[tuple(row[:3])] = {"name": row[3] or "", "done": int(row[4] or 0), "seconds": int(row[5] or 0),
                               "late": int(row[6] or 0)}
    return out


def roll_up(services, today: date) -> int:
    """Compute every finished day not rolled up yet (before `today`); how many days were written."""
    with services.uow() as s:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        last = s.scalar(select(func.max(RolledDay.day)))
        if last is None:
            first_at = s.scalar(select(func.min(CaseClock.created_at)))
            if first_at is None:
                return 0
            day = _local(first_at)
        else:
            day = last + timedelta(days=1)
        written = 0
        while day < today:
            lo, hi = bounds(day, day)
            cases = [dict(v, day=day, process_id=k[0], department=k[1], channel=k[2])
                     for k, v in case_rows(s, lo, hi).items()]
            steps = [dict(v, day=day, process_id=k[0], element_id=k[1], department=k[2])
                     for k, v in step_rows(s, lo, hi).items()]
            try:
                with s.begin_nested():
                    if cases:
                        s.execute(insert(CaseDay), cases)
                    if steps:
                        s.execute(insert(StepDay), steps)
                    s.execute(insert(RolledDay), [{"day": day}])
            except IntegrityError:  # another process rolled it up meanwhile (SQLite has no advisory lock)
                pass
            written += 1
            day += timedelta(days=1)
        return written


def _local(at: datetime) -> date:
    from ..clock import as_utc

    return as_utc(at).astimezone(zone()).date()


def period_rows(s, first: date, last: date, today: date, department: str = ""):
    """Case and step rows of a period: finished days from the roll-up, today (and any later day) live.
    Returns ([(day or None, key, counters)], {step key: counters})."""
    cases: list[tuple] = []
    steps: dict[tuple, dict] = {}
    end = min(last, today - timedelta(days=1))
    if first <= end:
        cd = CaseDay.__table__.c
        q = select(cd.day, cd.process_id, cd.department, cd.channel, *[cd[k] for k in CASE_FIELDS]) \
            .where(cd.day >= first, cd.day <= end)
        if department:
            q = q.where(cd.department == department)
        for r in s.execute(q).all():
            cases.append((r[0], (r[1], r[2], r[3]), dict(zip(CASE_FIELDS, r[4:]))))
        sd = StepDay.__table__.c
        q = select(sd.process_id, sd.element_id, sd.department, sd.name, sd.done, sd.seconds, sd.late) \
            .where(sd.day >= first, sd.day <= end)
        if department:
            q = q.where(sd.department == department)
        for r in s.execute(q).all():
            _add(steps, (r[0], r[1], r[2]), {"name": r[3], "done": r[4], "seconds": r[5], "late": r[6]})
    if last >= today:
        lo, hi = bounds(max(first, today), last)
        for key, v in case_rows(s, lo, hi, department).items():
            cases.append((today, key, v))
        for key, v in step_rows(s, lo, hi, department).items():
            _add(steps, key, v)
    return cases, steps


def _add(into: dict, key, v: dict) -> None:
    cur = into.get(key)
    if cur is None:
        into[key] = dict(v)
        return
    for k in STEP_FIELDS:
        cur[k] += v[k]
