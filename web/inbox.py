"""Department inbox: the tasks a clerk may work on; claim; the task page with opinions and form; complete."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine.errors import Conflict, Forbidden, Invalid, NotFound

from engine import readmodels as catalog
from . import formkit
from .auth import login_required, services

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
SORTS = ("due", "received", "number")  # "due" first: the overdue, then the soonest due (urgency)
PAGE = 50


@bp.get("/")
@login_required
def index():
    args = request.args
    sort = args.get("sort") if args.get("sort") in SORTS else "due"
    page = services().inbox(g.actor, group=args.get("group") or None, q=args.get("q", "").strip() or None, sort=sort,
                            desc=args.get("dir") == "desc", limit=PAGE, cursor=args.get("after") or None)
    if services().limits is not None:  # 正常/预警/逾期/暂停 of each task on the page (engine.supervision.clocks)
        services().limits.annotate(page.items)
    more = url_for("inbox.index", **dict(args.to_dict(), after=page.next)) if page.next else None
    return render_template("inbox/index.html", tasks=page.items, groups=sorted(g.actor.groups), q=args.get("q", ""),
                           group=args.get("group", ""), sort=sort, desc=args.get("dir") == "desc", more=more)


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
    case = catalog.case_detail(sv, task["case_id"], g.actor)
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
    schema = catalog.task_form(sv, task["version_id"], task["form"])
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
