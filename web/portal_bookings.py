"""预约 pages: the applicant books, lists and cancels window slots (/me/bookings, small screens); the front desk's
list of the day's bookings of its hall (an include on /frontdesk/) and marking one arrived. Thin: what may be
booked and who sees what is decided in engine.runtime.bookings."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine.errors import Conflict, Forbidden, Invalid
from engine.messages import Message
from engine.runtime import bookings

from .auth import login_required, services
from .i18n import translate

bp = Blueprint("bookings", __name__)


@bp.app_context_processor
def _desk_bookings():
    """`desk_bookings()` for the front desk's include: the day's bookings of the clerk's hall (today, or the page's
    `bookings_date`), or None for those who have no hall's bookings to see."""
    def desk_bookings():
        try:
            return bookings.of_day(services(), g.get("actor"), request.args.get("bookings_date") or None)
        except (Forbidden, Invalid):
            return None
    return {"desk_bookings": desk_bookings}


def _page(errors=None, values=None, status=200, message=None):
    sv = services()
    mine = bookings.mine(sv, g.actor)
    values = values or {k: request.args.get(k, "") for k in ("hall", "date", "slot", "matter")}
    free = None
    if values.get("hall") and values.get("date") and not errors:
        try:
            free = bookings.slots(sv, values["hall"], values["date"])
        except Invalid as exc:
            errors, message, status = exc.fields, exc.message, 422
    return render_template("me/bookings.html", mine=mine, halls=bookings.halls(sv), slots=bookings.SLOTS,
                           free=free, values=values, errors=errors or {}, message=message), status


@bp.get("/me/bookings")
@login_required
def index():
    from engine.runtime.access import check_applicant

    check_applicant(g.actor)
    return _page()


@bp.post("/me/bookings")
@login_required
def book():
    values = {k: request.form.get(k, "").strip() for k in ("hall", "date", "slot", "matter")}
    try:
        made = bookings.book(services(), g.actor, values["hall"], values["date"], values["slot"],
                             values["matter"] or None)
    except Invalid as exc:
        return _page(exc.fields, values, 422, exc.message)
    except Conflict as exc:
        return _page({}, values, 409, exc.message)
    flash(translate(Message(f"预约成功，预约号 {made['number']}", f"Booked: number {made['number']}")), "ok")
    return redirect(url_for("bookings.index"))


@bp.post("/me/bookings/<int:booking_id>/cancel")
@login_required
def cancel(booking_id: int):
    try:
        bookings.cancel(services(), g.actor, booking_id)
    except Conflict as exc:
        flash(translate(exc.message), "error")
    else:
        flash(translate(Message("预约已取消", "Booking cancelled")), "ok")
    return redirect(url_for("bookings.index"))


@bp.post("/frontdesk/bookings/<int:booking_id>/arrive")
@login_required
def arrive(booking_id: int):
    try:
        done = bookings.arrive(services(), g.actor, booking_id)
    except Conflict as exc:
        flash(translate(exc.message), "error")
    else:
        flash(translate(Message(f"{done['number']} 已到场", f"{done['number']} arrived")), "ok")
    return redirect(url_for("frontdesk.index") + "#bookings")
