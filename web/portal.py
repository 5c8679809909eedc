"""The applicant's pages (/me, Chinese first, small screens): my cases, one case's progress, and 好差评 of a finished
one. Thin: what an applicant may see and do is decided in engine.runtime.portal and engine.runtime.ratings."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine.errors import Conflict, Invalid
from engine.messages import Message
from engine.runtime import portal, ratings

from .auth import login_required, services
from .i18n import translate

bp = Blueprint("me", __name__, url_prefix="/me")


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
