"""电子监察 figures: on-time rate, working days used against promised and statutory limits, 即办件 share, 最多跑一次,
volumes, where cases wait, 容缺 and 告知承诺, and the overdue and warning lists — for a period and a department.

Every figure is one aggregate query over the clock rows (engine.supervision.tables), indexed by creation time and
by open status and due date, so a dashboard over hundreds of thousands of cases answers in milliseconds; nothing
loads a workflow or reads an event payload. The same figures feed the supervisor's pages, `GET /api/v1/stats` and
the CSV export. Who may see them is decided here (engine.supervision.access).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Integer, and_, case, cast, func, literal_column, or_, select

from ..clock import as_utc, iso_utc, local_date, zone
from ..db import Case, ProcessVersion, WorkItem
from ..errors import Invalid
from ..messages import Message
from .access import require_supervisor
from .tables import CaseClock, TaskClock

WINDOW_GROUPS = {"front_desk": "综合窗口", "pickup": "出件窗口"}
LIST_LIMIT = 100


@dataclass(frozen=True)
class Filters:
    start: date
    end: date        # inclusive
    department: str = ""

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as UTC instants: from the start of `start` to the end of `end` in the hall's zone."""
        hall = zone()
        return (datetime.combine(self.start, time(), hall).astimezone(timezone.utc),
                datetime.combine(self.end + timedelta(days=1), time(), hall).astimezone(timezone.utc))

    def as_dict(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "department": self.department or None}


def parse_filters(args: dict, today: date, departments: set[str] | None = None) -> Filters:
    """`from`, `to` (YYYY-MM-DD, default the last 30 days) and `department` (a group code); every problem at once."""
    fields: dict[str, Message] = {}

    def day(name: str, default: date) -> date:
        raw = str(args.get(name) or "").strip()
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            fields[name] = Message("日期应为 YYYY-MM-DD", "a date YYYY-MM-DD")
            return default

    end = day("to", today)
    start = day("from", end - timedelta(days=29))
    if not fields and start > end:
        fields["from"] = Message("开始日期晚于结束日期", "the period starts after it ends")
    dept = str(args.get("department") or "").strip()
    if dept and departments is not None and dept not in departments:
        fields["department"] = Message("没有这个部门", "no such department")
    if fields:
        raise Invalid(Message("筛选条件有误", "the filters are not valid"), fields)
    return Filters(start, end, dept)


def _seconds(dialect: str, a, b):
    """Seconds from a to b, in the database's own arithmetic."""
    if dialect == "postgresql":
        return func.extract("epoch", b - a)
    return (func.julianday(b) - func.julianday(a)) * 86400.0


def _day(dialect: str, column):
    """The hall's calendar day of a stored time, as text YYYY-MM-DD."""
    if dialect == "postgresql":
        return func.to_char(func.timezone(zone_name_sql(), column), "YYYY-MM-DD")
    offset = datetime.now(zone()).utcoffset() or timedelta(0)
    return func.strftime("%Y-%m-%d", column, f"{int(offset.total_seconds())} seconds")


def zone_name_sql():
    from ..clock import zone_name

    return literal_column(f"'{zone_name()}'") if _safe_zone(zone_name()) else literal_column("'UTC'")


def _safe_zone(name: str) -> bool:
    return all(c.isalnum() or c in "/_+-" for c in name)


def _rate(part, whole) -> float | None:
    return round(part / whole, 4) if whole else None


def _avg(value) -> float | None:
    return round(float(value), 2) if value is not None else None


def catalogue_names(s) -> tuple[dict, dict]:
    """process id -> {name, department, group} of the latest versions, and group -> department name."""
    latest = select(func.max(ProcessVersion.id)).group_by(ProcessVersion.process_id)
    names, depts = {}, dict(WINDOW_GROUPS)
    for pid, name, meta in s.execute(select(ProcessVersion.process_id, ProcessVersion.name, ProcessVersion.meta)
                                     .where(ProcessVersion.id.in_(latest))).all():
        guide = (json.loads(meta or "{}").get("guide") or {})
        names[pid] = {"name": guide.get("name") or name, "department": guide.get("department") or "",
                      "group": guide.get("group") or ""}
        if guide.get("group") and guide.get("department") and guide.get("kind") != "internal":
            depts.setdefault(guide["group"], guide["department"])
    return names, depts


def departments(services) -> dict[str, str]:
    with services.read() as s:
        return catalogue_names(s)[1]


