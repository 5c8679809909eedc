"""Pages for notifications: /me/notices (my in-app notices, mark read) and /me/resend (a new confirmation code from
the /me/confirm page). Thin: whose notices they are and the throttling are decided in engine.runtime.notify and
engine.runtime.applicants."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine.errors import Invalid, TooManyAttempts
from engine.runtime import applicants, notify

from .auth import login_required, services
from .i18n import translate

bp = Blueprint("me_notices", __name__, url_prefix="/me")


@bp.get("/notices")
@login_required
def index():
    return render_template("me/notices.html", notices=notify.my_notices(services(), g.actor, 100))


@bp.post("/notices/<int:notice_id>/read")
@login_required
def read(notice_id: int):
    notify.mark_read(services(), g.actor, notice_id)
    return redirect(url_for("me_notices.index"))


@bp.post("/notices/read")
@login_required
def read_all():
    notify.mark_all_read(services(), g.actor)
    return redirect(url_for("me_notices.index"))


@bp.post("/resend")
def resend():
    """A new code (public): the same engine call as POST /api/v1/applicants/resend; back to the code page."""
    phone = request.form.get("phone", "").strip()
    try:
        applicants.resend(services(), phone, request.remote_addr)
    except (Invalid, TooManyAttempts) as exc:
        flash(translate(exc.message), "error")
    else:
        flash(translate(applicants.RESENT), "ok")
    return redirect(url_for("me.confirm", phone=phone))

