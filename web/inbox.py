"""Department inbox: the tasks a clerk may work on; claim; the task page with opinions and form; complete."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.messages import Message

from engine import casefile
from . import formkit
from .auth import login_required, services
from .papers import item_uploads
from .i18n import translate

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


def _choices(desk: dict) -> list[tuple[str, str]]:
    """What a 补齐 or 补正 task answers, as choices: the owed materials, or the items the reviewer asked for."""
    rule, f = desk["task"]["rule"], desk["file"]
    if rule == "supply":
        return [(o["id"], o["name"]) for o in f["owed"]]
    if rule == "correction":
        member = desk["decides"].get("member")
        asks = (f["corrections"].get(member) or []) if member else []
        open_ask = next((a for a in reversed(asks) if "answered" not in a), None)
        return [(i, i) for i in (open_ask or {}).get("requested") or []]
    return []


def _schema(desk: dict) -> dict | None:
    """The task's form; a 补齐/补正 answer becomes a checklist of what was asked instead of free text."""
    schema, choices = desk["form"], _choices(desk)
    props = (schema or {}).get("properties") or {}
    if not choices or "supplied" not in props:
        return schema
    items = dict(props["supplied"].get("items") or {}, oneOf=[{"const": v, "title": label} for v, label in choices])
    return dict(schema, properties=dict(props, supplied=dict(props["supplied"], items=items)))


def _task_page(task_id: str, *, errors=None, values=None, conflict=False, message=None, status=200):
    sv = services()
    try:
        desk = casefile.task_desk(sv, g.actor, task_id)
    except NotFound:
        return render_template("inbox/gone.html"), (409 if conflict else 404)
    case = dict(desk["case"], matter=desk["case"]["process_id"])
    return render_template("inbox/task.html", task=desk["task"], case=case, file=desk["file"],
                           decides=desk["decides"], fields=formkit.fields(_schema(desk)), choices=_choices(desk),
                           errors=errors or {}, values=values or {}, conflict=conflict, message=message), status


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
        desk = casefile.task_desk(sv, g.actor, task_id)
    except NotFound:
        return render_template("inbox/gone.html"), 409
    data = formkit.parse(_schema(desk), form)
    refs, file_errors = item_uploads([key for key, _ in _choices(desk)])
    file_errors = {f"file_{n}": message for n, message in file_errors.items()}
    if file_errors:
        return _task_page(task_id, errors=file_errors, values=formkit.values(form), status=422)
    if refs:
        data["files"] = refs
    try:
        case = sv.complete(g.actor, task_id, data)
    except Invalid as exc:
        return _task_page(task_id, errors={"f_" + k: v for k, v in exc.fields.items()},
                          values=formkit.values(form), message=exc.message, status=422)
    except Conflict as exc:
        return _task_page(task_id, values=formkit.values(form), conflict=exc.message, status=409)
    except Forbidden:
        raise
    flash(translate(Message(f"已提交 {case['number']}", f"Submitted {case['number']}")), "ok")
    return redirect(url_for("inbox.index"))
