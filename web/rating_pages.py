"""好差评 from the receipt's QR code (/rate/<token>, public: the token is the signed link of one case) and from the
window pad (/pad: a tablet at the pickup window, paired to the hall by a pickup clerk — a signed cookie — and
signed out; the clerk opens it for a handed-out case from /pad/desk, the applicant taps the level on the tablet).
Thin: engine.runtime.ratings decides everything, once; this module only reads which hall a paired pad is for."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from engine.errors import Conflict, Forbidden, Invalid, NotFound
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


PAD_COOKIE = "ow_pad"
PAD_DAYS = 365


def _pad_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="onewindow window pad")


def _paired() -> str | None:
    """The hall this device was paired to (a signed cookie), or None."""
    raw = request.cookies.get(PAD_COOKIE)
    if not raw:
        return None
    try:
        value = _pad_signer().loads(raw)
    except BadSignature:
        return None
    return value.get("hall") if isinstance(value, dict) and isinstance(value.get("hall"), str) else None


@bp.get("/pad/desk")
@login_required
def pad_desk():
    """The pickup clerk's side: open the pad for a handed-out case; pair a tablet as this hall's pad."""
    ratings.pad_hall(g.actor)
    return render_template("rating/pad_desk.html")


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
    return redirect(url_for("rating.pad_desk"))


@bp.post("/pad/pair")
@login_required
def pad_pair():
    """Make this device the hall's pad: it keeps a signed cookie naming the hall and is signed out, so that what
    is tapped on it is never a clerk's act."""
    hall = ratings.pad_hall(g.actor)
    token = _pad_signer().dumps({"hall": hall, "by": g.actor.username})
    session.clear()
    response = redirect(url_for("rating.pad"))
    response.set_cookie(PAD_COOKIE, token, max_age=PAD_DAYS * 86400, httponly=True, samesite="Strict",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


@bp.get("/pad")
def pad():
    """The pad's screen: the case it was opened for with five big buttons, or waiting (it refreshes itself)."""
    hall = _paired()
    if hall is None:
        return render_template("rating/pad.html", paired=False, waiting=None, levels=ratings.LEVELS), 403
    waiting = ratings.pad_waiting(services(), hall, g.get("actor"))
    return render_template("rating/pad.html", paired=True, waiting=waiting, levels=ratings.LEVELS)


@bp.post("/pad/rate")
def pad_rate():
    hall = _paired()
    if hall is None:
        raise Forbidden(Message("此设备不是评价器", "this device is not a pad"))
    try:
        ratings.rate_on_pad(services(), hall, request.form.get("nonce", ""), _level(request.form.get("level", "")),
                            actor=g.get("actor"))
    except (Conflict, NotFound, Invalid) as exc:
        flash(translate(exc.message), "error")
    else:
        flash(translate(Message("感谢您的评价", "Thank you for your rating")), "ok")
    return redirect(url_for("rating.pad"))
