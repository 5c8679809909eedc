"""The applicant's pages (/me, Chinese first, small screens): my cases, one case's progress, and 好差评 of a finished
one. Thin: what an applicant may see and do is decided in engine.runtime.portal and engine.runtime.ratings."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine.errors import Conflict, Invalid, TooManyAttempts
from engine.messages import Message
from engine.runtime import applicants, portal, ratings

from .auth import login_required, services
from .i18n import translate

bp = Blueprint("me", __name__, url_prefix="/me")
SIGNUP_FIELDS = ("type", "name", "id_number", "credit_code", "legal_representative", "phone", "password")


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Sign up (public): the same engine call as POST /api/v1/applicants; then the code page."""
    errors, message, status = {}, None, 200
    if request.method == "POST":
        body = {k: request.form.get(k, "").strip() for k in SIGNUP_FIELDS if request.form.get(k, "").strip()}
        body["password"] = request.form.get("password", "")
        try:
            applicants.sign_up(services(), body, request.remote_addr)
        except Invalid as exc:
            errors, message, status = exc.fields, exc.message, 422
        except (Conflict, TooManyAttempts) as exc:
            message, status = exc.message, exc.status
        else:
            return redirect(url_for("me.confirm", phone=body["phone"]))
    return render_template("me/signup.html", errors=errors, message=message), status


@bp.route("/confirm", methods=["GET", "POST"])
def confirm():
    """Confirm the mobile with the code (public); then sign in with the phone."""
    message, status = None, 200
    if request.method == "POST":
        try:
            applicants.verify(services(), request.form.get("phone", "").strip(), request.form.get("code", "").strip(),
                              request.remote_addr)
        except (Invalid, TooManyAttempts) as exc:
            message, status = exc.message, exc.status
        else:
            flash(translate(Message("手机号已验证，请登录", "Mobile confirmed; sign in with it")), "ok")
            return redirect(url_for("auth.login", next=url_for("me.index")))
    return render_template("me/confirm.html", message=message, phone=request.values.get("phone", "")), status


@bp.get("/")
@login_required
def index():
    return render_template("me/index.html", cases=portal.my_cases(services(), g.actor))


@bp.get("/cases/<int:case_id>")
@login_required
def show(case_id: int, errors=None, status=200):
    case = portal.my_case(services(), g.actor, case_id)
    return render_template("me/case.html", c=case, levels=ratings.LEVELS, errors=errors or {}), status


@bp.post("/cases/<int:case_id>/rating")
@login_required
def rate(case_id: int):
    raw = request.form.get("level", "")
    tags = [t for t in request.form.getlist("tags") if t.strip()]
    try:
        level = int(raw) if raw.isdigit() else None
        ratings.rate(services(), g.actor, case_id, level, request.form.get("comment", "").strip(), tags)
    except Invalid as exc:
        return show(case_id, errors=exc.fields, status=422)
    except Conflict as exc:
        flash(translate(exc.message), "error")
        return redirect(url_for("me.show", case_id=case_id))
    flash(translate(Message("感谢您的评价", "Thank you for your rating")), "ok")
    return redirect(url_for("me.show", case_id=case_id))
