"""综合窗口 front desk: search the catalogue, open a guide, fill the intake form, accept or refuse."""
from __future__ import annotations

import hashlib
import secrets

from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request, url_for

from engine.window import documents
from engine.errors import Invalid
from engine.runtime.access import check_window

from engine import readmodels as catalog
from . import formkit
from .auth import login_required, services

bp = Blueprint("frontdesk", __name__, url_prefix="/frontdesk")
def _desk_only():
    check_window(g.actor)  # decided in the engine (engine.runtime.access)


@bp.get("/")
@login_required
def index():
    _desk_only()
    q = request.args.get("q", "")
    return render_template("frontdesk/index.html", matters=catalog.matters(services(), q), q=q)


MATERIAL_STATUSES = {"provided": "已收取", "deferred": "容缺后补", "commitment": "告知承诺", "shared": "免提交（数据共享）"}
INTAKE_SKIP = ("accepted", "reason", "missing", "materials")


def _render_intake(m: dict, errors: dict | None = None, values: dict | None = None, status: int = 200):
    values = values or {}
    ivalues = {k[2:]: v for k, v in values.items() if k.startswith("i_")}
    materials = [{"id": catalog.material_id(x), "name": catalog.material_name(x),
                  "required": x.get("required", True) if isinstance(x, dict) else True,
                  "deferrable": isinstance(x, dict) and x.get("deferrable"),
                  "commitment": isinstance(x, dict) and x.get("commitment_allowed"),
                  "shareable": isinstance(x, dict) and bool(x.get("substitutes"))} for x in m["materials"]]
    return render_template("frontdesk/intake.html", m=m, fields=formkit.fields(m["form"]), ivalues=ivalues,
                           form_token=values.get("form_token") or secrets.token_urlsafe(16),
                           intake_fields=formkit.fields(m["intake_form"], skip=INTAKE_SKIP), materials=materials,
                           errors=errors or {}, values=values, status_code=status), status


@bp.get("/matters/<code>")
@login_required
def matter(code):
    _desk_only()
    return _render_intake(catalog.matter(services(), code), values={"a_type": "company"})


@bp.post("/matters/<code>")
@login_required
def submit(code):
    """Accept or refuse at the window: the case is started and the front desk's verdict taken in one transaction
    by the service layer, under the intake rule (一次性告知 when something required is missing, 容缺, 告知承诺,
    数据共享, 不予受理)."""
    _desk_only()
    sv, form = services(), request.form
    m = catalog.matter(sv, code)
    accepted = form.get("decision") == "accept"
    statuses = {catalog.material_id(x): form.get("mat_" + catalog.material_id(x), "") for x in m["materials"]}
    names = {catalog.material_id(x): catalog.material_name(x) for x in m["materials"]}
    values = dict(formkit.values(form, "f_"), **{k: v for k, v in form.items() if k.startswith(("a_", "mat_"))},
                  **{"i_" + k: v for k, v in formkit.values(form, "i_").items()}, form_token=form.get("form_token"))
    remark = (formkit.parse(m["intake_form"], form, "i_", skip=INTAKE_SKIP).get("remark") or "").strip()
    if not accepted and not remark:
        return _render_intake(m, {"i_remark": "不予受理须写明原因 (say why)"}, values, 422)
    verdict = {"accepted": accepted, "materials": {k: v for k, v in statuses.items() if v}, "remark": remark}
    if not accepted:
        verdict["reason"] = remark
    token = form.get("form_token") or None  # one per rendered page: a reload or Back + 受理 gives the same case
    try:
        case = sv.start_case(g.actor, code, formkit.applicant_from(form), formkit.parse(m["form"], form, "f_"),
                             channel="window", intake=verdict, idempotency_key=token and f"form:{token}",
                             request_hash=_form_hash(form) if token else None)
    except Invalid as exc:
        return _render_intake(m, {_field_key(k): v for k, v in exc.fields.items()}, values, 422)
    return redirect(url_for("frontdesk.done", case_id=case["id"]), code=303)


@bp.get("/cases/<int:case_id>/done")
@login_required
def done(case_id):
    """What the window decided (after the POST: reloading this page starts nothing)."""
    _desk_only()
    sv = services()
    case = sv.case_view(case_id, g.actor)
    m = catalog.matter(sv, case["process_id"])
    names = {catalog.material_id(x): catalog.material_name(x) for x in m["materials"]}
    record = catalog.intake_record(sv.events(case_id, g.actor))
    return render_template("frontdesk/done.html", case=case, m=m, accepted=bool(record["accepted"]),
                           missing=record["missing"], remark=record["reason"] or record["remark"],
                           received=[names.get(k, k) for k, v in record["materials"].items() if v])


def _form_hash(form) -> str:
    fields = sorted((k, v) for k in form.keys() if k not in ("_csrf", "form_token") for v in form.getlist(k))
    return hashlib.sha256(repr(fields).encode("utf-8")).hexdigest()


def _field_key(path: str) -> str:
    """Map a service-layer field path to the page's input name."""
    if path.startswith("applicant."):
        return "a_" + path.split(".", 1)[1]
    if path.startswith("intake.") or path in ("reason", "remark"):
        return "i_remark" if path.split(".")[-1] in ("reason", "remark") else "i_" + path.split(".", 1)[1]
    if path.startswith(("intake.materials", "materials")) or path in ("deferred", "commitments", "owed", "commitment"):
        return "materials"
    return "f_" + path


# ---------------------------------------------------------------- printable documents
def _doc_args(case_id: int, kind: str):
    sv = services()
    case = sv.get_case(case_id, g.actor)
    if not case.get("number"):
        abort(404)
    m = catalog.matter(sv, case["process_id"])
    code = documents.verification_code(current_app.config["SECRET_KEY"], case["number"], kind)
    verify = url_for("cases.verify", number=case["number"], code=code, _external=True)
    return sv, case, m, code, verify


def _pdf(body: bytes, name: str) -> Response:
    return Response(body, mimetype="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})


@bp.get("/cases/<int:case_id>/receipt.pdf")
@login_required
def receipt(case_id):
    sv, case, m, code, verify = _doc_args(case_id, "receipt")
    record = catalog.intake_record(sv.events(case_id, g.actor))
    if record["accepted"] is False:
        abort(404)
    names = {catalog.material_id(x): catalog.material_name(x) for x in m["materials"]}
    received = [f"{names.get(k, k)}（{MATERIAL_STATUSES.get(v, v)}）" for k, v in record["materials"].items()]
    return _pdf(documents.receipt_pdf(case, m["name"], received, code, verify, m.get("promised_days")),
                f"receipt-{case['number']}.pdf")


@bp.get("/cases/<int:case_id>/notice.pdf")
@login_required
def notice(case_id):
    sv, case, m, code, verify = _doc_args(case_id, "notice")
    record = catalog.intake_record(sv.events(case_id, g.actor))
    if record["accepted"] is not False:
        abort(404)
    reason = record["reason"]
    missing = record["missing"]
    if not missing and "缺少材料：" in reason:  # cases refused without the window rules
        reason, _, rest = reason.partition("缺少材料：")
        missing = [x.strip() for x in rest.split("；") if x.strip()]
    return _pdf(documents.notice_pdf(case, m["name"], missing, reason.strip(), code, verify),
                f"notice-{case['number']}.pdf")