def figures(services, actor, filters: Filters, now: datetime | None = None) -> dict:
    """Every figure of the dashboard for the period and department (supervisors only)."""
    require_supervisor(actor)
    now = as_utc(now or services.clock())
    with services.read() as s:
        names, depts = catalogue_names(s)
        dialect = s.get_bind().dialect.name
        lo, hi = filters.bounds()
        c = CaseClock
        where = [c.created_at >= lo, c.created_at < hi]
        if filters.department:
            where.append(c.department == filters.department)
        done = c.status == "done"
        open_ = c.status.in_(("open", "paused"))
        one = lambda cond: func.sum(case((cond, 1), else_=0))  # noqa: E731
        row = s.execute(select(
            func.count(), one(c.accepted_at.is_not(None)), one(c.status == "refused"), one(done), one(open_),
            one(and_(done, c.on_time.is_(True))), one(and_(done, c.on_time.is_not(None))),
            one(and_(c.accepted_at.is_not(None), c.handling == "即办件")),
            one(and_(done, c.visits <= 1)), func.sum(case((done, c.visits), else_=0)),
            one(c.deferred.is_(True)), one(c.commitment.is_(True)), func.coalesce(func.sum(c.deemed), 0),
            func.coalesce(func.sum(c.reminders), 0), func.coalesce(func.sum(c.urged), 0),
            one(and_(open_, c.paused_since.is_not(None))), one(and_(open_, c.provisional.is_(True))),
            one(and_(c.status == "open", c.due_at < now)),
            one(and_(c.status == "open", c.due_at >= now, c.warn_at <= now)),
            func.avg(case((done, c.used_workdays))), func.avg(case((done, c.promised_days))),
            func.avg(case((done, c.statutory_days))),
        ).where(*where)).one()
        (total, accepted, refused, n_done, n_open, on_time, timed, immediate, one_visit, visits, deferred, commitment,
         deemed, reminders, urged, paused, provisional, overdue, warning, used, promised, statutory) = row
        summary = {
            "cases": total, "accepted": accepted or 0, "refused": refused or 0, "done": n_done or 0, "open": n_open or 0,
            "on_time_rate": _rate(on_time or 0, timed or 0), "overdue": overdue or 0, "warning": warning or 0,
            "paused": paused or 0, "provisional": provisional or 0,
            "immediate_share": _rate(immediate or 0, accepted or 0),
            "one_visit_rate": _rate(one_visit or 0, n_done or 0),
            "visits_per_case": _rate(visits or 0, n_done or 0), "deferred": deferred or 0, "commitment": commitment or 0,
            "deemed": int(deemed or 0), "reminders": int(reminders or 0), "urged": int(urged or 0),
            "avg_used_workdays": _avg(used), "avg_promised_days": _avg(promised),
            "avg_statutory_days": _avg(statutory)}

        def grouped(key):
            return s.execute(select(
                key, func.count(), one(done), one(and_(done, c.on_time.is_(True))),
                one(and_(done, c.on_time.is_not(None))), func.avg(case((done, c.used_workdays))),
                func.avg(c.promised_days), func.avg(c.statutory_days), one(and_(c.status == "open", c.due_at < now)),
                one(c.deferred.is_(True)), one(c.commitment.is_(True)), func.coalesce(func.sum(c.deemed), 0),
            ).where(*where).group_by(key).order_by(func.count().desc(), key)).all()

        def shaped(k, n, d, ot, timed_, used_, prom, stat, od, dfr, com, dm) -> dict:
            return {"cases": n, "done": d or 0, "on_time_rate": _rate(ot or 0, timed_ or 0),
                    "avg_used_workdays": _avg(used_), "promised_days": _avg(prom), "statutory_days": _avg(stat),
                    "overdue": od or 0, "deferred": dfr or 0, "commitment": com or 0, "deemed": int(dm or 0)}

        by_matter = [dict(shaped(*r), matter=r[0], name=(names.get(r[0]) or {}).get("name") or r[0],
                          department=(names.get(r[0]) or {}).get("department") or "") for r in grouped(c.process_id)]
        by_department = [dict(shaped(*r), department=r[0], name=depts.get(r[0], r[0])) for r in grouped(c.department)]
        by_channel = [{"channel": k, "cases": n} for k, n in s.execute(
            select(c.channel, func.count()).where(*where).group_by(c.channel).order_by(func.count().desc())).all()]
        day = _day(dialect, c.created_at)
        by_day = [{"day": k, "cases": n} for k, n in s.execute(
            select(day, func.count()).where(*where).group_by(day).order_by(day)).all()]

        t = TaskClock
        twhere = [t.created_at >= lo, t.created_at < hi]
        if filters.department:
            twhere.append(t.department == filters.department)
        wait = _seconds(dialect, t.created_at, t.closed_at)
        age = _seconds(dialect, t.created_at, literal_now(dialect, now))
        waits = [{"process_id": pid, "element_id": el, "name": name, "department": dep,
                  "department_name": depts.get(dep, dep), "done": d or 0,
                  "avg_hours": round(float(w) / 3600, 1) if w is not None else None, "open": o or 0,
                  "open_avg_hours": round(float(a) / 3600, 1) if a is not None else None,
                  "overdue_open": od or 0}
                 for pid, el, name, dep, d, w, o, a, od in s.execute(select(
                     t.process_id, t.element_id, t.name, t.department, one(t.closed_at.is_not(None)),
                     func.avg(case((t.closed_at.is_not(None), wait))), one(t.closed_at.is_(None)),
                     func.avg(case((t.closed_at.is_(None), age))), one(and_(t.closed_at.is_(None), t.due_at < now)))
                     .where(*twhere).group_by(t.process_id, t.element_id, t.name, t.department)).all()]
        waits.sort(key=lambda w: -((w["avg_hours"] or 0) * w["done"] + (w["open_avg_hours"] or 0) * w["open"]))
        tdepts = {}
        for w in waits:
            d = tdepts.setdefault(w["department"], {"department": w["department"], "name": w["department_name"],
                                                   "tasks_done": 0, "hours": 0.0, "open": 0, "overdue_open": 0})
            d["tasks_done"] += w["done"]
            d["hours"] += (w["avg_hours"] or 0) * w["done"]
            d["open"] += w["open"]
            d["overdue_open"] += w["overdue_open"]
        task_departments = sorted(({**d, "avg_hours": round(d.pop("hours") / d["tasks_done"], 1) if d["tasks_done"]
                                    else None} for d in tdepts.values()), key=lambda d: -d["tasks_done"])

        lists = {kind: open_cases(s, names, kind, now, filters) for kind in ("overdue", "warning", "paused")}
    return {"filters": filters.as_dict(), "now": iso_utc(now), "summary": summary, "by_matter": by_matter,
            "by_department": by_department, "task_departments": task_departments, "by_channel": by_channel,
            "by_day": by_day, "waits": waits[:20], "lists": lists,
            "calendar": calendar_state(services, names, now)}


