"""限时办结: the clocks of cases and tasks, kept as events are appended (engine.supervision.tables).

A case's clock starts when it is accepted (the intake's `intake_accepted`; at its start for a process without the
window rules): due = the guide's promised working days from acceptance, the statutory due beside it. It stops while
the applicant corrects the application (补正: `clock_paused`/`clock_resumed`, implied by the review and correction
rules) and during a 特别程序 (hearing, testing, expert review: `procedure_started`/`procedure_ended`, acts of the
department); the working days it stood still extend both due dates. A task's due is its `dueDate`, else the
department's share of the member's promised days. Dates past the calendar's covered years are counted Monday–Friday
and flagged `provisional`, never silently: `recompute` counts them again once the year is entered.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select, update

from ..clock import as_utc, iso_utc, local_date
from ..db import WorkItem
from ..model.durations import Duration
from ..model.rulecheck import uses_window_rules
from ..runtime.hotsql import LISTENERS, Prepared, hot
from ..runtime.workcal import WorkCalendar, deadline_from
from . import timeliness as T
from .tables import CaseClock, TaskClock

PAUSING = {"clock_paused": "clock_resumed", "procedure_started": "procedure_ended"}
RESUMING = {v: k for k, v in PAUSING.items()}
COUNTERS = {"deemed_approved": "deemed", "reminder_sent": "reminders", "case_urged": "urged"}


def department_of(group: str) -> str:
    """A task's department: its group without the level suffix (market_lead -> market)."""
    for suffix in ("_lead", "_head"):
        if group.endswith(suffix):
            return group[: -len(suffix)]
    return group


def member_days(guide: dict, member: str | None) -> int | None:
    """The promised working days of one member of a case (a bundle's member guides carry their own)."""
    info = (guide.get("member_guides") or {}).get(member or "") or {}
    days = info.get("promised_days")
    return days if days is not None else guide.get("promised_days")


def share_days(guide: dict, props: dict) -> int | None:
    """The department's share of a member's promised days for a task that declares no dueDate: the first review
    level gets what the upper levels (a day each) leave, 即办 the same day; None for other tasks."""
    rule = props.get("rule")
    if rule == "on_spot":
        return 0
    if rule != "review":
        return None
    days = member_days(guide, props.get("member"))
    if days is None:
        return None
    try:
        level, levels = int(props.get("level") or 1), int(props.get("levels") or props.get("level") or 1)
    except ValueError:
        return None
    return max(days - levels + 1, 1) if level == 1 else 1


def _statements() -> dict:
    t, c = TaskClock.__table__, CaseClock.__table__
    return {"insert_task_clock": insert(t).values({col.name: bindparam(col.name) for col in t.c}),
            "close_task_clock": update(t).where(t.c.task_id == bindparam("k_id"), t.c.closed_at.is_(None))
            .values(closed_at=bindparam("closed_at")),
            "insert_case_clock": insert(c).values({col.name: bindparam(col.name) for col in c.c})}


_PREPARED: dict[str, dict] = {}


def _many(s, name: str, rows: list[dict]) -> None:
    """A write of every step, as the service layer's own (engine.runtime.hotsql): prepared once per dialect, run
    on the action's connection without SQLAlchemy's per-statement bookkeeping."""
    if not rows:
        return
    h = hot(s)
    dialect = s.get_bind().dialect
    stmts = _PREPARED.get(dialect.name)
    if stmts is None:
        stmts = _PREPARED[dialect.name] = {n: Prepared(n, st, dialect) for n, st in _statements().items()}
    st = stmts[name]
    cur = h.driver.cursor()
    cur.executemany(st.sql, [st.params(r) for r in rows])
    for listener in LISTENERS:
        listener(st.sql, len(rows))


