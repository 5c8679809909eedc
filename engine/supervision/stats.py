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

from sqlalchemy import and_, case, func, or_, select

from ..clock import as_utc, iso_utc, local_date, zone
from ..db import Case, Hall, ProcessVersion, WorkItem
from ..errors import Invalid
from ..messages import Message
from .access import require_supervisor
from . import rollups
from ..runtime.ratings import counts as rating_counts
from .tables import CaseClock, Notice, TaskClock

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


def _rate(part, whole) -> float | None:
    return round(part / whole, 4) if whole else None


def _avg(value) -> float | None:
    return round(float(value), 2) if value is not None else None


_GUIDES: dict = {}


def latest_guides(s) -> dict[str, dict]:
    """process id -> the guide (and name) of its latest version; parsed once per set of versions."""
    latest = select(func.max(ProcessVersion.id)).group_by(ProcessVersion.process_id)
    ids = tuple(sorted(s.scalars(latest).all()))
    url = str(s.get_bind().url)
    cached = _GUIDES.get(url)
    if cached is None or cached[0] != ids:
        guides = {}
        for pid, name, meta in s.execute(select(ProcessVersion.process_id, ProcessVersion.name, ProcessVersion.meta)
                                         .where(ProcessVersion.id.in_(ids))).all():
            guides[pid] = dict(json.loads(meta or "{}").get("guide") or {}, _name=name)
        cached = _GUIDES[url] = (ids, guides)
    return cached[1]


def catalogue_names(s) -> tuple[dict, dict]:
    """process id -> {name, department, group} of the latest versions, and group -> department name."""
    names, depts = {}, dict(WINDOW_GROUPS)
    for pid, guide in latest_guides(s).items():
        names[pid] = {"name": guide.get("name") or guide["_name"], "department": guide.get("department") or "",
                      "group": guide.get("group") or ""}
        if guide.get("group") and guide.get("department") and guide.get("kind") != "internal":
            depts.setdefault(guide["group"], guide["department"])
    return names, depts


def departments(services) -> dict[str, str]:
    with services.read() as s:
        return catalogue_names(s)[1]


