"""The applicant's pages (/me, Chinese first, small screens): the catalogue and guides, applying online for a matter
or bundle (the front desk's merged form and material uploads), my cases, one case's progress with its papers to
download, and 好差评 of a finished one. Thin: what an applicant may see and do — which cases and papers are theirs,
what may be applied for online, what is already on file for them — is decided in engine.runtime.portal and
engine.runtime.ratings; an application goes through engine.runtime.portal.apply, the same path as the API."""
from __future__ import annotations

import secrets

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine import readmodels as catalog
from engine.errors import Conflict, Invalid, TooManyAttempts
from engine.messages import Message
from engine.runtime import applicants, portal, ratings

from . import formkit
from .auth import login_required, services
from .frontdesk import _field_key, _form_hash, _take_files
from .i18n import translate
from .papers import paper_pdf

bp = Blueprint("me", __name__, url_prefix="/me")
SIGNUP_FIELDS = ("type", "name", "id_number", "credit_code", "legal_representative", "phone", "email", "password")


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


# ---------------------------------------------------------------- the catalogue, guides and applying online
@bp.get("/matters")
@login_required
def catalogue():
    """The catalogue the front desk searches, with 在线申请 where a matter or bundle may be applied for online."""
    q = request.args.get("q", "")
    return render_template("me/catalogue.html", matters=portal.catalogue(services(), g.actor, q), q=q)


def _render_apply(m: dict, errors: dict | None = None, values: dict | None = None, uploaded: dict | None = None,
                  status: int = 200):
    values = values if values is not None else dict(m.get("prefill") or {})  # 一次填报: what is known of me
    materials = [{"id": catalog.material_id(x), "name": catalog.material_name(x),
                  "required": x.get("required", True) if isinstance(x, dict) else True,
                  "deferrable": isinstance(x, dict) and x.get("deferrable"),
                  "commitment": isinstance(x, dict) and x.get("commitment_allowed"),
                  "on_file": m["on_file"].get(catalog.material_id(x)),
                  "files": (uploaded or {}).get(catalog.material_id(x)) or []} for x in m["materials"]]
    return render_template("me/apply.html", m=m, fields=formkit.fields(m["form"]), materials=materials,
                           errors=errors or {}, values=values,
                           form_token=values.get("form_token") or secrets.token_urlsafe(16)), status


@bp.get("/matters/<code>")
@login_required
def guide(code):
    """A guide as the window reads it; where it may be applied for online, the application form below it, with the
    materials already on file for me marked 免提交."""
    return _render_apply(portal.guide(services(), g.actor, code))


@bp.post("/matters/<code>")
@login_required
def apply(code):
    """Apply online: the merged form and the material files; engine.runtime.portal.apply validates and starts it
    (422 naming each field, nothing saved); the form token makes a reload or a second click return the same case."""
    sv, form = services(), request.form
    schema = catalog.matter(sv, code)["form"]
    data = formkit.parse(schema, form, "f_")
    m = portal.guide(sv, g.actor, code, data)
    ids = [catalog.material_id(x) for x in m["materials"]]
    values = dict(formkit.values(form, "f_"), **{k: v for k, v in form.items() if k.startswith("mat_")},
                  form_token=form.get("form_token"))
    refs, uploaded, file_errors = _take_files(sv, form, ids)
    if file_errors:
        return _render_apply(m, file_errors, values, uploaded, 422)
    statuses = {mid: form.get("mat_" + mid, "") or ("provided" if refs.get(mid) else "") for mid in ids}
    token = form.get("form_token") or None
    try:
        case = portal.apply(sv, g.actor, code, data, {k: v for k, v in statuses.items() if v}, refs or None,
                            idempotency_key=token and f"form:{token}", request_hash=_form_hash(form) if token else None)
    except Invalid as exc:
        errors = {_field_key(k): v for k, v in exc.fields.items()}
        errors.setdefault("_message", exc.message)
        return _render_apply(m, errors, values, uploaded, 422)
    flash(translate(Message("申请已提交", "Application submitted")), "ok")
    return redirect(url_for("me.show", case_id=case["id"]), code=303)


@bp.get("/cases/<int:case_id>/papers/<number>.pdf")
@login_required
def paper(case_id: int, number: str):
    """A document or e-certificate of one of my cases, as printed (another case's paper is not found)."""
    found = portal.paper(services(), g.actor, case_id, number)
    return paper_pdf(found["number"], g.actor)
