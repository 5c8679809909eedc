"""预约: an applicant books a window slot (hall, working day, slot start, optionally the matter); the front desk of
the hall sees the day's bookings and marks one arrived.

Decided here for every front end:
- slots are the hall's opening slots (SLOTS: 30 minutes, 9:00–12:00 and 13:30–17:00 in the hall's zone) on working
  days of the working-day calendar (a holiday, a weekend or a year the calendar does not cover is 422), not in the
  past nor more than HORIZON_DAYS ahead;
- a slot holds `capacity` bookings (per hall in booking_capacity, else ONEWINDOW_BOOKING_CAPACITY, default 3); a
  full slot is 409. Each booking takes a numbered seat of its slot and (hall, day, slot, seat) is unique, so two
  requests racing for the last place cannot both win, on SQLite or PostgreSQL;
- an applicant holds at most ONEWINDOW_BOOKING_MAX_OPEN (default 3) open bookings (booked, slot not yet passed);
- an applicant sees and cancels only their own (another's is not found); a booking is cancelled until its slot
  starts; the front desk (and administrators) of a hall list its bookings and mark one arrived, once.
Bookings are rows of their own, not cases: booking a slot starts nothing and is not in any case's audit trail.
"""
from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..clock import as_utc, zone
from ..db import Booking, BookingCapacity, Hall
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..messages import Message
from . import access, org
from .workcal import CalendarGap

HORIZON_DAYS = 30
SLOT_MINUTES = 30
OPENING = ((time(9, 0), time(12, 0)), (time(13, 30), time(17, 0)))
FRONT = frozenset({"front_desk", "admin"})


def _slots() -> list[str]:
    out = []
    for start, end in OPENING:
        at = datetime.combine(date(2000, 1, 1), start)
        while (at + timedelta(minutes=SLOT_MINUTES)).time() <= end:
            out.append(at.strftime("%H:%M"))
            at += timedelta(minutes=SLOT_MINUTES)
    return out


SLOTS = _slots()


def default_capacity() -> int:
    try:
        return max(1, int(os.environ.get("ONEWINDOW_BOOKING_CAPACITY", "3")))
    except ValueError:
        return 3


def max_open() -> int:
    try:
        return max(1, int(os.environ.get("ONEWINDOW_BOOKING_MAX_OPEN", "3")))
    except ValueError:
        return 3


def capacity_of(s, hall: str) -> int:
    row = s.get(BookingCapacity, hall)
    return row.capacity if row is not None else default_capacity()


def set_capacity(services, hall: str, capacity: int) -> dict:
    """Places per slot at a hall (from the shell: `onewindow org booking-capacity`, like the rest of the org)."""
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 1 <= capacity <= 1000:
        raise Invalid(Message("容量应为 1–1000", "capacity 1-1000"), {"capacity": Message("应为 1–1000", "1-1000")})
    with services.uow() as s:
        _hall(s, hall)
        row = s.get(BookingCapacity, hall)
        if row is None:
            s.add(BookingCapacity(hall=hall, capacity=capacity))
        else:
            row.capacity = capacity
    return {"hall": hall, "capacity": capacity}


def _hall(s, code) -> Hall:
    hall = s.get(Hall, code) if isinstance(code, str) else None
    if hall is None:
        raise Invalid(Message("大厅不存在", "no such hall"), {"hall": Message("大厅不存在", "no such hall")})
    return hall


def _start(day: date, slot: str) -> datetime:
    hh, mm = slot.split(":")
    return datetime.combine(day, time(int(hh), int(mm)), zone()).astimezone(timezone.utc)


def _parse_day(raw, field: str = "date") -> date:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise Invalid(Message("日期应为 YYYY-MM-DD", "a date YYYY-MM-DD"),
                      {field: Message("日期应为 YYYY-MM-DD", "a date YYYY-MM-DD")}) from None


def _workday(services, s, day: date) -> None:
    try:
        ok = services.calendar.get(s).is_workday(day)
    except CalendarGap as gap:
        raise Invalid(gap.message, {"date": gap.message}) from None
    if not ok:
        raise Invalid(Message("该日不是工作日（周末或法定节假日），不能预约", "not a working day: weekends and holidays "
                              "cannot be booked"), {"date": Message("非工作日", "not a working day")})


