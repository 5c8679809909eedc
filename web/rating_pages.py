"""好差评 from the receipt's QR code (/rate/<token>, public: the token is the signed link of one case) and from the
window pad (/pad: a tablet at the pickup window, signed in as the pickup clerk; the clerk opens it for a finished
case, the applicant taps the level). Thin: engine.runtime.ratings decides everything, once."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from engine.errors import Conflict, Invalid, NotFound
from engine.messages import Message
from engine.runtime import ratings

from .auth import login_required, services
from .i18n import translate

bp = Blueprint("rating", __name__)


def _level(raw: str):
    return int(raw) if raw.isdigit() and len(raw) < 3 else None


@bp.route("/rate/<token>", methods=["GET", "POST"])
def page(token: str):
    """The rating page the receipt's QR code opens: no sign-in; a forged or altered link is not found."""
    sv, key = services(), current_app.secret_key
    info = ratings.by_token(sv, key, token)
    errors, message, status = {}, None, 200
    if request.method == "POST":
        tags = [t for t in request.form.getlist("tags") if t.strip()]
        try:
            ratings.rate_by_token(sv, key, token, _level(request.form.get("level", "")),
                                  request.form.get("comment", "").strip(), tags)
        except Invalid as exc:
            errors, message, status = exc.fields, exc.message, 422
        except Conflict as exc:
            message, status = exc.message, 409
        else:
            flash(translate(Message("感谢您的评价", "Thank you for your rating")), "ok")
            return redirect(url_for("rating.page", token=token))
        info = ratings.by_token(sv, key, token)
    return render_template("rating/rate.html", info=info, levels=ratings.LEVELS, errors=errors, message=message,
                           token=token), status


@bp.get("/pad")
@login_required
def pad():
    """The pad's screen: the case it was opened for with five big buttons, or the form to open it (and a refresh)."""
    waiting = ratings.pad_waiting(services(), g.actor)
    return render_template("rating/pad.html", waiting=waiting, levels=ratings.LEVELS)


@bp.post("/pad/open")
@login_required
def pad_open():
    try:
        opened = ratings.open_pad(services(), g.actor, request.form.get("case", ""))
    except (Conflict, NotFound) as exc:
        flash(translate(exc.message), "error")
    else:
        flash(translate(Message(f"评价器已为 {opened['number']} 开启，请申请人点选",
                                f"The pad is open for {opened['number']}: the applicant taps a level")), "ok")
    return redirect(url_for("rating.pad"))


@bp.post("/pad/rate")
@login_required
def pad_rate():
    try:
        ratings.rate_on_pad(services(), g.actor, request.form.get("nonce", ""), _level(request.form.get("level", "")))
    except (Conflict, NotFound, Invalid) as exc:
        flash(translate(exc.message), "error")
    else:
        flash(translate(Message("感谢您的评价", "Thank you for your rating")), "ok")
    return redirect(url_for("rating.pad"))