def figures(services, actor, filters: Filters, now: datetime | None = None) -> dict:
    """Every figure of the dashboard for the period and department (supervisors only).

    Counted by the day things happened (engine.supervision.rollups): cases created (volumes, acceptance, 容缺,
    告知承诺, 即办件) on the days of the period; cases closed (on-time rate, working days used, visits) and steps
    finished (where cases wait) on those days; 超时默认, 催办 and 督办 notices sent on those days. What is open now
    (overdue, warning, paused, tasks waiting) is the state at `now`, whatever the period."""
    require_supervisor(actor)
    now = as_utc(now or services.clock())
    today = local_date(now)
    rollups.roll_up(services, today)
    with services.read() as s:
        names, depts = catalogue_names(s)
        dialect = s.get_bind().dialect.name
        dept = filters.department
        rows, steps = rollups.period_rows(s, filters.start, filters.end, today, dept)
        total = _sum(v for _, _, v in rows)
        live = open_counts(s, now, dept)
        counted = notice_counts(s, filters, dept)
        guides = latest_guides(s)
        negative = {pid for pid, g in guides.items() if g.get("negative_list")}
        # 最多跑一次 is promised for every matter but those on the 负面清单: theirs are counted apart
        promised = _sum(v for _, key, v in rows if key[0] not in negative)
        listed = _sum(v for _, key, v in rows if key[0] in negative)
        served = _sum(v for _, key, v in rows if key[2] != "internal")
        summary = {
            "cases": total["created"], "accepted": total["accepted"], "refused": total["refused"],
            "done": total["closed"], "open": live["open"]["all"],
            "on_time_rate": _rate(total["on_time"], total["timed"]), "overdue": live["overdue"]["all"],
            "warning": live["warning"]["all"], "paused": live["paused"]["all"],
            "provisional": live["provisional"]["all"],
            "immediate_share": _rate(total["immediate"], total["accepted"]),
            "one_visit_rate": _rate(promised["one_visit"], promised["closed"]),
            "visits_per_case": _rate(promised["visits_sum"], promised["closed"]),
            # 零跑腿: every applicant's finished case counts (a 负面清单 matter may still be done with no visit);
            # the platform's internal cases (差评整改) are nobody's application
            "zero_visit": served["zero_visit"], "zero_visit_rate": _rate(served["zero_visit"], served["closed"]),
            "online_cases": sum(v["created"] for _, key, v in rows if key[2] == "online"),
            "deferred": total["deferred"], "commitment": total["commitment"],
            "deemed": counted.get("deemed", 0), "reminders": counted.get("remind", 0),
            "urged": counted.get("urge", 0),
            "avg_used_workdays": _avg_of(total["used_sum"], total["used_n"]),
            "avg_promised_days": _avg_of(total["promised_sum"], total["limits_n"]),
            "avg_statutory_days": _avg_of(total["statutory_sum"], total["limits_n"])}

        def grouped(index: int, live_key: str) -> list[tuple[str, dict, int]]:
            groups: dict[str, list] = {}
            for _, key, v in rows:
                groups.setdefault(key[index], []).append(v)
            out = [(k, _sum(vs), live["overdue"].get((live_key, k), 0)) for k, vs in groups.items()]
            return sorted(out, key=lambda x: (-x[1]["created"], x[0]))

        def shaped(v: dict, overdue: int) -> dict:
            return {"cases": v["created"], "done": v["closed"], "on_time_rate": _rate(v["on_time"], v["timed"]),
                    "avg_used_workdays": _avg_of(v["used_sum"], v["used_n"]),
                    "promised_days": _avg_of(v["promised_sum"], v["limits_n"]),
                    "statutory_days": _avg_of(v["statutory_sum"], v["limits_n"]), "overdue": overdue,
                    "deferred": v["deferred"], "commitment": v["commitment"]}

        by_matter = [dict(shaped(v, od), matter=k, name=(names.get(k) or {}).get("name") or k,
                          department=(names.get(k) or {}).get("department") or "",
                          # a matter's limits are its guide's (the averages are over its closed cases otherwise)
                          promised_days=(guides.get(k) or {}).get("promised_days", shaped(v, od)["promised_days"]),
                          statutory_days=(guides.get(k) or {}).get("statutory_days", shaped(v, od)["statutory_days"]))
                     for k, v, od in grouped(0, "p")]
        by_department = [dict(shaped(v, od), department=k, name=depts.get(k, k)) for k, v, od in grouped(1, "d")]
        channels: dict[str, int] = {}
        days: dict[str, int] = {}
        for day, key, v in rows:
            channels[key[2]] = channels.get(key[2], 0) + v["created"]
            if v["created"]:
                days[day.isoformat()] = days.get(day.isoformat(), 0) + v["created"]
        by_channel = [{"channel": k, "cases": n} for k, n in sorted(channels.items(), key=lambda x: (-x[1], x[0])) if n]
        by_day = [{"day": k, "cases": n} for k, n in sorted(days.items())]
        waits = waiting(s, dialect, steps, now, dept, depts)
        tdepts: dict[str, dict] = {}
        for w in waits:
            d = tdepts.setdefault(w["department"], {"department": w["department"], "name": w["department_name"],
                                                   "tasks_done": 0, "seconds": 0.0, "open": 0, "overdue_open": 0})
            d["tasks_done"] += w["done"]
            d["seconds"] += w.pop("_seconds")
            d["open"] += w["open"]
            d["overdue_open"] += w["overdue_open"]
        task_departments = sorted(({**{k: v for k, v in d.items() if k != "seconds"},
                                    "avg_hours": round(d["seconds"] / d["tasks_done"] / 3600, 1)
                                    if d["tasks_done"] else None} for d in tdepts.values()),
                                  key=lambda d: -d["tasks_done"])
        lists = {kind: open_cases(s, names, kind, now, filters, halls=getattr(actor, "halls", None))
                 for kind in ("overdue", "warning", "paused")}
        halls = hall_figures(s, actor, filters)
        negative_figures = {"matters": sorted(negative), "cases": listed["created"], "done": listed["closed"],
                            "one_visit_rate": _rate(listed["one_visit"], listed["closed"]),
                            "visits_per_case": _rate(listed["visits_sum"], listed["closed"])}
    rated = rating_counts(services, _day_start(filters.start), _day_start(filters.end + timedelta(days=1)))
    return {"filters": filters.as_dict(), "now": iso_utc(now), "summary": summary, "by_matter": by_matter,
            "ratings": rated,
            "by_hall": halls, "negative_list": negative_figures,
            "by_department": by_department, "task_departments": task_departments, "by_channel": by_channel,
            "by_day": by_day, "waits": waits[:20], "lists": lists,
            "calendar": calendar_state(services, now, None if dept else live["provisional"]["all"])}


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone()).astimezone(timezone.utc)


