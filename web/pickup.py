"""出件窗口 pickup: cases ready to hand out (their pickup tasks); hand over at the window or by express."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine.errors import Conflict, Invalid, NotFound
from engine.model.forms import system_fields
from engine.messages import Message

from engine import casefile
from engine import readmodels as catalog
from engine.runtime import online_acts
from . import formkit
from .auth import login_required, services
from .i18n import translate

bp = Blueprint("pickup", __name__, url_prefix="/pickup")


def _ready(sv) -> list[dict]:
    rows = []
    for t in sv.list_tasks(g.actor):
        if t.get("rule") != "pickup" and t["group"] != "pickup":
            continue
        case = catalog.case_detail(sv, t["case_id"], g.actor)
        schema = catalog.task_form(sv, case["version_id"], t["form"])
        rows.append({"task": t, "case": case, "fields": formkit.fields(schema), "schema": schema,
                     "handed": "handed" in system_fields(schema),  # the checklist the page draws, not a typed field
                     "file": casefile.case_file(sv, t["case_id"], case["events"]),
                     "delivery": online_acts.chosen_delivery(sv, t["case_id"])})  # chosen online by the applicant
    return rows


@bp.get("/")
@login_required
def index(errors=None, values=None, failed=None, status=200):
    return render_template("pickup/index.html", rows=_ready(services()), errors=errors or {},
                           values=values or {}, failed=failed), status


@bp.post("/<task_id>")
@login_required
def hand_over(task_id):
    sv = services()
    rows = {r["task"]["id"]: r for r in _ready(sv)}
    if task_id not in rows:
        flash("该任务已由他人办理或不再可办", "error")
        return redirect(url_for("pickup.index"))
    try:
        data = formkit.parse(rows[task_id]["schema"], request.form)
        if rows[task_id]["handed"]:
            data["handed"] = request.form.getlist("handed")  # the clerk ticks off each item handed over
        case = sv.complete(g.actor, task_id, data)
    except Invalid as exc:
        return index(errors={"f_" + k: v for k, v in exc.fields.items()}, values=formkit.values(request.form),
                     failed=task_id, status=422)
    except (Conflict, NotFound):
        flash("该任务已由他人办理或不再可办", "error")
        return redirect(url_for("pickup.index"))
    flash(translate(Message(f"已办结 {case['number']}", f"Closed {case['number']}")), "ok")
    return redirect(url_for("pickup.index"))
