"""综合窗口 front desk: search the catalogue, open a guide, fill the intake form, accept or refuse."""
from __future__ import annotations

import hashlib
import re
import secrets

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from engine import casefile
from engine.errors import Invalid, NotFound
from engine.messages import Message
from engine.runtime import org
from engine.runtime.access import check_window

from engine import readmodels as catalog
from . import formkit
from .access import check_read_case
from .auth import login_required, services
from .papers import paper_pdf

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
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _render_intake(m: dict, errors: dict | None = None, values: dict | None = None, status: int = 200,
                   preview: dict | None = None, uploaded: dict | None = None, confirm: list | None = None):
    values = values or {}
    ivalues = {k[2:]: v for k, v in values.items() if k.startswith("i_")}
    shared = {x["id"]: x for x in (preview or {}).get("materials") or [] if x.get("status") == "shared"}
    materials = [{"id": catalog.material_id(x), "name": catalog.material_name(x),
                  "required": x.get("required", True) if isinstance(x, dict) else True,
                  "deferrable": isinstance(x, dict) and x.get("deferrable"),
                  "commitment": isinstance(x, dict) and x.get("commitment_allowed"),
                  "shareable": isinstance(x, dict) and bool(x.get("substitutes")),
                  "shared": shared.get(catalog.material_id(x)),
                  "files": (uploaded or {}).get(catalog.material_id(x)) or []} for x in m["materials"]]
    authorities = org.authority_choices(services(), g.actor, m.get("guide") or {})  # 通办: where it may go
    return render_template("frontdesk/intake.html", m=m, fields=formkit.fields(m["form"]), ivalues=ivalues,
                           authorities=authorities,
                           form_token=values.get("form_token") or secrets.token_urlsafe(16),
                           intake_fields=formkit.fields(m["intake_form"], skip=INTAKE_SKIP), materials=materials,
                           errors=errors or {}, values=values, status_code=status, previewed=preview is not None,
                           confirm=confirm), status


@bp.get("/matters/<code>")
@login_required
def matter(code):
    _desk_only()
    return _render_intake(catalog.matter(services(), code), values={"a_type": "company"})


def _take_files(sv, form, ids: list[str]) -> tuple[dict, dict, dict]:
    """The material files of the intake page: new uploads (`file_<material>`, each checked and stored now) and the
    ones uploaded before a page was shown again (`sha_<material>`). (hashes by material, what they are, errors)."""
    files = sv.rules.files if sv.rules is not None else None
    refs, shown, errors = {}, {}, {}
    if files is None:
        return refs, shown, errors
    for mid in ids:
        for h in form.getlist("sha_" + mid):
            if SHA256.match(h or ""):
                try:
                    shown.setdefault(mid, []).append(files.describe_one(h))
                    refs.setdefault(mid, []).append(h)
                except NotFound:
                    errors["file_" + mid] = "文件已不存在，请重新上传"
        for upload in request.files.getlist("file_" + mid):
            if not upload or not upload.filename:
                continue
            try:
                meta = files.accept(g.actor.username, upload.filename, upload.stream, field="file_" + mid)
            except Invalid as exc:  # also TooLarge
                errors["file_" + mid] = next(iter(exc.fields.values()), exc.message)
                continue
            if meta["sha256"] not in refs.get(mid, []):
                shown.setdefault(mid, []).append(meta)
                refs.setdefault(mid, []).append(meta["sha256"])
    return refs, shown, errors