def hall_figures(s, actor, filters: Filters) -> list[dict]:
    """Per hall, of the cases created in the period: accepted there, of those 通办 (decided at another hall), and
    decided there — for the halls the supervisor sees (engine.runtime.org)."""
    start, end = filters.bounds()
    rows = s.execute(select(Case.hall, Case.authority_hall, func.count()).where(
        Case.hall.is_not(None), Case.created_at >= start, Case.created_at < end)
        .group_by(Case.hall, Case.authority_hall)).all()
    names = dict(s.execute(select(Hall.code, Hall.name)).all())
    seen = getattr(actor, "halls", None)
    out: dict[str, dict] = {}

    def entry(code):
        return out.setdefault(code, {"hall": code, "name": names.get(code, code), "accepted": 0, "tongban": 0,
                                     "decided": 0})

    for hall, authority, n in rows:
        if seen is None or hall in seen:
            entry(hall)["accepted"] += n
            if authority and authority != hall:
                entry(hall)["tongban"] += n
        if authority and (seen is None or authority in seen):
            entry(authority)["decided"] += n
    return sorted(out.values(), key=lambda h: (-h["accepted"], h["hall"]))


def _sum(values) -> dict:
    out = dict.fromkeys(rollups.CASE_FIELDS, 0)
    for v in values:
        for k in rollups.CASE_FIELDS:
            out[k] += v[k]
    return out


def _avg_of(total, n) -> float | None:
    return round(total / n, 2) if n else None


def open_counts(s, now: datetime, department: str = "") -> dict:
    """Open cases by state now: {state: {"all": n, ("p", process): n, ("d", department): n}}."""
    c = CaseClock
    states = {"overdue": and_(c.status == "open", c.due_at < now),
              "warning": and_(c.status == "open", c.due_at >= now, c.warn_at <= now),
              "paused": c.status == "paused", "provisional": c.provisional.is_(True), "open": None}
    one = lambda cond: func.sum(case((cond, 1), else_=0))  # noqa: E731
    q = select(c.process_id, c.department, func.count(), *[one(v) for k, v in states.items() if v is not None]) \
        .where(c.status.in_(("open", "paused"))).group_by(c.process_id, c.department)
    if department:
        q = q.where(c.department == department)
    out = {k: {"all": 0} for k in states}
    names = ["open"] + [k for k, v in states.items() if v is not None]
    for pid, dept, *counts in s.execute(q).all():
        for name, n in zip(names, counts):
            n = int(n or 0)
            bucket = out[name]
            bucket["all"] += n
            bucket[("p", pid)] = bucket.get(("p", pid), 0) + n
            bucket[("d", dept)] = bucket.get(("d", dept), 0) + n
    return out


