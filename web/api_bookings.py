"""/api/v1 for 预约 (window bookings), the receipt's rating link (public, signed) and 申诉 of a 差评整改 outcome.
Thin: what each caller may see and do is decided in engine.runtime.bookings, .ratings and .appeals."""
from __future__ import annotations

from flask import current_app, g

from engine.errors import NotFound
from engine.messages import Message
from engine.runtime import appeals, bookings, ratings

from . import apimodels as M
from .api import _send, operation
from .auth import services


def _id(raw: str) -> int:
    """A path id: digits within what the database stores, else simply not found."""
    if not str(raw).isdigit() or len(str(raw)) > 12:
        raise NotFound(Message("不存在", "not found"))
    return int(raw)


def rating_key() -> str:
    """The key the receipt's rating links are signed with: the app's secret key."""
    return current_app.secret_key


# ---------------------------------------------------------------- 预约
@operation("GET", "/booking-slots", "预约: a hall's slots on a working day with their free places (a weekend, "
           "holiday or uncovered year is 422)", M.Slots, query=M.SlotsQuery, errors=(401, 422))
def booking_slots(query: M.SlotsQuery):
    return _send(M.Slots, bookings.slots(services(), query.hall, query.date))


@operation("GET", "/me/bookings", "My bookings (applicants), latest slot first", list[M.Booking],
           query=M.MyQuery, errors=(401, 403, 422))
def my_bookings(query: M.MyQuery):
    return _send(list[M.Booking], bookings.mine(services(), g.api_actor, query.limit))


@operation("POST", "/me/bookings", "Book a window slot (hall, working day, slot, optionally the matter): 422 for a "
           "day or slot that cannot be booked (holiday, past, too far ahead), 409 when the slot is full or I hold the "
           "most open bookings allowed", M.Booking, body=M.BookingIn, status=201, errors=(401, 403, 409, 422))
def book(body: M.BookingIn):
    out = bookings.book(services(), g.api_actor, body.hall, body.date, body.slot, body.matter)
    return _send(M.Booking, out, 201)


@operation("DELETE", "/me/bookings/{booking_id}", "Cancel a booking of mine before its slot starts (another "
           "applicant's is not found)", M.Booking, errors=(401, 403, 404, 409))
def cancel_booking(booking_id: str):
    return _send(M.Booking, bookings.cancel(services(), g.api_actor, _id(booking_id)))


@operation("GET", "/bookings", "The day's bookings of my hall (front desk), slot by slot, applicants' phones "
           "masked", M.DayBookings, query=M.DayQuery, errors=(401, 403, 422))
def day_bookings(query: M.DayQuery):
    return _send(M.DayBookings, bookings.of_day(services(), g.api_actor, query.date))


@operation("POST", "/bookings/{booking_id}/arrive", "Mark a booking of my hall arrived (front desk; once)",
           M.Booking, errors=(401, 403, 404, 409))
def arrive(booking_id: str):
    return _send(M.Booking, bookings.arrive(services(), g.api_actor, _id(booking_id)))


# ---------------------------------------------------------------- the receipt's rating link (no sign-in)
@operation("GET", "/rate/{token}", "The case a rating link (QR on the 受理通知书) rates: number, title, finished, "
           "its rating; a forged or altered token is 404", M.RatingLink, public=True, errors=(404,))
def rating_link(token: str):
    return _send(M.RatingLink, ratings.by_token(services(), rating_key(), token))


@operation("POST", "/rate/{token}", "好差评 through the receipt's link (channel qr, no sign-in): once per case, "
           "when finished; 不满意 or worse starts a 差评整改", M.RatingOut, body=M.RatingIn, public=True, status=201,
           errors=(404, 409, 422))
def rate_by_link(token: str, body: M.RatingIn):
    out = ratings.rate_by_token(services(), rating_key(), token, body.level, body.comment, list(body.tags))
    return _send(M.RatingOut, out, 201)


# ---------------------------------------------------------------- 申诉
@operation("POST", "/me/cases/{case_id}/rating/appeal", "申诉: appeal the outcome of the finished 差评整改 of my "
           "rating of this case, with a reason (once per 整改)", M.Appeal, body=M.AppealIn, status=201,
           errors=(401, 403, 404, 409, 422))
def appeal(case_id: int, body: M.AppealIn):
    return _send(M.Appeal, appeals.appeal(services(), g.api_actor, case_id, body.reason), 201)


@operation("GET", "/me/cases/{case_id}/rating/appeals", "My appeals about this case and how they were decided",
           list[M.Appeal], errors=(401, 403, 404))
def my_appeals(case_id: int):
    return _send(list[M.Appeal], appeals.mine(services(), g.api_actor, case_id))


@operation("GET", "/appeals", "Appeals for supervisors (open first): the rating, the 整改 appealed, the reason",
           list[M.AppealItem], query=M.AppealQuery, errors=(401, 403, 422))
def appeal_list(query: M.AppealQuery):
    return _send(list[M.AppealItem], appeals.listing(services(), g.api_actor, query.status))


@operation("POST", "/appeals/{appeal_id}/decision", "Decide an open appeal (supervisors), with a reason: upheld "
           "starts a new 差评整改 of the department, dismissed closes it", M.Appeal, body=M.AppealDecision,
           errors=(401, 403, 404, 409, 422))
def decide_appeal(appeal_id: str, body: M.AppealDecision):
    return _send(M.Appeal, appeals.decide(services(), g.api_actor, _id(appeal_id), body.upheld, body.reason))
