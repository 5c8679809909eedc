"""The applicant's acts on their case page (/me/cases/<id>, the partial me/_acts.html): answer a 补正 or 补齐 request
with uploaded files, choose the delivery, apply again after 预审 returned the application. Routes on the `me`
blueprint; thin: what an applicant may do is decided in engine.runtime.online_acts (and the service layer)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for

from engine import readmodels as catalog
from engine.errors import Conflict, Invalid
from engine.messages import Message
from engine.runtime import online_acts

from . import formkit
from .auth import login_required, services
from .papers import item_uploads
from .i18n import translate
from .portal import bp, show


@bp.app_context_processor
def _acts_context():
    return {"acts_errors": getattr(g, "acts_errors", None) or {}, "acts_failed": getattr(g, "acts_failed", None),
            "acts_message": getattr(g, "acts_message", None),
            "resubmit_form": _resubmit_form}


def _resubmit_form(case: dict) -> dict:
    """The returned application's start form, prefilled, and its materials (for the partial)."""
    m = catalog.matter(services(), case.get("process_id") or case["matter"])
    prefill = (case.get("acts") or {}).get("prefill") or {}
    return {"fields": formkit.fields(m["form"]), "data": prefill.get("data") or {},
            "materials": [{"id": catalog.material_id(x), "name": catalog.material_name(x)} for x in m["materials"]],
            "marked": prefill.get("materials") or {}}


def _failed(case_id: int, which: str, exc: Invalid):
    g.acts_errors = dict(exc.fields, **{"f_" + k: v for k, v in exc.fields.items()})  # form_fields' names too
    g.acts_failed = which
    g.acts_message = exc.message
    return show(case_id, status=422)


def _done(case_id: int, message: Message):
    flash(translate(message), "ok")
    return redirect(url_for("me.show", case_id=case_id) + "#acts")


def _conflict(case_id: int, exc: Conflict):
    flash(translate(exc.message), "error")
    return redirect(url_for("me.show", case_id=case_id) + "#acts")


def _uploads(keys: list[str]) -> tuple[dict, dict]:
    """Files uploaded with an answer (`file_<n>` for keys[n]): (refs, errors by `files.<key>`)."""
    refs, errors = item_uploads(keys)
    return refs, {f"files.{keys[n]}": message for n, message in errors.items()}


@bp.post("/cases/<int:case_id>/acts/<rule>")
@login_required
def answer(case_id: int, rule: str):
    """补正 (`correction`) or 补齐 (`supply`): tick what is handed in, a file for each, a remark."""
    if rule not in online_acts.RULES:
        abort(404)
    keys = request.form.getlist("keys")
    supplied = request.form.getlist("supplied")
    refs, errors = _uploads(keys)
    if errors:
        return _failed(case_id, rule, Invalid(Message("文件有误", "a file was refused"), errors))
    try:
        online_acts.answer(services(), g.actor, case_id, rule, supplied, refs or None,
                           request.form.get("remark", "").strip(), request.form.get("task") or None)
    except Invalid as exc:
        return _failed(case_id, rule, exc)
    except Conflict as exc:
        return _conflict(case_id, exc)
    return _done(case_id, Message("已提交，等待审查", "Submitted: the review goes on"))


@bp.post("/cases/<int:case_id>/delivery")
@login_required
def delivery(case_id: int):
    form = request.form
    try:
        online_acts.choose_delivery(services(), g.actor, case_id, form.get("method", ""), form.get("name", ""),
                                    form.get("phone", ""), form.get("address", ""))
    except Invalid as exc:
        return _failed(case_id, "delivery", exc)
    except Conflict as exc:
        return _conflict(case_id, exc)
    return _done(case_id, Message("送达方式已保存", "Delivery saved"))


@bp.post("/cases/<int:case_id>/resubmit")
@login_required
def resubmit(case_id: int):
    """Apply again: the prefilled form as corrected, the materials ticked, a file for each."""
    case = services().get_case(case_id, g.actor)
    m = catalog.matter(services(), case["process_id"])
    ids = [catalog.material_id(x) for x in m["materials"]]
    ticked = [i for i in request.form.getlist("materials") if i in ids]
    refs, errors = _uploads(ids)
    if errors:
        return _failed(case_id, "resubmit", Invalid(Message("文件有误", "a file was refused"), errors))
    data = formkit.parse(m["form"], request.form)
    try:
        new = online_acts.resubmit(services(), g.actor, case_id, data, {i: "provided" for i in ticked},
                                   {k: v for k, v in refs.items() if k in ticked} or None)
    except Invalid as exc:
        return _failed(case_id, "resubmit", exc)
    except Conflict as exc:
        return _conflict(case_id, exc)
    flash(translate(Message(f"已重新提交，新办件 {new['number']}", f"Submitted again as {new['number']}")), "ok")
    return redirect(url_for("me.show", case_id=new["id"]))