def literal_now(dialect: str, now: datetime):
    from sqlalchemy import bindparam, DateTime

    return bindparam("now_at", now, type_=DateTime(timezone=True))


def open_cases(s, names: dict, kind: str, now: datetime, filters: Filters | None = None,
               limit: int = LIST_LIMIT) -> list[dict]:
    """Open cases overdue, in warning or paused (whatever their period: a late case is late), the latest due
    first for overdue ones."""
    c = CaseClock
    cond = {"overdue": and_(c.status == "open", c.due_at < now),
            "warning": and_(c.status == "open", c.due_at >= now, c.warn_at <= now),
            "paused": c.status == "paused"}[kind]
    q = select(c, Case.number, Case.title).join(Case, Case.id == c.case_id).where(cond)
    if filters is not None and filters.department:
        q = q.where(c.department == filters.department)
    q = q.order_by(c.due_at, c.case_id).limit(limit)
    rows = s.execute(q).all()
    groups: dict[int, list[str]] = {}
    if rows:
        for cid, g in s.execute(select(WorkItem.case_id, WorkItem.group_name).where(
                WorkItem.case_id.in_([r[0].case_id for r in rows]))).all():
            groups.setdefault(cid, []).append(g)
    out = []
    for clock, number, title in rows:
        due = as_utc(clock.due_at) if clock.due_at else None
        out.append({"case_id": clock.case_id, "number": number, "title": title, "matter": clock.process_id,
                    "matter_name": (names.get(clock.process_id) or {}).get("name") or title,
                    "department": clock.department, "due": iso_utc(due),
                    "statutory_due": iso_utc(clock.statutory_due_at),
                    "hours_over": round((now - due).total_seconds() / 3600, 1) if due and now > due else 0,
                    "hours_left": round((due - now).total_seconds() / 3600, 1) if due and due > now else 0,
                    "pause_kind": clock.pause_kind or None, "provisional": clock.provisional,
                    "urged": clock.urged, "waiting_at": sorted(set(groups.get(clock.case_id, [])))})
    return out