def notice_counts(s, filters: Filters, department: str = "") -> dict[str, int]:
    """超时默认 (deemed), 催办 (remind) and 督办 (urge: cases urged) sent in the period."""
    lo, hi = filters.bounds()
    n = Notice
    q = select(n.kind, func.count()) \
        .where(n.at >= lo, n.at < hi).group_by(n.kind)
    if department:
        q = q.join(CaseClock, CaseClock.case_id == n.case_id).where(CaseClock.department == department)
    out = {k: int(v) for k, v in s.execute(q).all()}
    urge = select(func.count(func.distinct(n.case_id))).where(n.kind == "urge", n.at >= lo, n.at < hi)
    if department:
        urge = urge.join(CaseClock, CaseClock.case_id == n.case_id).where(CaseClock.department == department)
    out["urge"] = int(s.scalar(urge) or 0)
    return out


def waiting(s, dialect: str, steps: dict, now: datetime, department: str, depts: dict) -> list[dict]:
    """Where cases wait: steps finished in the period (count, average hours) and the tasks open now."""
    t = TaskClock
    age = rollups.seconds_between(dialect, t.created_at, literal_now(dialect, now))
    q = select(t.process_id, t.element_id, t.department, func.max(t.name), func.count(), func.sum(age),
               func.sum(case((t.due_at < now, 1), else_=0))).where(t.closed_at.is_(None)) \
        .group_by(t.process_id, t.element_id, t.department)
    if department:
        q = q.where(t.department == department)
    opened = {tuple(r[:3]): r[3:] for r in s.execute(q).all()}
    out = []
    for key in set(steps) | set(opened):
        done = steps.get(key) or {"name": "", "done": 0, "seconds": 0, "late": 0}
        name, n_open, age_sum, overdue = opened.get(key) or ("", 0, 0, 0)
        out.append({"process_id": key[0], "element_id": key[1], "name": done["name"] or name, "department": key[2],
                    "department_name": depts.get(key[2], key[2]), "done": done["done"],
                    "avg_hours": round(done["seconds"] / done["done"] / 3600, 1) if done["done"] else None,
                    "late": done["late"], "open": int(n_open or 0),
                    "open_avg_hours": round(float(age_sum) / n_open / 3600, 1) if n_open else None,
                    "overdue_open": int(overdue or 0), "_seconds": float(done["seconds"])})
    out.sort(key=lambda w: -(w["_seconds"] + (w["open_avg_hours"] or 0) * 3600 * w["open"]))
    return out


def literal_now(dialect: str, now: datetime):
    from sqlalchemy import bindparam, DateTime

    return bindparam("now_at", now, type_=DateTime(timezone=True))


def open_cases(s, names: dict, kind: str, now: datetime, filters: Filters | None = None,
               limit: int = LIST_LIMIT, halls=None) -> list[dict]:
    """Open cases overdue, in warning or paused (whatever their period: a late case is late), the latest due
    first for overdue ones; with `halls`, only the cases accepted or decided at those halls (a supervisor's)."""
    c = CaseClock
    cond = {"overdue": and_(c.status == "open", c.due_at < now),
            "warning": and_(c.status == "open", c.due_at >= now, c.warn_at <= now),
            "paused": c.status == "paused"}[kind]
    q = select(c, Case.number, Case.title).join(Case, Case.id == c.case_id).where(cond)
    if filters is not None and filters.department:
        q = q.where(c.department == filters.department)
    if halls is not None:
        q = q.where(or_(Case.hall.is_(None), Case.hall.in_(sorted(halls)), Case.authority_hall.in_(sorted(halls))))
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


def calendar_state(services, now: datetime, flagged: int | None = None) -> dict:
    """Whether the working-day calendar reaches far enough: today plus the longest statutory limit of the
    catalogue, and how many open cases are due in a year it does not cover."""
    from ..runtime.caltable import coverage_warning

    cal = services.calendar.get()
    with services.read() as s:
        longest = max((int(g.get("statutory_days") or 0) for g in latest_guides(s).values()), default=0)
        if flagged is None:
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
                "statutory_days", "overdue", "deferred", "commitment"]
        return cols, [[m.get(k) for k in cols] for m in data["by_matter"]]
    if table == "departments":
        cols = ["department", "name", "cases", "done", "on_time_rate", "avg_used_workdays", "promised_days",
                "statutory_days", "overdue", "deferred", "commitment"]
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