class Limits:
    """The clocks of one service layer's cases; installed as `services.limits` and as an observer of events."""

    def __init__(self, services):
        self.sv = services

    def calendar(self, s) -> WorkCalendar:
        return self.sv.calendar.get(s)

    def _guide(self, s, case) -> dict:
        return self.sv.guide(self.sv.version(s, case.version_id))

    # ---------------------------------------------------------------- tasks (from the open-task index)
    def task_due(self, s, case, task, meta, now: datetime) -> datetime | None:
        cal, props = self.calendar(s), meta.properties
        if meta.due:
            found = deadline_from(meta.due, now, cal, props.get("calendar") == "natural")
            return found.at if found is not None else None
        days = share_days(self._guide(s, case), props)
        return cal.deadline(now, Duration(days=days)).at if days is not None else None

    def tasks_opened(self, s, case, rows: list[dict], now: datetime) -> None:
        cal = self.calendar(s)
        _many(s, "insert_task_clock", [dict(
            task_id=r["id"], case_id=case.id, process_id=r["process_id"], element_id=r["element_id"], name=r["name"],
            group_name=r["group_name"], department=department_of(r["group_name"]), created_at=now,
            due_at=r["due_at"], warn_at=T.warn_at(now, r["due_at"]),
            provisional=bool(r["due_at"] and not cal.covers(local_date(r["due_at"]))), closed_at=None)
            for r in rows])

    def tasks_closed(self, s, case, ids: list[str], now: datetime) -> None:
        _many(s, "close_task_clock", [{"k_id": i, "closed_at": now} for i in ids])

    # ---------------------------------------------------------------- cases (from the events)
    def observe(self, s, case, type_: str, payload: dict, at: datetime, actor, group, task_id, element_id) -> None:
        if type_ == "case_started":
            self._start(s, case, payload, at)
        elif type_ == "intake_accepted":
            self._accept(s, case, payload, at)
        elif type_ == "intake_refused":
            self._set(s, case.id, status="refused", closed_at=at, visits=case.visits or 0)
        elif type_ in PAUSING:
            self._pause(s, case.id, _kind(type_, payload), at)
        elif type_ in RESUMING:
            self._resume(s, case, _kind(RESUMING[type_], payload), at)
        elif type_ == "case_completed":
            self._close(s, case, at)
        elif type_ in COUNTERS:
            col = getattr(CaseClock, COUNTERS[type_])
            s.execute(update(CaseClock).where(CaseClock.case_id == case.id).values({col: col + 1}))

    def _set(self, s, case_id: int, **values) -> None:
        s.execute(update(CaseClock).where(CaseClock.case_id == case_id).values(**values))

    def _row(self, s, case_id: int):
        return s.execute(select(CaseClock).where(CaseClock.case_id == case_id)).scalar_one_or_none()

    def _start(self, s, case, payload: dict, at: datetime) -> None:
        guide = self._guide(s, case)
        row = {col.name: None for col in CaseClock.__table__.c}
        row.update(case_id=case.id, process_id=case.process_id, department=guide.get("group") or "",
                   channel=payload.get("channel") or "window", handling=guide.get("handling") or "", status="open",
                   created_at=at, promised_days=guide.get("promised_days"), statutory_days=guide.get("statutory_days"),
                   provisional=False, pause_kind="", paused_workdays=0, pauses=0, deferred=False, commitment=False,
                   deemed=0, reminders=0, urged=0, visits=case.visits or 0)
        _many(s, "insert_case_clock", [row])
        if self.sv.rules is None or not uses_window_rules(guide):  # no intake: the clock runs from the start
            self._accept(s, case, {}, at)

    def _accept(self, s, case, payload: dict, at: datetime) -> None:
        guide = self._guide(s, case)  # the limits the clock was started with (no need to read the row back)
        values = dict(accepted_at=at, deferred=bool(payload.get("owed")), commitment=bool(payload.get("commitment")))
        values.update(self.dues(self.calendar(s), at, guide.get("promised_days"), guide.get("statutory_days"), 0))
        self._set(s, case.id, **values)

    @staticmethod
    def dues(cal: WorkCalendar, accepted: datetime, promised, statutory, paused: int) -> dict:
        """Due dates from acceptance, extended by the working days the clock stood still."""
        out = {"due_at": None, "statutory_due_at": None, "warn_at": None, "provisional": False}
        if promised is not None:
            d = cal.deadline(accepted, Duration(days=int(promised) + paused))
            out.update(due_at=d.at, warn_at=T.warn_at(accepted, d.at), provisional=d.provisional)
        if statutory is not None:
            d = cal.deadline(accepted, Duration(days=int(statutory) + paused))
            out.update(statutory_due_at=d.at, provisional=out["provisional"] or d.provisional)
        return out

    def _pause(self, s, case_id: int, kind: str, at: datetime) -> None:
        row = self._row(s, case_id)
        if row is None or row.status in ("done", "refused"):
            return
        kinds = [k for k in row.pause_kind.split(",") if k] + [kind]
        self._set(s, case_id, status="paused", paused_since=row.paused_since or at, pause_kind=",".join(kinds),
                  pauses=row.pauses + 1)

    def _resume(self, s, case, kind: str, at: datetime) -> None:
        row = self._row(s, case.id)
        if row is None or row.paused_since is None:
            return
        kinds = [k for k in row.pause_kind.split(",") if k]
        if kind in kinds:
            kinds.remove(kind)
        if kinds:  # another pause is still open
            self._set(s, case.id, pause_kind=",".join(kinds))
            return
        cal = self.calendar(s)
        gaps: list[int] = []
        stood = cal.workdays_between(as_utc(row.paused_since), at, gaps)
        paused = row.paused_workdays + stood
        values = dict(status="open", paused_since=None, pause_kind="", paused_workdays=paused)
        if row.accepted_at is not None:
            values.update(self.dues(cal, as_utc(row.accepted_at), row.promised_days, row.statutory_days, paused))
        self._set(s, case.id, **values)
        if stood:
            self._extend_tasks(s, case.id, stood, cal)

    def _extend_tasks(self, s, case_id: int, days: int, cal: WorkCalendar) -> None:
        """Open tasks of a case that stood still get the working days back (a 特别程序 while a review is open)."""
        rows = s.execute(select(TaskClock).where(TaskClock.case_id == case_id, TaskClock.closed_at.is_(None),
                                                 TaskClock.due_at.is_not(None))).scalars().all()
        for r in rows:
            due = cal.deadline(as_utc(r.due_at), Duration(days=days))
            r.due_at, r.warn_at, r.provisional = due.at, T.warn_at(r.created_at, due.at), due.provisional
            s.execute(update(WorkItem).where(WorkItem.id == r.task_id).values(due_at=due.at))

    def _close(self, s, case, at: datetime) -> None:
        row = self._row(s, case.id)
        if row is None or row.status == "refused":
            return
        values = dict(status="done", closed_at=at, visits=case.visits or 0)
        if row.accepted_at is not None:
            cal = self.calendar(s)
            used = cal.workdays_between(as_utc(row.accepted_at), at, []) - row.paused_workdays
            values.update(used_workdays=max(used, 0),
                          on_time=as_utc(at) <= as_utc(row.due_at) if row.due_at is not None else None)
        self._set(s, case.id, **values)

    # ---------------------------------------------------------------- what pages and the API show
    def view(self, s, case, tasks: list[dict], now: datetime) -> dict:
        row = self._row(s, case.id)
        paused = row is not None and row.paused_since is not None
        for t in tasks:
            due = _parse(t.get("due"))
            t["timeliness"] = T.state(now, due, T.warn_at(_parse(t.get("created_at")), due), paused)
        if row is None:
            return {"due": None, "statutory_due": None, "timeliness": "done" if case.status == "completed" else "normal",
                    "clock": None}
        return {"due": iso_utc(row.due_at), "statutory_due": iso_utc(row.statutory_due_at),
                "timeliness": case_state(row, now), "clock": clock_view(row)}

    def annotate(self, tasks: list[dict], now: datetime | None = None) -> list[dict]:
        """Give each task of an inbox its state (paused when its case is paused), in place."""
        now = now or self.sv.clock()
        ids = sorted({t["case_id"] for t in tasks})
        paused = set()
        if ids:
            with self.sv.read() as s:
                for chunk in range(0, len(ids), 500):
                    paused |= set(s.scalars(select(CaseClock.case_id).where(
                        CaseClock.case_id.in_(ids[chunk:chunk + 500]), CaseClock.paused_since.is_not(None))).all())
        for t in tasks:
            due, created = _parse(t.get("due")), _parse(t.get("created_at"))
            t["timeliness"] = T.state(now, due, T.warn_at(created, due), t["case_id"] in paused)
        return tasks

    def recompute(self) -> int:
        """Count the due dates of open cases and tasks again (after the calendar changed); how many changed."""
        changed = 0
        with self.sv.uow() as s:
            cal = self.calendar(s)
            for row in s.scalars(select(CaseClock).where(CaseClock.status.in_(("open", "paused")),
                                                         CaseClock.accepted_at.is_not(None))).all():
                values = self.dues(cal, as_utc(row.accepted_at), row.promised_days, row.statutory_days,
                                   row.paused_workdays)
                if any(_differs(getattr(row, k), v) for k, v in values.items()):
                    for k, v in values.items():
                        setattr(row, k, v)
                    changed += 1
        return changed


