"""Department inbox: the tasks a clerk may work on; claim; the task page with opinions and form; complete."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine.errors import Conflict, Forbidden, Invalid, NotFound

from engine import readmodels as catalog
from . import formkit
from .auth import login_required, services

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
SORTS = {"received": "created_at", "due": "due", "number": "case_number", "matter": "case_title"}
URGENCY = {"overdue": 0, "warning": 1, "normal": 2, "paused": 3, "done": 4}  # engine.supervision.timeliness


@bp.get("/")
@login_required
def index():
    q = request.args.get("q", "").strip().lower()
    group = request.args.get("group", "")
    sort = request.args.get("sort", "urgency")
    desc = request.args.get("dir") == "desc"
    tasks = services().list_tasks(g.actor)
    if services().limits is not None:  # 正常/预警/逾期/暂停 of each task (engine.supervision.clocks)
        services().limits.annotate(tasks)
    groups = sorted({t["group"] for t in tasks})
    if group:
        tasks = [t for t in tasks if t["group"] == group]
    if q:
        tasks = [t for t in tasks if q in " ".join([t["case_number"] or "", t["case_title"] or "", t["name"] or "",
                                                   str(t["applicant"].get("name", ""))]).lower()]
    if sort == "urgency":  # overdue first, then warning, each the soonest due first
        tasks.sort(key=lambda t: (URGENCY.get(t.get("timeliness"), 2), t.get("due") is None, t.get("due") or "",
                                  t.get("created_at") or ""), reverse=desc)
    else:
        key = SORTS.get(sort, "created_at")
        tasks.sort(key=lambda t: (t.get(key) is None, t.get(key) or ""), reverse=desc)
    return render_template("inbox/index.html", tasks=tasks, groups=groups, q=q, group=group, sort=sort, desc=desc)


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id):
    try:
        services().claim(g.actor, task_id)
    except (Conflict, NotFound):
        flash("该任务已由他人办理或不再可办", "error")
        return redirect(url_for("inbox.index"))
    return redirect(url_for("inbox.task", task_id=task_id))


def _task_page(task_id: str, *, errors=None, values=None, conflict=False, message=None, status=200):
    sv = services()
    try:
        task = catalog.find_task(sv, g.actor, task_id)
    except NotFound:
        return render_template("inbox/gone.html"), (409 if conflict else 404)
    case = catalog.case_detail(sv, task["case_id"])
    schema = catalog.task_form(sv, case["version_id"], task["form"])
    return render_template("inbox/task.html", task=task, case=case, fields=formkit.fields(schema),
                           opinions=catalog.completed_reviews(case["events"]), errors=errors or {},
                           values=values or {}, conflict=conflict, message=message), status


@bp.get("/tasks/<task_id>")
@login_required
def task(task_id):
    return _task_page(task_id)


@bp.post("/tasks/<task_id>")
@login_required
def complete(task_id):
    sv = services()
    form = request.form
    try:
        task = catalog.find_task(sv, g.actor, task_id)
    except NotFound:
        return render_template("inbox/gone.html"), 409
    schema = catalog.task_form(sv, sv.get_case(task["case_id"])["version_id"], task["form"])
    try:
        case = sv.complete(g.actor, task_id, formkit.parse(schema, form))
    except Invalid as exc:
        return _task_page(task_id, errors={"f_" + k: v for k, v in exc.fields.items()},
                          values=formkit.values(form), message=exc.message, status=422)
    except Conflict as exc:
        return _task_page(task_id, values=formkit.values(form), conflict=exc.message, status=409)
    except Forbidden:
        raise
    flash(f"已提交 {case['number']}", "ok")
    return redirect(url_for("inbox.index"))