def calendar_state(services, names: dict | None, now: datetime) -> dict:
    """Whether the working-day calendar reaches far enough: today plus the longest statutory limit."""
    from ..runtime.caltable import coverage_warning

    cal = services.calendar.get()
    longest = 0
    with services.read() as s:
        for (meta,) in s.execute(select(ProcessVersion.meta)).all():
            guide = json.loads(meta or "{}").get("guide") or {}
            longest = max(longest, int(guide.get("statutory_days") or 0))
        flagged = s.scalar(select(func.count()).select_from(CaseClock).where(
            CaseClock.status.in_(("open", "paused")), CaseClock.provisional.is_(True)))
    warning = coverage_warning(cal, local_date(now), longest) if longest else None
    rng = cal.covered_range()
    return {"covered_until": rng[1].isoformat() if rng else None, "longest_statutory_days": longest,
            "warning": str(warning) if warning else None, "warning_en": warning.en if warning else None,
            "provisional_cases": flagged or 0}


def case_clock(services, actor, case_id: int) -> dict | None:
    """One case's clock and its tasks' clocks, for the supervisor's drill-down."""
    require_supervisor(actor)
    from .clocks import case_state, clock_view
    from . import timeliness as T

    now = services.clock()
    with services.read() as s:
        row = s.get(CaseClock, case_id)
        if row is None:
            return None
        tasks = s.scalars(select(TaskClock).where(TaskClock.case_id == case_id)
                          .order_by(TaskClock.created_at, TaskClock.task_id)).all()
        return {"timeliness": case_state(row, now), "due": iso_utc(row.due_at),
                "statutory_due": iso_utc(row.statutory_due_at), **clock_view(row),
                "tasks": [{"task_id": t.task_id, "name": t.name, "group": t.group_name, "created_at": iso_utc(t.created_at),
                           "due": iso_utc(t.due_at), "closed_at": iso_utc(t.closed_at),
                           "hours": round(_span(t.created_at, t.closed_at or now) / 3600, 1),
                           "timeliness": "done" if t.closed_at else T.state(now, t.due_at, t.warn_at,
                                                                               row.paused_since is not None),
                           "late": bool(t.due_at and as_utc(t.closed_at or now) > as_utc(t.due_at))}
                          for t in tasks]}


def _span(a, b) -> float:
    return (as_utc(b) - as_utc(a)).total_seconds()


def csv_rows(data: dict, table: str) -> tuple[list[str], list[list]]:
    """One table of the figures as CSV header and rows (the supervisor's export)."""
    if table == "matters":
        cols = ["matter", "name", "department", "cases", "done", "on_time_rate", "avg_used_workdays", "promised_days",
                "statutory_days", "overdue", "deferred", "commitment", "deemed"]
        return cols, [[m.get(k) for k in cols] for m in data["by_matter"]]
    if table == "departments":
        cols = ["department", "name", "cases", "done", "on_time_rate", "avg_used_workdays", "promised_days",
                "statutory_days", "overdue", "deferred", "commitment", "deemed"]
        return cols, [[m.get(k) for k in cols] for m in data["by_department"]]
    if table == "waits":
        cols = ["process_id", "element_id", "name", "department", "done", "avg_hours", "open", "open_avg_hours",
                "overdue_open"]
        return cols, [[m.get(k) for k in cols] for m in data["waits"]]
    if table in ("overdue", "warning", "paused"):
        cols = ["number", "matter", "matter_name", "department", "due", "statutory_due", "hours_over", "hours_left",
                "pause_kind", "urged", "waiting_at"]
        return cols, [[("|".join(m[k]) if k == "waiting_at" else m.get(k)) for k in cols] for m in data["lists"][table]]
    if table == "days":
        return ["day", "cases"], [[d["day"], d["cases"]] for d in data["by_day"]]
    if table == "summary":
        return ["figure", "value"], [[k, v] for k, v in data["summary"].items()]
    raise Invalid(Message(f"没有这个表：{table}", f"no such table: {table}"),
                  {"table": Message("应为 summary、matters、departments、waits、days、overdue、warning 或 paused",
                                    "one of summary, matters, departments, waits, days, overdue, warning, paused")})


TABLES = ("summary", "matters", "departments", "waits", "days", "overdue", "warning", "paused")