@bp.post("/matters/<code>")
@login_required
def submit(code):
    """Accept or refuse at the window: the case is started and the front desk's verdict taken in one transaction
    by the service layer, under the intake rule (一次性告知 when something required is missing, 容缺, 告知承诺,
    数据共享, 不予受理). `decision=preview` only shows what data sharing covers for this applicant; a 受理 that the
    rule would turn into a 一次性告知 is shown for confirmation first."""
    _desk_only()
    sv, form = services(), request.form
    m = catalog.matter(sv, code)
    decision = form.get("decision")
    accepted = decision == "accept"
    ids = [catalog.material_id(x) for x in m["materials"]]
    statuses = {mid: form.get("mat_" + mid, "") for mid in ids}
    values = dict(formkit.values(form, "f_"), **{k: v for k, v in form.items() if k.startswith(("a_", "mat_"))},
                  **{"i_" + k: v for k, v in formkit.values(form, "i_").items()}, form_token=form.get("form_token"))
    applicant, data = formkit.applicant_from(form), formkit.parse(m["form"], form, "f_")
    refs, uploaded, file_errors = _take_files(sv, form, ids)
    preview = catalog.intake_preview(sv, code, applicant, data) if applicant.get("name") else None
    if decision == "preview" or file_errors:
        return _render_intake(m, file_errors, values, 422 if file_errors else 200, preview, uploaded)
    remark = (formkit.parse(m["intake_form"], form, "i_", skip=INTAKE_SKIP).get("remark") or "").strip()
    if not accepted and not remark:
        why = Message("不予受理须写明原因", "A refusal needs a reason")
        return _render_intake(m, {"i_remark": why}, values, 422, preview, uploaded)
    verdict = {"accepted": accepted, "materials": {k: v for k, v in statuses.items() if v}, "remark": remark}
    if refs:
        verdict["files"] = refs
    if not accepted:
        verdict["reason"] = remark
    elif not form.get("confirm_notice"):
        outcome = catalog.intake_outcome(sv, code, applicant, data, verdict)
        if outcome is not None and outcome.get("accepted") is False:
            return _render_intake(m, {}, values, 200, preview, uploaded, confirm=outcome.get("missing") or [])
    token = form.get("form_token") or None  # one per rendered page: a reload or Back + 受理 gives the same case
    try:
        case = sv.start_case(g.actor, code, applicant, data, channel="window", intake=verdict,
                             idempotency_key=token and f"form:{token}",
                             request_hash=_form_hash(form) if token else None, authority=form.get("authority") or None)
    except Invalid as exc:
        errors = {_field_key(k): v for k, v in exc.fields.items()}
        if "authority" in errors:
            errors["authority"] = exc.message  # the whole reason: which scope, which hall to go to
        return _render_intake(m, errors, values, 422, preview, uploaded)
    return redirect(url_for("frontdesk.done", case_id=case["id"]), code=303)


@bp.get("/cases/<int:case_id>/done")
@login_required
def done(case_id):
    """What the window decided (after the POST: reloading this page starts nothing), with the documents issued."""
    _desk_only()
    sv = services()
    case = sv.case_view(case_id, g.actor)
    m = catalog.matter(sv, case["process_id"])
    names = {catalog.material_id(x): catalog.material_name(x) for x in m["materials"]}
    record = catalog.intake_record(sv.events(case_id, g.actor))
    return render_template("frontdesk/done.html", case=case, m=m, accepted=bool(record["accepted"]),
                           missing=record["missing"], remark=record["reason"] or record["remark"],
                           received=[names.get(k, k) for k, v in record["materials"].items() if v],
                           papers=casefile.case_file(sv, case_id), kind=record["kind"])


def _form_hash(form) -> str:
    fields = sorted((k, v) for k in form.keys() if k not in ("_csrf", "form_token") for v in form.getlist(k))
    return hashlib.sha256(repr(fields).encode("utf-8")).hexdigest()


def _field_key(path: str) -> str:
    """Map a service-layer field path to the page's input name."""
    if path in ("hall", "authority"):  # 通办: where the case may be accepted for and routed to
        return "authority"
    if path.startswith("applicant."):
        return "a_" + path.split(".", 1)[1]
    if path.startswith("intake.") or path in ("reason", "remark"):
        return "i_remark" if path.split(".")[-1] in ("reason", "remark") else "i_" + path.split(".", 1)[1]
    if path.startswith(("intake.materials", "materials")) or path in ("deferred", "commitments", "owed", "commitment"):
        return "materials"
    return "f_" + path


# ---------------------------------------------------------------- printable documents
def _document_of(case_id: int, kinds: tuple[str, ...]) -> str:
    """The number of the case's issued document of one of `kinds` (404 when there is none)."""
    sv = services()
    check_read_case(sv, g.actor, case_id)
    docs = sv.rules.docs.for_case(case_id) if sv.rules is not None and sv.rules.docs is not None else []
    found = next((d["number"] for d in docs if d["kind"] in kinds), None)
    if found is None:
        abort(404)
    return found


@bp.get("/cases/<int:case_id>/receipt.pdf")
@login_required
def receipt(case_id):
    """受理通知书, as issued when the case was accepted."""
    return paper_pdf(_document_of(case_id, ("receipt",)), g.actor)


@bp.get("/cases/<int:case_id>/notice.pdf")
@login_required
def notice(case_id):
    """一次性告知书 or 不予受理决定书, as issued when the application was refused."""
    return paper_pdf(_document_of(case_id, ("notice", "refusal")), g.actor)