def slots(services, hall: str, day) -> dict:
    """The slots of a hall on a day with their free places (anyone signed in may ask)."""
    day = _parse_day(day)
    now = as_utc(services.clock())
    with services.read() as s:
        h = _hall(s, hall)
        _workday(services, s, day)
        cap = capacity_of(s, hall)
        taken = dict(s.execute(select(Booking.slot, func.count()).where(
            Booking.hall == hall, Booking.day == day, Booking.seat.is_not(None)).group_by(Booking.slot)).all())
    return {"hall": hall, "hall_name": h.name, "date": day.isoformat(), "capacity": cap,
            "slots": [{"slot": x, "free": max(0, cap - taken.get(x, 0)), "past": _start(day, x) <= now}
                      for x in SLOTS]}


def halls(services) -> list[dict]:
    with services.read() as s:
        return [{"code": h.code, "name": h.name, "level": h.level} for h in org.load(s).halls.values()]


def book(services, actor, hall: str, day, slot: str, matter: str | None = None) -> dict:
    """Book a slot for the applicant: 422 for a day or slot that cannot be booked, 409 when it is full or the
    applicant already holds the most open bookings allowed."""
    access.check_applicant(actor)
    fields = {}
    if slot not in SLOTS:
        fields["slot"] = Message(f"时段应为 {SLOTS[0]}…{SLOTS[-1]} 中的一个", f"one of {', '.join(SLOTS)}")
    if matter is not None and (not isinstance(matter, str) or not 0 < len(matter) <= 200):
        fields["matter"] = Message("事项编码至多 200 字", "a matter code of up to 200 characters")
    if fields:
        raise Invalid(Message("预约有误", "the booking is not valid"), fields)
    day = _parse_day(day)
    now = as_utc(services.clock())
    if _start(day, slot) <= now:
        raise Invalid(Message("不能预约已过去的时段", "that slot has passed"),
                      {"slot": Message("时段已过", "the slot has passed")})
    if day > now.astimezone(zone()).date() + timedelta(days=HORIZON_DAYS):
        raise Invalid(Message(f"至多预约 {HORIZON_DAYS} 天内", f"book at most {HORIZON_DAYS} days ahead"),
                      {"date": Message(f"至多 {HORIZON_DAYS} 天内", f"at most {HORIZON_DAYS} days ahead")})
    if matter is not None:
        from .. import readmodels as catalog

        if not catalog.exists(services, matter):
            raise Invalid(Message("事项不存在", "no such matter"), {"matter": Message("事项不存在", "no such matter")})
    for attempt in (1, 2):  # a seat taken meanwhile by a racing request: look again once for another
        try:
            return _take(services, actor, hall, day, slot, matter, now)
        except IntegrityError:
            if attempt == 2:
                raise Conflict(Message("该时段已约满，请选择其他时段", "that slot is full: choose another")) from None
    raise AssertionError("unreachable")


def _take(services, actor, hall: str, day: date, slot: str, matter: str | None, now: datetime) -> dict:
    with services.uow() as s:
        _hall(s, hall)
        _workday(services, s, day)
        mine = _open_of(s, actor.username, now)
        if mine >= max_open():
            raise Conflict(Message(f"您已有 {mine} 个未到期的预约，请先取消或到场办理",
                                   f"you hold {mine} open bookings already: cancel one first"))
        cap = capacity_of(s, hall)
        used = set(s.scalars(select(Booking.seat).where(Booking.hall == hall, Booking.day == day,
                                                        Booking.slot == slot, Booking.seat.is_not(None))).all())
        free = next((n for n in range(1, cap + 1) if n not in used), None)
        if free is None:
            raise Conflict(Message("该时段已约满，请选择其他时段", "that slot is full: choose another"))
        row = Booking(applicant_user=actor.username, hall=hall, day=day, slot=slot, seat=free, matter=matter,
                      status="booked", created_at=services.clock())
        s.add(row)
        s.flush()
        row.number = f"YY{day:%Y%m%d}{row.id:06d}"
        s.flush()
        return view(row)