def _differs(a, b) -> bool:
    if isinstance(a, datetime) or isinstance(b, datetime):
        return (as_utc(a) if a else None) != (as_utc(b) if b else None)
    return a != b


def _kind(pause_type: str, payload: dict) -> str:
    """How a pause is kept in `pause_kind`: `correction` (补正), `proc:<kind>` (a 特别程序: timers wait too)."""
    if pause_type == "procedure_started":
        return f"proc:{payload.get('kind') or 'other'}"
    return "correction"


def timers_wait(case_id_column):
    """A case's timers wait while a 特别程序 is open (its time does not count); a condition for the timer worker."""
    return select(CaseClock.case_id).where(CaseClock.case_id == case_id_column,
                                           CaseClock.pause_kind.like("%proc:%")).exists()


def _parse(value):
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    return as_utc(datetime.fromisoformat(str(value)))


def case_state(row, now: datetime) -> str:
    return T.state(now, row.due_at, row.warn_at, paused=row.paused_since is not None,
                   done=row.status in ("done", "refused"))


def clock_view(row) -> dict:
    return {"accepted_at": iso_utc(row.accepted_at), "promised_days": row.promised_days,
            "statutory_days": row.statutory_days, "warn_at": iso_utc(row.warn_at), "provisional": row.provisional,
            "paused_since": iso_utc(row.paused_since), "pause_kind": row.pause_kind or None,
            "paused_workdays": row.paused_workdays, "closed_at": iso_utc(row.closed_at),
            "used_workdays": row.used_workdays, "on_time": row.on_time}


def install(services) -> Limits:
    """Give a service layer its clocks and notices (as the window rules are given: by the wiring)."""
    from . import notices

    limits = Limits(services)
    services.limits = limits
    services.observers += [limits.observe, notices.observe]
    services.timer_holds.append(timers_wait)
    return limits