def _open_of(s, username: str, now: datetime) -> int:
    rows = s.execute(select(Booking.day, Booking.slot).where(Booking.applicant_user == username,
                                                              Booking.status == "booked")).all()
    return sum(1 for d, x in rows if _start(d, x) > now)


def view(row: Booking) -> dict:
    out = {"id": row.id, "number": row.number, "hall": row.hall, "date": row.day.isoformat(), "slot": row.slot,
           "matter": row.matter, "status": row.status, "created_at": as_utc(row.created_at).isoformat(),
           "arrived_at": as_utc(row.arrived_at).isoformat() if row.arrived_at else None}
    return out


def mine(services, actor, limit: int = 50) -> list[dict]:
    access.check_applicant(actor)
    with services.read() as s:
        rows = s.scalars(select(Booking).where(Booking.applicant_user == actor.username)
                         .order_by(Booking.day.desc(), Booking.slot.desc(), Booking.id.desc())
                         .limit(max(1, min(limit, 100)))).all()
        return [view(r) for r in rows]


def cancel(services, actor, booking_id: int) -> dict:
    """Cancel one of mine before its slot starts (another's is not found); the seat is free again."""
    access.check_applicant(actor)
    with services.uow() as s:
        row = s.get(Booking, booking_id, with_for_update=True)
        if row is None or row.applicant_user != actor.username:
            raise NotFound(Message("没有这个预约", "no such booking"))
        if row.status != "booked":
            raise Conflict(Message("该预约已取消或已到场", "that booking is cancelled or arrived already"))
        if _start(row.day, row.slot) <= as_utc(services.clock()):
            raise Conflict(Message("预约时段已开始，不能取消", "the slot has started: it cannot be cancelled"))
        row.status, row.seat, row.cancelled_at = "cancelled", None, services.clock()
        s.flush()
        return view(row)


def _desk(actor) -> str:
    """The hall whose bookings the actor sees: the front desk's (and administrators') own hall."""
    if actor is None or not (actor.groups & FRONT):
        raise Forbidden(Message("仅综合窗口可查看预约", "the front desk only"))
    if not actor.hall:
        raise Forbidden(Message("您不属于任何大厅", "you work at no hall"))
    return actor.hall


def of_day(services, actor, day=None, hall: str | None = None) -> dict:
    """The day's bookings of the actor's hall (front desk); another hall's are refused."""
    own = _desk(actor)
    if hall not in (None, "", own):
        raise Forbidden(Message("只能查看本大厅的预约", "only your own hall's bookings"))
    day = _parse_day(day) if day else as_utc(services.clock()).astimezone(zone()).date()
    from .applicants import mask
    from ..db import Applicant, User

    with services.read() as s:
        rows = s.execute(select(Booking, Applicant.name, Applicant.phone)
                         .outerjoin(User, User.username == Booking.applicant_user)
                         .outerjoin(Applicant, Applicant.user_id == User.id)
                         .where(Booking.hall == own, Booking.day == day, Booking.status != "cancelled")
                         .order_by(Booking.slot, Booking.id)).all()
        items = []
        for r, name, phone in rows:
            v = view(r)
            v["applicant"] = {"name": name or "", "phone": mask(phone) if phone else ""}
            items.append(v)
    return {"hall": own, "date": day.isoformat(), "items": items}


def arrive(services, actor, booking_id: int) -> dict:
    """The front desk marks a booking of its hall arrived (once); another hall's is not found."""
    own = _desk(actor)
    with services.uow() as s:
        row = s.get(Booking, booking_id, with_for_update=True)
        if row is None or row.hall != own:
            raise NotFound(Message("没有这个预约", "no such booking"))
        if row.status != "booked":
            raise Conflict(Message("该预约已取消或已到场", "that booking is cancelled or arrived already"))
        row.status, row.arrived_at, row.arrived_by = "arrived", services.clock(), actor.username
        s.flush()
        return view(row)
